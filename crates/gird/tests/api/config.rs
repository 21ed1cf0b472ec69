//! Configuration (docs/API.md "Running"): application.yaml, environment and
//! flags, their precedence, password hashes, refused and generated passwords.

use reqwest::Method;

use crate::body::sample;
use crate::helpers::{send, strong_password, Api, AppBuilder, Backend, TestApp, TestDatabase};

/// The hash of `Argon-Test-Pw-7319` (argon2id, made once with the `argon2` crate).
const ARGON2_HASH: &str =
    "{argon2}$argon2id$v=19$m=19456,t=2,p=1$Z2lyZC10ZXN0LXNhbHQtMQ$5NykbeXhjNHzZ4+Fg9RXUiQTw8X9HlcutGRL9dWbL6s";
const ARGON2_PASSWORD: &str = "Argon-Test-Pw-7319";
/// The hash of `Bcrypt-Test-Pw-5521` (cost 4, made once with the `bcrypt` crate).
const BCRYPT_HASH: &str = "{bcrypt}$2b$04$X0jwXAzyXVLyJVLfZFOrKeyPQUnAvqvWFrqcv7Mhex46xzpHZYPNe";
const BCRYPT_PASSWORD: &str = "Bcrypt-Test-Pw-5521";

fn server_settings(user_key: &str, user: &str, password: &str, csrf: bool) -> String {
    format!(
        "serverSettings:\n  {user_key}: {user}\n  opsUserPassword: \"{password}\"\n  enableCsrfProtection: {csrf}\n"
    )
}

/// Whether `user:password` is accepted.
async fn accepts(app: &TestApp, user: &str, password: &str) -> bool {
    let request = app
        .anonymous(Method::GET, "/api/v2/ops/contact-centers")
        .basic_auth(user, Some(password));
    let response = send(request).await;
    match response.status.as_u16() {
        200 => true,
        401 => false,
        other => panic!("unexpected {other}: {}", response.text),
    }
}

#[tokio::test]
async fn settings_come_from_the_file() {
    let password = strong_password();
    let yaml = format!(
        "{}gird:\n  listen: 127.0.0.1:0\n  bodyLimit: 3000\n",
        server_settings("opsUserName", "alice", &password, false)
    );
    let app = AppBuilder::new()
        .no_listen_flag()
        .no_password_flag()
        .credentials("alice", &password)
        .config_file(&yaml)
        .spawn()
        .await;

    assert!(accepts(&app, "alice", &password).await);
    assert!(!accepts(&app, "ops", &password).await);
    let cc = app.ready_contact_center().await;
    let mut body = sample();
    body["padding"] = serde_json::json!("x".repeat(3000));
    app.insert(&cc, &body).await.assert_error(413, 2);
    app.insert(&cc, &sample()).await.assert_ok();
}

#[tokio::test]
async fn the_file_is_found_by_environment_or_in_the_working_directory() {
    let password = strong_password();
    let yaml = server_settings("opsUsername", "bob", &password, false);

    let builder = AppBuilder::new()
        .no_password_flag()
        .credentials("bob", &password);
    let path = builder.write_file("elsewhere.yaml", &yaml);
    let app = builder
        .env("GIRD_CONFIG", path.to_str().unwrap())
        .spawn()
        .await;
    assert!(accepts(&app, "bob", &password).await);

    let app = AppBuilder::new()
        .no_password_flag()
        .default_config_file(&yaml)
        .spawn()
        .await;
    assert!(accepts(&app, "bob", &password).await);
    assert!(!accepts(&app, "ops", &password).await);
}

#[tokio::test]
async fn flags_win_over_the_environment_which_wins_over_the_file() {
    let (in_file, in_env, in_flag) = (strong_password(), strong_password(), strong_password());
    let yaml = format!(
        "{}gird:\n  bodyLimit: 1500\n",
        server_settings("opsUserName", "file-user", &in_file, false)
    );
    let file_only = || AppBuilder::new().no_password_flag().config_file(&yaml);

    let app = file_only().spawn().await;
    assert!(accepts(&app, "file-user", &in_file).await);

    let with_env = || {
        file_only()
            .env("GIRD_OPS_PASSWORD", &in_env)
            .env("GIRD_OPS_USER", "env-user")
            .env("GIRD_BODY_LIMIT", "4000")
    };
    let app = with_env().credentials("env-user", &in_env).spawn().await;
    assert!(accepts(&app, "env-user", &in_env).await);
    assert!(!accepts(&app, "env-user", &in_file).await);
    assert!(!accepts(&app, "file-user", &in_env).await);
    let cc = app.ready_contact_center().await;
    let mut body = sample();
    body["padding"] = serde_json::json!("x".repeat(1500));
    app.insert(&cc, &body).await.assert_ok();

    let app = with_env()
        .password_flag(&in_flag)
        .ops_user_flag("flag-user")
        .body_limit(2000)
        .spawn()
        .await;
    assert!(accepts(&app, "flag-user", &in_flag).await);
    assert!(!accepts(&app, "flag-user", &in_env).await);
    assert!(!accepts(&app, "env-user", &in_env).await);
    let cc = app.ready_contact_center().await;
    let mut body = sample();
    body["padding"] = serde_json::json!("x".repeat(2000));
    app.insert(&cc, &body).await.assert_error(413, 2);
}

#[tokio::test]
async fn csrf_protection_follows_the_same_precedence() {
    let password = strong_password();
    let yaml = server_settings("opsUserName", "ops", &password, true);
    let with_file = || {
        AppBuilder::new()
            .password_flag(&password)
            .config_file(&yaml)
    };
    let cases = [
        (with_file(), true),
        (AppBuilder::new().env("GIRD_CSRF", "true"), true),
        (with_file().env("GIRD_CSRF", "false"), false),
        (
            AppBuilder::new()
                .env("GIRD_CSRF", "true")
                .arg("--csrf", "false"),
            false,
        ),
    ];
    for (index, (builder, protected)) in cases.into_iter().enumerate() {
        let app = builder.spawn().await;
        let create = app
            .authed(Method::POST, "/api/v2/ops/contact-centers")
            .json(&serde_json::json!({"domains": ["example.com"]}));
        let response = send(create).await;
        if protected {
            let message = response.assert_error(403, 3);
            assert_eq!(message, crate::helpers::CSRF_MESSAGE, "case {index}");
            assert!(app.csrf_get(None).await.header("x-csrf-token").is_some());
        } else {
            assert_eq!(
                response.status.as_u16(),
                201,
                "case {index}: {}",
                response.text
            );
        }
    }
}

#[tokio::test]
async fn hashed_passwords_are_verified() {
    let yaml = server_settings("opsUserName", "ops", ARGON2_HASH, false);
    let app = AppBuilder::new()
        .no_password_flag()
        .credentials("ops", ARGON2_PASSWORD)
        .config_file(&yaml)
        .spawn()
        .await;
    for _ in 0..3 {
        assert!(accepts(&app, "ops", ARGON2_PASSWORD).await);
    }
    assert!(
        !accepts(&app, "ops", ARGON2_HASH).await,
        "the hash is not the password"
    );
    assert!(!accepts(&app, "ops", "Argon-Test-Pw-7318").await);
    let cc = app.ready_contact_center().await;
    app.insert(&cc, &sample()).await.assert_ok();

    let app = AppBuilder::new()
        .no_password_flag()
        .env("GIRD_OPS_PASSWORD", BCRYPT_HASH)
        .spawn()
        .await;
    assert!(accepts(&app, "ops", BCRYPT_PASSWORD).await);
    assert!(!accepts(&app, "ops", BCRYPT_HASH).await);
    assert!(!accepts(&app, "ops", "Bcrypt-Test-Pw-5520").await);
}

#[tokio::test]
async fn well_known_passwords_are_refused() {
    let mut starts = Vec::new();
    for password in [
        "change-me",
        "password",
        "ops",
        "admin",
        "secret",
        "changeit",
        "",
    ] {
        starts.push(AppBuilder::new().password_flag(password));
    }
    starts.push(
        AppBuilder::new()
            .no_password_flag()
            .env("GIRD_OPS_PASSWORD", "change-me"),
    );
    starts.push(
        AppBuilder::new()
            .no_password_flag()
            .config_file(&server_settings("opsUserName", "ops", "change-me", false)),
    );
    for (index, builder) in starts.into_iter().enumerate() {
        let (status, output) = builder
            .spawn_expecting_failure()
            .await
            .unwrap_or_else(|| panic!("case {index}: gird started with a well-known password"));
        assert!(!status.success(), "gird must not start; output: {output}");
        assert!(
            output.to_lowercase().contains("password"),
            "the message says why: {output}"
        );
    }
}

async fn assert_refused(yaml: &str, key: &str) {
    let (status, output) = AppBuilder::new()
        .config_file(yaml)
        .spawn_expecting_failure()
        .await
        .unwrap_or_else(|| panic!("gird started although the file has the unknown key {key}"));
    assert!(!status.success(), "{key}: exit status {status}");
    assert!(output.contains(key), "the message names {key}: {output}");
}

#[tokio::test]
async fn unknown_gird_keys_in_the_file_are_refused() {
    let settings = server_settings("opsUserName", "ops", &strong_password(), false);
    assert_refused(
        &format!("{settings}gird:\n  listne: 127.0.0.1:0\n"),
        "listne",
    )
    .await;
    assert_refused("gird:\n  bodyLimt: 100\n", "bodyLimt").await;
}

/// A typo in the password key would silently start with a generated password.
#[tokio::test]
async fn a_misspelt_server_setting_is_refused() {
    let yaml = format!(
        "serverSettings:\n  opsUserPasword: \"{}\"\n",
        strong_password()
    );
    assert_refused(&yaml, "opsUserPasword").await;
}

#[tokio::test]
async fn a_password_is_generated_once_when_none_is_configured() {
    let builder = AppBuilder::new().no_password_flag();
    let app = builder.spawn().await;
    let password_file = app.data_dir.join("ops-password");
    let password = std::fs::read_to_string(&password_file).expect("the generated password is kept");
    let password = password.trim().to_owned();
    assert!(password.len() >= 16, "a strong password: {password:?}");
    assert!(accepts(&app, "ops", &password).await);
    let api = Api {
        ops_password: password.clone(),
        ..app.api.clone()
    };
    api.insert("default", &sample()).await.assert_ok();

    let mut printed = app.startup_lines.clone();
    let (status, later) = app.stop().await;
    printed.extend(later);
    assert!(status.success(), "SIGTERM exits 0: {status}");
    assert!(
        printed.iter().any(|line| line.contains(&password)),
        "the password is printed: {printed:?}"
    );
    let curl = printed
        .iter()
        .find(|line| line.contains("curl"))
        .expect("a curl example");
    assert!(
        curl.contains("/internal-api/contact-centers/default/recordings"),
        "{curl}"
    );

    let app = builder.spawn().await;
    assert!(accepts(&app, "ops", &password).await);
    let mut printed = app.startup_lines.clone();
    let (status, later) = app.stop().await;
    printed.extend(later);
    assert!(status.success());
    assert!(
        printed
            .iter()
            .all(|line| !line.contains(&password) && !line.contains("curl")),
        "printed only once: {printed:?}"
    );
}

#[tokio::test]
async fn the_listen_address_comes_from_the_environment() {
    let app = AppBuilder::new()
        .no_listen_flag()
        .env("GIRD_LISTEN", "127.0.0.1:0")
        .spawn()
        .await;
    assert!(accepts(&app, "ops", &app.ops_password.clone()).await);
}

#[tokio::test]
async fn the_database_url_is_configurable() {
    let builder = AppBuilder::new();
    let file = builder.data_dir().with_file_name("elsewhere.db");
    let postgres = match builder.current_backend() {
        Backend::Postgres => Some(TestDatabase::create().await),
        Backend::Sqlite => None,
    };
    let url = match &postgres {
        Some(database) => database.url().to_owned(),
        None => format!("sqlite://{}", file.to_str().unwrap()),
    };
    let app = builder.arg("--database", &url).spawn().await;
    let cc = app.ready_contact_center().await;
    app.insert(&cc, &sample()).await.assert_ok();
    match &postgres {
        Some(database) => assert!(
            !database.tables_containing("alex-test-id").await.is_empty(),
            "the record is in {url}"
        ),
        None => assert!(file.exists(), "the database is at {url}"),
    }
    assert!(
        !app.data_dir.join("gird.db").exists(),
        "not in the data folder"
    );

    let app = app.restart().await;
    app.recording(&cc, "alex-test-id").await;
}

#[tokio::test]
async fn the_help_names_both_kinds_of_database() {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_gird"))
        .args(["serve", "--help"])
        .output()
        .await
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(
        help.contains("sqlite://") && help.contains("postgres://"),
        "{help}"
    );
}
