//! CSV: a header row naming the fields (see `fields`), then one row per media file.

use std::fs::File;
use std::path::Path;

use anyhow::{bail, Context};

use super::fields::{check_name, Grouper, Row};
use super::Item;

/// The items of the file, read as they are needed. An unknown column is an error before
/// anything is read further, so that a typo does not drop a field from every record.
pub fn read(path: &Path) -> anyhow::Result<impl Iterator<Item = Item>> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(file);
    let headers: Vec<String> = reader
        .headers()
        .with_context(|| format!("{}: cannot read the header row", path.display()))?
        .iter()
        .map(|name| name.trim().to_owned())
        .collect();
    for name in &headers {
        if let Err(error) = check_name(name) {
            bail!("{}: column {error}", path.display());
        }
    }
    if !headers
        .iter()
        .any(|name| name == "id" || name == "callUUID")
    {
        bail!("{}: needs an id or a callUUID column", path.display());
    }
    let mut records = reader.into_records();
    let mut grouper = Grouper::default();
    let mut pending: std::collections::VecDeque<Item> = Default::default();
    let mut finished = false;
    Ok(std::iter::from_fn(move || loop {
        if let Some(item) = pending.pop_front() {
            return Some(item);
        }
        if finished {
            return None;
        }
        match records.next() {
            None => {
                finished = true;
                pending.extend(grouper.flush());
            }
            Some(Err(error)) => {
                let line = error.position().map_or(0, |p| p.line());
                pending.extend(grouper.fail(format!("line {line}"), error.to_string()));
            }
            Some(Ok(record)) => {
                let line = record.position().map_or(0, |p| p.line());
                let row: Row = headers
                    .iter()
                    .cloned()
                    .zip(record.iter().map(|value| value.trim().to_owned()))
                    .collect();
                pending.extend(grouper.push(format!("line {line}"), row, None));
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_of_one_call_become_one_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.csv");
        std::fs::write(
            &path,
            "callUUID,mediaId,startTime,stopTime,callerPhoneNumber,path\n\
             c1,m1,2024-01-01T10:00:00Z,2024-01-01T10:01:00Z,+1555,a.mp3\n\
             c1,m2,2024-01-01T10:01:00Z,2024-01-01T10:02:00Z,,b.mp3\n\
             c2,m3,2024-01-01T11:00:00Z,2024-01-01T11:01:00Z,+1666,c.mp3\n\
             c3,too,many,columns,here,x,y\n",
        )
        .unwrap();
        let items: Vec<Item> = read(&path).unwrap().collect();
        assert_eq!(items.len(), 3, "{items:?}");
        assert_eq!(items[0].origin, "line 2 to line 3");
        let first = items[0]
            .record
            .as_ref()
            .unwrap()
            .json()
            .unwrap()
            .into_owned();
        assert_eq!(first["callerPhoneNumber"], "+1555");
        assert_eq!(first["mediaFiles"].as_array().unwrap().len(), 2);
        assert_eq!(
            items[1].record.as_ref().unwrap().id().as_deref(),
            Some("c2")
        );
        assert_eq!(items[2].origin, "line 5");
        assert!(items[2].record.is_err());
    }

    #[test]
    fn an_envelope_is_a_quoted_multi_line_cell() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.csv");
        let pem = "-----BEGIN PKCS7-----\nMIIBxjCCAcICAQAx\n-----END PKCS7-----";
        std::fs::write(
            &path,
            format!("callUUID,path,certAlias,pkcs7\nc1,a.mp3.bin,rcs-1;rcs-2,\"{pem}\"\n"),
        )
        .unwrap();
        let items: Vec<Item> = read(&path).unwrap().collect();
        let record = items[0]
            .record
            .as_ref()
            .unwrap()
            .json()
            .unwrap()
            .into_owned();
        assert_eq!(record["mediaFiles"][0]["pkcs7"], pem);
        assert_eq!(
            record["mediaFiles"][0]["certAlias"],
            serde_json::json!(["rcs-1", "rcs-2"])
        );
    }

    #[test]
    fn an_unknown_column_is_refused_before_anything_is_imported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.csv");
        std::fs::write(&path, "callUUID,calerPhoneNumber\nc1,+1\n").unwrap();
        let error = read(&path).err().unwrap().to_string();
        assert!(error.contains("\"calerPhoneNumber\""), "{error}");
        std::fs::write(&path, "mediaId\nm1\n").unwrap();
        assert!(read(&path).is_err());
    }
}
