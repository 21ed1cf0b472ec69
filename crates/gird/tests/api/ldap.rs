//! Directory users (API.md "Directory users (LDAP)") against a real OpenLDAP `slapd`
//! (Debian's `slapd` and `ldap-utils`; `scripts/test` installs them), started here as a
//! throwaway process on loopback ports of its own with StartTLS and LDAPS by a test CA:
//! sign-in by Basic and the web UI, groups mapped to roles, access groups, partitions and
//! permissions, refusals (wrong or empty password, unknown name, no mapped role, filter
//! injection), local users first, and a directory that is down, silent or untrusted (503/4
//! for its users while the ops user and local users go on).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use reqwest::Method;
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio::time::Instant;

use crate::body::{edited, minimal_record, set};
use crate::client::{send, ApiResponse};
use crate::helpers::{accepting, free_port, unique, AppBuilder, TestApp, PATIENCE};

const SUFFIX: &str = "dc=example,dc=org";
const ROOT_DN: &str = "cn=admin,dc=example,dc=org";
const ROOT_PASSWORD: &str = "root-Secret-7f3a";
const SERVICE_DN: &str = "cn=gird,dc=example,dc=org";
const SERVICE_PASSWORD: &str = "service-Secret-91bd";
/// Every directory user's password is their name followed by this.
const PASSWORD_TAIL: &str = "-Dir-Pass-42";

fn password(user: &str) -> String {
    format!("{user}{PASSWORD_TAIL}")
}

/// The seeded directory: people, groups (groupOfNames, so both `member` and, by the
/// memberof overlay, `memberOf` tell membership) and the service account.
/// carol: supervisors and auditors; dave: agents; erin: auditors only (no role);
/// frank: no group; zed: a directory account whose name is also a local user's.
fn seed() -> String {
    let person = |uid: &str| {
        format!(
            "dn: uid={uid},ou=people,{SUFFIX}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\nsn: {uid}\nuserPassword: {}\n\n",
            password(uid)
        )
    };
    let group = |cn: &str, members: &[&str]| {
        let members: String = members
            .iter()
            .map(|uid| format!("member: uid={uid},ou=people,{SUFFIX}\n"))
            .collect();
        format!("dn: cn={cn},ou=groups,{SUFFIX}\nobjectClass: groupOfNames\ncn: {cn}\n{members}\n")
    };
    let mut ldif = format!(
        "dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n\
         dn: ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: people\n\n\
         dn: ou=groups,{SUFFIX}\nobjectClass: organizationalUnit\nou: groups\n\n\
         dn: {SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: gird\nuserPassword: {SERVICE_PASSWORD}\n\n"
    );
    for uid in ["carol", "dave", "erin", "frank", "zed"] {
        ldif.push_str(&person(uid));
    }
    ldif.push_str(&group("supervisors", &["carol"]));
    ldif.push_str(&group("agents", &["dave", "zed"]));
    ldif.push_str(&group("auditors", &["carol", "erin"]));
    ldif
}

/// A certificate authority of the test's own, and a server certificate for 127.0.0.1
/// it signed: (CA PEM, server certificate PEM, server key PEM).
fn test_ca() -> (String, String, String) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "gird test directory CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    params.subject_alt_names = vec![rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap())];
    let server = params.signed_by(&key, &ca, &ca_key).unwrap();
    (ca.pem(), server.pem(), key.serialize_pem())
}

fn tool(name: &str, debian_path: &str) -> String {
    if Path::new(debian_path).exists() {
        debian_path.to_owned()
    } else {
        name.to_owned()
    }
}

/// A running `slapd` with the seeded directory; killed when dropped.
struct Slapd {
    folder: TempDir,
    port: u16,
    tls_port: u16,
    child: Child,
}

impl Slapd {
    async fn start() -> Slapd {
        let folder = TempDir::new().expect("slapd folder");
        let root = folder.path();
        std::fs::create_dir(root.join("db")).unwrap();
        let (ca, certificate, key) = test_ca();
        std::fs::write(root.join("ca.pem"), ca).unwrap();
        std::fs::write(root.join("server.pem"), certificate).unwrap();
        std::fs::write(root.join("server-key.pem"), key).unwrap();
        let path = |name: &str| root.join(name).display().to_string();
        // `allow bind_anon_dn`: a bind with a DN and an empty password succeeds (as
        // anonymous), as some directories allow; gird must refuse it itself.
        let config = format!(
            "include /etc/ldap/schema/core.schema\n\
             include /etc/ldap/schema/cosine.schema\n\
             include /etc/ldap/schema/inetorgperson.schema\n\
             modulepath /usr/lib/ldap\n\
             moduleload back_mdb\n\
             moduleload memberof\n\
             allow bind_anon_dn\n\
             pidfile {pid}\n\
             TLSCACertificateFile {ca}\n\
             TLSCertificateFile {cert}\n\
             TLSCertificateKeyFile {key}\n\
             database mdb\n\
             suffix \"{SUFFIX}\"\n\
             rootdn \"{ROOT_DN}\"\n\
             rootpw {ROOT_PASSWORD}\n\
             directory {db}\n\
             overlay memberof\n\
             access to attrs=userPassword by anonymous auth by * none\n\
             access to * by * read\n",
            pid = path("slapd.pid"),
            ca = path("ca.pem"),
            cert = path("server.pem"),
            key = path("server-key.pem"),
            db = path("db"),
        );
        std::fs::write(root.join("slapd.conf"), config).unwrap();
        let port = free_port();
        let tls_port = free_port();
        let urls = format!("ldap://127.0.0.1:{port}/ ldaps://127.0.0.1:{tls_port}/");
        let mut command = Command::new(tool("slapd", "/usr/sbin/slapd"));
        // -d keeps slapd in the foreground, so that it is this process and dies with it.
        command
            .arg("-f")
            .arg(root.join("slapd.conf"))
            .args(["-h", &urls, "-d", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .kill_on_drop(true);
        if std::env::var_os("TEST_LOG").is_none() {
            command.stderr(Stdio::null());
        }
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                panic!("slapd not found: run scripts/test, which installs slapd and ldap-utils")
            }
            Err(error) => panic!("cannot start slapd: {error}"),
        };
        let address = format!("127.0.0.1:{port}");
        accepting(&mut child, "slapd", &address).await;
        let slapd = Slapd {
            folder,
            port,
            tls_port,
            child,
        };
        slapd.add(&seed()).await;
        slapd
    }

    /// Adds the entries of `ldif` as the directory's root.
    async fn add(&self, ldif: &str) {
        let file = self.folder.path().join(format!("{}.ldif", unique("add")));
        std::fs::write(&file, ldif).unwrap();
        let output = Command::new(tool("ldapadd", "/usr/bin/ldapadd"))
            .args([
                "-x",
                "-H",
                &self.url(),
                "-D",
                ROOT_DN,
                "-w",
                ROOT_PASSWORD,
                "-f",
            ])
            .arg(&file)
            .output()
            .await
            .expect("run ldapadd (ldap-utils)");
        assert!(
            output.status.success(),
            "ldapadd: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    fn ldaps_url(&self) -> String {
        format!("ldaps://127.0.0.1:{}", self.tls_port)
    }

    fn ca_file(&self) -> PathBuf {
        self.folder.path().join("ca.pem")
    }

    /// `kill -9`, then waits until it is gone: the directory is down.
    async fn kill(&mut self) {
        self.child.start_kill().expect("kill slapd");
        self.child.wait().await.expect("wait for slapd");
    }
}

/// The mapping rules every test directory uses.
const RULES: &str = "    rules:
      - group: cn=supervisors,ou=groups,dc=example,dc=org
        roles: [Supervisor]
        accessGroups: [/Sales]
        partitions: [/emea]
        permissions: [RECORDING_PERMISSION_APPLY_NON_DELETE]
      - group: agents
        roles: [Agent]
      - group: Auditors
        accessGroups: [/Support]
";

/// `gird.ldap` with `lines` (each `key: value`, indented by the caller's four spaces).
fn ldap_config(cc: &str, lines: &[String]) -> String {
    let mut yaml =
        format!("gird:\n  ldap:\n    contactCenter: {cc}\n    userBase: ou=people,{SUFFIX}\n");
    for line in lines {
        yaml.push_str(&format!("    {line}\n"));
    }
    yaml.push_str(RULES);
    yaml
}

/// StartTLS with the test CA, the service account, groups searched by `member`.
fn start_tls_config(builder: &AppBuilder, slapd: &Slapd, cc: &str, extra: &[String]) -> String {
    let secret = builder.write_file("ldap-bind-password", &format!("{SERVICE_PASSWORD}\n"));
    let mut lines = vec![
        format!("url: {}", slapd.url()),
        "startTls: true".to_owned(),
        format!("caFile: {}", slapd.ca_file().display()),
        format!("bindDn: {SERVICE_DN}"),
        format!("bindPasswordFile: {}", secret.display()),
        format!("groupBase: ou=groups,{SUFFIX}"),
    ];
    lines.extend(extra.iter().cloned());
    ldap_config(cc, &lines)
}

/// A gird whose directory is `yaml`'s, with its contact center `cc` ready for records.
async fn spawn_with(builder: AppBuilder, yaml: &str, cc: &str) -> TestApp {
    let app = builder.config_file(yaml).spawn().await;
    let created = app.create_contact_center(cc).await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.text);
    app.enable_feature(cc).await;
    app
}

fn as_user(app: &TestApp, user: &str, password: &str, path: &str) -> reqwest::RequestBuilder {
    app.anonymous(Method::GET, path)
        .basic_auth(user, Some(password))
}

async fn me(app: &TestApp, user: &str, password: &str) -> ApiResponse {
    send(as_user(app, user, password, "/api/v2/me")).await
}

/// HTTP 200, statusCode 0: the answer's body.
fn success(response: &ApiResponse) -> Value {
    assert_eq!(response.status.as_u16(), 200, "{}", response.text);
    let body = response.json();
    assert_eq!(body["statusCode"], 0, "{body}");
    body
}

/// The ops user gets through (and, signing in, clears the address's failed sign-ins, so
/// that the refusals a test makes on purpose never reach the throttle's lock).
async fn ops_works(app: &TestApp) {
    let answer = send(app.request(Method::GET, "/api/v2/ops/contact-centers")).await;
    success(&answer);
}

/// `user` with `password` is refused as a wrong password is: 401/20.
async fn refused(app: &TestApp, user: &str, password: &str) {
    me(app, user, password).await.assert_unauthorized();
    ops_works(app).await;
}

/// A recording of agent `agent` in `groups` and `partitions`.
fn recording(id: &str, agent: &str, groups: &[&str], partitions: &[&str]) -> Value {
    edited(
        &minimal_record(id),
        [
            set("/mediaFiles/0/parameters", json!({"username": agent})),
            set("/mediaFiles/0/accessgroups", json!(groups)),
            set("/mediaFiles/0/partitions", json!(partitions)),
        ],
    )
}

async fn search_ids(app: &TestApp, user: &str, password: &str) -> BTreeSet<String> {
    let body = success(&send(as_user(app, user, password, "/api/v2/recordings")).await);
    body["recordings"]
        .as_array()
        .expect("recordings")
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

fn set_of(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|id| (*id).to_owned()).collect()
}

#[tokio::test]
async fn directory_users_sign_in_over_start_tls_and_see_what_their_groups_give() {
    let slapd = Slapd::start().await;
    let cc = unique("ldap-cc");
    let builder = AppBuilder::new();
    let yaml = start_tls_config(&builder, &slapd, &cc, &[]);
    let app = spawn_with(builder, &yaml, &cc).await;
    for (id, agent, groups, partitions) in [
        ("sales-emea", "bob", &["/Sales/East"][..], &["/emea"][..]),
        ("support", "bob", &["/Support"], &[]),
        ("sales-apac", "bob", &["/Sales"], &["/apac"]),
        ("marketing", "bob", &["/Marketing"], &[]),
        ("daves-call", "dave", &["/Marketing"], &[]),
    ] {
        let body = recording(id, agent, groups, partitions);
        app.insert(&cc, &body).await.assert_ok();
    }

    // carol: supervisors (Supervisor, /Sales, /emea, apply holds) and auditors (/Support).
    let carol = success(&me(&app, "carol", &password("carol")).await);
    let user = &carol["user"];
    assert_eq!(user["userName"], "carol");
    assert_eq!(user["source"], "directory");
    assert_eq!(user["contactCenterId"], cc.as_str());
    assert_eq!(user["roles"], json!(["Supervisor"]));
    assert_eq!(user["accessGroups"], json!(["/Sales", "/Support"]));
    assert_eq!(user["partitions"], json!(["/emea"]));
    assert_eq!(
        user["permissions"],
        json!(["RECORDING_PERMISSION_APPLY_NON_DELETE"])
    );
    assert_eq!(user["may"]["applyNonDelete"], true);
    assert_eq!(user["may"]["delete"], false);
    assert_eq!(
        search_ids(&app, "carol", &password("carol")).await,
        set_of(&["sales-emea", "support"])
    );
    // dave: agents (a rule naming the group by its cn): his own call only.
    let dave = success(&me(&app, "dave", &password("dave")).await);
    assert_eq!(dave["user"]["roles"], json!(["Agent"]));
    assert_eq!(dave["user"]["accessGroups"], json!([]));
    assert_eq!(
        search_ids(&app, "dave", &password("dave")).await,
        set_of(&["daves-call"])
    );
    // A directory user is a user: the ops API stays closed to them.
    let ops_path = send(as_user(
        &app,
        "carol",
        &password("carol"),
        "/api/v2/ops/contact-centers",
    ))
    .await;
    ops_path.assert_error(403, 5);

    // Refusals, all 401/20 like a wrong password.
    refused(&app, "carol", "wrong-password").await;
    refused(&app, "carol", "").await;
    refused(&app, "nobody", &password("nobody")).await;
    refused(&app, "erin", &password("erin")).await; // auditors give no role
    refused(&app, "frank", &password("frank")).await; // in no group
    for injection in ["*", "carol)(uid=*", "*)(|(uid=*", "carol*", "c*l"] {
        refused(&app, injection, &password("carol")).await;
    }
    refused(&app, " carol", &password("carol")).await;

    // A local user's name is theirs: the directory account of that name cannot sign in.
    let local = json!({"userName": "zed", "password": "Local-Pass-for-zed-1", "roles": ["Agent"]});
    let created = send(
        app.request(
            Method::POST,
            &format!("/api/v2/ops/contact-centers/{cc}/users"),
        )
        .json(&local),
    )
    .await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.text);
    let zed = success(&me(&app, "zed", "Local-Pass-for-zed-1").await);
    assert_eq!(zed["user"]["source"], "local");
    refused(&app, "zed", &password("zed")).await;

    // The web UI signs a directory user in; the session knows who they are.
    let cookie = ui_sign_in(&app, "carol", &password("carol")).await;
    let by_session = success(&me_by_cookie(&app, &cookie).await);
    assert_eq!(by_session["user"]["userName"], "carol");
    assert_eq!(by_session["user"]["source"], "directory");
    assert_eq!(
        by_session["user"]["accessGroups"],
        json!(["/Sales", "/Support"])
    );
    let wrong = send(
        app.anonymous(Method::POST, "/ui/session")
            .json(&json!({"user": "carol", "password": "wrong-password"})),
    )
    .await;
    wrong.assert_error(401, 20);
    ops_works(&app).await;

    // A stored user created since under that name takes it over, sessions included (and
    // deleting them ends the sessions of the name, as for any user).
    let users = format!("/api/v2/ops/contact-centers/{cc}/users");
    let local =
        json!({"userName": "Carol", "password": "Local-Pass-for-carol-1", "roles": ["Agent"]});
    let created = send(app.request(Method::POST, &users).json(&local)).await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.text);
    me_by_cookie(&app, &cookie).await.assert_error(401, 20);
    let deleted = send(app.request(Method::DELETE, &format!("{users}/Carol"))).await;
    success(&deleted);
    me_by_cookie(&app, &cookie).await.assert_error(401, 20);
    let cookie = ui_sign_in(&app, "carol", &password("carol")).await;
    success(&me_by_cookie(&app, &cookie).await);
    // With directory users turned off, their sessions end.
    let app = app
        .restart_with(|builder| {
            builder.write_file("gird-test.yaml", "gird: {}\n");
            builder
        })
        .await;
    me_by_cookie(&app, &cookie).await.assert_error(401, 20);
    me(&app, "carol", &password("carol"))
        .await
        .assert_unauthorized();
}

/// Signs in to the web UI; answers the session cookie, checking it lasts one hour.
async fn ui_sign_in(app: &TestApp, user: &str, password: &str) -> String {
    let signed_in = send(
        app.anonymous(Method::POST, "/ui/session")
            .json(&json!({"user": user, "password": password})),
    )
    .await;
    success(&signed_in);
    let set_cookie = signed_in.header("set-cookie").expect("a session cookie");
    assert!(set_cookie.contains("Max-Age=3600"), "{set_cookie}");
    set_cookie.split(';').next().unwrap().to_owned()
}

async fn me_by_cookie(app: &TestApp, cookie: &str) -> ApiResponse {
    send(
        app.anonymous(Method::GET, "/api/v2/me")
            .header("cookie", cookie),
    )
    .await
}

#[tokio::test]
async fn ldaps_with_member_of_an_anonymous_search_and_the_throttle() {
    let slapd = Slapd::start().await;
    let cc = unique("ldap-cc");
    let yaml = ldap_config(
        &cc,
        &[
            format!("url: {}", slapd.ldaps_url()),
            format!("caFile: {}", slapd.ca_file().display()),
            "cacheSeconds: 0".to_owned(),
        ],
    );
    let app = spawn_with(AppBuilder::new(), &yaml, &cc).await;
    let carol = success(&me(&app, "carol", &password("carol")).await);
    assert_eq!(carol["user"]["roles"], json!(["Supervisor"]));
    assert_eq!(carol["user"]["accessGroups"], json!(["/Sales", "/Support"]));
    let dave = success(&me(&app, "dave", &password("dave")).await);
    assert_eq!(dave["user"]["roles"], json!(["Agent"]));
    refused(&app, "dave", "wrong-password").await;
    refused(&app, "frank", &password("frank")).await;
    // The throttle of failed sign-ins counts directory users' as anyone's: after five,
    // the address is locked, the right password too.
    for _ in 0..5 {
        me(&app, "dave", "wrong-password")
            .await
            .assert_unauthorized();
    }
    let locked = me(&app, "dave", &password("dave")).await;
    locked.assert_error(429, 20);
    assert!(locked.header("retry-after").is_some());
}

#[tokio::test]
async fn a_directory_outage_is_503_for_its_users_while_ops_and_local_users_go_on() {
    let mut slapd = Slapd::start().await;
    let cc = unique("ldap-cc");
    let builder = AppBuilder::new();
    let yaml = start_tls_config(&builder, &slapd, &cc, &["cacheSeconds: 600".to_owned()]);
    let app = spawn_with(builder, &yaml, &cc).await;
    let local = json!({"userName": "lou", "password": "Local-Pass-for-lou-1", "roles": ["Agent"]});
    let created = send(
        app.request(
            Method::POST,
            &format!("/api/v2/ops/contact-centers/{cc}/users"),
        )
        .json(&local),
    )
    .await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.text);
    success(&me(&app, "carol", &password("carol")).await);

    slapd.kill().await;
    // Not verified before: the directory must answer, and cannot.
    for _ in 0..3 {
        let down = me(&app, "dave", &password("dave")).await;
        let message = down.assert_error(503, 4);
        assert!(message.contains("directory"), "{message}");
        assert!(down.header("retry-after").is_some());
    }
    // A wrong password is never remembered: it too needs the directory.
    me(&app, "carol", "wrong-password")
        .await
        .assert_error(503, 4);
    // A sign-in remembered within cacheSeconds goes on.
    success(&me(&app, "carol", &password("carol")).await);
    // Attempts that end in 503 count as failed sign-ins: otherwise guesses could be tried
    // against the remembered sign-ins for free while the directory is down.
    for _ in 0..5 {
        me(&app, "carol", "another-guess")
            .await
            .assert_error(503, 4);
    }
    let locked = me(&app, "carol", &password("carol")).await;
    locked.assert_error(429, 20);
    // The ops user and local users work, from another address than the locked one.
    let elsewhere = reqwest::Client::builder()
        .local_address("127.0.0.9".parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap();
    let get = |path: &str, user: &str, password: &str| {
        elsewhere
            .get(format!("{}{path}", app.address))
            .basic_auth(user, Some(password))
    };
    let ops = get(
        "/api/v2/ops/contact-centers",
        &app.ops_user,
        &app.ops_password,
    );
    success(&send(ops).await);
    let lou = send(get("/api/v2/me", "lou", "Local-Pass-for-lou-1")).await;
    assert_eq!(success(&lou)["user"]["source"], "local");
    send(get("/api/v2/me", "lou", "wrong-password"))
        .await
        .assert_unauthorized();
}

#[tokio::test]
async fn a_silent_untrusted_or_refusing_directory_is_503() {
    let slapd = Slapd::start().await;
    // A directory that accepts connections and never answers: bounded by timeoutSeconds.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("ldap://{}", silent.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut connections = Vec::new();
        while let Ok((connection, _)) = silent.accept().await {
            connections.push(connection);
        }
    });
    let cc = unique("ldap-cc");
    let yaml = ldap_config(
        &cc,
        &[format!("url: {silent_url}"), "timeoutSeconds: 1".to_owned()],
    );
    let app = spawn_with(AppBuilder::new(), &yaml, &cc).await;
    let started = Instant::now();
    me(&app, "carol", &password("carol"))
        .await
        .assert_error(503, 4);
    assert!(started.elapsed() < PATIENCE, "{:?}", started.elapsed());
    ops_works(&app).await;
    held.abort();

    // StartTLS to a server whose certificate the configured CA did not sign.
    let (other_ca, _, _) = test_ca();
    let builder = AppBuilder::new();
    let other_ca_file = builder.write_file("other-ca.pem", &other_ca);
    let cc = unique("ldap-cc");
    let yaml = ldap_config(
        &cc,
        &[
            format!("url: {}", slapd.url()),
            "startTls: true".to_owned(),
            format!("caFile: {}", other_ca_file.display()),
        ],
    );
    let app = spawn_with(builder, &yaml, &cc).await;
    me(&app, "carol", &password("carol"))
        .await
        .assert_error(503, 4);
    ops_works(&app).await;

    // A service account whose password the directory refuses: nobody can be looked up.
    let builder = AppBuilder::new();
    let wrong = builder.write_file("wrong-bind-password", "not-the-service-password");
    let cc = unique("ldap-cc");
    let yaml = ldap_config(
        &cc,
        &[
            format!("url: {}", slapd.url()),
            format!("bindDn: {SERVICE_DN}"),
            format!("bindPasswordFile: {}", wrong.display()),
        ],
    );
    let app = spawn_with(builder, &yaml, &cc).await;
    me(&app, "carol", &password("carol"))
        .await
        .assert_error(503, 4);
    ops_works(&app).await;
}

#[tokio::test]
async fn a_directory_gird_cannot_use_stops_the_start() {
    let cc = unique("ldap-cc");
    let builder = AppBuilder::new();
    let yaml = ldap_config(
        &cc,
        &[
            "url: ldap://127.0.0.1:1".to_owned(),
            "bindDn: cn=gird,dc=example,dc=org".to_owned(),
            "bindPasswordFile: no-such-file".to_owned(),
        ],
    );
    let (status, output) = builder
        .config_file(&yaml)
        .spawn_expecting_failure()
        .await
        .expect("gird refuses to start");
    assert!(!status.success());
    assert!(output.contains("no-such-file"), "{output}");
    let yaml = ldap_config(
        &cc,
        &[
            "url: ldaps://127.0.0.1:1".to_owned(),
            "startTls: true".to_owned(),
        ],
    );
    let (status, output) = AppBuilder::new()
        .config_file(&yaml)
        .spawn_expecting_failure()
        .await
        .expect("gird refuses to start");
    assert!(!status.success());
    assert!(output.contains("ldap.startTls"), "{output}");
}
