//! A contact center's settings: storage, S3, the SpeechMiner receiver and the outbound
//! allow-list.

use super::Harness;
use crate::{ReceiverSettings, Removal, S3Settings, StorageSettings};

/// WebDAV storage and receiver settings: kept per contact center, refused for one that
/// does not exist, replaced by a second put.
pub(crate) async fn storage_and_receiver_settings(harness: &dyn Harness) {
    let store = harness.store();
    let storage = |url: &str| StorageSettings {
        base_url: url.into(),
        username: Some("u".into()),
        sealed_password: Some("sealed".into()),
    };
    assert!(!store
        .put_storage("nope", storage("http://127.0.0.1:1/a/"))
        .await
        .unwrap());
    assert_eq!(store.storage("cc").await.unwrap(), None);
    assert!(store
        .put_storage("cc", storage("http://127.0.0.1:1/a/"))
        .await
        .unwrap());
    assert!(store
        .put_storage("cc", storage("http://127.0.0.1:1/b/"))
        .await
        .unwrap());
    assert_eq!(
        store.storage("cc").await.unwrap(),
        Some(storage("http://127.0.0.1:1/b/"))
    );
    assert_eq!(store.delete_storage("cc").await.unwrap(), Removal::Removed);
    assert_eq!(store.delete_storage("cc").await.unwrap(), Removal::NotFound);
    assert_eq!(store.storage("cc").await.unwrap(), None);

    let receiver = ReceiverSettings {
        url: "http://127.0.0.1:9/ir".into(),
        username: None,
        sealed_password: None,
        enabled: false,
    };
    assert!(!store.put_receiver("nope", receiver.clone()).await.unwrap());
    assert!(store.put_receiver("cc", receiver.clone()).await.unwrap());
    assert_eq!(store.receiver("cc").await.unwrap(), Some(receiver));
    assert_eq!(store.delete_receiver("cc").await.unwrap(), Removal::Removed);
    assert_eq!(
        store.delete_receiver("cc").await.unwrap(),
        Removal::NotFound
    );
    assert_eq!(store.receiver("nope").await.unwrap(), None);
}

fn settings(region: &str, endpoint: Option<&str>, buckets: &[&str]) -> S3Settings {
    S3Settings {
        endpoint: endpoint.map(str::to_owned),
        region: region.into(),
        access_key_id: "AKIDEXAMPLE".into(),
        sealed_secret: "sealed".into(),
        path_style: endpoint.is_some(),
        buckets: buckets.iter().map(|b| (*b).to_owned()).collect(),
    }
}

/// A contact center's S3 settings.
pub(crate) async fn s3_settings(harness: &dyn Harness) {
    let store = harness.store();
    assert_eq!(store.s3_storage("cc").await.unwrap(), None);
    assert!(!store
        .put_s3_storage("nope", settings("eu-west-1", None, &["a-b"]))
        .await
        .unwrap());
    assert_eq!(store.s3_storage("nope").await.unwrap(), None);

    let first = settings("eu-west-1", None, &["acme-rec", "acme-old"]);
    assert!(store.put_s3_storage("cc", first.clone()).await.unwrap());
    assert_eq!(store.s3_storage("cc").await.unwrap(), Some(first));
    let second = settings("garage", Some("http://127.0.0.1:9000"), &["x.y.z"]);
    assert!(store.put_s3_storage("cc", second.clone()).await.unwrap());
    assert_eq!(store.s3_storage("cc").await.unwrap(), Some(second));

    // The WebDAV settings are another thing: removing one leaves the other.
    assert_eq!(store.delete_storage("cc").await.unwrap(), Removal::NotFound);
    assert!(store.s3_storage("cc").await.unwrap().is_some());
    assert_eq!(
        store.delete_s3_storage("cc").await.unwrap(),
        Removal::Removed
    );
    assert_eq!(store.s3_storage("cc").await.unwrap(), None);
    assert_eq!(
        store.delete_s3_storage("cc").await.unwrap(),
        Removal::NotFound
    );

    // A contact center with S3 settings can still be deleted; its settings go with it.
    assert!(store
        .put_s3_storage("cc", settings("us-east-1", None, &["abc"]))
        .await
        .unwrap());
    assert_eq!(
        store.delete_contact_center("cc").await.unwrap(),
        Removal::Removed
    );
    assert!(store.create_contact_center("cc", &[]).await.unwrap());
    assert_eq!(store.s3_storage("cc").await.unwrap(), None);
}

/// A contact center's outbound allow-list.
pub(crate) async fn outbound_origins(harness: &dyn Harness) {
    let store = harness.store();
    let list = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert!(store.create_contact_center("egress", &[]).await.unwrap());
    assert_eq!(store.outbound_origins("egress").await.unwrap(), None);
    assert_eq!(
        store.delete_outbound_origins("egress").await.unwrap(),
        Removal::NotFound
    );
    let two = list(&["https://media.example.com", "http://10.1.2.3:8080"]);
    assert!(store.put_outbound_origins("egress", &two).await.unwrap());
    assert_eq!(store.outbound_origins("egress").await.unwrap(), Some(two));
    let replaced = list(&["http://[::1]:9000"]);
    assert!(store
        .put_outbound_origins("egress", &replaced)
        .await
        .unwrap());
    assert_eq!(
        store.outbound_origins("egress").await.unwrap(),
        Some(replaced)
    );
    assert!(store.put_outbound_origins("egress", &[]).await.unwrap());
    assert_eq!(
        store.outbound_origins("egress").await.unwrap(),
        Some(vec![])
    );
    assert!(!store
        .put_outbound_origins("no-such-cc", &list(&["http://a"]))
        .await
        .unwrap());
    assert_eq!(store.outbound_origins("no-such-cc").await.unwrap(), None);
    assert_eq!(
        store.delete_outbound_origins("egress").await.unwrap(),
        Removal::Removed
    );
    assert_eq!(store.outbound_origins("egress").await.unwrap(), None);

    // The list goes with its contact center.
    assert!(store
        .put_outbound_origins("egress", &list(&["http://a"]))
        .await
        .unwrap());
    assert_eq!(
        store.delete_contact_center("egress").await.unwrap(),
        Removal::Removed
    );
    assert!(store.create_contact_center("egress", &[]).await.unwrap());
    assert_eq!(store.outbound_origins("egress").await.unwrap(), None);
}
