//! `gird import --webdav` against a WebDAV server that names, in its PROPFIND answers or
//! redirects, URLs outside the crawled folder (API.md "gird import", WebDAV crawl): none
//! is followed, and the WebDAV credentials go nowhere else.

use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tempfile::TempDir;
use tokio::net::TcpListener;

use crate::helpers::spawn_app;
use crate::import::{args_of, into_gird, run, stderr, stdout};
use crate::webdav::{DAV_PASSWORD, DAV_USER};

/// Method, path and `Authorization` of one request received.
type Received = (String, String, Option<String>);
type Seen = Arc<Mutex<Vec<Received>>>;

/// A WebDAV server written by hand: answers `PROPFIND` of `/dav/` with `listing` (if
/// any), everything else with an empty listing or `{}`, and keeps every request.
struct Hostile {
    address: String,
    seen: Seen,
}

#[derive(Clone)]
struct Script {
    listing: Option<String>,
    redirect: Option<String>,
    seen: Seen,
}

impl Hostile {
    async fn start(listing: Option<String>, redirect: Option<String>) -> Hostile {
        let seen = Arc::default();
        let script = Script {
            listing,
            redirect,
            seen: Arc::clone(&seen),
        };
        let router = Router::new().fallback(answer).with_state(script);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Hostile { address, seen }
    }

    fn seen(&self) -> Vec<Received> {
        self.seen.lock().unwrap().clone()
    }
}

async fn answer(State(script): State<Script>, request: Request) -> Response {
    let (method, path) = (
        request.method().to_string(),
        request.uri().path().to_owned(),
    );
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    script
        .seen
        .lock()
        .unwrap()
        .push((method.clone(), path.clone(), authorization));
    if let (Some(location), "/dav/") = (&script.redirect, path.as_str()) {
        return (
            StatusCode::MOVED_PERMANENTLY,
            [(header::LOCATION, location.clone())],
        )
            .into_response();
    }
    let multistatus = |body: String| {
        (
            StatusCode::MULTI_STATUS,
            [(header::CONTENT_TYPE, "application/xml")],
            body,
        )
            .into_response()
    };
    match (method.as_str(), path.as_str(), &script.listing) {
        ("PROPFIND", "/dav/", Some(listing)) => multistatus(listing.clone()),
        ("PROPFIND", _, _) => multistatus(format!(
            "<?xml version=\"1.0\"?><D:multistatus xmlns:D=\"DAV:\"><D:response><D:href>{path}</D:href></D:response></D:multistatus>"
        )),
        _ => (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], "{}").into_response(),
    }
}

fn entry(href: &str, folder: bool) -> String {
    let kind = if folder { "<D:collection/>" } else { "" };
    format!(
        "<D:response><D:href>{href}</D:href><D:propstat><D:prop><D:resourcetype>{kind}</D:resourcetype><D:getcontentlength>9</D:getcontentlength></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"
    )
}

const CRAWL_PATTERN: &str = r"(?P<callUUID>[^/_]+)_(?P<callerPhoneNumber>\+\d+)_(?P<dialedPhoneNumber>\+\d+)_(?P<region>[a-z]+)_(?P<startTime>\d{8}T\d{6}Z)_(?P<duration>\d+)\.mp3$";

#[tokio::test]
async fn gird_import_follows_no_href_outside_its_folder_and_sends_the_credentials_nowhere_else() {
    let trap = Hostile::start(None, None).await;
    let elsewhere = format!("{}/dav", trap.address);
    let listing = [
        entry("/dav/", true),
        entry(
            "/dav/c1_+15550001_+15550002_west_20240301T100000Z_61000.mp3",
            false,
        ),
        entry(
            &format!("{elsewhere}/c2_+15550003_+15550004_west_20240301T110000Z_61000.mp3"),
            false,
        ),
        entry(
            &format!("{elsewhere}/c2_+15550003_+15550004_west_20240301T110000Z_61000.mp3.json"),
            false,
        ),
        entry(&format!("{elsewhere}/deeper/"), true),
        entry(
            "/elsewhere/c3_+15550005_+15550006_west_20240301T120000Z_61000.mp3",
            false,
        ),
        entry("/dav/../outside/", true),
    ]
    .concat();
    let listing =
        format!("<?xml version=\"1.0\"?><D:multistatus xmlns:D=\"DAV:\">{listing}</D:multistatus>");
    let hostile = Hostile::start(Some(listing), None).await;

    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let dir = TempDir::new().unwrap();
    let mut args = into_gird(&app, &cc);
    let root = format!("{}/dav/", hostile.address);
    args.extend(
        [
            "--webdav",
            &root,
            "--pattern",
            CRAWL_PATTERN,
            "--depth",
            "2",
            "--webdav-user",
            DAV_USER,
            "--webdav-password",
            DAV_PASSWORD,
        ]
        .map(String::from),
    );
    let output = run(dir.path(), &args_of(&args)).await;
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    assert!(
        stdout(&output).contains("1 records: 1 new, 0 merged, 0 unchanged, 0 rejected"),
        "{}",
        stdout(&output)
    );
    assert!(
        stdout(&output)
            .contains("5 entries the WebDAV listings named outside --webdav were not followed"),
        "{}",
        stdout(&output)
    );
    assert!(
        stderr(&output).contains("outside --webdav")
            && stderr(&output).contains(&format!("{elsewhere}/deeper/")),
        "a warning names each: {}",
        stderr(&output)
    );
    assert!(
        trap.seen().is_empty(),
        "the other host got {:?}",
        trap.seen()
    );
    for (method, path, _) in hostile.seen() {
        assert!(path.starts_with("/dav/"), "{method} {path}");
    }
    app.recording(&cc, "c1").await;
    app.assert_absent(&cc, "c2").await;
    app.assert_absent(&cc, "c3").await;
}

#[tokio::test]
async fn gird_import_follows_no_redirect_outside_its_folder() {
    let trap = Hostile::start(None, None).await;
    let hostile = Hostile::start(None, Some(format!("{}/dav/", trap.address))).await;
    let dir = TempDir::new().unwrap();
    let root = format!("{}/dav/", hostile.address);
    let args = [
        "--contact-center",
        "any",
        "--dry-run",
        "--webdav",
        &root,
        "--pattern",
        CRAWL_PATTERN,
        "--webdav-user",
        DAV_USER,
        "--webdav-password",
        DAV_PASSWORD,
    ];
    let output = run(dir.path(), &args).await;
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("a redirect outside --webdav, not followed"),
        "{}",
        stderr(&output)
    );
    assert!(
        trap.seen().is_empty(),
        "the other host got {:?}",
        trap.seen()
    );
    assert_eq!(hostile.seen().len(), 1);
}

#[tokio::test]
async fn gird_import_refuses_credentials_in_the_webdav_url() {
    let hostile = Hostile::start(None, None).await;
    let dir = TempDir::new().unwrap();
    let root = hostile
        .address
        .replace("http://", "http://dav-user:Pw-Url-8090@")
        + "/dav/";
    let args = [
        "--contact-center",
        "any",
        "--dry-run",
        "--webdav",
        &root,
        "--pattern",
        CRAWL_PATTERN,
    ];
    let output = run(dir.path(), &args).await;
    assert_eq!(output.status.code(), Some(1));
    let errors = stderr(&output);
    assert!(
        errors.contains("must not contain user info") && errors.contains("--webdav-user"),
        "{errors}"
    );
    assert!(!errors.contains("Pw-Url-8090"), "{errors}");
    assert!(hostile.seen().is_empty());
}
