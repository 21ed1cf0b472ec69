//! Who gird is and who is signed in: the two GETs RWS clients make first, to learn the
//! CSRF token (every GET answer carries it) before their first POST.

use axum::{Extension, Json};
use serde_json::{json, Value};

use gird_model::access::Operation;

use crate::access::Principal;
use crate::audit::Actor;

/// The role the ops user has: everything, in every contact center.
pub const OPS_ROLE: &str = "Ops";

/// `GET /api/v2/diagnostics/version`, without credentials.
pub async fn version() -> Json<Value> {
    Json(json!({
        "statusCode": 0,
        "product": "gird",
        "version": env!("CARGO_PKG_VERSION"),
    }))
}

/// `GET /api/v2/me`: the signed-in user, and what they may do with recordings they see
/// (`may`), which the web UI shows or hides its controls by.
pub async fn me(Extension(actor): Extension<Actor>, principal: Principal) -> Json<Value> {
    let may = |operation| principal.may(operation).is_ok();
    let capabilities = json!({
        "search": may(Operation::Search),
        "play": may(Operation::Play),
        "applyNonDelete": may(Operation::ApplyHold),
        "removeNonDelete": may(Operation::RemoveHold),
        "delete": may(Operation::Delete),
    });
    let user = match &principal {
        Principal::Ops => json!({
            "id": actor.user,
            "userName": actor.user,
            "roles": [OPS_ROLE],
            "may": capabilities,
        }),
        Principal::User(signed_in) => {
            let mut view = crate::routes::users::user_view(&signed_in.user);
            view["id"] = view["userName"].clone();
            view["source"] = signed_in.source.into();
            view["may"] = capabilities;
            view
        }
    };
    Json(json!({"statusCode": 0, "user": user}))
}
