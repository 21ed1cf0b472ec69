//! A contact center's decryption keys: added, listed oldest first, unique by alias and by
//! recipient, removed one by one, and gone with the contact center.

use super::Harness;
use crate::{DecryptionKey, KeyAdded, Removal};

fn key(contact_center: &str, alias: &str, recipient: &str, added_ms: i64) -> DecryptionKey {
    DecryptionKey {
        contact_center: contact_center.into(),
        alias: alias.into(),
        recipient: recipient.into(),
        subject: format!("CN={alias}"),
        issuer: "CN=Test CA".into(),
        serial: "01:02".into(),
        not_after: "2030-01-01T00:00:00Z".into(),
        certificate: "-----BEGIN CERTIFICATE-----".into(),
        sealed_private_key: format!("sealed {alias}"),
        added_ms,
    }
}

pub(crate) async fn decryption_keys(harness: &dyn Harness) {
    let store = harness.store();
    assert_eq!(
        store
            .add_decryption_key(key("nope", "a", "r1", 1))
            .await
            .unwrap(),
        KeyAdded::ContactCenterMissing
    );
    assert!(store.decryption_keys("cc").await.unwrap().is_empty());
    let (old, new) = (key("cc", "old", "r1", 1), key("cc", "new", "r2", 2));
    assert_eq!(
        store.add_decryption_key(new.clone()).await.unwrap(),
        KeyAdded::Added
    );
    assert_eq!(
        store.add_decryption_key(old.clone()).await.unwrap(),
        KeyAdded::Added
    );
    assert_eq!(
        store.decryption_keys("cc").await.unwrap(),
        vec![old.clone(), new.clone()],
        "oldest first, every column kept"
    );
    assert_eq!(
        store
            .add_decryption_key(key("cc", "old", "r3", 3))
            .await
            .unwrap(),
        KeyAdded::AliasTaken
    );
    assert_eq!(
        store
            .add_decryption_key(key("cc", "other", "r1", 3))
            .await
            .unwrap(),
        KeyAdded::RecipientTaken
    );
    assert_eq!(store.decryption_keys("cc").await.unwrap().len(), 2);

    assert!(store.create_contact_center("cc2", &[]).await.unwrap());
    assert_eq!(
        store
            .add_decryption_key(key("cc2", "old", "r1", 1))
            .await
            .unwrap(),
        KeyAdded::Added,
        "aliases and recipients are per contact center"
    );
    assert_eq!(
        store.delete_decryption_key("cc", "old").await.unwrap(),
        Removal::Removed
    );
    assert_eq!(
        store.delete_decryption_key("cc", "old").await.unwrap(),
        Removal::NotFound
    );
    assert_eq!(store.decryption_keys("cc").await.unwrap(), vec![new]);
    assert_eq!(store.decryption_keys("cc2").await.unwrap().len(), 1);

    assert_eq!(
        store.delete_contact_center("cc2").await.unwrap(),
        Removal::Removed
    );
    assert!(store.decryption_keys("cc2").await.unwrap().is_empty());
}
