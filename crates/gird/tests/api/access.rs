//! Users and access (API.md "Users and access"): the ops users API, and the authorization
//! matrix — each kind of user × each operation × recordings they are on, in their group,
//! a sub-group, another group, another partition, without partitions, in another contact
//! center, and unknown ids.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{json, Value};

use crate::body::{edited, minimal_record, set};
use crate::client::{send, ApiResponse};
use crate::helpers::{AppBuilder, TestApp};
use crate::playback::Stage;
use crate::webdav::pattern;

const PASSWORD: &str = "Tr0ub4dor-and-3";

trait Success {
    /// HTTP 200 and statusCode 0, whatever else the answer holds.
    fn assert_success(&self);
}

impl Success for ApiResponse {
    fn assert_success(&self) {
        let code = serde_json::from_str::<Value>(&self.text)
            .ok()
            .and_then(|body| body["statusCode"].as_i64());
        assert_eq!(
            (self.status.as_u16(), code),
            (200, Some(0)),
            "{}",
            self.text
        );
    }
}

fn users_path(cc: &str) -> String {
    format!("/api/v2/ops/contact-centers/{cc}/users")
}

async fn create_user(app: &TestApp, cc: &str, body: Value) -> ApiResponse {
    send(app.request(Method::POST, &users_path(cc)).json(&body)).await
}

/// A request as a user, by HTTP Basic.
fn as_user(app: &TestApp, user: &str, method: Method, path: &str) -> reqwest::RequestBuilder {
    app.anonymous(method, path).basic_auth(user, Some(PASSWORD))
}

/// A recording with one media file at `a.mp3`, of agent `agent`, in `groups` and
/// `partitions`, starting `minute` minutes after 10:00.
fn recording(id: &str, minute: u32, agent: &str, groups: &[&str], partitions: &[&str]) -> Value {
    let start = format!("2015-06-15T10:{minute:02}:00Z");
    let stop = format!("2015-06-15T10:{minute:02}:30Z");
    edited(
        &minimal_record(id),
        [
            set("/mediaFiles/0/startTime", start.into()),
            set("/mediaFiles/0/stopTime", stop.into()),
            set("/mediaFiles/0/mediaDescriptor/path", "a.mp3".into()),
            set("/mediaFiles/0/parameters", json!({"username": agent})),
            set("/mediaFiles/0/accessgroups", json!(groups)),
            set("/mediaFiles/0/partitions", json!(partitions)),
        ],
    )
}

/// The recordings of the matrix: (id, agent, groups, partitions).
const RECORDINGS: [(&str, &str, &[&str], &[&str]); 6] = [
    ("own", "Alice", &["/Support"], &["/apac"]),
    ("same", "bob", &["/Sales"], &["/emea"]),
    ("sub", "bob", &["/Sales/East"], &["/emea"]),
    ("other-group", "bob", &["/Support"], &[]),
    ("other-partition", "bob", &["/Sales"], &["/apac"]),
    ("no-partition", "bob", &["/Sales"], &[]),
];

struct User {
    name: &'static str,
    body: Value,
    /// The matrix's recordings the user sees.
    sees: &'static [&'static str],
    /// (hold, delete) on a recording they see: the HTTP status and statusCode.
    hold: (u16, i64),
    delete: (u16, i64),
}

fn users() -> Vec<User> {
    vec![
        User {
            name: "alice",
            body: json!({"userName": "alice", "password": PASSWORD, "roles": ["Agent"]}),
            sees: &["own"],
            hold: (403, 5),
            delete: (403, 5),
        },
        User {
            name: "sam",
            body: json!({"userName": "sam", "password": PASSWORD, "roles": ["supervisor"],
                "accessGroups": ["/Sales"], "partitions": ["/emea"],
                "permissions": ["RECORDING_PERMISSION_APPLY_NON_DELETE"]}),
            sees: &["same", "sub", "no-partition"],
            hold: (200, 0),
            delete: (403, 3),
        },
        User {
            name: "ed",
            body: json!({"userName": "ed", "password": PASSWORD, "roles": ["Supervisor"],
                "accessGroups": ["/Sales/East/"], "partitions": ["/emea"],
                "permissions": ["RECORDING_PERMISSION_DELETE"]}),
            sees: &["sub"],
            hold: (403, 3),
            delete: (200, 0),
        },
        User {
            name: "ada",
            body: json!({"userName": "ada", "password": PASSWORD, "roles": ["Administrator"],
                "accessGroups": ["/"], "partitions": ["/emea"]}),
            sees: &["same", "sub", "other-group", "no-partition"],
            hold: (200, 0),
            delete: (200, 0),
        },
    ]
}

/// A gird with WebDAV storage, the matrix's recordings in contact center `cc`, one
/// recording in another contact center, and the users.
async fn matrix_stage() -> (Stage, String) {
    let stage = Stage::new().await;
    stage.dav.put_file("a.mp3", &pattern(4096, 7));
    for (minute, (id, agent, groups, partitions)) in RECORDINGS.iter().enumerate() {
        let body = recording(id, minute as u32, agent, groups, partitions);
        stage.app.insert(&stage.cc, &body).await.assert_ok();
    }
    let other = stage.app.ready_contact_center().await;
    let foreign = recording("foreign", 9, "alice", &["/Sales"], &["/emea"]);
    stage.app.insert(&other, &foreign).await.assert_ok();
    for user in users() {
        let created = create_user(&stage.app, &stage.cc, user.body.clone()).await;
        assert_eq!(created.status.as_u16(), 201, "{}", created.text);
    }
    (stage, other)
}

async fn search_ids(
    app: &TestApp,
    user: &str,
    query: &[(&str, &str)],
) -> (BTreeSet<String>, Value) {
    let response = send(as_user(app, user, Method::GET, "/api/v2/recordings").query(query)).await;
    response.assert_success();
    let body = response.json();
    let ids = body["recordings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    (ids, body)
}

fn play_path(app_view: &Value) -> String {
    app_view["mediaFiles"][0]["playPath"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn each_user_sees_and_does_what_the_table_allows() {
    let (stage, other) = matrix_stage().await;
    let app = &stage.app;
    let cc = stage.cc.clone();
    let mut play_paths = std::collections::HashMap::new();
    for (id, ..) in RECORDINGS {
        play_paths.insert(id, play_path(&app.recording(&cc, id).await));
    }
    for user in users() {
        let who = user.name;
        let sees: BTreeSet<String> = user.sees.iter().map(|s| (*s).to_owned()).collect();
        // Search, with and without naming the contact center, counted.
        let (found, body) = search_ids(app, who, &[("count", "true")]).await;
        assert_eq!(found, sees, "{who} searches");
        assert_eq!(
            body["total"],
            sees.len(),
            "{who}: the count is of what they see"
        );
        let (found, _) = search_ids(app, who, &[("contactCenterId", &cc)]).await;
        assert_eq!(found, sees, "{who} searches naming their contact center");
        let elsewhere = send(
            as_user(app, who, Method::GET, "/api/v2/recordings")
                .query(&[("contactCenterId", other.as_str())]),
        )
        .await;
        elsewhere.assert_error(404, 6);

        for (id, ..) in RECORDINGS {
            let visible = user.sees.contains(&id);
            let path = format!("/api/v2/recordings/{id}");
            let get = send(as_user(app, who, Method::GET, &path)).await;
            let play = send(as_user(
                app,
                who,
                Method::GET,
                &format!("/api/v2{}", play_paths[id]),
            ))
            .await;
            let hold = send(
                as_user(app, who, Method::POST, &path)
                    .json(&json!({"operationName": "applyNonDelete"})),
            )
            .await;
            let delete = send(as_user(app, who, Method::DELETE, &path)).await;
            if !visible {
                for (what, answer) in [
                    ("get", &get),
                    ("play", &play),
                    ("hold", &hold),
                    ("delete", &delete),
                ] {
                    let message = answer.assert_error(404, 6);
                    assert!(
                        message.contains("does not exist"),
                        "{who} {what} {id}: the same answer as an unknown id: {message}"
                    );
                }
                continue;
            }
            assert_eq!(get.status.as_u16(), 200, "{who} gets {id}: {}", get.text);
            assert_eq!(play.status.as_u16(), 200, "{who} plays {id}: {}", play.text);
            let answer = |response: &ApiResponse| {
                let code = response.json()["statusCode"].as_i64().unwrap_or(-1);
                (response.status.as_u16(), code)
            };
            assert_eq!(answer(&hold), user.hold, "{who} holds {id}: {}", hold.text);
            if user.hold.0 == 200 {
                // Held now: a delete is refused for the hold, not the role; lift it again.
                let lifted = send(
                    as_user(app, who, Method::POST, &path)
                        .json(&json!({"operationName": "removeNonDelete"})),
                )
                .await;
                lifted.assert_success();
                let delete = send(as_user(app, who, Method::DELETE, &path)).await;
                assert_eq!(
                    answer(&delete),
                    user.delete,
                    "{who} deletes {id}: {}",
                    delete.text
                );
            } else {
                assert_eq!(
                    answer(&delete),
                    user.delete,
                    "{who} deletes {id}: {}",
                    delete.text
                );
            }
            if user.delete.0 == 200 {
                let (minute, (_, agent, groups, partitions)) = RECORDINGS
                    .iter()
                    .enumerate()
                    .find(|(_, r)| r.0 == id)
                    .unwrap();
                let again = recording(id, minute as u32, agent, groups, partitions);
                app.insert(&cc, &again).await.assert_ok();
                play_paths.insert(id, play_path(&app.recording(&cc, id).await));
            }
        }
        // Another contact center's recording, and an unknown id, answer the same.
        for (id, named) in [
            ("foreign", Some(other.as_str())),
            ("foreign", None),
            ("ghost", None),
        ] {
            let mut request = as_user(app, who, Method::GET, &format!("/api/v2/recordings/{id}"));
            if let Some(named) = named {
                request = request.query(&[("contactCenterId", named)]);
            }
            send(request).await.assert_error(404, 6);
        }
    }
}

#[tokio::test]
async fn users_reach_only_the_recording_api_and_themselves() {
    let (stage, _) = matrix_stage().await;
    let app = &stage.app;
    let cc = &stage.cc;
    for (method, path) in [
        (Method::GET, "/api/v2/ops/contact-centers".to_owned()),
        (Method::GET, format!("/api/v2/ops/contact-centers/{cc}")),
        (
            Method::GET,
            format!("/api/v2/ops/contact-centers/{cc}/recordings"),
        ),
        (
            Method::GET,
            format!("/api/v2/ops/contact-centers/{cc}/recordings/same/access"),
        ),
        (Method::GET, users_path(cc)),
        (Method::GET, "/metrics".to_owned()),
    ] {
        let answer = send(as_user(app, "ada", method, &path)).await;
        let message = answer.assert_error(403, 5);
        assert_eq!(message, "Insufficient user roles.", "{path}");
    }
    let insert = send(
        as_user(
            app,
            "ada",
            Method::POST,
            &format!("/internal-api/contact-centers/{cc}/recordings"),
        )
        .json(&minimal_record("by-a-user")),
    )
    .await;
    insert.assert_error(403, 5);
    app.assert_absent(cc, "by-a-user").await;

    let me = send(as_user(app, "sam", Method::GET, "/api/v2/me")).await;
    me.assert_success();
    let user = &me.json()["user"];
    assert_eq!(user["userName"], "sam");
    assert_eq!(user["contactCenterId"], cc.as_str());
    assert_eq!(user["roles"], json!(["Supervisor"]));
    assert_eq!(user["accessGroups"], json!(["/Sales"]));
    assert_eq!(user["partitions"], json!(["/emea"]));
    assert_eq!(
        user["may"],
        json!({"search": true, "play": true, "applyNonDelete": true, "removeNonDelete": true, "delete": false})
    );
    assert!(user.get("password").is_none());
    let agent = send(as_user(app, "ALICE", Method::GET, "/api/v2/me")).await;
    assert_eq!(
        agent.json()["user"]["may"]["applyNonDelete"],
        false,
        "names without case"
    );
    let ops = send(app.authed(Method::GET, "/api/v2/me")).await;
    assert_eq!(ops.json()["user"]["may"]["delete"], true);

    let wrong = send(
        app.anonymous(Method::GET, "/api/v2/me")
            .basic_auth("sam", Some("wrong-password")),
    )
    .await;
    wrong.assert_unauthorized();
    let nobody = send(
        app.anonymous(Method::GET, "/api/v2/me")
            .basic_auth("nobody", Some(PASSWORD)),
    )
    .await;
    nobody.assert_unauthorized();
}

#[tokio::test]
async fn the_users_api_checks_what_it_stores_and_never_answers_a_password() {
    let builder = AppBuilder::new().capture_log();
    let log_file = builder.log_file();
    let stage = Stage::with(builder).await;
    let (app, cc) = (&stage.app, stage.cc.clone());
    let other = app.ready_contact_center().await;
    let good = json!({"userName": "Sam", "password": PASSWORD, "roles": ["Supervisor"],
        "accessGroups": ["/Sales/"], "partitions": ["/emea"]});
    let created = create_user(app, &cc, good.clone()).await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.text);
    let user = &created.json()["user"];
    assert_eq!(user["accessGroups"], json!(["/Sales"]), "normalized");
    assert!(!created.text.contains(PASSWORD) && user.get("password").is_none());

    for (body, http, code, needle) in [
        (
            json!({"password": PASSWORD, "roles": ["Agent"]}),
            400,
            1,
            "userName",
        ),
        (
            json!({"userName": "x", "roles": ["Agent"]}),
            400,
            1,
            "password",
        ),
        (
            json!({"userName": "x", "password": PASSWORD}),
            400,
            1,
            "roles",
        ),
        (
            json!({"userName": "x", "password": PASSWORD, "roles": []}),
            400,
            10,
            "roles",
        ),
        (
            json!({"userName": "x", "password": PASSWORD, "roles": ["Boss"]}),
            400,
            10,
            "roles[0]",
        ),
        (
            json!({"userName": "x", "password": "short", "roles": ["Agent"]}),
            400,
            10,
            "password",
        ),
        (
            json!({"userName": "x", "password": "password", "roles": ["Agent"]}),
            400,
            10,
            "well-known",
        ),
        (
            json!({"userName": "a:b", "password": PASSWORD, "roles": ["Agent"]}),
            400,
            10,
            "userName",
        ),
        (
            json!({"userName": " x", "password": PASSWORD, "roles": ["Agent"]}),
            400,
            10,
            "userName",
        ),
        (
            json!({"userName": "x", "password": PASSWORD, "roles": ["Agent"], "accessGroups": ["Sales"]}),
            400,
            10,
            "accessGroups[0]",
        ),
        (
            json!({"userName": "x", "password": PASSWORD, "roles": ["Agent"], "partitions": ["/a//b"]}),
            400,
            10,
            "partitions[0]",
        ),
        (
            json!({"userName": "x", "password": PASSWORD, "roles": ["Agent"], "permissions": ["ALL"]}),
            400,
            10,
            "permissions[0]",
        ),
        (
            json!({"userName": "ops", "password": PASSWORD, "roles": ["Agent"]}),
            400,
            10,
            "ops user",
        ),
        (
            json!({"userName": "sam", "password": PASSWORD, "roles": ["Agent"]}),
            409,
            18,
            "already exists",
        ),
    ] {
        let answer = create_user(app, &cc, body.clone()).await;
        let message = answer.assert_error(http, code);
        assert!(message.contains(needle), "{body}: {message}");
    }
    // Names are unique across contact centers.
    create_user(app, &other, good.clone())
        .await
        .assert_error(409, 18);
    create_user(app, "no-such-cc", good.clone())
        .await
        .assert_error(404, 6);
    let listed = send(app.request(Method::GET, &users_path(&cc))).await;
    assert_eq!(listed.json()["users"].as_array().unwrap().len(), 1);
    assert!(send(app.request(Method::GET, &users_path(&other)))
        .await
        .json()["users"]
        .as_array()
        .unwrap()
        .is_empty());

    let one = format!("{}/sam", users_path(&cc));
    let read = send(app.request(Method::GET, &one)).await;
    assert_eq!(read.json()["user"]["userName"], "Sam");
    send(app.request(Method::GET, &format!("{}/sam", users_path(&other))))
        .await
        .assert_error(404, 6);
    send(app.request(Method::GET, &format!("{}/nobody", users_path(&cc))))
        .await
        .assert_error(404, 6);
    let renamed = json!({"userName": "samuel", "roles": ["Agent"]});
    send(app.request(Method::PUT, &one).json(&renamed))
        .await
        .assert_error(400, 10);
    send(
        app.request(Method::PUT, &format!("{}/nobody", users_path(&cc)))
            .json(&json!({"roles": ["Agent"]})),
    )
    .await
    .assert_error(404, 6);
    // A change without a password keeps it.
    let changed = send(
        app.request(Method::PUT, &one)
            .json(&json!({"roles": ["Agent"]})),
    )
    .await;
    changed.assert_success();
    assert_eq!(changed.json()["user"]["roles"], json!(["Agent"]));
    assert_eq!(changed.json()["user"]["accessGroups"], json!([]));
    send(as_user(app, "sam", Method::GET, "/api/v2/me"))
        .await
        .assert_success();
    send(app.request(Method::DELETE, &format!("{}/nobody", users_path(&cc))))
        .await
        .assert_error(404, 6);
    send(app.request(Method::DELETE, &one))
        .await
        .assert_success();
    send(as_user(app, "sam", Method::GET, "/api/v2/me"))
        .await
        .assert_unauthorized();
    let log = std::fs::read_to_string(&log_file).unwrap_or_default();
    assert!(!log.contains(PASSWORD), "a password reached the log");
}

/// Signs in to the web UI as `user`; answers the session cookie.
async fn ui_session(app: &TestApp, user: &str, password: &str) -> String {
    let signed_in = send(
        app.anonymous(Method::POST, "/ui/session")
            .json(&json!({"user": user, "password": password})),
    )
    .await;
    signed_in.assert_success();
    let cookie = signed_in.header("set-cookie").expect("a session cookie");
    cookie.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_password_change_or_deletion_ends_the_users_sessions() {
    let (stage, _) = matrix_stage().await;
    let (app, cc) = (&stage.app, stage.cc.clone());
    let with_cookie = |cookie: &str| {
        app.anonymous(Method::GET, "/api/v2/recordings")
            .header("cookie", cookie)
    };
    let cookie = ui_session(app, "sam", PASSWORD).await;
    let (_, body) = ((), send(with_cookie(&cookie)).await);
    body.assert_success();
    assert_eq!(
        body.json()["recordings"].as_array().unwrap().len(),
        3,
        "sam's view"
    );

    let new_password = "Another-g00d-one";
    let changed = json!({"password": new_password, "roles": ["Supervisor"], "accessGroups": ["/Sales"],
        "partitions": ["/emea"]});
    send(
        app.request(Method::PUT, &format!("{}/sam", users_path(&cc)))
            .json(&changed),
    )
    .await
    .assert_success();
    send(with_cookie(&cookie)).await.assert_unauthorized();
    send(as_user(app, "sam", Method::GET, "/api/v2/me"))
        .await
        .assert_unauthorized();
    let cookie = ui_session(app, "sam", new_password).await;
    send(with_cookie(&cookie)).await.assert_success();

    let ed = ui_session(app, "ed", PASSWORD).await;
    send(with_cookie(&ed)).await.assert_success();
    send(app.request(Method::DELETE, &format!("{}/ed", users_path(&cc))))
        .await
        .assert_success();
    send(with_cookie(&ed)).await.assert_unauthorized();
    send(with_cookie(&cookie)).await.assert_success();
}

#[tokio::test]
async fn the_access_history_shows_who_read_played_held_and_deleted() {
    let (stage, _) = matrix_stage().await;
    let (app, cc) = (&stage.app, stage.cc.clone());
    let path = "/api/v2/recordings/same";
    send(as_user(app, "sam", Method::GET, path))
        .await
        .assert_success();
    let play = play_path(&app.recording(&cc, "same").await);
    let played = send(
        as_user(app, "sam", Method::GET, &format!("/api/v2{play}")).header("range", "bytes=0-99"),
    )
    .await;
    assert_eq!(played.status.as_u16(), 206);
    send(as_user(app, "sam", Method::POST, path).json(&json!({"operationName": "applyNonDelete"})))
        .await
        .assert_success();
    send(as_user(app, "alice", Method::GET, path))
        .await
        .assert_error(404, 6);
    let history_path = format!("/api/v2/ops/contact-centers/{cc}/recordings/same/access");
    let history = send(app.request(Method::GET, &history_path)).await;
    history.assert_success();
    let entries = history.json()["access"].as_array().unwrap().clone();
    let actions: Vec<(String, String)> = entries
        .iter()
        .map(|e| {
            (
                e["user"].as_str().unwrap().to_owned(),
                e["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        actions.contains(&("sam".into(), "read".into())),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("sam".into(), "play".into())),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("sam".into(), "legal-hold".into())),
        "{actions:?}"
    );
    assert!(
        !actions.iter().any(|(user, _)| user == "alice"),
        "a refused read is not an access: {actions:?}"
    );
    let play_entry = entries.iter().find(|e| e["action"] == "play").unwrap();
    assert!(
        play_entry["detail"]
            .as_str()
            .unwrap()
            .contains("bytes=0-99"),
        "{play_entry}"
    );
    assert_eq!(play_entry["address"], "127.0.0.1");
    let limited = send(
        app.request(Method::GET, &history_path)
            .query(&[("limit", "1")]),
    )
    .await;
    assert_eq!(limited.json()["access"].as_array().unwrap().len(), 1);
    for bad in ["0", "x", "10001"] {
        send(
            app.request(Method::GET, &history_path)
                .query(&[("limit", bad)]),
        )
        .await
        .assert_error(400, 10);
    }
}

#[tokio::test]
async fn users_meet_the_same_csrf_check_and_sign_in_throttle_as_ops() {
    let stage = Stage::with(AppBuilder::new().csrf()).await;
    let (app, cc) = (&stage.app, stage.cc.clone());
    app.insert(&cc, &recording("same", 1, "bob", &["/Sales"], &[]))
        .await
        .assert_ok();
    let admin = json!({"userName": "ada", "password": PASSWORD, "roles": ["Administrator"],
        "accessGroups": ["/"]});
    let created = create_user(app, &cc, admin).await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.text);
    let path = "/api/v2/recordings/same";
    for request in [
        as_user(app, "ada", Method::POST, path).json(&json!({"operationName": "applyNonDelete"})),
        as_user(app, "ada", Method::DELETE, path),
    ] {
        let message = send(request).await.assert_error(403, 3);
        assert_eq!(message, crate::client::CSRF_MESSAGE);
    }
    // With the token the user got from a GET, as RWS clients do.
    let handed = send(as_user(app, "ada", Method::GET, "/api/v2/me")).await;
    let token = handed.header("x-csrf-token").expect("a token");
    let cookie = handed.session_cookie().expect("a JSESSIONID");
    let held = send(
        as_user(app, "ada", Method::POST, path)
            .header("x-csrf-token", token)
            .header("cookie", cookie)
            .json(&json!({"operationName": "applyNonDelete"})),
    )
    .await;
    held.assert_success();

    // Wrong passwords for a user lock the address like the ops user's do.
    let mut locked = false;
    for _ in 0..8 {
        let wrong = send(
            app.anonymous(Method::GET, "/api/v2/me")
                .basic_auth("ada", Some("Wrong-pass-99")),
        )
        .await;
        if wrong.status.as_u16() == 429 {
            assert!(wrong.header("retry-after").is_some());
            locked = true;
            break;
        }
        wrong.assert_unauthorized();
    }
    assert!(locked, "repeated failures for a user lock the address");
    let right = send(as_user(app, "ada", Method::GET, "/api/v2/me")).await;
    assert_eq!(
        right.status.as_u16(),
        429,
        "even the right password waits out the lock"
    );
}
