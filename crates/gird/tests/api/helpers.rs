//! Starts the real `gird` binary on a random port with a fresh data folder (and, with
//! `GIRD_TEST_BACKEND=postgres`, a fresh PostgreSQL database: see `database`); the typed
//! requests are in `client` and re-exported here.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tempfile::TempDir;
use tokio::process::{Child, Command};
use tokio::sync::OnceCell;
use tokio::time::timeout;

pub use crate::client::*;
pub use crate::database::{Backend, TestDatabase};
use gird_testkit::{wait_until_listening, Lines, NotListening, GIRD_LISTENING};

/// How long a broken server may take before the test fails instead of hanging.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A name no other test uses, e.g. `cc-4711-3`.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A random password no well-known list contains.
pub fn strong_password() -> String {
    let state = RandomState::new();
    format!(
        "Pw-{:016x}-{:016x}",
        state.hash_one(1u8),
        state.hash_one(unique("pw"))
    )
}

/// Where a spawned app keeps its records, unless the test passes `--database` itself.
#[derive(Clone)]
enum Storage {
    /// `gird.db` in the data folder.
    Sqlite,
    /// Created on the first spawn; shared by restarts and by apps started on it.
    Postgres(Arc<OnceCell<TestDatabase>>),
}

/// How one `gird serve` is started; `spawn` can be called again for a restart.
#[derive(Clone)]
pub struct AppBuilder {
    root: Arc<TempDir>,
    storage: Storage,
    listen_flag: bool,
    password_flag: Option<String>,
    ops_user: String,
    ops_password: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
    capture_log: bool,
}

impl AppBuilder {
    pub fn new() -> AppBuilder {
        let password = strong_password();
        AppBuilder {
            root: Arc::new(TempDir::new().expect("temporary folder")),
            storage: Storage::Sqlite,
            listen_flag: true,
            password_flag: Some(password.clone()),
            ops_user: "ops".into(),
            ops_password: password,
            args: Vec::new(),
            env: Vec::new(),
            capture_log: false,
        }
        .backend(Backend::from_env())
    }

    /// Runs on `backend` whatever `GIRD_TEST_BACKEND` says (a new, empty database).
    pub fn backend(mut self, backend: Backend) -> AppBuilder {
        self.storage = match backend {
            Backend::Sqlite => Storage::Sqlite,
            Backend::Postgres => Storage::Postgres(Arc::default()),
        };
        self
    }

    pub fn current_backend(&self) -> Backend {
        match self.storage {
            Storage::Sqlite => Backend::Sqlite,
            Storage::Postgres(_) => Backend::Postgres,
        }
    }

    /// Runs on the PostgreSQL database the builder of `app` made, as another instance.
    pub fn share_database(mut self, app: &TestApp) -> AppBuilder {
        assert!(
            app.database().is_some(),
            "{} has no test database",
            app.address
        );
        self.storage = app.builder.storage.clone();
        self
    }

    pub fn arg(mut self, name: &str, value: &str) -> AppBuilder {
        self.args.extend([name.to_owned(), value.to_owned()]);
        self
    }

    pub fn env(mut self, name: &str, value: &str) -> AppBuilder {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn csrf(self) -> AppBuilder {
        self.arg("--csrf", "true")
    }

    pub fn body_limit(self, bytes: usize) -> AppBuilder {
        self.arg("--body-limit", &bytes.to_string())
    }

    /// Passes `--ops-password` and uses it for requests.
    pub fn password_flag(mut self, password: &str) -> AppBuilder {
        self.password_flag = Some(password.to_owned());
        self.ops_password = password.to_owned();
        self
    }

    /// Starts without `--ops-password` (the password comes from elsewhere, or is generated).
    pub fn no_password_flag(mut self) -> AppBuilder {
        self.password_flag = None;
        self
    }

    /// Starts without `--listen` (the address comes from the file or the environment).
    pub fn no_listen_flag(mut self) -> AppBuilder {
        self.listen_flag = false;
        self
    }

    /// Passes `--ops-user` and uses it for requests.
    pub fn ops_user_flag(mut self, user: &str) -> AppBuilder {
        self.ops_user = user.to_owned();
        self.arg("--ops-user", user)
    }

    /// The credentials the test client sends.
    pub fn credentials(mut self, user: &str, password: &str) -> AppBuilder {
        self.ops_user = user.to_owned();
        self.ops_password = password.to_owned();
        self
    }

    /// Sends the server's log (standard error) to [`AppBuilder::log_file`].
    pub fn capture_log(mut self) -> AppBuilder {
        self.capture_log = true;
        self
    }

    /// Where [`AppBuilder::capture_log`] writes the log.
    pub fn log_file(&self) -> PathBuf {
        self.root.path().join("gird.log")
    }

    /// Writes `yaml` to a file in the test's folder and passes it with `--config`.
    pub fn config_file(self, yaml: &str) -> AppBuilder {
        let path = self.write_file("gird-test.yaml", yaml);
        let path = path.to_str().expect("UTF-8 path").to_owned();
        self.arg("--config", &path)
    }

    /// Writes `yaml` to `application.yaml` in the working directory, without `--config`.
    pub fn default_config_file(self, yaml: &str) -> AppBuilder {
        self.write_file("application.yaml", yaml);
        self
    }

    /// Writes a file into the test's folder (the server's working directory).
    pub fn write_file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.root.path().join(name);
        std::fs::write(&path, contents).expect("write config file");
        path
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root.path().join("data")
    }

    /// The `--database` the builder adds: none when the test gives one itself.
    async fn database_url(&self) -> Option<String> {
        let chosen = self.args.iter().any(|arg| arg == "--database")
            || self.env.iter().any(|(name, _)| name == "GIRD_DATABASE");
        match &self.storage {
            Storage::Postgres(database) if !chosen => Some(
                database
                    .get_or_init(TestDatabase::create)
                    .await
                    .url()
                    .to_owned(),
            ),
            _ => None,
        }
    }

    async fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_gird"));
        command.arg("serve");
        if self.listen_flag {
            command.args(["--listen", "127.0.0.1:0"]);
        }
        command.arg("--data-dir").arg(self.data_dir());
        if let Some(url) = self.database_url().await {
            command.args(["--database", &url]);
        }
        if let Some(password) = &self.password_flag {
            command.args(["--ops-password", password]);
        }
        command.args(&self.args).current_dir(self.root.path());
        for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("GIRD_")) {
            command.env_remove(name);
        }
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        let stderr = if self.capture_log {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.log_file())
                .expect("the log file");
            Stdio::from(file)
        } else if std::env::var_os("TEST_LOG").is_some() {
            Stdio::inherit()
        } else {
            Stdio::null()
        };
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .kill_on_drop(true);
        command
    }

    /// Starts the server and waits for its `gird: listening on` line.
    pub async fn spawn(&self) -> TestApp {
        let child = self.command().await.spawn().expect("start gird");
        let listening = match wait_until_listening(child, GIRD_LISTENING, PATIENCE, None).await {
            Ok(listening) => listening,
            Err(NotListening::Exited { printed, .. }) => {
                panic!("gird exited before listening; stdout: {printed:?}")
            }
            Err(NotListening::TimedOut { printed, .. }) => {
                panic!("gird did not listen within {PATIENCE:?}; stdout: {printed:?}")
            }
        };
        let address = listening.address;
        let tls = address.starts_with("https://");
        assert!(
            (address.starts_with("http://127.0.0.1:") || address.starts_with("https://127.0.0.1:"))
                && !address.ends_with(":0"),
            "the listening line names the bound address: {address}"
        );
        // A TLS test serves a certificate of its own making: trust it.
        let client = reqwest::Client::builder()
            .timeout(PATIENCE)
            .redirect(reqwest::redirect::Policy::none())
            .danger_accept_invalid_certs(tls)
            .tls_info(tls)
            .build()
            .expect("HTTP client");
        let mut api = Api {
            address,
            client,
            ops_user: self.ops_user.clone(),
            ops_password: self.ops_password.clone(),
            csrf: None,
        };
        if self.args.windows(2).any(|pair| pair == ["--csrf", "true"]) {
            api.csrf = Some(api.csrf_session().await);
        }
        TestApp {
            api,
            data_dir: self.data_dir(),
            child: listening.child,
            stdout: listening.stdout,
            startup_lines: listening.printed,
            builder: self.clone(),
        }
    }

    /// Starts the server expecting it to refuse to start; answers its exit and output,
    /// or `None` when it started listening after all (it is then killed).
    pub async fn spawn_expecting_failure(&self) -> Option<(ExitStatus, String)> {
        let mut command = self.command().await;
        command.stderr(Stdio::piped());
        let mut child = command.spawn().expect("start gird");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let errors = tokio::spawn(async move {
            let mut text = String::new();
            let _ = tokio::io::AsyncReadExt::read_to_string(&mut stderr, &mut text).await;
            text
        });
        let (mut child, printed) =
            match wait_until_listening(child, GIRD_LISTENING, PATIENCE, None).await {
                Ok(_) => return None,
                Err(NotListening::Exited { child, printed }) => (child, printed),
                Err(NotListening::TimedOut { .. }) => {
                    panic!("gird neither listened nor exited within {PATIENCE:?}")
                }
            };
        let mut output: String = printed.iter().map(|line| format!("{line}\n")).collect();
        let status = timeout(PATIENCE, child.wait())
            .await
            .expect("gird exits")
            .expect("wait for gird");
        output.push_str(&errors.await.expect("stderr reader"));
        Some((status, output))
    }
}

pub async fn spawn_app() -> TestApp {
    AppBuilder::new().spawn().await
}
/// A running `gird serve`; killed when dropped.
pub struct TestApp {
    pub api: Api,
    pub data_dir: PathBuf,
    pub child: Child,
    stdout: Lines,
    /// Standard output up to and including the listening line.
    pub startup_lines: Vec<String>,
    builder: AppBuilder,
}

impl std::ops::Deref for TestApp {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

impl TestApp {
    /// The PostgreSQL database the builder made for this app, if any.
    pub fn database(&self) -> Option<&TestDatabase> {
        match &self.builder.storage {
            Storage::Postgres(database) => database.get(),
            Storage::Sqlite => None,
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
impl TestApp {
    /// `kill -9` (unless it has exited already), then waits for the process to be gone.
    pub async fn kill(&mut self) {
        if self.child.try_wait().expect("poll gird").is_none() {
            self.child.start_kill().expect("kill gird");
        }
        self.child.wait().await.expect("wait for gird");
    }

    /// Sends SIGTERM without waiting.
    pub fn send_sigterm(&self) {
        let pid = self.child.id().expect("gird is running");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    }

    /// Waits (at most [`PATIENCE`]) for the process to exit.
    pub async fn wait_for_exit(&mut self) -> ExitStatus {
        timeout(PATIENCE, self.child.wait())
            .await
            .expect("gird should exit after SIGTERM")
            .expect("wait for gird")
    }

    /// SIGTERM, then the exit status and everything printed after the listening line.
    pub async fn stop(mut self) -> (ExitStatus, Vec<String>) {
        self.send_sigterm();
        let status = self.wait_for_exit().await;
        let mut lines = Vec::new();
        while let Ok(Some(line)) = timeout(PATIENCE, self.stdout.next()).await {
            lines.push(line);
        }
        (status, lines)
    }

    /// Kills this process and starts a new one on the same data folder.
    pub async fn restart(self) -> TestApp {
        self.restart_with(|builder| builder).await
    }

    /// Kills the server and starts it again on the same data, with what `change` makes of
    /// the way it was started (another password, say).
    pub async fn restart_with(mut self, change: impl FnOnce(AppBuilder) -> AppBuilder) -> TestApp {
        self.kill().await;
        let builder = change(self.builder.clone());
        drop(self);
        builder.spawn().await
    }
}

/// Waits until `check` answers true, asking again every 20 ms; fails the test, naming
/// `what`, when it has not within [`PATIENCE`].
pub async fn eventually<F, Fut>(what: &str, check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    eventually_within(PATIENCE, Duration::from_millis(20), what, check).await;
}

/// A loopback port nobody listens on now.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

/// Waits until the server `child` (named `name`) accepts connections on `address`: the
/// signal of servers that say they are ready only in their logs. Fails when it exits.
pub async fn accepting(child: &mut Child, name: &str, address: &str) {
    eventually(&format!("{name} listens on {address}"), || {
        if let Some(status) = child.try_wait().expect("poll the server") {
            panic!("{name} exited before listening on {address}: {status}");
        }
        async move { tokio::net::TcpStream::connect(address).await.is_ok() }
    })
    .await;
}

/// [`eventually`] with a deadline and a pace of its own, for what takes longer by design
/// (a file looked at every 10 s, say).
pub async fn eventually_within<F, Fut>(patience: Duration, poll: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        if check().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not within {patience:?}"
        );
        tokio::time::sleep(poll).await;
    }
}
