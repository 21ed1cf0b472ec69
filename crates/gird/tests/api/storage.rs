//! Storage credentials per contact center (API.md "Storage credentials per contact
//! center"): set, read without the password, delete, and never stored in clear.

use std::path::Path;

use reqwest::Method;
use serde_json::json;

use crate::helpers::{send, spawn_app, strong_password, AppBuilder, TestApp, CSRF_MESSAGE};
use crate::rws::storage_path;

const BASE_URL: &str = "http://dav.example/recordings/";

/// The `storage` object of a successful GET.
async fn storage(app: &TestApp, cc: &str) -> serde_json::Value {
    let response = app.get_storage(cc).await;
    assert_eq!(response.status.as_u16(), 200, "{}", response.text);
    let body = response.json();
    assert_eq!(body["statusCode"], 0, "{body}");
    body["storage"].clone()
}

#[tokio::test]
async fn storage_is_set_read_without_its_password_and_deleted() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    app.get_storage(&cc).await.assert_error(404, 6);

    let password = strong_password();
    let body = json!({"baseUrl": BASE_URL, "username": "u", "password": password});
    app.put_storage(&cc, &body).await.assert_ok();
    let response = app.get_storage(&cc).await;
    assert!(!response.text.contains(&password), "{}", response.text);
    assert_eq!(
        response.json(),
        json!({"statusCode": 0, "storage": {"baseUrl": BASE_URL, "username": "u", "passwordSet": true}})
    );

    // A second PUT replaces the first; without a password none is set.
    let other = "https://other.example/dav/";
    app.put_storage(&cc, &json!({"baseUrl": other, "username": "v"}))
        .await
        .assert_ok();
    let stored = storage(&app, &cc).await;
    assert_eq!(stored["baseUrl"], other);
    assert_eq!(stored["username"], "v");
    assert_eq!(stored["passwordSet"], false);
    assert!(stored.get("password").is_none(), "{stored}");

    app.delete_storage(&cc).await.assert_ok();
    app.get_storage(&cc).await.assert_error(404, 6);
    app.delete_storage(&cc).await.assert_error(404, 6);
}

#[tokio::test]
async fn credentials_are_optional() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    app.put_storage(&cc, &json!({ "baseUrl": BASE_URL }))
        .await
        .assert_ok();
    let stored = storage(&app, &cc).await;
    assert_eq!(stored["baseUrl"], BASE_URL);
    assert_eq!(stored["passwordSet"], false);
}

#[tokio::test]
async fn a_bad_put_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let good = json!({"baseUrl": BASE_URL, "username": "u", "password": strong_password()});
    app.put_storage(&cc, &good).await.assert_ok();
    let before = storage(&app, &cc).await;

    let cases = [
        (
            json!({"baseUrl": "ftp://dav.example/x/"}),
            400,
            10,
            "baseUrl",
        ),
        (json!({"baseUrl": "file:///etc/"}), 400, 10, "baseUrl"),
        (
            json!({"baseUrl": "dav.example/recordings/"}),
            400,
            10,
            "baseUrl",
        ),
        (json!({"baseUrl": "not a url"}), 400, 10, "baseUrl"),
        (json!({"baseUrl": "http://"}), 400, 10, "baseUrl"),
        (json!({"baseUrl": ""}), 400, 10, "baseUrl"),
        (json!({"baseUrl": 42}), 400, 10, "baseUrl"),
        (json!({"username": "u", "password": "p"}), 400, 1, "baseUrl"),
        (json!({}), 400, 1, "baseUrl"),
    ];
    for (body, http, status_code, named) in cases {
        let message = app
            .put_storage(&cc, &body)
            .await
            .assert_error(http, status_code);
        assert!(message.contains(named), "{body}: {message}");
        assert_eq!(storage(&app, &cc).await, before, "after {body}");
    }
}

#[tokio::test]
async fn an_unknown_contact_center_is_404() {
    let app = spawn_app().await;
    let body = json!({ "baseUrl": BASE_URL });
    app.put_storage("no-such-cc", &body)
        .await
        .assert_error(404, 6);
    app.get_storage("no-such-cc").await.assert_error(404, 6);
    app.delete_storage("no-such-cc").await.assert_error(404, 6);
}

#[tokio::test]
async fn storage_needs_the_ops_credentials() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let body = json!({ "baseUrl": BASE_URL });
    let path = storage_path(&cc);
    for method in [Method::PUT, Method::GET, Method::DELETE] {
        send(app.anonymous(method.clone(), &path).json(&body))
            .await
            .assert_unauthorized();
        send(
            app.anonymous(method, &path)
                .basic_auth(&app.ops_user, Some("wrong-password"))
                .json(&body),
        )
        .await
        .assert_unauthorized();
    }
    app.get_storage(&cc).await.assert_error(404, 6);
}

#[tokio::test]
async fn modifying_storage_needs_the_csrf_token() {
    let app = AppBuilder::new().csrf().spawn().await;
    let cc = app.ready_contact_center().await;
    let body = json!({ "baseUrl": BASE_URL });
    let path = storage_path(&cc);
    let message = send(app.authed(Method::PUT, &path).json(&body))
        .await
        .assert_error(403, 3);
    assert_eq!(message, CSRF_MESSAGE);
    app.get_storage(&cc).await.assert_error(404, 6);

    app.put_storage(&cc, &body).await.assert_ok();
    let message = send(app.authed(Method::DELETE, &path))
        .await
        .assert_error(403, 3);
    assert_eq!(message, CSRF_MESSAGE);
    assert_eq!(storage(&app, &cc).await["baseUrl"], BASE_URL);
}

/// Every file under `dir`, recursively (none when there is no `dir`).
pub fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries {
        let path = entry.expect("folder entry").path();
        if path.is_dir() {
            found.extend(files(&path));
        } else {
            found.push(path);
        }
    }
    found
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[tokio::test]
async fn the_password_is_not_stored_in_clear() {
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let password = format!("Needle-{}", strong_password());
    let body = json!({"baseUrl": BASE_URL, "username": "u", "password": password});
    app.put_storage(&cc, &body).await.assert_ok();
    assert_eq!(storage(&app, &cc).await["passwordSet"], true);

    let files = files(&app.data_dir);
    match app.database() {
        Some(database) => {
            let holding_cc = database.tables_containing(&cc).await;
            assert!(
                !holding_cc.is_empty(),
                "the database holds the contact center"
            );
            let in_clear = database.tables_containing(&password).await;
            assert!(
                in_clear.is_empty(),
                "the password is in clear in {in_clear:?}"
            );
        }
        None => assert!(
            files
                .iter()
                .any(|file| file.to_string_lossy().contains("gird.db")),
            "the data folder holds the database: {files:?}"
        ),
    }
    for file in files {
        let bytes = std::fs::read(&file).expect("read data file");
        assert!(
            !contains(&bytes, password.as_bytes()),
            "the storage password is in clear in {}",
            file.display()
        );
    }
}
