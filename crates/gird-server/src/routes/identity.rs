//! Who gird is and who is signed in: the two GETs RWS clients make first, to learn the
//! CSRF token (every GET answer carries it) before their first POST.

use axum::{Extension, Json};
use serde_json::{json, Value};

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

/// `GET /api/v2/me`: the signed-in user.
pub async fn me(Extension(actor): Extension<Actor>) -> Json<Value> {
    Json(json!({
        "statusCode": 0,
        "user": {
            "id": actor.user,
            "userName": actor.user,
            "roles": [OPS_ROLE],
        },
    }))
}
