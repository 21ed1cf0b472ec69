//! The ops API for a contact center's decryption keys (docs/API.md "Encrypted
//! recordings"): add a key pair (PEM or PKCS#12), list them, remove one, and the public
//! certificates the RWS way. A private key is sealed before it is stored and never
//! answered.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use gird_model::ContactCenterId;
use gird_store::{DecryptionKey, KeyAdded, Removal};
use serde_json::{json, Map, Value};

use crate::audit::{self, Actor};
use crate::decrypt::keypair::KeyPair;
use crate::error::{success, ApiError};
use crate::json_body::JsonBody;
use crate::requests::{DecryptionKeyBody, KeyAlias};
use crate::scope::{unknown_contact_center, FoundContactCenter};
use crate::state::AppState;

/// The key pair the body sends, checked.
fn key_pair(body: &DecryptionKeyBody) -> Result<KeyPair, ApiError> {
    let refused =
        |error: crate::decrypt::keypair::KeyPairError| ApiError::InvalidValue(error.to_string());
    match (&body.pkcs12, &body.certificate, &body.private_key) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => Err(ApiError::InvalidValue(
            "send either certificate with privateKey, or pkcs12 with password".into(),
        )),
        (Some(pkcs12), None, None) => {
            let text: String = pkcs12
                .expose()
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            let keystore = STANDARD
                .decode(text)
                .map_err(|_| ApiError::InvalidValue("pkcs12: not base64".into()))?;
            let password = body.password.as_ref().map_or("", |p| p.expose());
            KeyPair::from_pkcs12(&keystore, password).map_err(refused)
        }
        (None, Some(certificate), Some(private_key)) => {
            KeyPair::from_pem(certificate, private_key.expose()).map_err(refused)
        }
        (None, None, _) => Err(ApiError::MissingField(
            "certificate: is required (or pkcs12)".into(),
        )),
        (None, Some(_), None) => Err(ApiError::MissingField("privateKey: is required".into())),
    }
}

pub async fn add(
    State(app): State<AppState>,
    actor: Option<Extension<Actor>>,
    FoundContactCenter { id, .. }: FoundContactCenter,
    JsonBody(body): JsonBody<DecryptionKeyBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let pair = key_pair(&body)?;
    let alias = body.alias.map_or_else(
        || pair.fingerprint[..16].to_owned(),
        |KeyAlias(alias)| alias,
    );
    let key = DecryptionKey {
        contact_center: id.as_str().to_owned(),
        alias: alias.clone(),
        recipient: pair.recipient.key.clone(),
        subject: pair.subject.clone(),
        issuer: pair.recipient.issuer.clone(),
        serial: pair.recipient.serial.clone(),
        not_after: pair.not_after.clone(),
        certificate: pair.certificate_pem.clone(),
        sealed_private_key: app.sealer.seal(&pair.private_key_pem),
        added_ms: gird_model::datetime::now_millis(),
    };
    match app.store.add_decryption_key(key).await? {
        KeyAdded::Added => {}
        KeyAdded::AliasTaken => {
            return Err(ApiError::AlreadyExists(format!(
                "contact center {id:?} has a decryption key {alias:?} already"
            )))
        }
        KeyAdded::RecipientTaken => {
            return Err(ApiError::AlreadyExists(format!(
                "contact center {id:?} has a decryption key for {} already",
                pair.recipient
            )))
        }
        KeyAdded::ContactCenterMissing => return Err(unknown_contact_center(id.as_str())),
    }
    audit::record(
        "decryption-key-add",
        actor.as_deref(),
        id.as_str(),
        "-",
        &format!("{alias} {}", pair.recipient),
    );
    Ok((
        StatusCode::CREATED,
        Json(json!({"statusCode": 0, "alias": alias})),
    ))
}

fn key_view(key: &DecryptionKey) -> Value {
    json!({
        "alias": key.alias,
        "subject": key.subject,
        "issuer": key.issuer,
        "serial": key.serial,
        "notAfter": key.not_after,
    })
}

pub async fn list(
    State(app): State<AppState>,
    FoundContactCenter { id, .. }: FoundContactCenter,
) -> Result<Json<Value>, ApiError> {
    let keys = app.store.decryption_keys(id.as_str()).await?;
    Ok(Json(json!({
        "statusCode": 0,
        "keys": keys.iter().map(key_view).collect::<Vec<_>>(),
    })))
}

fn unknown_key(alias: &str, id: &ContactCenterId) -> ApiError {
    ApiError::NotFound(format!(
        "contact center {id:?} has no decryption key {alias:?}"
    ))
}

pub async fn delete(
    State(app): State<AppState>,
    actor: Option<Extension<Actor>>,
    FoundContactCenter { id, .. }: FoundContactCenter,
    Path(path): Path<std::collections::HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let alias = path.get("alias").map(String::as_str).unwrap_or_default();
    match app.store.delete_decryption_key(id.as_str(), alias).await? {
        Removal::Removed => {
            audit::record(
                "decryption-key-delete",
                actor.as_deref(),
                id.as_str(),
                "-",
                alias,
            );
            Ok(success())
        }
        _ => Err(unknown_key(alias, &id)),
    }
}

/// `GET .../settings/screen-recording-encryption`: the public certificates, numbered from
/// 1 in the order they were added, as RWS serves them to encrypting clients.
pub async fn screen_recording_encryption(
    State(app): State<AppState>,
    FoundContactCenter { id, .. }: FoundContactCenter,
) -> Result<Json<Value>, ApiError> {
    let keys = app.store.decryption_keys(id.as_str()).await?;
    let mut settings = Map::new();
    for (index, key) in keys.iter().enumerate() {
        let n = index + 1;
        settings.insert(format!("certificatealias-{n}"), json!(key.alias));
        settings.insert(format!("certificate-{n}"), json!(key.certificate));
    }
    Ok(Json(json!({"statusCode": 0, "settings": settings})))
}
