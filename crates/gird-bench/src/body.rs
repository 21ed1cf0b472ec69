//! Request bodies: the public sample record with a unique recording id and unique
//! media ids per request, built by splicing into a pre-serialized template so that
//! producing a body costs the client next to nothing.

use anyhow::{bail, Context};
use bytes::Bytes;
use serde_json::Value;

use crate::load::BodySource;

const SAMPLE: &str = include_str!("../../../examples/seed-sample.json");
// Plain-text markers: serde_json escapes control characters, so they would not survive.
const MARK_OPEN: &str = "@@bench:";
const MARK_CLOSE: &str = "@@";

enum Piece {
    Text(String),
    RecordingId,
    MediaId(usize),
}

pub struct BodyTemplate {
    pieces: Vec<Piece>,
    run_tag: String,
    length_hint: usize,
}

impl BodyTemplate {
    /// `run_tag` keeps ids unique across runs against the same database, where a
    /// reused media id would be a 409.
    pub fn from_sample(run_tag: &str) -> anyhow::Result<Self> {
        let mut record: Value = serde_json::from_str(SAMPLE).context("embedded sample")?;
        record["id"] = Value::String(format!("{MARK_OPEN}id{MARK_CLOSE}"));
        let Some(media_files) = record["mediaFiles"].as_array_mut() else {
            bail!("the embedded sample has no mediaFiles array");
        };
        for (index, media_file) in media_files.iter_mut().enumerate() {
            media_file["mediaId"] = Value::String(format!("{MARK_OPEN}m{index}{MARK_CLOSE}"));
        }
        let text = serde_json::to_string(&record)?;
        Self::parse(&text, run_tag)
    }

    fn parse(mut text: &str, run_tag: &str) -> anyhow::Result<Self> {
        let length_hint = text.len() + 64;
        let mut pieces = Vec::new();
        while let Some(start) = text.find(MARK_OPEN) {
            pieces.push(Piece::Text(text[..start].to_owned()));
            let rest = &text[start + MARK_OPEN.len()..];
            let end = rest.find(MARK_CLOSE).context("unterminated marker")?;
            let mark = &rest[..end];
            pieces.push(match mark.strip_prefix('m') {
                Some(index) => Piece::MediaId(index.parse().context("media marker")?),
                None => Piece::RecordingId,
            });
            text = &rest[end + MARK_CLOSE.len()..];
        }
        pieces.push(Piece::Text(text.to_owned()));
        Ok(Self {
            pieces,
            run_tag: run_tag.to_owned(),
            length_hint,
        })
    }

    pub fn recording_id(&self, sequence: u64) -> String {
        format!("bench-{}-{sequence:010}", self.run_tag)
    }
}

impl BodySource for BodyTemplate {
    fn render(&self, sequence: u64) -> Bytes {
        let recording_id = self.recording_id(sequence);
        let mut body = String::with_capacity(self.length_hint);
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => body.push_str(text),
                Piece::RecordingId => body.push_str(&recording_id),
                Piece::MediaId(index) => {
                    body.push_str(&recording_id);
                    body.push_str("-m");
                    body.push_str(&index.to_string());
                }
            }
        }
        Bytes::from(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_body_is_the_sample_with_unique_ids() {
        let template = BodyTemplate::from_sample("t1").unwrap();
        let body: Value = serde_json::from_slice(&template.render(7)).unwrap();
        let sample: Value = serde_json::from_str(SAMPLE).unwrap();
        assert_eq!(body["id"], "bench-t1-0000000007");
        assert_eq!(body["mediaFiles"][0]["mediaId"], "bench-t1-0000000007-m0");
        assert_eq!(body["mediaFiles"][1]["mediaId"], "bench-t1-0000000007-m1");
        assert_eq!(body["eventHistory"], sample["eventHistory"]);
        assert_eq!(body["callerPhoneNumber"], sample["callerPhoneNumber"]);
        assert_eq!(
            body["mediaFiles"][1]["mediaDescriptor"],
            sample["mediaFiles"][1]["mediaDescriptor"]
        );
    }

    #[test]
    fn different_sequences_give_different_ids() {
        let template = BodyTemplate::from_sample("t1").unwrap();
        assert_ne!(template.render(1), template.render(2));
    }
}
