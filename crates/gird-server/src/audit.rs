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
