//! Contact centers and their features.

use super::{segment, Harness};
use crate::{ReceiverSettings, Removal, StorageSettings};

pub(crate) async fn contact_centers_and_features(harness: &dyn Harness) {
    let store = harness.store();
    assert!(!store.create_contact_center("cc", &[]).await.unwrap());
    let cc = store.contact_center("cc").await.unwrap().unwrap();
    assert_eq!(cc.domains, ["example.com"]);
    assert!(store
        .enable_features("cc", &["api-supervisor-recording".into()])
        .await
        .unwrap());
    assert!(
        store
            .enable_features("cc", &["api-supervisor-recording".into()])
            .await
            .unwrap(),
        "enabling twice is fine"
    );
    assert!(!store.enable_features("nope", &["x".into()]).await.unwrap());
    assert!(store
        .contact_center("cc")
        .await
        .unwrap()
        .unwrap()
        .has_feature("api-supervisor-recording"));
    assert_eq!(
        store.disable_feature("cc", "missing").await.unwrap(),
        Removal::NotFound
    );
    assert_eq!(
        store
            .disable_feature("cc", "api-supervisor-recording")
            .await
            .unwrap(),
        Removal::Removed
    );
    assert!(!store
        .contact_center("cc")
        .await
        .unwrap()
        .unwrap()
        .has_feature("api-supervisor-recording"));
    store
        .insert_or_merge("cc", segment("r1", "m1", 1))
        .await
        .unwrap();
    assert_eq!(
        store.delete_contact_center("cc").await.unwrap(),
        Removal::NotEmpty
    );
    assert!(store.create_contact_center("empty", &[]).await.unwrap());
    let mut ids = store.contact_center_ids().await.unwrap();
    ids.sort();
    assert_eq!(ids, ["cc", "empty"]);
    assert_eq!(
        store.delete_contact_center("empty").await.unwrap(),
        Removal::Removed
    );
    assert_eq!(
        store.delete_contact_center("empty").await.unwrap(),
        Removal::NotFound
    );
    assert!(store.contact_center("empty").await.unwrap().is_none());
    assert_eq!(store.contact_center_ids().await.unwrap(), ["cc"]);
}

/// A contact center made again under the same id starts with nothing of the old one.
pub(crate) async fn deleting_a_contact_center_forgets_its_settings(harness: &dyn Harness) {
    let store = harness.store();
    assert!(store.create_contact_center("gone", &[]).await.unwrap());
    assert!(store
        .enable_features("gone", &["api-supervisor-recording".into()])
        .await
        .unwrap());
    let storage = StorageSettings {
        base_url: "http://127.0.0.1:1/a/".into(),
        username: None,
        sealed_password: None,
    };
    assert!(store.put_storage("gone", storage).await.unwrap());
    let receiver = ReceiverSettings {
        url: "http://127.0.0.1:9/ir".into(),
        username: None,
        sealed_password: None,
        enabled: true,
    };
    assert!(store.put_receiver("gone", receiver).await.unwrap());
    let origins = ["https://media.example.com".to_owned()];
    assert!(store.put_outbound_origins("gone", &origins).await.unwrap());
    assert_eq!(
        store.delete_contact_center("gone").await.unwrap(),
        Removal::Removed
    );
    assert!(store.create_contact_center("gone", &[]).await.unwrap());
    let again = store.contact_center("gone").await.unwrap().unwrap();
    assert!(!again.has_feature("api-supervisor-recording"));
    assert_eq!(store.storage("gone").await.unwrap(), None);
    assert_eq!(store.receiver("gone").await.unwrap(), None);
    assert_eq!(store.outbound_origins("gone").await.unwrap(), None);
    assert_eq!(store.recording_count("gone").await.unwrap(), 0);
}
