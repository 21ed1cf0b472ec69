//! Sign-in sessions (see [`crate::sessions`]).

use super::Harness;
use crate::sessions::Session;

/// Sign-in sessions: kept until they expire, revoked one by one or all of a user's.
pub(crate) async fn sessions(harness: &dyn Harness) {
    let store = harness.store();
    let session = |token: &str, user: &str, expires_ms: i64| Session {
        token_hash: token.into(),
        user: user.into(),
        stamp: "stamp".into(),
        expires_ms,
    };
    store
        .put_session(session("a", "ops", 2_000), 1_000)
        .await
        .unwrap();
    store
        .put_session(session("b", "ops", 2_000), 1_000)
        .await
        .unwrap();
    store
        .put_session(session("c", "ann", 2_000), 1_000)
        .await
        .unwrap();
    store
        .put_session(session("old", "ann", 1_500), 1_000)
        .await
        .unwrap();
    assert_eq!(
        store.session("a").await.unwrap(),
        Some(session("a", "ops", 2_000))
    );
    assert_eq!(store.session("nope").await.unwrap(), None);

    store.delete_session("a").await.unwrap();
    assert_eq!(store.session("a").await.unwrap(), None);
    assert!(
        store.session("b").await.unwrap().is_some(),
        "only that one ends"
    );

    // A new session forgets the expired ones.
    store
        .put_session(session("d", "ann", 9_000), 1_600)
        .await
        .unwrap();
    assert_eq!(store.session("old").await.unwrap(), None);

    assert_eq!(store.delete_sessions_of("ann").await.unwrap(), 2);
    assert_eq!(store.session("c").await.unwrap(), None);
    assert!(store.session("b").await.unwrap().is_some());
}
