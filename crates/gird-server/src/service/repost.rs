//! Reposting to SpeechMiner: what a request means, and queuing it. The one place that
//! decides, for `POST .../speechminer/repost` and `gird repost` alike; each edge words
//! the errors in its own terms (body fields or command flags).

use gird_model::datetime::{now_millis, parse_iso};
use gird_model::{ContactCenterId, RecordingId};
use gird_store::{Repost, Store, StoreError};

/// A repost as asked: the request body's fields, or the command's flags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepostAsk {
    pub recording: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub dead_letters: bool,
}

/// One end of a time range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeEnd {
    From,
    To,
}

impl RangeEnd {
    /// `from` or `to`.
    pub fn name(self) -> &'static str {
        match self {
            RangeEnd::From => "from",
            RangeEnd::To => "to",
        }
    }
}

/// Why a repost request asks for nothing that can be queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AskError {
    /// None of a recording, a time range and the dead letters.
    NothingChosen,
    /// More than one of them.
    SeveralChosen,
    /// One end of a time range without the other.
    HalfRange,
    NotADatetime {
        end: RangeEnd,
        text: String,
    },
    /// `from` is not before `to`.
    EmptyRange {
        from: String,
        to: String,
    },
}

/// What a request asks to queue again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepostRequest {
    Recording(RecordingId),
    /// An id outside the record's rule: no recording has it, so it is answered as any id
    /// the contact center does not hold, after the same checks.
    NoSuchRecording(String),
    /// Every recording starting in `[from_ms, to_ms)`.
    StartedBetween {
        from_ms: i64,
        to_ms: i64,
    },
    DeadLetters,
}

impl RepostAsk {
    /// Exactly one of a recording, a time range (both ends, `from` before `to`) or the
    /// dead letters.
    pub fn decide(self) -> Result<RepostRequest, AskError> {
        let range = self.from.is_some() || self.to.is_some();
        match (self.recording, range, self.dead_letters) {
            (Some(text), false, false) => Ok(match RecordingId::parse(text.as_str()) {
                Ok(id) => RepostRequest::Recording(id),
                Err(_) => RepostRequest::NoSuchRecording(text),
            }),
            (None, true, false) => {
                let (Some(from), Some(to)) = (self.from, self.to) else {
                    return Err(AskError::HalfRange);
                };
                let (from_ms, to_ms) =
                    (instant(RangeEnd::From, &from)?, instant(RangeEnd::To, &to)?);
                if from_ms >= to_ms {
                    return Err(AskError::EmptyRange { from, to });
                }
                Ok(RepostRequest::StartedBetween { from_ms, to_ms })
            }
            (None, false, true) => Ok(RepostRequest::DeadLetters),
            (None, false, false) => Err(AskError::NothingChosen),
            _ => Err(AskError::SeveralChosen),
        }
    }
}

fn instant(end: RangeEnd, text: &str) -> Result<i64, AskError> {
    parse_iso(text).ok_or_else(|| AskError::NotADatetime {
        end,
        text: text.to_owned(),
    })
}

/// Why nothing was queued; the message is the same for every edge.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The id as given (it may be outside the rule, and so name none).
    #[error("contact center {0:?} does not exist")]
    NoContactCenter(String),
    #[error("forwarding to SpeechMiner is not enabled for contact center {0:?}")]
    ForwardingDisabled(ContactCenterId),
    #[error("recording {recording:?} does not exist in contact center {contact_center:?}")]
    NoRecording {
        contact_center: ContactCenterId,
        recording: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Queues the request's deliveries again, if the contact center forwards to
/// SpeechMiner; answers how many.
pub async fn queue(
    store: &dyn Store,
    contact_center: &ContactCenterId,
    request: RepostRequest,
) -> Result<u64, QueueError> {
    let cc = contact_center.as_str();
    if store.contact_center(cc).await?.is_none() {
        return Err(QueueError::NoContactCenter(cc.to_owned()));
    }
    let forwarding = store
        .receiver(cc)
        .await?
        .is_some_and(|receiver| receiver.enabled);
    if !forwarding {
        return Err(QueueError::ForwardingDisabled(contact_center.clone()));
    }
    let no_recording = |recording: String| QueueError::NoRecording {
        contact_center: contact_center.clone(),
        recording,
    };
    let (what, recording) = match request {
        RepostRequest::Recording(id) => (Repost::Recording(id.to_string()), Some(id)),
        RepostRequest::NoSuchRecording(text) => return Err(no_recording(text)),
        RepostRequest::StartedBetween { from_ms, to_ms } => {
            (Repost::StartedBetween { from_ms, to_ms }, None)
        }
        RepostRequest::DeadLetters => (Repost::DeadLetters, None),
    };
    let queued = store.repost(cc, what, now_millis()).await?;
    match recording {
        Some(id) if queued == 0 => Err(no_recording(id.into_string())),
        _ => Ok(queued),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gird_store::prelude::*;

    fn ask(recording: Option<&str>, from: Option<&str>, to: Option<&str>, dead: bool) -> RepostAsk {
        RepostAsk {
            recording: recording.map(str::to_owned),
            from: from.map(str::to_owned),
            to: to.map(str::to_owned),
            dead_letters: dead,
        }
    }

    const DAY_1: &str = "2024-01-01T00:00:00Z";
    const DAY_2: &str = "2024-01-02T00:00:00Z";

    #[test]
    fn exactly_one_thing_is_reposted() {
        assert_eq!(
            ask(Some("r1"), None, None, false).decide(),
            Ok(RepostRequest::Recording(RecordingId::parse("r1").unwrap()))
        );
        assert_eq!(
            ask(None, None, None, true).decide(),
            Ok(RepostRequest::DeadLetters)
        );
        assert_eq!(
            ask(None, Some(DAY_1), Some(DAY_2), false).decide(),
            Ok(RepostRequest::StartedBetween {
                from_ms: 1_704_067_200_000,
                to_ms: 1_704_153_600_000
            })
        );
        assert_eq!(
            ask(None, None, None, false).decide(),
            Err(AskError::NothingChosen)
        );
        for several in [
            ask(Some("r"), None, None, true),
            ask(Some("r"), Some(DAY_1), Some(DAY_2), false),
            ask(None, Some(DAY_1), Some(DAY_2), true),
            ask(Some("r"), Some(DAY_1), None, false),
        ] {
            assert_eq!(
                several.clone().decide(),
                Err(AskError::SeveralChosen),
                "{several:?}"
            );
        }
    }

    #[test]
    fn a_range_has_both_ends_in_order() {
        assert_eq!(
            ask(None, Some(DAY_1), None, false).decide(),
            Err(AskError::HalfRange)
        );
        assert_eq!(
            ask(None, None, Some(DAY_1), false).decide(),
            Err(AskError::HalfRange)
        );
        assert_eq!(
            ask(None, Some(DAY_2), Some(DAY_1), false).decide(),
            Err(AskError::EmptyRange {
                from: DAY_2.into(),
                to: DAY_1.into()
            })
        );
        assert!(matches!(
            ask(None, Some(DAY_1), Some(DAY_1), false).decide(),
            Err(AskError::EmptyRange { .. })
        ));
        assert_eq!(
            ask(None, Some("yesterday"), Some("tomorrow"), false).decide(),
            Err(AskError::NotADatetime {
                end: RangeEnd::From,
                text: "yesterday".into()
            })
        );
        assert_eq!(
            ask(None, Some(DAY_1), Some("tomorrow"), false).decide(),
            Err(AskError::NotADatetime {
                end: RangeEnd::To,
                text: "tomorrow".into()
            })
        );
    }

    #[test]
    fn an_id_no_recording_can_have_is_kept_to_be_answered_as_unknown() {
        for text in ["", "..", &"x".repeat(257)] {
            assert_eq!(
                ask(Some(text), None, None, false).decide(),
                Ok(RepostRequest::NoSuchRecording(text.to_owned()))
            );
        }
    }

    #[test]
    fn queue_errors_read_the_same_everywhere() {
        let acme = ContactCenterId::parse("acme").unwrap();
        assert_eq!(
            QueueError::NoContactCenter("a b".into()).to_string(),
            "contact center \"a b\" does not exist"
        );
        assert_eq!(
            QueueError::ForwardingDisabled(acme.clone()).to_string(),
            "forwarding to SpeechMiner is not enabled for contact center \"acme\""
        );
        let missing = QueueError::NoRecording {
            contact_center: acme,
            recording: "r1".into(),
        };
        assert_eq!(
            missing.to_string(),
            "recording \"r1\" does not exist in contact center \"acme\""
        );
    }

    #[tokio::test]
    async fn queue_checks_the_contact_center_then_forwarding_then_the_recording() {
        let folder = tempfile::tempdir().unwrap();
        let (store, _) =
            gird_store::sqlite::SqliteStore::open(&folder.path().join("gird.db")).unwrap();
        let acme = ContactCenterId::parse("acme").unwrap();
        let unnamable = || RepostRequest::NoSuchRecording("..".into());
        let answer = queue(&store, &acme, unnamable()).await;
        assert!(
            matches!(&answer, Err(QueueError::NoContactCenter(id)) if id == "acme"),
            "{answer:?}"
        );

        assert!(store.create_contact_center("acme", &[]).await.unwrap());
        let answer = queue(&store, &acme, unnamable()).await;
        assert!(
            matches!(answer, Err(QueueError::ForwardingDisabled(_))),
            "{answer:?}"
        );

        let receiver = gird_store::ReceiverSettings {
            url: "http://sm.example/".into(),
            username: None,
            sealed_password: None,
            enabled: true,
        };
        assert!(store.put_receiver("acme", receiver).await.unwrap());
        let answer = queue(&store, &acme, unnamable()).await;
        assert!(
            matches!(&answer, Err(QueueError::NoRecording { recording, .. }) if recording == ".."),
            "{answer:?}"
        );
        let missing = RepostRequest::Recording(RecordingId::parse("missing").unwrap());
        let answer = queue(&store, &acme, missing).await;
        assert!(
            matches!(&answer, Err(QueueError::NoRecording { recording, .. }) if recording == "missing"),
            "{answer:?}"
        );
        let none_dead = queue(&store, &acme, RepostRequest::DeadLetters).await;
        assert_eq!(
            none_dead.unwrap(),
            0,
            "no dead letters: nothing queued, no error"
        );
        store.close().await;
    }
}
