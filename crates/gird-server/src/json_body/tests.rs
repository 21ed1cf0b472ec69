use axum::body::Body;
use axum::extract::FromRequest;
use axum::http::Request;
use gird_model::ContactCenterId;
use serde::Deserialize;
use serde_json::{json, Value};

use super::*;

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Named {
    name: String,
    note: Option<String>,
}

impl RequestBody for Named {}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Strict {
    region: Option<String>,
    buckets: Option<Vec<String>>,
}

impl RequestBody for Strict {
    const SETTING: &'static str = "a test setting";
    const EXPECTED: &'static [(&'static str, &'static str)] =
        &[("buckets", "an array of bucket names")];
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Outer {
    inner: Inner,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Inner {
    items: Vec<Item>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Item {
    flag: bool,
}

impl RequestBody for Outer {}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct WithId {
    id: ContactCenterId,
}

impl RequestBody for WithId {}

fn fault<T: RequestBody + std::fmt::Debug>(body: Value) -> ApiError {
    let Value::Object(object) = body else {
        panic!("an object")
    };
    decode::<T>(object).unwrap_err()
}

#[test]
fn a_missing_or_null_required_field_is_required() {
    let expected = ApiError::MissingField("name: is required".into());
    assert_eq!(fault::<Named>(json!({})), expected);
    assert_eq!(fault::<Named>(json!({"name": null})), expected);
    let named: Named = decode(
        json!({"name": "x", "note": null})
            .as_object()
            .unwrap()
            .clone(),
    )
    .expect("null is an absent optional field");
    assert_eq!((named.name.as_str(), named.note), ("x", None));
}

#[test]
fn a_wrong_type_names_the_field_and_both_types() {
    assert_eq!(
        fault::<Named>(json!({"name": 5})),
        ApiError::InvalidValue("name: expected a string, got a number".into())
    );
    assert_eq!(
        fault::<Named>(json!({"name": "x", "note": ["a"]})),
        ApiError::InvalidValue("note: expected a string, got an array".into())
    );
    assert_eq!(
        fault::<Strict>(json!({"buckets": ["a", null]})),
        ApiError::InvalidValue("buckets[1]: expected a string, got null".into())
    );
}

#[test]
fn a_field_can_say_what_it_holds() {
    assert_eq!(
        fault::<Strict>(json!({"buckets": "acme"})),
        ApiError::InvalidValue("buckets: expected an array of bucket names, got a string".into())
    );
}

#[test]
fn nested_faults_give_the_whole_path() {
    assert_eq!(
        fault::<Outer>(json!({"inner": {"items": [{"flag": true}, {"flag": "yes"}]}})),
        ApiError::InvalidValue("inner.items[1].flag: expected true or false, got a string".into())
    );
    assert_eq!(
        fault::<Outer>(json!({"inner": {"items": [{"flag": true}, {}]}})),
        ApiError::MissingField("inner.items[1].flag: is required".into())
    );
    assert_eq!(
        fault::<Outer>(json!({"inner": {"items": {}}})),
        ApiError::InvalidValue("inner.items: expected an array, got an object".into())
    );
    assert_eq!(
        fault::<Outer>(json!({"inner": 3})),
        ApiError::InvalidValue("inner: expected an object, got a number".into())
    );
}

#[test]
fn an_unknown_field_is_refused_with_the_known_ones() {
    assert_eq!(
        fault::<Strict>(json!({"region": "eu", "regoin": "eu"})),
        ApiError::InvalidValue("regoin: is not a test setting (region, buckets)".into())
    );
    let named: Named = decode(
        json!({"name": "x", "extra": 1})
            .as_object()
            .unwrap()
            .clone(),
    )
    .expect("a DTO without deny_unknown_fields ignores them");
    assert_eq!(named.name, "x");
}

#[test]
fn a_type_that_refuses_a_value_says_why() {
    assert_eq!(
        fault::<WithId>(json!({"id": "bad id"})),
        ApiError::InvalidValue("id: must be 1 to 128 letters, digits, '-', '_' or '.'".into())
    );
    assert_eq!(
        fault::<WithId>(json!({"id": 7})),
        ApiError::InvalidValue("id: expected a string, got a number".into())
    );
}

struct Limit(usize);

impl BodyLimit for Limit {
    fn body_limit(&self) -> usize {
        self.0
    }
}

async fn extract(content_type: Option<&str>, body: &str, limit: usize) -> Result<Named, ApiError> {
    let mut request = Request::builder().method("POST").uri("/");
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    let request = request.body(Body::from(body.to_owned())).unwrap();
    JsonBody::<Named>::from_request(request, &Limit(limit))
        .await
        .map(|JsonBody(named)| named)
}

#[tokio::test]
async fn the_extractor_checks_type_size_and_syntax_first() {
    let json = Some("application/json; charset=utf-8");
    let named = extract(json, r#"{"name": "x"}"#, 100).await.unwrap();
    assert_eq!(named.name, "x");

    for content_type in [None, Some("text/plain"), Some("application/jsonx")] {
        let error = extract(content_type, r#"{"name": "x"}"#, 100)
            .await
            .unwrap_err();
        assert_eq!(error, ApiError::UnsupportedMediaType, "{content_type:?}");
        assert_eq!(error.status().0.as_u16(), 415);
    }

    let error = extract(json, r#"{"name": "a longer name"}"#, 10)
        .await
        .unwrap_err();
    assert_eq!(error, ApiError::PayloadTooLarge(10));
    assert_eq!(error.status().0.as_u16(), 413);

    let error = extract(json, "{\n  \"name\": ,\n}", 100).await.unwrap_err();
    let ApiError::InvalidState(message) = &error else {
        panic!("{error:?}")
    };
    assert!(
        message.starts_with("malformed JSON at line 2 column 11: expected value"),
        "{message}"
    );
    assert_eq!(error.status(), (axum::http::StatusCode::BAD_REQUEST, 2));

    let error = extract(json, "[]", 100).await.unwrap_err();
    assert!(
        matches!(&error, ApiError::InvalidState(m) if m.contains("an array")),
        "{error:?}"
    );

    let error = extract(json, "{}", 100).await.unwrap_err();
    assert_eq!(error, ApiError::MissingField("name: is required".into()));
    assert_eq!(error.status(), (axum::http::StatusCode::BAD_REQUEST, 1));
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Three {
    a: Option<u8>,
    b: Option<u8>,
    c: Option<u8>,
}

impl RequestBody for Three {}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct One {
    only: Option<u8>,
}

impl RequestBody for One {
    const SETTING: &'static str = "a setting of one";
}

#[test]
fn the_known_fields_are_listed_whatever_their_number() {
    assert_eq!(
        fault::<Three>(json!({"d": 1})),
        ApiError::InvalidValue("d: is not a field of this request (a, b, c)".into())
    );
    assert_eq!(
        fault::<One>(json!({"other": 1})),
        ApiError::InvalidValue("other: is not a setting of one (only)".into())
    );
}
