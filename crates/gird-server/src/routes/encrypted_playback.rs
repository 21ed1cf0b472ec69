//! Playing a media file that has a `pkcs7` envelope: the content key unwrapped with the
//! contact center's key for the envelope's recipient, the plaintext's length read from the
//! ciphertext's last two blocks, and the wanted bytes (the whole file or one range)
//! fetched as ciphertext blocks and decrypted as they stream.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::Value;

use crate::audit::{self, Actor};
use crate::decrypt::blocks::{check_ciphertext_length, plaintext_length, Wanted, Window};
use crate::decrypt::content_keys::{Candidate, ContentKey, RateLimited};
use crate::decrypt::envelope::Envelope;
use crate::decrypt::stream::{decrypt, Decrypting};
use crate::decrypt::DecryptError;
use crate::error::ApiError;
use crate::media::{playback_headers, Location, MediaStore};
use crate::state::AppState;

/// One encrypted media file to play.
pub struct EncryptedFile<'a> {
    pub contact_center: &'a str,
    pub recording: &'a str,
    /// The file name in the play path, for the audit line.
    pub file: &'a str,
    pub media_file: &'a Value,
    pub pkcs7: &'a str,
}

pub async fn play(
    app: &AppState,
    actor: Option<&Actor>,
    encrypted: EncryptedFile<'_>,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let (envelope, key, alias) = open(app, actor, &encrypted).await?;
    let location = Location::of(encrypted.media_file)?;
    let media = MediaStore::new(app, encrypted.contact_center);
    let (length, upstream_headers) = plaintext_size(&media, &location, &envelope, &key).await?;
    let range = headers
        .get(header::RANGE)
        .and_then(|range| range.to_str().ok());
    let (status, first, last) = match Wanted::of(range, length) {
        Wanted::Unsatisfiable => {
            return Err(ApiError::RangeNotSatisfiable(Some(format!(
                "bytes */{length}"
            ))))
        }
        Wanted::Range { first, last } => (StatusCode::PARTIAL_CONTENT, first, last),
        Wanted::Whole => (StatusCode::OK, 0, length.saturating_sub(1)),
    };
    let shown_range = range
        .map(|range| format!(" {}", range.chars().take(64).collect::<String>()))
        .unwrap_or_default();
    let detail = format!(
        "{} {}{shown_range} decrypted with key {alias}",
        status.as_u16(),
        encrypted.file
    );
    audit::record(
        "decrypt",
        actor,
        encrypted.contact_center,
        encrypted.recording,
        &format!("{} key {alias}", encrypted.file),
    );
    audit::access(
        app.store.as_ref(),
        actor,
        "play",
        encrypted.contact_center,
        encrypted.recording,
        &detail,
    )
    .await?;
    let kind = encrypted.media_file["type"].as_str();
    let mut answer = playback_headers(status, &upstream_headers, kind);
    answer.remove(header::ETAG);
    if length == 0 {
        answer.insert(header::CONTENT_LENGTH, HeaderValue::from(0));
        return Ok((StatusCode::OK, answer, Body::empty()).into_response());
    }
    let window = Window::of(first, last);
    let upstream = media.open(&location, Some(&range_value(&window))).await?;
    let upstream_start = upstream_start(&upstream)?;
    let state = Decrypting::new(key, &envelope.iv, &window, upstream_start);
    answer.insert(header::CONTENT_LENGTH, HeaderValue::from(window.take));
    if status == StatusCode::PARTIAL_CONTENT {
        let range = format!("bytes {first}-{last}/{length}");
        answer.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_str(&range).expect("digits and dashes"),
        );
    } else {
        answer.remove(header::CONTENT_RANGE);
    }
    let body = Body::from_stream(decrypt(upstream.bytes_stream().boxed(), state));
    Ok((status, answer, body).into_response())
}

/// The envelope and its content key, with the alias of the key that opened it; a
/// refusal is an audit line too (probing envelopes shows).
async fn open(
    app: &AppState,
    actor: Option<&Actor>,
    encrypted: &EncryptedFile<'_>,
) -> Result<(Envelope, ContentKey, String), ApiError> {
    let opened = match Envelope::from_pem(encrypted.pkcs7) {
        Ok(envelope) => content_key(app, encrypted.contact_center, &envelope)
            .await
            .map(|(key, alias)| (envelope, key, alias)),
        Err(error) => Err(error.into()),
    };
    if let Err(error) = &opened {
        audit::record(
            "decrypt",
            actor,
            encrypted.contact_center,
            encrypted.recording,
            &format!("{} refused: {}", encrypted.file, error.message()),
        );
    }
    opened
}

/// The content key, from the contact center's keys for the envelope's recipients.
async fn content_key(
    app: &AppState,
    contact_center: &str,
    envelope: &Envelope,
) -> Result<(ContentKey, String), ApiError> {
    let keys = app.store.decryption_keys(contact_center).await?;
    let mut candidates = Vec::new();
    for (index, recipient) in envelope.recipients.iter().enumerate() {
        for key in keys.iter().filter(|key| key.recipient == recipient.id.key) {
            let private_key_pem = app.sealer.open(&key.sealed_private_key).ok_or_else(|| {
                tracing::error!(
                    contact_center,
                    alias = key.alias,
                    "a decryption key does not open with the storage key"
                );
                ApiError::Internal
            })?;
            candidates.push(Candidate {
                alias: key.alias.clone(),
                recipient_index: index,
                private_key_pem,
            });
        }
    }
    if candidates.is_empty() {
        let recipients = envelope.recipients.iter().map(|r| r.id.clone()).collect();
        return Err(DecryptError::NoKey(recipients).into());
    }
    match app
        .content_keys
        .unwrap(contact_center, envelope, candidates)
        .await
    {
        Ok(outcome) => Ok(outcome?),
        Err(RateLimited) => Err(ApiError::TooSlow(
            "too many new encrypted recordings opened this minute; retry later".into(),
        )),
    }
}

fn range_value(window: &Window) -> HeaderValue {
    HeaderValue::from_str(&window.range_header()).expect("digits and dashes")
}

/// The offset in the file of the first byte the storage answers.
fn upstream_start(upstream: &reqwest::Response) -> Result<u64, ApiError> {
    if upstream.status() != StatusCode::PARTIAL_CONTENT {
        return Ok(0);
    }
    content_range(upstream.headers())
        .map(|(start, _)| start)
        .ok_or_else(|| {
            ApiError::BadGateway("the storage answered a range without Content-Range".into())
        })
}

/// `Content-Range: bytes S-E/L` as (S, L).
fn content_range(headers: &reqwest::header::HeaderMap) -> Option<(u64, u64)> {
    let text = headers.get(header::CONTENT_RANGE)?.to_str().ok()?;
    let (span, total) = text.strip_prefix("bytes ")?.split_once('/')?;
    let (start, _) = span.split_once('-')?;
    Some((start.trim().parse().ok()?, total.trim().parse().ok()?))
}

/// The plaintext's length, from the ciphertext's last two blocks (a suffix range; a
/// storage that ignores ranges is read through, never held), and the storage's headers.
async fn plaintext_size(
    media: &MediaStore<'_>,
    location: &Location<'_>,
    envelope: &Envelope,
    key: &ContentKey,
) -> Result<(u64, HeaderMap), ApiError> {
    let suffix = HeaderValue::from_static("bytes=-32");
    let upstream = match media.open(location, Some(&suffix)).await {
        Err(ApiError::RangeNotSatisfiable(_)) => {
            return Err(DecryptError::NotBlockMultiple(0).into())
        }
        other => other?,
    };
    let (upstream_start, ciphertext_length) = if upstream.status() == StatusCode::PARTIAL_CONTENT {
        content_range(upstream.headers()).ok_or_else(|| {
            ApiError::BadGateway("the storage answered a range without its length".into())
        })?
    } else {
        let length = upstream
            .content_length()
            .ok_or_else(|| ApiError::BadGateway("the storage answered without a length".into()))?;
        (0, length)
    };
    check_ciphertext_length(ciphertext_length)?;
    let headers = upstream.headers().clone();
    let tail = Window::tail(ciphertext_length);
    let mut state = Decrypting::new(key.clone(), &envelope.iv, &tail, upstream_start);
    let mut last_block = Vec::with_capacity(16);
    let mut stream = upstream.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|error| {
            tracing::warn!(%error, "reading an encrypted media file's last blocks failed");
            ApiError::BadGateway("the media file's download failed".into())
        })?;
        last_block.extend_from_slice(&state.feed(&chunk));
        if state.done() {
            break;
        }
    }
    state.finish()?;
    Ok((plaintext_length(ciphertext_length, &last_block)?, headers))
}
