//! S3 storage per contact center (API.md "S3 storage per contact center"): the ops API
//! (set, read without the secret, delete, every bad field refused and changing nothing),
//! the same settings from `application.yaml`, the secret never stored in clear; and
//! records with `awsS3` descriptors, accepted or refused with their JSON path.

use reqwest::Method;
use serde_json::{json, Value};

use crate::body::{edited, minimal_record, remove, set};
use crate::helpers::{
    send, spawn_app, strong_password, Api, ApiResponse, AppBuilder, CSRF_MESSAGE,
};
use crate::storage::{contains, files};

pub fn s3_path(cc: &str) -> String {
    format!("/api/v2/ops/contact-centers/{cc}/storage/s3")
}

impl Api {
    pub async fn put_s3(&self, cc: &str, body: &Value) -> ApiResponse {
        send(self.request(Method::PUT, &s3_path(cc)).json(body)).await
    }

    pub async fn get_s3(&self, cc: &str) -> ApiResponse {
        send(self.request(Method::GET, &s3_path(cc))).await
    }

    pub async fn delete_s3(&self, cc: &str) -> ApiResponse {
        send(self.request(Method::DELETE, &s3_path(cc))).await
    }

    /// The `s3` object of a successful GET.
    pub async fn s3_settings(&self, cc: &str) -> Value {
        let response = self.get_s3(cc).await;
        assert_eq!(response.status.as_u16(), 200, "{}", response.text);
        let body = response.json();
        assert_eq!(body["statusCode"], 0, "{body}");
        body["s3"].clone()
    }
}

fn settings(secret: &str) -> Value {
    json!({
        "region": "eu-west-1",
        "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
        "secretAccessKey": secret,
        "buckets": ["acme-recordings", "acme-archive"],
    })
}

/// A record whose one media file is `key` in `bucket`.
pub fn s3_record(id: &str, bucket: &str, key: &str) -> Value {
    edited(
        &minimal_record(id),
        [set(
            "/mediaFiles/0/mediaDescriptor",
            json!({"storage": "awsS3", "path": key, "data": {"bucket": bucket}}),
        )],
    )
}

#[tokio::test]
async fn s3_settings_are_set_read_without_the_secret_and_deleted() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    app.get_s3(&cc).await.assert_error(404, 6);

    let secret = strong_password();
    app.put_s3(&cc, &settings(&secret)).await.assert_ok();
    let response = app.get_s3(&cc).await;
    assert!(!response.text.contains(&secret), "{}", response.text);
    assert_eq!(
        response.json(),
        json!({"statusCode": 0, "s3": {
            "endpoint": null, "region": "eu-west-1", "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
            "secretSet": true, "pathStyle": false, "buckets": ["acme-recordings", "acme-archive"]}})
    );

    // A second PUT replaces the first.
    let local = json!({"endpoint": "http://127.0.0.1:9000", "region": "local", "accessKeyId": "k",
                       "secretAccessKey": "s", "pathStyle": true, "buckets": ["Legacy_Bucket"]});
    app.put_s3(&cc, &local).await.assert_ok();
    let stored = app.s3_settings(&cc).await;
    assert_eq!(stored["endpoint"], "http://127.0.0.1:9000/");
    assert_eq!(stored["pathStyle"], true);
    assert_eq!(stored["buckets"], json!(["Legacy_Bucket"]));
    assert!(stored.get("secretAccessKey").is_none(), "{stored}");

    // The WebDAV settings are separate: each goes without the other.
    let dav = json!({"baseUrl": "http://dav.example/recordings/"});
    app.put_storage(&cc, &dav).await.assert_ok();
    app.delete_s3(&cc).await.assert_ok();
    app.get_s3(&cc).await.assert_error(404, 6);
    app.delete_s3(&cc).await.assert_error(404, 6);
    assert_eq!(app.get_storage(&cc).await.status.as_u16(), 200);
    app.put_s3(&cc, &local).await.assert_ok();
    app.delete_storage(&cc).await.assert_ok();
    assert_eq!(app.s3_settings(&cc).await["region"], "local");
}

#[tokio::test]
async fn a_bad_s3_put_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    app.put_s3(&cc, &settings("right")).await.assert_ok();
    let before = app.s3_settings(&cc).await;

    let good = settings("Sekret-9f1b");
    let without = |field: &str| edited(&good, [remove(&format!("/{field}"))]);
    let with = |field: &str, value: Value| edited(&good, [set(&format!("/{field}"), value)]);
    let cases = [
        (without("region"), 400, 1, "region: is required"),
        (without("accessKeyId"), 400, 1, "accessKeyId: is required"),
        (
            without("secretAccessKey"),
            400,
            1,
            "secretAccessKey: is required",
        ),
        (without("buckets"), 400, 1, "buckets: is required"),
        (
            with("region", json!(5)),
            400,
            10,
            "region: expected a string",
        ),
        (with("region", json!("eu west 1")), 400, 10, "region: "),
        (
            with("endpoint", json!("ftp://s3.example")),
            400,
            10,
            "endpoint: ",
        ),
        (with("endpoint", json!("s3.example")), 400, 10, "endpoint: "),
        (
            with("endpoint", json!("http://key:secret@s3.example/")),
            400,
            10,
            "endpoint: ",
        ),
        (
            with("endpoint", json!("https://s3.example/?a=b")),
            400,
            10,
            "endpoint: ",
        ),
        (
            with("endpoint", json!("http://127.0.0.1:9000")),
            400,
            10,
            "pathStyle: must be true",
        ),
        (with("accessKeyId", json!("")), 400, 10, "accessKeyId: "),
        (
            with("accessKeyId", json!("AK ID")),
            400,
            10,
            "accessKeyId: ",
        ),
        (
            with("secretAccessKey", json!("")),
            400,
            10,
            "secretAccessKey: ",
        ),
        (
            with("secretAccessKey", json!(["x"])),
            400,
            10,
            "secretAccessKey: expected a string",
        ),
        (
            with("pathStyle", json!("true")),
            400,
            10,
            "pathStyle: expected true or false",
        ),
        (
            with("buckets", json!("acme-recordings")),
            400,
            10,
            "buckets: expected an array",
        ),
        (
            with("buckets", json!([])),
            400,
            10,
            "buckets: must name 1 to 100 buckets",
        ),
        (
            with("buckets", json!(["acme-recordings", 7])),
            400,
            10,
            "buckets[1]: expected a string",
        ),
        (
            with("buckets", json!(["Legacy_Bucket"])),
            400,
            10,
            "buckets[0]: ",
        ),
        (
            with("buckets", json!(["evil.example:80"])),
            400,
            10,
            "buckets[0]: ",
        ),
        (
            with("buckets", json!(["acme/../other"])),
            400,
            10,
            "buckets[0]: ",
        ),
        (
            with("secretKey", json!("x")),
            400,
            10,
            "secretKey: is not an S3 setting",
        ),
    ];
    for (body, http, status_code, start) in cases {
        let message = app.put_s3(&cc, &body).await.assert_error(http, status_code);
        assert!(message.starts_with(start), "{body}: {message}");
        assert!(
            !message.contains("Sekret-9f1b"),
            "the secret is not repeated: {message}"
        );
        assert_eq!(app.s3_settings(&cc).await, before, "after {body}");
    }
    let path = s3_path(&cc);
    let wrong_type = app.request(Method::PUT, &path).body("{}");
    send(wrong_type).await.assert_error(415, 2);
    let malformed = app
        .request(Method::PUT, &path)
        .header("content-type", "application/json")
        .body("{\"region\":");
    send(malformed).await.assert_error(400, 2);
    assert_eq!(app.s3_settings(&cc).await, before);
}

#[tokio::test]
async fn s3_settings_of_an_unknown_contact_center_are_404() {
    let app = spawn_app().await;
    app.put_s3("no-such-cc", &settings("s"))
        .await
        .assert_error(404, 6);
    app.get_s3("no-such-cc").await.assert_error(404, 6);
    app.delete_s3("no-such-cc").await.assert_error(404, 6);
}

#[tokio::test]
async fn s3_settings_need_the_ops_credentials_and_the_csrf_token() {
    let app = AppBuilder::new().csrf().spawn().await;
    let cc = app.ready_contact_center().await;
    let path = s3_path(&cc);
    for method in [Method::PUT, Method::GET, Method::DELETE] {
        send(app.anonymous(method, &path).json(&settings("s")))
            .await
            .assert_unauthorized();
    }
    let message = send(app.authed(Method::PUT, &path).json(&settings("s")))
        .await
        .assert_error(403, 3);
    assert_eq!(message, CSRF_MESSAGE);
    app.get_s3(&cc).await.assert_error(404, 6);
    app.put_s3(&cc, &settings("s")).await.assert_ok();
    let message = send(app.authed(Method::DELETE, &path))
        .await
        .assert_error(403, 3);
    assert_eq!(message, CSRF_MESSAGE);
    assert_eq!(app.s3_settings(&cc).await["region"], "eu-west-1");
}

#[tokio::test]
async fn the_s3_secret_is_not_stored_in_clear() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let secret = format!("Needle-{}", strong_password());
    app.put_s3(&cc, &settings(&secret)).await.assert_ok();
    assert_eq!(app.s3_settings(&cc).await["secretSet"], true);
    if let Some(database) = app.database() {
        assert!(!database.tables_containing("acme-archive").await.is_empty());
        let in_clear = database.tables_containing(&secret).await;
        assert!(
            in_clear.is_empty(),
            "the secret is in clear in {in_clear:?}"
        );
    }
    let files = files(&app.data_dir);
    assert!(!files.is_empty(), "the data folder has files");
    for file in files {
        let bytes = std::fs::read(&file).expect("read data file");
        assert!(
            !contains(&bytes, secret.as_bytes()),
            "the S3 secret is in clear in {}",
            file.display()
        );
    }
}

const YAML: &str = "gird:
  s3:
    timeoutSeconds: 5
    contactCenters:
      default:
        endpoint: http://127.0.0.1:9000/s3
        region: us-east-1
        accessKeyId: yaml-key
        secretAccessKey: Yaml-Secret-0c4e
        pathStyle: true
        buckets: [from-yaml]
";

#[tokio::test]
async fn s3_settings_come_from_application_yaml_at_every_start() {
    // `default` is the contact center a new database starts with.
    let builder = AppBuilder::new().config_file(YAML);
    let app = builder.spawn().await;
    let stored = app.s3_settings("default").await;
    assert_eq!(
        stored,
        json!({"endpoint": "http://127.0.0.1:9000/s3", "region": "us-east-1",
               "accessKeyId": "yaml-key", "secretSet": true, "pathStyle": true,
               "buckets": ["from-yaml"]})
    );
    // The ops API may change it; the next start writes the file's settings again.
    app.put_s3("default", &settings("s")).await.assert_ok();
    let app = app.restart().await;
    assert_eq!(
        app.s3_settings("default").await["buckets"],
        json!(["from-yaml"])
    );
}

#[tokio::test]
async fn bad_s3_settings_in_application_yaml_stop_the_start() {
    let cases = [
        (
            YAML.replace("        region: us-east-1\n", ""),
            "gird.s3.contactCenters.default.region: is required",
        ),
        (
            YAML.replace("[from-yaml]", "[Not/A/Bucket]"),
            "gird.s3.contactCenters.default.buckets[0]: ",
        ),
        (YAML.replace("accessKeyId:", "accessKey:"), "accessKey"),
        (
            YAML.replace("timeoutSeconds: 5", "timeoutSecs: 5"),
            "timeoutSecs",
        ),
    ];
    for (yaml, expected) in cases {
        let (status, output) = AppBuilder::new()
            .config_file(&yaml)
            .spawn_expecting_failure()
            .await
            .expect("gird refuses to start");
        assert!(!status.success());
        assert!(output.contains(expected), "{expected}: {output}");
        assert!(
            !output.contains("Yaml-Secret-0c4e"),
            "the secret is not printed: {output}"
        );
    }
}

#[tokio::test]
async fn records_stored_in_s3_are_accepted_and_kept_as_sent() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let body = s3_record("cloud", "acme-recordings", "2024/05/01/call-1.mp3");
    app.insert(&cc, &body).await.assert_ok();
    let upper = edited(
        &s3_record("cloud-2", "acme-recordings", "a.mp3"),
        [set("/mediaFiles/0/mediaDescriptor/storage", json!("AWSS3"))],
    );
    app.insert(&cc, &upper).await.assert_ok();
    let recording = app.recording(&cc, "cloud").await;
    let media = &recording["mediaFiles"][0];
    assert_eq!(
        media["mediaDescriptor"],
        body["mediaFiles"][0]["mediaDescriptor"]
    );
    assert!(
        media["playPath"].as_str().unwrap().ends_with(".mp3"),
        "{media}"
    );
    assert_eq!(
        app.recording(&cc, "cloud-2").await["mediaFiles"][0]["mediaDescriptor"]["storage"],
        "AWSS3",
        "stored as sent"
    );
}

#[tokio::test]
async fn bad_s3_descriptors_are_refused_and_store_nothing() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let descriptor = "/mediaFiles/0/mediaDescriptor";
    let at = |name: &str| format!("mediaFiles[0].mediaDescriptor.{name}");
    let cases = [
        (
            remove(&format!("{descriptor}/data")),
            1,
            format!("{}: is required", at("data.bucket")),
        ),
        (
            remove(&format!("{descriptor}/data/bucket")),
            1,
            format!("{}: is required", at("data.bucket")),
        ),
        (
            set(&format!("{descriptor}/data/bucket"), json!(42)),
            10,
            format!("{}: expected a string", at("data.bucket")),
        ),
        (
            set(&format!("{descriptor}/data/bucket"), json!("")),
            10,
            format!("{}: ", at("data.bucket")),
        ),
        (
            set(
                &format!("{descriptor}/data/bucket"),
                json!("evil.example/x"),
            ),
            10,
            format!("{}: ", at("data.bucket")),
        ),
        (
            set(&format!("{descriptor}/data"), json!("acme")),
            10,
            format!("{}: expected an object", at("data")),
        ),
        (
            set(&format!("{descriptor}/storage"), json!("gcs")),
            10,
            format!("{}: \"gcs\" is neither webDAV nor awsS3", at("storage")),
        ),
        (
            set(&format!("{descriptor}/storage"), json!("s3")),
            10,
            format!("{}: ", at("storage")),
        ),
        (
            set(
                &format!("{descriptor}/path"),
                json!("../other-bucket/a.mp3"),
            ),
            10,
            format!("{}: ", at("path")),
        ),
        (
            set(&format!("{descriptor}/path"), json!("")),
            10,
            format!("{}: ", at("path")),
        ),
        (
            remove(&format!("{descriptor}/path")),
            1,
            format!("{}: is required", at("path")),
        ),
    ];
    for (edit, status_code, expected) in cases {
        let pointer = edit.pointer().to_owned();
        let body = edited(&s3_record("refused", "acme-recordings", "a.mp3"), [edit]);
        let message = app.insert(&cc, &body).await.assert_error(400, status_code);
        assert!(message.starts_with(&expected), "{pointer}: {message}");
        app.assert_absent(&cc, "refused").await;
    }
}
