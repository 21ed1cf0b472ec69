//! JSON Lines: one record per line, posted as it is written. Blank lines are skipped
//! (they still count, so that line numbers stay those of the file).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use anyhow::Context;
use bytes::Bytes;

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
            record: Ok(Record::raw(Bytes::copy_from_slice(text))),
        });
    }))
}

fn trim_line(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_numbered_as_in_the_file_and_posted_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.jsonl");
        std::fs::write(&path, "{\"id\":\"a\"}\r\n\n{bad\n{\"id\":\"b\"}").unwrap();
        let items: Vec<Item> = read(&path).unwrap().collect();
        let seen: Vec<(u64, &str, Option<String>)> = items
            .iter()
            .map(|item| {
                let record = item.record.as_ref().unwrap();
                (item.seq, item.origin.as_str(), record.id())
            })
            .collect();
        assert_eq!(
            seen,
            [
                (0, "line 1", Some("a".into())),
                (2, "line 3", None),
                (3, "line 4", Some("b".into())),
            ]
        );
        let record = items[0].record.as_ref().unwrap();
        assert_eq!(&record.body()[..], b"{\"id\":\"a\"}");
        let bad = items[1].record.as_ref().unwrap().json().unwrap_err();
        assert!(bad.starts_with("is not valid JSON"), "{bad}");
    }
}
