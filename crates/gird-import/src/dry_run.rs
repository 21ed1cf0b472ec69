//! `--dry-run`: every record checked with the server's own validation, and its media ids
//! against those of the records before it (the server refuses a `mediaId` that another
//! recording of the contact center has, with 409), nothing posted.

use std::collections::HashMap;

use futures_util::StreamExt;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use crate::progress::Progress;
use crate::source::{Item, Record};
use crate::summary::Summary;

/// Media ids remembered at most (about 50 bytes each, plus about 80 for the id and
/// origin of each record that has one: 180 MB for a million records of two media files):
/// past this, later records' media ids are not remembered, so memory stays under 1.5 GB.
pub const MEDIA_IDS_CHECKED: usize = 10_000_000;

pub async fn dry_run(chunks: mpsc::Receiver<Vec<Item>>, progress: &Progress) -> Summary {
    let mut summary = Summary::default();
    let mut media_ids = MediaIds::new(MEDIA_IDS_CHECKED);
    let items = crate::stream_of(chunks, None);
    tokio::pin!(items);
    while let Some(item) = items.next().await {
        let problems = match &item.record {
            Err(error) => vec![error.clone()],
            Ok(record) => check(record, &item.origin, &mut media_ids),
        };
        if problems.is_empty() {
            summary.valid += 1;
        } else {
            summary.invalid += 1;
            progress.suspend(|| {
                for problem in &problems {
                    println!("{}: {problem}", item.origin);
                }
            });
        }
        progress.finished(&item.origin);
        if (summary.valid + summary.invalid) % 1000 == 0 {
            progress.show(&summary);
        }
    }
    summary.media_ids_unchecked = media_ids.unchecked;
    summary
}

/// What the server would say of a record, each with its JSON path: its validation, then
/// its media ids.
fn check(record: &Record, origin: &str, media_ids: &mut MediaIds) -> Vec<String> {
    let json = match record.json() {
        Ok(json) => json.into_owned(),
        Err(error) => return vec![error],
    };
    let Value::Object(object) = json else {
        return vec!["is not a JSON object".into()];
    };
    let id = object.get("id").and_then(Value::as_str).map(str::to_owned);
    let claimed = media_ids_of(&object);
    if let Err(violations) = gird_model::Recording::from_json(object) {
        return violations.0.iter().map(ToString::to_string).collect();
    }
    media_ids.claim(id.as_deref().unwrap_or_default(), origin, &claimed)
}

/// `(index, mediaId)` of the media files that have one.
fn media_ids_of(record: &Map<String, Value>) -> Vec<(usize, String)> {
    let Some(Value::Array(media_files)) = record.get("mediaFiles") else {
        return Vec::new();
    };
    media_files
        .iter()
        .enumerate()
        .filter_map(|(index, media)| {
            let id = media.get("mediaId")?.as_str()?;
            Some((index, id.to_owned()))
        })
        .collect()
}

/// The media ids of the records checked so far, and which record has each: a hash of
/// each id (16 bytes of its SHA-256, so that two ids never share one in practice) and the
/// number of its record, whose id and origin are kept once.
pub struct MediaIds {
    owners: HashMap<[u8; 16], u32>,
    /// `id`, a NUL, then the origin, of each record that claimed a media id.
    records: Vec<Box<str>>,
    limit: usize,
    /// Records whose media ids were not remembered, the limit being reached.
    pub unchecked: u64,
}

impl MediaIds {
    pub fn new(limit: usize) -> MediaIds {
        MediaIds {
            owners: HashMap::new(),
            records: Vec::new(),
            limit,
            unchecked: 0,
        }
    }

    /// The media ids of a valid record that another record already has, as the server
    /// would refuse them; when there are none, the record's ids are its own from now on.
    /// A record posted again with the same id (an exact duplicate, a later segment) may
    /// name its media ids again: the server merges it.
    pub fn claim(&mut self, id: &str, origin: &str, media_ids: &[(usize, String)]) -> Vec<String> {
        let keys: Vec<[u8; 16]> = media_ids
            .iter()
            .map(|(_, media_id)| key(media_id))
            .collect();
        let mut taken = Vec::new();
        for ((index, media_id), key) in media_ids.iter().zip(&keys) {
            let Some(&owner) = self.owners.get(key) else {
                continue;
            };
            let (owner_id, owner_origin) = self.records[owner as usize]
                .split_once('\0')
                .unwrap_or_default();
            if owner_id != id {
                taken.push(format!(
                    "mediaFiles[{index}].mediaId {media_id:?} is already used by record {owner_id:?} on {owner_origin}"
                ));
            }
        }
        if !taken.is_empty() {
            return taken;
        }
        let new: Vec<[u8; 16]> = keys
            .into_iter()
            .filter(|key| !self.owners.contains_key(key))
            .collect();
        if new.is_empty() {
            return taken;
        }
        if self.owners.len() + new.len() > self.limit {
            self.unchecked += 1;
            return taken;
        }
        let number = self.records.len() as u32;
        self.records
            .push(format!("{id}\0{origin}").into_boxed_str());
        for key in new {
            self.owners.insert(key, number);
        }
        taken
    }
}

fn key(media_id: &str) -> [u8; 16] {
    let digest = Sha256::digest(media_id.as_bytes());
    digest[..16].try_into().expect("16 bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(pairs: &[(usize, &str)]) -> Vec<(usize, String)> {
        pairs
            .iter()
            .map(|(index, id)| (*index, (*id).to_owned()))
            .collect()
    }

    #[test]
    fn a_media_id_of_another_record_is_reported_with_where_that_record_is() {
        let mut media_ids = MediaIds::new(100);
        assert!(media_ids
            .claim("y", "line 3", &ids(&[(0, "m1"), (1, "m2")]))
            .is_empty());
        assert_eq!(
            media_ids.claim("x", "line 12", &ids(&[(0, "m9"), (1, "m2")])),
            ["mediaFiles[1].mediaId \"m2\" is already used by record \"y\" on line 3"]
        );
        // The refused record claimed nothing: m9 is free for another.
        assert!(media_ids
            .claim("z", "line 13", &ids(&[(0, "m9")]))
            .is_empty());
        // The same record again, or a later segment of it: merged by the server.
        assert!(media_ids
            .claim("y", "line 14", &ids(&[(0, "m1"), (1, "m3")]))
            .is_empty());
        assert_eq!(media_ids.claim("w", "line 15", &ids(&[(0, "m3")])).len(), 1);
        assert_eq!(
            media_ids.records.len(),
            3,
            "one entry per record that claimed"
        );
    }

    #[test]
    fn past_the_limit_media_ids_are_no_longer_remembered_and_that_is_counted() {
        let mut media_ids = MediaIds::new(2);
        assert!(media_ids
            .claim("a", "line 1", &ids(&[(0, "m1"), (1, "m2")]))
            .is_empty());
        assert!(media_ids
            .claim("b", "line 2", &ids(&[(0, "m3")]))
            .is_empty());
        assert_eq!(media_ids.unchecked, 1);
        assert_eq!(media_ids.claim("c", "line 3", &ids(&[(0, "m1")])).len(), 1);
        assert_eq!(media_ids.owners.len(), 2);
    }
}
