//! The store's side of [`gird_model::access`]: searches check a user's visibility over
//! index terms (see [`crate::plan`]); databases made before those terms existed get them
//! once, when migrated.

/// The schema version (the users migration) from which recordings' visibility terms are
/// in the search index; a database migrated past it indexes its stored records' terms.
pub(crate) const VISIBILITY_MIGRATION: usize = 10;

/// The visibility terms of a stored record (its `body` column); none when it cannot be
/// read, which its reads then report.
pub(crate) fn terms_of_stored(body: &str) -> Vec<(&'static str, String)> {
    let recording = serde_json::from_str::<gird_model::StoredRecording>(body)
        .map_err(|error| error.to_string())
        .and_then(|stored| stored.to_recording());
    match recording {
        Ok(recording) => gird_model::access::visibility_terms(&recording),
        Err(error) => {
            tracing::warn!(%error, "a stored recording could not be indexed for visibility");
            Vec::new()
        }
    }
}
