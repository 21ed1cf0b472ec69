//! The ops API for a contact center's users (docs/API.md "Users and access"): create,
//! list, read, change and delete. A password is never answered; a password change or a
//! deletion ends the user's web UI sessions at once.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use gird_model::ContactCenterId;
use gird_store::{Removal, User, UserWrite};
use serde_json::{json, Value};

use crate::access::{hash_password, new_stamp};
use crate::error::{success, ApiError};
use crate::json_body::JsonBody;
use crate::requests::{UserBody, UserName};
use crate::scope::{unknown_contact_center, FoundContactCenter};
use crate::state::AppState;

/// Most access groups, partitions a user may hold.
const MAX_PATHS: usize = 64;

/// How a user is answered: never the password.
pub fn user_view(user: &User) -> Value {
    json!({
        "userName": user.name,
        "contactCenterId": user.contact_center,
        "roles": user.roles.iter().map(|r| r.name()).collect::<Vec<_>>(),
        "accessGroups": user.access_groups,
        "partitions": user.partitions,
        "permissions": user.permissions.iter().map(|p| p.name()).collect::<Vec<_>>(),
    })
}

fn unknown_user(name: &str, contact_center: &ContactCenterId) -> ApiError {
    ApiError::NotFound(format!(
        "user {name:?} does not exist in contact center {contact_center:?}"
    ))
}

/// The user the body describes, with `password_hash` and `stamp` still to be set.
fn user_of(
    app: &AppState,
    contact_center: &ContactCenterId,
    name: &str,
    body: &UserBody,
) -> Result<User, ApiError> {
    if name.eq_ignore_ascii_case(&app.ops_user) {
        return Err(ApiError::InvalidValue(format!(
            "userName: {name:?} is the ops user's name"
        )));
    }
    if body.roles.is_empty() {
        return Err(ApiError::InvalidValue(
            "roles: must name at least one of Administrator, Supervisor, Agent".into(),
        ));
    }
    for (field, paths) in [
        ("accessGroups", &body.access_groups),
        ("partitions", &body.partitions),
    ] {
        if paths.len() > MAX_PATHS {
            return Err(ApiError::InvalidValue(format!(
                "{field}: at most {MAX_PATHS}"
            )));
        }
    }
    let unique = |items: Vec<String>| {
        let mut seen: Vec<String> = Vec::new();
        for item in items {
            if !seen.contains(&item) {
                seen.push(item);
            }
        }
        seen
    };
    let mut roles = Vec::new();
    for role in &body.roles {
        if !roles.contains(&role.0) {
            roles.push(role.0);
        }
    }
    let mut permissions = Vec::new();
    for permission in &body.permissions {
        if !permissions.contains(&permission.0) {
            permissions.push(permission.0);
        }
    }
    Ok(User {
        name: name.to_owned(),
        contact_center: contact_center.as_str().to_owned(),
        password_hash: String::new(),
        roles,
        access_groups: unique(body.access_groups.iter().map(|p| p.0.clone()).collect()),
        partitions: unique(body.partitions.iter().map(|p| p.0.clone()).collect()),
        permissions,
        stamp: String::new(),
    })
}

/// Hashes a password off the async workers (argon2 takes tens of milliseconds).
async fn hashed(password: &crate::settings::Secret) -> Result<String, ApiError> {
    let password = password.expose().to_owned();
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|_| ApiError::Internal)
}

pub async fn create(
    State(app): State<AppState>,
    FoundContactCenter { id, .. }: FoundContactCenter,
    JsonBody(body): JsonBody<UserBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Some(UserName(name)) = &body.user_name else {
        return Err(ApiError::MissingField("userName: is required".into()));
    };
    let Some(password) = &body.password else {
        return Err(ApiError::MissingField("password: is required".into()));
    };
    let mut user = user_of(&app, &id, name, &body)?;
    user.password_hash = hashed(&password.0).await?;
    user.stamp = new_stamp();
    match app.store.create_user(user.clone()).await? {
        UserWrite::Created => Ok((
            StatusCode::CREATED,
            Json(json!({"statusCode": 0, "user": user_view(&user)})),
        )),
        UserWrite::NameTaken => Err(ApiError::AlreadyExists(format!(
            "a user named {name:?} already exists (names are unique across contact centers, without case)"
        ))),
        UserWrite::ContactCenterMissing => Err(unknown_contact_center(id.as_str())),
        UserWrite::Replaced | UserWrite::NotFound => Err(ApiError::Internal),
    }
}

pub async fn list(
    State(app): State<AppState>,
    FoundContactCenter { id, .. }: FoundContactCenter,
) -> Result<Json<Value>, ApiError> {
    let users = app.store.users(id.as_str()).await?;
    let views: Vec<Value> = users.iter().map(user_view).collect();
    Ok(Json(json!({"statusCode": 0, "users": views})))
}

/// The user of that name in the contact center.
async fn existing(app: &AppState, id: &ContactCenterId, name: &str) -> Result<User, ApiError> {
    app.store
        .user(name)
        .await?
        .filter(|user| user.contact_center == id.as_str())
        .ok_or_else(|| unknown_user(name, id))
}

pub async fn get(
    State(app): State<AppState>,
    FoundContactCenter { id, .. }: FoundContactCenter,
    Path((_, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let user = existing(&app, &id, &name).await?;
    Ok(Json(json!({"statusCode": 0, "user": user_view(&user)})))
}

pub async fn replace(
    State(app): State<AppState>,
    FoundContactCenter { id, .. }: FoundContactCenter,
    Path((_, name)): Path<(String, String)>,
    JsonBody(body): JsonBody<UserBody>,
) -> Result<Json<Value>, ApiError> {
    let before = existing(&app, &id, &name).await?;
    if let Some(UserName(other)) = &body.user_name {
        if !other.eq_ignore_ascii_case(&before.name) {
            return Err(ApiError::InvalidValue(format!(
                "userName: {other:?} is not the user the path names ({:?}); a user cannot be renamed",
                before.name
            )));
        }
    }
    let mut user = user_of(&app, &id, &before.name, &body)?;
    let password_changed = body.password.is_some();
    match &body.password {
        Some(password) => {
            user.password_hash = hashed(&password.0).await?;
            user.stamp = new_stamp();
        }
        None => {
            user.password_hash = before.password_hash.clone();
            user.stamp = before.stamp.clone();
        }
    }
    match app.store.replace_user(user.clone()).await? {
        UserWrite::Replaced => {}
        UserWrite::NotFound => return Err(unknown_user(&name, &id)),
        UserWrite::ContactCenterMissing => return Err(unknown_contact_center(id.as_str())),
        UserWrite::Created | UserWrite::NameTaken => return Err(ApiError::Internal),
    }
    if password_changed {
        // The new stamp already ends them; this also removes them from the database.
        app.store
            .delete_sessions_of(&user.name.to_lowercase())
            .await?;
    }
    Ok(Json(json!({"statusCode": 0, "user": user_view(&user)})))
}

pub async fn delete(
    State(app): State<AppState>,
    FoundContactCenter { id, .. }: FoundContactCenter,
    Path((_, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    match app.store.delete_user(id.as_str(), &name).await? {
        Removal::Removed => Ok(success()),
        _ => Err(unknown_user(&name, &id)),
    }
}
