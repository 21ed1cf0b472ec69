//! Deleting a recording, with its media files when asked: the lease that keeps a hold
//! (and any other deletion) out while the files go, the audit lines, and what a deletion
//! that fails half-way leaves behind.

use gird_model::datetime::now_millis;
use gird_model::{ContactCenterId, Recording, RecordingId};
use gird_store::{DeletionLease, DeletionStart};

use crate::audit::{self, Actor};
use crate::error::unknown_recording;
use crate::error::ApiError;
use crate::media::{Location, MediaStore};
use crate::state::AppState;
use crate::store_answers::Lease;

/// How long a deletion of media files owns the recording without renewing its lease
/// (it renews before each file); after a crash, another deletion may take over then.
const DELETION_LEASE_MS: i64 = 60_000;

/// Whether a deletion takes the recording's media files with it (`deleteMedia`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaFiles {
    /// Only the record goes; the files stay where they are.
    Kept,
    Deleted,
}

/// Deletes the recording (and its media files, if asked), audited.
pub async fn delete(
    app: &AppState,
    actor: Option<&Actor>,
    contact_center: &ContactCenterId,
    id: &RecordingId,
    media: MediaFiles,
) -> Result<(), ApiError> {
    let (cc, recording_id) = (contact_center.as_str(), id.as_str());
    let outcome = match media {
        MediaFiles::Kept => {
            let start = app.store.delete_recording(cc, recording_id).await?;
            started(start, contact_center, id)?;
            "deleted"
        }
        MediaFiles::Deleted => {
            let lease = DeletionLease {
                token: uuid::Uuid::new_v4().to_string(),
                until_ms: now_millis() + DELETION_LEASE_MS,
            };
            let start = app
                .store
                .begin_deletion(cc, recording_id, &lease, now_millis())
                .await?;
            let recording = started(start, contact_center, id)?;
            // The recording is marked as being deleted and the lease is this request's, so
            // no hold can slip in while its media files go. The rest runs as a task of its
            // own: a client that hangs up must not leave the recording half-deleted.
            let (app, contact_center, id) = (app.clone(), contact_center.clone(), id.clone());
            let actor = actor.cloned();
            tokio::spawn(async move {
                let deletion = Deletion {
                    app: &app,
                    actor: actor.as_ref(),
                    contact_center: &contact_center,
                    id: &id,
                };
                deletion.finish_with_media(&recording, lease).await
            })
            .await
            .map_err(|_| ApiError::Internal)??;
            "deleted with its media"
        }
    };
    // Done already: a history that cannot be written now is logged, not answered.
    let store = app.store.as_ref();
    if let Err(error) = audit::access(store, actor, "delete", cc, recording_id, outcome).await {
        tracing::error!(
            ?error,
            cc,
            recording_id,
            "the deletion is not in the access history"
        );
    }
    Ok(())
}

/// The recording a deletion may go on with, or why it may not.
fn started(
    start: DeletionStart,
    contact_center: &ContactCenterId,
    id: &RecordingId,
) -> Result<Recording, ApiError> {
    match start {
        DeletionStart::Ready(recording) => Ok(recording),
        DeletionStart::NotFound => Err(unknown_recording(id.as_str(), contact_center)),
        DeletionStart::OnHold => Err(ApiError::Forbidden(format!(
            "recording {id:?} is on legal hold (nonDelete)"
        ))),
        DeletionStart::InProgress => Err(ApiError::AlreadyExists(format!(
            "recording {id:?} is being deleted by another request; try again in a minute"
        ))),
    }
}

/// One deletion of media files under its lease.
struct Deletion<'a> {
    app: &'a AppState,
    actor: Option<&'a Actor>,
    contact_center: &'a ContactCenterId,
    id: &'a RecordingId,
}

impl Deletion<'_> {
    /// Deletes the media files one by one, renewing the lease before each, then the
    /// record. Each file's deletion, done or failed, is audited. When one fails the lease
    /// is given up; if files are gone already, the recording stays marked as being
    /// deleted (its view says `beingDeleted`), so it never lists deleted files as if
    /// nothing happened, and deleting it again finishes.
    async fn finish_with_media(
        &self,
        recording: &Recording,
        mut lease: DeletionLease,
    ) -> Result<(), ApiError> {
        let (cc, id) = (self.contact_center.as_str(), self.id.as_str());
        let media = MediaStore::new(self.app, cc);
        let total = recording.media_files.len();
        for (done, media_file) in recording.media_files.iter().enumerate() {
            lease.until_ms = now_millis() + DELETION_LEASE_MS;
            let renewed = self.app.store.renew_deletion(cc, id, &lease).await?;
            if Lease::from_store(renewed) == Lease::TakenOver {
                return Err(self.taken_over());
            }
            let which = media_file.key.to_string();
            let deleted = match Location::of(&media_file.json) {
                Ok(location) => media.delete(&location).await,
                Err(error) => Err(error),
            };
            if let Err(error) = deleted {
                self.audit(&format!("failed {which}: {}", error.message()));
                return Err(self.give_up(&lease, error, done, total).await);
            }
            self.audit(&format!("deleted {which}"));
        }
        let finished = self.app.store.finish_deletion(cc, id, &lease.token).await?;
        match Lease::from_store(finished) {
            Lease::Kept => Ok(()),
            Lease::TakenOver => Err(self.taken_over()),
        }
    }

    /// Gives the lease up after a media file failed, `done` of `total` being gone: with
    /// none gone the recording is as it was; otherwise it stays marked as being deleted,
    /// and saying so, until a deletion finishes.
    async fn give_up(
        &self,
        lease: &DeletionLease,
        error: ApiError,
        done: usize,
        total: usize,
    ) -> ApiError {
        let (cc, id) = (self.contact_center.as_str(), self.id.as_str());
        let unmark = done == 0;
        if let Err(store) = self
            .app
            .store
            .release_deletion(cc, id, &lease.token, unmark)
            .await
        {
            return store.into();
        }
        if unmark {
            return error;
        }
        error.context(&format!(
            "{done} of {total} media files were deleted; the recording stays marked as being deleted: DELETE it again to finish (with deleteMedia=true for the remaining files)"
        ))
    }

    fn taken_over(&self) -> ApiError {
        ApiError::AlreadyExists(format!(
            "the deletion of recording {:?} was taken over by another request",
            self.id
        ))
    }

    fn audit(&self, outcome: &str) {
        audit::record(
            "delete-media",
            self.actor,
            self.contact_center.as_str(),
            self.id.as_str(),
            outcome,
        );
    }
}
