//! The audit log: who inserted, deleted or changed the legal hold of which record, from
//! which address, and when (the line's time). Lines go to the tracing target `gird::audit`:
//! to the file `--audit-log` names (JSON lines), and to the log when `RUST_LOG` asks for it.

use std::net::SocketAddr;

/// Who made a request, as authentication found.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user: String,
    /// `basic` (HTTP Basic) or `ui-session` (the web UI's cookie).
    pub via: &'static str,
    pub peer: Option<SocketAddr>,
}

pub const TARGET: &str = "gird::audit";

/// One audited change.
pub fn record(
    action: &'static str,
    actor: Option<&Actor>,
    contact_center: &str,
    recording: &str,
    outcome: &str,
) {
    let user = actor.map_or("-", |actor| actor.user.as_str());
    let via = actor.map_or("-", |actor| actor.via);
    let from = actor
        .and_then(|actor| actor.peer)
        .map_or_else(|| "-".to_owned(), |peer| peer.ip().to_string());
    tracing::info!(
        target: TARGET,
        action,
        user,
        via,
        from = from.as_str(),
        contact_center,
        recording,
        outcome,
        "audit"
    );
}

/// One access to a recording by a person — a read, a playback, a hold change, a
/// deletion: its audit line, and its entry in the recording's access history in the
/// database (`GET .../recordings/{id}/access`). The entry is written before the answer,
/// so nothing is heard that the history does not show.
pub async fn access(
    store: &dyn gird_store::Store,
    actor: Option<&Actor>,
    action: &'static str,
    contact_center: &str,
    recording: &str,
    detail: &str,
) -> Result<(), crate::error::ApiError> {
    record(action, actor, contact_center, recording, detail);
    let entry = gird_store::AccessEntry {
        contact_center: contact_center.to_owned(),
        recording_id: recording.to_owned(),
        at_ms: gird_model::datetime::now_millis(),
        user: actor.map_or_else(|| "-".to_owned(), |actor| actor.user.clone()),
        address: actor
            .and_then(|actor| actor.peer)
            .map(|peer| peer.ip().to_string()),
        action: action.to_owned(),
        detail: detail.to_owned(),
    };
    store.record_access(entry).await?;
    Ok(())
}
