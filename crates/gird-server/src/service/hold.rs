//! The legal hold (`nonDelete`): applying and removing it, audited.

use gird_model::{ContactCenterId, RecordingId};
use gird_store::HoldChange;
use serde::Deserialize;

use crate::audit::{self, Actor};
use crate::error::unknown_recording;
use crate::error::ApiError;
use crate::state::AppState;

/// `applyNonDelete` or `removeNonDelete`, as a request names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum HoldOperation {
    Apply,
    Remove,
}

impl HoldOperation {
    pub fn name(self) -> &'static str {
        match self {
            HoldOperation::Apply => "applyNonDelete",
            HoldOperation::Remove => "removeNonDelete",
        }
    }
}

impl TryFrom<String> for HoldOperation {
    type Error = String;

    fn try_from(name: String) -> Result<HoldOperation, String> {
        [HoldOperation::Apply, HoldOperation::Remove]
            .into_iter()
            .find(|operation| operation.name() == name)
            .ok_or_else(|| format!("{name:?} is not applyNonDelete or removeNonDelete"))
    }
}

/// Applies or removes the hold, audited.
pub async fn change(
    app: &AppState,
    actor: Option<&Actor>,
    contact_center: &ContactCenterId,
    id: &RecordingId,
    operation: HoldOperation,
) -> Result<(), ApiError> {
    let (cc, recording) = (contact_center.as_str(), id.as_str());
    let held = operation == HoldOperation::Apply;
    match app.store.set_legal_hold(cc, recording, held).await? {
        HoldChange::Done => {
            let store = app.store.as_ref();
            audit::access(store, actor, "legal-hold", cc, recording, operation.name()).await
        }
        HoldChange::NotFound => Err(unknown_recording(recording, contact_center)),
        HoldChange::DeletionInProgress => Err(ApiError::AlreadyExists(format!(
            "recording {id:?} is being deleted, so its hold cannot change; DELETE it again to finish the deletion"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_two_operation_names_are_operations() {
        for operation in [HoldOperation::Apply, HoldOperation::Remove] {
            assert_eq!(
                HoldOperation::try_from(operation.name().to_owned()),
                Ok(operation)
            );
        }
        for other in ["removenondelete", "removeNonDeleteNow", ""] {
            assert_eq!(
                HoldOperation::try_from(other.to_owned()),
                Err(format!(
                    "{other:?} is not applyNonDelete or removeNonDelete"
                ))
            );
        }
    }
}
