//! The store conformance suite: what every backend must do, written once and run by each
//! backend's tests ([`suite!`] makes one test per check). A check gets a fresh store that
//! holds the contact center `cc` (domain `example.com`) and nothing else.
//!
//! Backend-only behaviour stays beside the backend: which index a search uses, what a
//! restart releases, how instances share a PostgreSQL database.

pub(crate) mod contact_centers;
pub(crate) mod decryption_keys;
pub(crate) mod holds;
pub(crate) mod outbox;
pub(crate) mod recordings;
pub(crate) mod search;
pub(crate) mod sessions;
pub(crate) mod settings;
pub(crate) mod users;

use async_trait::async_trait;
use gird_model::Recording;
use serde_json::json;

use crate::plan::Dialect;
use crate::Store;

/// A fresh store of one backend, for one check.
#[async_trait]
pub(crate) trait Harness: Send + Sync {
    fn store(&self) -> &dyn Store;
    fn dialect(&self) -> Dialect;
    /// Runs one statement on the database behind the store's back (to damage a row the
    /// way an older version or a disk might have left it).
    async fn execute(&self, sql: &str);
    /// Closes the store and removes what the harness made.
    async fn close(&self);
}

/// One recording with one media file `media_id`, at 23:`minute` on 2015-06-15.
pub(crate) fn segment(id: &str, media_id: &str, minute: u32) -> Recording {
    let body = json!({
        "id": id, "callerPhoneNumber": "+1", "dialedPhoneNumber": "+2", "region": "r",
        "mediaFiles": [{
            "callUUID": "c", "mediaId": media_id,
            "startTime": format!("2015-06-15T23:{minute:02}:00Z"),
            "stopTime": format!("2015-06-15T23:{minute:02}:30Z"),
            "mediaDescriptor": {"storage": "webDAV", "path": "a.mp3"}
        }]
    });
    Recording::from_json(body.as_object().unwrap().clone()).unwrap()
}

/// One test per check, each on a fresh harness from `$open` (an async fn).
macro_rules! suite {
    ($open:path) => {
        $crate::conformance::suite!(@ $open;
            contact_centers::contact_centers_and_features,
            contact_centers::deleting_a_contact_center_forgets_its_settings,
            settings::storage_and_receiver_settings,
            settings::s3_settings,
            settings::outbound_origins,
            recordings::inserts_merges_and_reads_back,
            recordings::a_media_id_belongs_to_one_recording,
            recordings::concurrent_segments_of_one_call_are_all_kept,
            recordings::a_retried_merge_is_answered_without_reading_the_record,
            recordings::a_record_stored_under_older_rules_still_reads_merges_and_deletes,
            recordings::recordings_are_counted,
            search::searches_filter_and_page_newest_first,
            search::a_long_recording_is_found_in_the_windows_it_overlaps,
            holds::holds_and_deletions,
            outbox::outbox_lifecycle,
            sessions::sessions,
            users::users,
            users::searches_show_only_what_a_user_may_see,
            users::access_history,
            decryption_keys::decryption_keys,
        );
    };
    (@ $open:path; $($module:ident :: $check:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                let harness = $open().await;
                $crate::conformance::$module::$check(&harness).await;
                $crate::conformance::Harness::close(&harness).await;
            }
        )*
    };
}
pub(crate) use suite;
