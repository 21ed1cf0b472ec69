//! The one extractor of ops request bodies: [`JsonBody<T>`] reads a JSON object and
//! deserializes it into the request's DTO (see `crate::requests`), answering every fault
//! with the `ApiError` envelope:
//!
//! | fault | answer |
//! |---|---|
//! | `Content-Type` not `application/json` | 415/2 |
//! | body over the limit | 413/2 |
//! | not UTF-8, malformed JSON (with line and column), not an object | 400/2 |
//! | a required field absent or `null` | 400/1 `<path>: is required` |
//! | a value of the wrong type | 400/10 `<path>: expected <what>, got <JSON type>` |
//! | a value its type refuses (an id, a URL...) | 400/10 `<path>: <why>` |
//! | an unknown field, where the DTO refuses them | 400/10 `<path>: is not <setting> (<fields>)` |
//!
//! `<path>` is the field's JSON path, as the Insertion API's violations name them
//! (`buckets[1]`, `mediaFiles[0].mediaDescriptor.path`). `null` is taken as an absent
//! field everywhere, as the hand-written parsing before it did.

mod errors;

use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::body::json_object;
use crate::error::ApiError;

/// A request body of type `T`, read and checked by the rules above.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

/// A request DTO: deserializable, and saying how its faults are worded.
pub trait RequestBody: DeserializeOwned {
    /// What an unknown field is not, for DTOs that refuse them
    /// (`#[serde(deny_unknown_fields)]`): `"an S3 setting"`.
    const SETTING: &'static str = "a field of this request";
    /// What a field holds, where the wording of its type (`an array`) would say too
    /// little: `("origins", "a list of origins (scheme://host[:port])")`.
    const EXPECTED: &'static [(&'static str, &'static str)] = &[];
}

/// The state of a router whose handlers read bodies: how large one may be.
pub trait BodyLimit {
    fn body_limit(&self) -> usize;
}

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: BodyLimit + Send + Sync,
    T: RequestBody,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<JsonBody<T>, ApiError> {
        let (parts, body) = request.into_parts();
        let object = json_object(&parts.headers, body, state.body_limit()).await?;
        decode(object).map(JsonBody)
    }
}

/// Deserializes a request object into `T`, each fault named by its JSON path.
pub fn decode<T: RequestBody>(object: Map<String, Value>) -> Result<T, ApiError> {
    let body = without_nulls(Value::Object(object));
    serde_path_to_error::deserialize(&body)
        .map_err(|error| errors::describe::<T>(error.path(), error.inner(), &body))
}

/// The value with every `null` member of its objects left out: an absent field. A
/// `null` in an array stays, for its type to be refused.
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(object) => Value::Object(
            object
                .into_iter()
                .filter(|(_, member)| !member.is_null())
                .map(|(name, member)| (name, without_nulls(member)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests;
