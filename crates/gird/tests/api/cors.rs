//! Cross-origin requests (API.md "Cross-origin requests"), configured as RWS configures
//! them: `serverSettings.crossOriginSettings` or the `--cors-*` flags; off otherwise.

use reqwest::Method;

use crate::helpers::{send, spawn_app, ApiResponse, AppBuilder, TestApp};

const RWS_SETTINGS: &str = "serverSettings:
  crossOriginSettings:
    corsFilterCacheTimeToLive: 120
    allowedOrigins: https://app.example.com, https://*.tenant.example
    allowedMethods: GET,POST,PUT,DELETE,OPTIONS
    allowedHeaders: \"X-Requested-With,Content-Type,Accept,Origin,Cookie,authorization,ssid,surl,ContactCenterId,X-CSRF-TOKEN\"
    allowCredentials: true
    exposedHeaders: \"X-CSRF-HEADER,X-CSRF-TOKEN\"
";

async fn preflight(app: &TestApp, origin: &str, method: &str) -> ApiResponse {
    send(
        app.anonymous(
            Method::OPTIONS,
            "/internal-api/contact-centers/default/recordings",
        )
        .header("origin", origin)
        .header("access-control-request-method", method)
        .header(
            "access-control-request-headers",
            "content-type,authorization,x-csrf-token",
        ),
    )
    .await
}

fn lower_list(response: &ApiResponse, name: &str) -> String {
    response
        .header(name)
        .unwrap_or_default()
        .to_ascii_lowercase()
}

#[tokio::test]
async fn a_preflight_from_an_allowed_origin_is_answered_without_credentials() {
    let app = AppBuilder::new().config_file(RWS_SETTINGS).spawn().await;
    for origin in ["https://app.example.com", "https://east.tenant.example"] {
        let response = preflight(&app, origin, "POST").await;
        assert!(response.status.is_success(), "{origin}: {response:?}");
        assert_eq!(
            response.header("access-control-allow-origin").as_deref(),
            Some(origin)
        );
        assert_eq!(
            response
                .header("access-control-allow-credentials")
                .as_deref(),
            Some("true")
        );
        let methods = lower_list(&response, "access-control-allow-methods");
        assert!(methods.contains("post"), "{methods}");
        let headers = lower_list(&response, "access-control-allow-headers");
        for header in ["content-type", "authorization", "x-csrf-token"] {
            assert!(headers.contains(header), "{header} in {headers}");
        }
        assert_eq!(
            response.header("access-control-max-age").as_deref(),
            Some("120")
        );
    }
}

#[tokio::test]
async fn other_origins_are_refused() {
    let app = AppBuilder::new().config_file(RWS_SETTINGS).spawn().await;
    for origin in [
        "https://evil.example",
        "http://app.example.com",
        "https://app.example.com.evil.example",
        "https://tenant.example",
    ] {
        let response = preflight(&app, origin, "POST").await;
        assert!(
            response.header("access-control-allow-origin").is_none(),
            "{origin}: {response:?}"
        );
        let read = send(
            app.authed(Method::GET, "/api/v2/me")
                .header("origin", origin),
        )
        .await;
        assert!(read.header("access-control-allow-origin").is_none());
    }
}

#[tokio::test]
async fn answers_let_the_application_read_the_csrf_token_and_errors() {
    let app = AppBuilder::new()
        .csrf()
        .config_file(RWS_SETTINGS)
        .spawn()
        .await;
    let origin = "https://app.example.com";
    let me = send(
        app.authed(Method::GET, "/api/v2/me")
            .header("origin", origin),
    )
    .await;
    assert_eq!(me.status.as_u16(), 200);
    assert_eq!(
        me.header("access-control-allow-origin").as_deref(),
        Some(origin)
    );
    assert_eq!(
        me.header("access-control-allow-credentials").as_deref(),
        Some("true")
    );
    let exposed = lower_list(&me, "access-control-expose-headers");
    for header in ["x-csrf-header", "x-csrf-token"] {
        assert!(exposed.contains(header), "{header} in {exposed}");
    }
    assert!(me.header("x-csrf-token").is_some());
    // An error is readable too, so the application can show it.
    let refused = send(
        app.anonymous(Method::GET, "/api/v2/ops/contact-centers")
            .header("origin", origin),
    )
    .await;
    refused.assert_unauthorized();
    assert_eq!(
        refused.header("access-control-allow-origin").as_deref(),
        Some(origin)
    );
}

#[tokio::test]
async fn off_when_not_configured() {
    let app = spawn_app().await;
    let response = preflight(&app, "https://app.example.com", "POST").await;
    assert!(
        response.header("access-control-allow-origin").is_none(),
        "{response:?}"
    );
    let read = send(
        app.authed(Method::GET, "/api/v2/me")
            .header("origin", "https://app.example.com"),
    )
    .await;
    assert_eq!(read.status.as_u16(), 200);
    assert!(read.header("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn flags_configure_it_too_and_win_over_the_file() {
    let app = AppBuilder::new()
        .config_file(RWS_SETTINGS)
        .arg("--cors-allowed-origins", "https://flag.example")
        .arg("--cors-allow-credentials", "false")
        .spawn()
        .await;
    let response = preflight(&app, "https://flag.example", "PUT").await;
    assert_eq!(
        response.header("access-control-allow-origin").as_deref(),
        Some("https://flag.example")
    );
    assert!(response
        .header("access-control-allow-credentials")
        .is_none());
    let from_file = preflight(&app, "https://app.example.com", "PUT").await;
    assert!(from_file.header("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn any_origin_with_credentials_does_not_start() {
    let (status, output) = AppBuilder::new()
        .config_file("serverSettings:\n  crossOriginSettings:\n    allowedOrigins: '*'\n    allowCredentials: true\n")
        .spawn_expecting_failure()
        .await
        .expect("gird must not start");
    assert!(!status.success());
    assert!(output.contains("allowedOrigins"), "{output}");
    let (status, output) = AppBuilder::new()
        .config_file(
            "serverSettings:\n  crossOriginSettings:\n    allowedOrigin: https://typo.example\n",
        )
        .spawn_expecting_failure()
        .await
        .expect("a misspelt key must not start");
    assert!(!status.success());
    assert!(output.contains("allowedOrigin"), "{output}");
}
