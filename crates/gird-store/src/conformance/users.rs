//! Users, and what searches show each of them (the rule is [`gird_model::access`]'s).

use gird_model::access::{Permission, Role, Visibility};
use gird_model::Recording;
use serde_json::json;

use super::Harness;
use crate::{Removal, SearchQuery, Session, User, UserWrite};

fn user(name: &str, contact_center: &str) -> User {
    User {
        name: name.into(),
        contact_center: contact_center.into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        roles: vec![Role::Supervisor],
        access_groups: vec!["/Sales".into()],
        partitions: vec!["/emea".into()],
        permissions: vec![Permission::ApplyNonDelete],
        stamp: "s1".into(),
    }
}

pub(crate) async fn users(harness: &dyn Harness) {
    let store = harness.store();
    assert!(store.create_contact_center("other", &[]).await.unwrap());
    let alice = user("Alice", "cc");
    assert_eq!(
        store.create_user(alice.clone()).await.unwrap(),
        UserWrite::Created
    );
    assert_eq!(
        store.create_user(user("alice", "other")).await.unwrap(),
        UserWrite::NameTaken,
        "names are unique across the instance, without case"
    );
    assert_eq!(
        store.create_user(user("bob", "nope")).await.unwrap(),
        UserWrite::ContactCenterMissing
    );
    assert_eq!(store.user("ALICE").await.unwrap(), Some(alice.clone()));
    assert_eq!(store.user("nobody").await.unwrap(), None);
    let changed = User {
        roles: vec![Role::Agent, Role::Administrator],
        permissions: vec![],
        partitions: vec![],
        stamp: "s2".into(),
        ..alice.clone()
    };
    assert_eq!(
        store.replace_user(changed.clone()).await.unwrap(),
        UserWrite::Replaced
    );
    assert_eq!(store.user("alice").await.unwrap(), Some(changed));
    assert_eq!(
        store.replace_user(user("alice", "other")).await.unwrap(),
        UserWrite::NotFound,
        "another contact center's user is not replaced"
    );
    assert_eq!(
        store.replace_user(user("carol", "cc")).await.unwrap(),
        UserWrite::NotFound
    );
    store.create_user(user("Bob", "cc")).await.unwrap();
    store.create_user(user("dave", "other")).await.unwrap();
    let names: Vec<String> = store
        .users("cc")
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["Alice", "Bob"]);

    // Deleting a user ends their sessions.
    let session = |token: &str, user: &str| Session {
        token_hash: token.into(),
        user: user.into(),
        stamp: "s2".into(),
        expires_ms: i64::MAX,
    };
    store.put_session(session("t1", "alice"), 0).await.unwrap();
    store.put_session(session("t2", "bob"), 0).await.unwrap();
    assert_eq!(
        store.delete_user("other", "alice").await.unwrap(),
        Removal::NotFound
    );
    assert_eq!(
        store.delete_user("cc", "Alice").await.unwrap(),
        Removal::Removed
    );
    assert_eq!(store.session("t1").await.unwrap(), None);
    assert!(store.session("t2").await.unwrap().is_some());
    assert_eq!(store.user("alice").await.unwrap(), None);
    assert_eq!(
        store.delete_user("cc", "alice").await.unwrap(),
        Removal::NotFound
    );

    // A contact center's deletion takes its users.
    assert_eq!(
        store.delete_contact_center("other").await.unwrap(),
        Removal::Removed
    );
    assert_eq!(store.user("dave").await.unwrap(), None);
}

fn recording(
    id: &str,
    minute: u32,
    agent: &str,
    groups: &[&str],
    partitions: &[&str],
) -> Recording {
    let body = json!({
        "id": id, "callerPhoneNumber": "+1", "dialedPhoneNumber": "+2", "region": "r",
        "mediaFiles": [{
            "callUUID": id, "mediaId": format!("m-{id}"),
            "startTime": format!("2015-06-15T10:{minute:02}:00Z"),
            "stopTime": format!("2015-06-15T10:{minute:02}:30Z"),
            "mediaDescriptor": {"storage": "webDAV", "path": "a.mp3"},
            "parameters": {"username": agent},
            "accessgroups": groups, "partitions": partitions
        }]
    });
    Recording::from_json(body.as_object().unwrap().clone()).unwrap()
}

/// A search shows a user exactly what [`Visibility::can_see`] allows, page by page.
pub(crate) async fn searches_show_only_what_a_user_may_see(harness: &dyn Harness) {
    let store = harness.store();
    let cases: [(&str, &str, &[&str], &[&str]); 10] = [
        ("own", "ann", &["/Support"], &["/apac"]),
        ("sales", "bob", &["/Sales"], &[]),
        ("east", "bob", &["/Sales/East"], &[]),
        ("east-emea", "bob", &["/Sales/East"], &["/emea"]),
        ("west-apac", "bob", &["/Sales/West"], &["/apac"]),
        ("support", "bob", &["/Support"], &[]),
        ("ungrouped", "bob", &[], &[]),
        ("ungrouped-emea", "bob", &[], &["/emea"]),
        ("two-groups", "bob", &["/Support", "/Sales/East/Team1"], &[]),
        ("prefix", "bob", &["/SalesOps"], &[]),
    ];
    let mut recordings = Vec::new();
    for (minute, (id, agent, groups, partitions)) in cases.iter().enumerate() {
        let recording = recording(id, minute as u32, agent, groups, partitions);
        store
            .insert_or_merge("cc", recording.clone())
            .await
            .unwrap();
        recordings.push(recording);
    }
    let strings = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    // Also users whose recordings their groups grant too, and groups within each other:
    // each recording is shown (and counted) once.
    let users: [(&str, &[&str], &[&str]); 11] = [
        ("Bob", &["/Sales"], &["/emea"]),
        ("sup", &["/Sales", "/Sales/East", "/"], &["/emea"]),
        ("Ann", &[], &[]),
        ("sup", &["/Sales"], &[]),
        ("sup", &["/Sales"], &["/emea"]),
        ("sup", &["/Sales/East"], &["/emea", "/apac"]),
        ("sup", &["/Sales/East/Team1"], &[]),
        ("sup", &["/"], &[]),
        ("sup", &["/"], &["/emea", "/apac"]),
        ("sup", &["/Support", "/Sales/West"], &["/apac"]),
        ("nobody", &[], &["/emea"]),
    ];
    for (name, groups, partitions) in users {
        let visibility = Visibility::new(name, &strings(groups), &strings(partitions));
        let mut expected: Vec<&str> = recordings
            .iter()
            .filter(|r| visibility.can_see(r))
            .map(|r| r.id.as_str())
            .collect();
        expected.reverse();
        let mut seen = Vec::new();
        let mut query = SearchQuery {
            contact_center: "cc".into(),
            limit: 2,
            count: true,
            visibility: Some(visibility.clone()),
            ..SearchQuery::default()
        };
        loop {
            let page = store.search(query.clone()).await.unwrap();
            assert_eq!(page.total, Some(expected.len() as u64), "{visibility:?}");
            seen.extend(page.recordings.iter().map(|r| r.id.clone()));
            let (Some(last), true) = (page.recordings.last(), page.more_older) else {
                break;
            };
            query.cursor = Some(crate::Cursor {
                direction: crate::Direction::Older,
                start_ms: last.start_ms,
                id: last.id.clone(),
            });
        }
        assert_eq!(seen, expected, "{visibility:?}");
    }
    // The rule holds after a merge changes a recording's groups.
    let regrouped = json!({
        "id": "support", "callerPhoneNumber": "+1", "dialedPhoneNumber": "+2", "region": "r",
        "mediaFiles": [{
            "callUUID": "support", "mediaId": "m-support-2",
            "startTime": "2015-06-15T10:05:40Z", "stopTime": "2015-06-15T10:05:50Z",
            "mediaDescriptor": {"storage": "webDAV", "path": "b.mp3"},
            "accessgroups": ["/Sales/West"]
        }]
    });
    let regrouped = Recording::from_json(regrouped.as_object().unwrap().clone()).unwrap();
    let merged = store.insert_or_merge("cc", regrouped).await.unwrap();
    assert_eq!(merged, crate::InsertOutcome::Merged);
    let west = Visibility::new("sup", &strings(&["/Sales/West"]), &[]);
    let stored = store.recording("cc", "support").await.unwrap().unwrap();
    assert!(west.can_see(&stored.stored.to_recording().unwrap()));
    let query = SearchQuery {
        contact_center: "cc".into(),
        limit: 25,
        visibility: Some(west),
        ..SearchQuery::default()
    };
    let ids: Vec<String> = store
        .search(query)
        .await
        .unwrap()
        .recordings
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(
        ids,
        ["support"],
        "a merged media file's groups grant the recording"
    );
}

/// The access history: newest first, bounded, kept after the recording's deletion, gone
/// with the contact center.
pub(crate) async fn access_history(harness: &dyn Harness) {
    let store = harness.store();
    assert!(store.create_contact_center("logged", &[]).await.unwrap());
    let entry = |at_ms: i64, action: &str| crate::AccessEntry {
        contact_center: "logged".into(),
        recording_id: "r1".into(),
        at_ms,
        user: "sam".into(),
        address: Some("10.0.0.1".into()),
        action: action.into(),
        detail: format!("{action} at {at_ms}"),
    };
    for (at, action) in [(1, "read"), (3, "play"), (2, "play")] {
        store.record_access(entry(at, action)).await.unwrap();
    }
    let other = crate::AccessEntry {
        recording_id: "r2".into(),
        ..entry(9, "delete")
    };
    store.record_access(other).await.unwrap();
    let history = store.access_history("logged", "r1", 10).await.unwrap();
    assert_eq!(
        history,
        [entry(3, "play"), entry(2, "play"), entry(1, "read")]
    );
    assert_eq!(
        store.access_history("logged", "r1", 1).await.unwrap().len(),
        1
    );
    assert!(store
        .access_history("cc", "r1", 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store.delete_contact_center("logged").await.unwrap(),
        Removal::Removed
    );
    assert!(store
        .access_history("logged", "r1", 10)
        .await
        .unwrap()
        .is_empty());
}
