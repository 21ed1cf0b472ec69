//! JSON Lines: one record per line, posted as it is written. Blank lines are skipped
//! (they still count, so that line numbers stay those of the file).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use anyhow::Context;
use bytes::Bytes;
use serde_json::Value;

use super::{Item, Record};

/// The items of the file, read as they are needed.
pub fn read(path: &Path) -> anyhow::Result<impl Iterator<Item = Item>> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut number = 0u64;
    Ok(std::iter::from_fn(move || loop {
        let mut line = Vec::new();
        number += 1;
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => return None,
            Ok(_) => {}
            Err(error) => {
                return Some(Item {
                    seq: number - 1,
                    origin: format!("line {number}"),
                    record: Err(format!("cannot read the file: {error}")),
                })
            }
        }
        let text = trim_line(&line);
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        return Some(Item {
            seq: number - 1,
            origin: format!("line {number}"),
            record: parse(text),
        });
    }))
}

fn trim_line(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn parse(text: &[u8]) -> Result<Record, String> {
    match serde_json::from_slice::<Value>(text) {
        Ok(json @ Value::Object(_)) => Ok(Record {
            json,
            body: Bytes::copy_from_slice(text),
        }),
        Ok(_) => Err("is not a JSON object".into()),
        Err(error) => Err(format!("is not valid JSON: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_numbered_as_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.jsonl");
        std::fs::write(&path, "{\"id\":\"a\"}\r\n\n[1]\n{bad\n{\"id\":\"b\"}").unwrap();
        let items: Vec<Item> = read(&path).unwrap().collect();
        type Seen<'a> = (u64, &'a str, Result<Option<&'a str>, &'a str>);
        let seen: Vec<Seen> = items
            .iter()
            .map(|item| {
                (
                    item.seq,
                    item.origin.as_str(),
                    item.record
                        .as_ref()
                        .map(Record::id)
                        .map_err(|e| e.split(':').next().unwrap()),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (0, "line 1", Ok(Some("a"))),
                (2, "line 3", Err("is not a JSON object")),
                (3, "line 4", Err("is not valid JSON")),
                (4, "line 5", Ok(Some("b"))),
            ]
        );
        assert_eq!(
            &items[0].record.as_ref().unwrap().body[..],
            b"{\"id\":\"a\"}"
        );
    }
}
