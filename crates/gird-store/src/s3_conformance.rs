//! The S3 settings' behaviour, run against each backend by its own tests.

use crate::{Removal, S3Settings, Store};

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

/// `store` has the contact center `cc`, without recordings.
pub(crate) async fn s3_settings(store: &dyn Store) {
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
