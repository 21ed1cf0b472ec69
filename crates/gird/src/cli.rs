//! Command-line parsing: flags, with environment variables as their fallback.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand};
use gird_server::cors::{CrossOriginSettings, ListSetting};
use gird_server::{Overrides, Secret, Settings};
use tokio::net::TcpListener;

#[derive(Debug, Parser)]
#[command(
    name = "gird",
    version,
    about = "A recording-metadata server speaking the GIR Insertion API"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve(Box<ServeArgs>),
    /// Read a password on standard input and print its argon2 hash for opsUserPassword.
    HashPassword,
    /// Create or update the database schema, then exit (serve does it too on start).
    Migrate(Box<ServeArgs>),
    /// Queue records for SpeechMiner again: one recording, a time range, or the dead letters.
    Repost(Box<RepostArgs>),
    /// Bulk-load recordings into an Insertion API (gird or RWS) from JSON Lines, CSV, or a crawl of WebDAV or S3.
    Import(Box<gird_import::ImportArgs>),
    /// The SpeechMiner outbox.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
}

#[derive(Debug, Subcommand)]
enum OutboxCommand {
    /// Queued, retrying, in-flight, failed (dead-letter) and delivered counts per contact center.
    Status(Box<StatusArgs>),
}

#[derive(Debug, clap::Args)]
pub(crate) struct StatusArgs {
    /// Only this contact center.
    #[arg(long)]
    pub(crate) contact_center: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) store: ServeArgs,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["recording", "from", "dead_letters"])))]
pub(crate) struct RepostArgs {
    /// The contact center whose records are queued.
    #[arg(long)]
    pub(crate) contact_center: String,
    /// One recording, as it is now.
    #[arg(long)]
    pub(crate) recording: Option<String>,
    /// Every recording starting at or after this instant (ISO 8601), with --to.
    #[arg(long, requires = "to")]
    pub(crate) from: Option<String>,
    /// ... and before this instant.
    #[arg(long, requires = "from")]
    pub(crate) to: Option<String>,
    /// Every dead letter of the contact center, with its attempts counted from zero.
    #[arg(long)]
    pub(crate) dead_letters: bool,
    #[command(flatten)]
    pub(crate) store: ServeArgs,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// application.yaml (RWS shape); default: ./application.yaml if it exists.
    #[arg(long, env = "GIRD_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8080 (port 0 picks a free port).
    #[arg(long, env = "GIRD_LISTEN")]
    listen: Option<String>,
    /// sqlite://PATH (default: sqlite://<data-dir>/gird.db), or postgres://USER:PASSWORD@HOST:PORT/DBNAME for PostgreSQL (several instances may share it).
    #[arg(long, env = "GIRD_DATABASE")]
    database: Option<String>,
    /// Folder for the database, the generated ops password and the CSRF key.
    #[arg(long, env = "GIRD_DATA_DIR")]
    data_dir: Option<PathBuf>,
    #[arg(long, env = "GIRD_OPS_USER")]
    ops_user: Option<String>,
    /// Clear text, or {argon2}$argon2id$... / {bcrypt}$2b$...
    #[arg(long, env = "GIRD_OPS_PASSWORD", hide_env_values = true)]
    ops_password: Option<String>,
    /// Require the CSRF token on POST, PUT and DELETE.
    #[arg(long, env = "GIRD_CSRF")]
    csrf: Option<bool>,
    /// Key of the CSRF token MAC; instances sharing it accept each other's tokens.
    #[arg(long, env = "GIRD_CSRF_KEY", hide_env_values = true)]
    csrf_key: Option<String>,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "GIRD_BODY_LIMIT")]
    body_limit: Option<usize>,
    /// Base of absolute URLs in answers (default: http:// + the request's Host).
    #[arg(long, env = "GIRD_PUBLIC_URL")]
    public_url: Option<String>,
    /// Key that seals the WebDAV passwords stored per contact center.
    #[arg(long, env = "GIRD_STORAGE_KEY", hide_env_values = true)]
    storage_key: Option<String>,
    /// How long to wait for WebDAV to answer, in seconds.
    #[arg(long, env = "GIRD_WEBDAV_TIMEOUT_SECONDS")]
    webdav_timeout_seconds: Option<u64>,
    /// How long to wait for S3 to answer, in seconds.
    #[arg(long, env = "GIRD_S3_TIMEOUT_SECONDS")]
    s3_timeout_seconds: Option<u64>,
    /// Serve HTTPS with this PEM certificate chain (with --tls-key); reloaded when it changes.
    #[arg(long, env = "GIRD_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, env = "GIRD_TLS_KEY")]
    tls_key: Option<PathBuf>,
    /// Connections served at once; more wait to be accepted.
    #[arg(long, env = "GIRD_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
    /// Connections served at once from one client address (IPv6: one /64); 0: no limit.
    #[arg(long, env = "GIRD_MAX_CONNECTIONS_PER_ADDRESS")]
    max_connections_per_address: Option<usize>,
    /// A connection with no request in flight for this long is closed (HTTP/1 and HTTP/2), in seconds.
    #[arg(long, env = "GIRD_IDLE_TIMEOUT_SECONDS")]
    idle_timeout_seconds: Option<u64>,
    /// The most stored bytes one page of a search holds (at least one recording; the rest comes with `next`).
    #[arg(long, env = "GIRD_MAX_PAGE_BYTES")]
    max_page_bytes: Option<usize>,
    /// Largest request head (request line and headers), in bytes.
    #[arg(long, env = "GIRD_MAX_HEADER_BYTES")]
    max_header_bytes: Option<usize>,
    /// The longest a request may take, its body included, in seconds.
    #[arg(long, env = "GIRD_REQUEST_TIMEOUT_SECONDS")]
    request_timeout_seconds: Option<u64>,
    /// Log lines as text or as JSON objects (one per line, with the request id).
    #[arg(long, env = "GIRD_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Append the audit log (every insert, delete and legal-hold change) to this file, as JSON lines.
    #[arg(long, env = "GIRD_AUDIT_LOG")]
    audit_log: Option<PathBuf>,
    /// SpeechMiner deliveries: attempts before one becomes a dead letter.
    #[arg(long, env = "GIRD_SPEECHMINER_MAX_ATTEMPTS")]
    speechminer_max_attempts: Option<u32>,
    /// SpeechMiner deliveries: the wait after a first failure, doubled after each next one.
    #[arg(long, env = "GIRD_SPEECHMINER_INITIAL_BACKOFF_MS")]
    speechminer_initial_backoff_ms: Option<u64>,
    /// SpeechMiner deliveries: the longest wait between two attempts.
    #[arg(long, env = "GIRD_SPEECHMINER_MAX_BACKOFF_MS")]
    speechminer_max_backoff_ms: Option<u64>,
    /// SpeechMiner deliveries: how long one POST may take.
    #[arg(long, env = "GIRD_SPEECHMINER_TIMEOUT_SECONDS")]
    speechminer_timeout_seconds: Option<u64>,
    /// SpeechMiner deliveries made at once by this instance.
    #[arg(long, env = "GIRD_SPEECHMINER_CONCURRENCY")]
    speechminer_concurrency: Option<usize>,
    /// Origins whose browser applications may call gird (comma-separated; `https://*.example.com` allowed). Default: none, CORS off.
    #[arg(long, env = "GIRD_CORS_ALLOWED_ORIGINS")]
    cors_allowed_origins: Option<String>,
    /// Methods cross-origin requests may use (comma-separated).
    #[arg(long, env = "GIRD_CORS_ALLOWED_METHODS")]
    cors_allowed_methods: Option<String>,
    /// Headers cross-origin requests may send (comma-separated, or *).
    #[arg(long, env = "GIRD_CORS_ALLOWED_HEADERS")]
    cors_allowed_headers: Option<String>,
    /// Let cross-origin requests carry credentials (cookies, Basic auth).
    #[arg(long, env = "GIRD_CORS_ALLOW_CREDENTIALS")]
    cors_allow_credentials: Option<bool>,
    /// Answer headers cross-origin scripts may read (X-CSRF-HEADER and X-CSRF-TOKEN always).
    #[arg(long, env = "GIRD_CORS_EXPOSED_HEADERS")]
    cors_exposed_headers: Option<String>,
    /// Seconds a browser may cache a preflight answer.
    #[arg(long, env = "GIRD_CORS_MAX_AGE_SECONDS")]
    cors_max_age_seconds: Option<u64>,
}

#[derive(Debug, Clone, Copy, Default, clap::ValueEnum)]
pub(crate) enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Logs to standard error (`RUST_LOG` sets the level, default `info`), as text or JSON
/// lines; audit lines (target `gird::audit`) also to `audit_log` when given.
pub fn init_logging(format: LogFormat, audit_log: Option<&Path>) -> anyhow::Result<()> {
    use tracing_subscriber::prelude::*;
    use tracing_subscriber::{filter::Targets, fmt, EnvFilter};
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,gird::audit=off"));
    let stderr = match format {
        LogFormat::Text => fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .boxed(),
        LogFormat::Json => fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(std::io::stderr)
            .boxed(),
    };
    let audit = match audit_log {
        Some(path) => {
            let mut options = std::fs::OpenOptions::new();
            options.create(true).append(true);
            // Who listened to what, from where: for the operator only.
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let file = options
                .open(path)
                .with_context(|| format!("cannot open the audit log {}", path.display()))?;
            // The request's span (its id) goes with each audit line.
            let targets = Targets::new()
                .with_target(gird_server::audit::TARGET, tracing::Level::INFO)
                .with_target("gird_server::observe", tracing::Level::INFO);
            Some(
                fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(std::sync::Mutex::new(file))
                    .with_filter(targets),
            )
        }
        None => None,
    };
    tracing_subscriber::registry()
        .with(stderr.with_filter(filter))
        .with(audit)
        .init();
    Ok(())
}

impl Cli {
    /// The log format and audit file `gird serve` was given (defaults otherwise).
    pub fn logging(&self) -> (LogFormat, Option<PathBuf>) {
        match &self.command {
            Command::Serve(args) => (args.log_format, args.audit_log.clone()),
            _ => (LogFormat::default(), None),
        }
    }

    pub fn is_import(&self) -> bool {
        matches!(self.command, Command::Import(_))
    }

    pub async fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Serve(args) => serve(*args).await,
            Command::HashPassword => hash_password(),
            Command::Migrate(args) => migrate(*args).await,
            Command::Repost(args) => crate::outbox::repost(*args).await,
            Command::Import(args) => import(*args).await,
            Command::Outbox {
                command: OutboxCommand::Status(args),
            } => crate::outbox::status(*args).await,
        }
    }
}

impl ServeArgs {
    /// The settings these arguments, the environment and the configuration file give.
    pub(crate) fn settings(self) -> anyhow::Result<Settings> {
        let config = self.config_file();
        Ok(Settings::load(config.as_deref(), self.overrides())?)
    }

    fn config_file(&self) -> Option<PathBuf> {
        let default = Path::new("application.yaml");
        self.config
            .clone()
            .or_else(|| default.exists().then(|| default.to_owned()))
    }

    fn overrides(self) -> Overrides {
        Overrides {
            listen: self.listen,
            data_dir: self.data_dir,
            database: self.database,
            ops_user: self.ops_user,
            ops_password: self.ops_password.map(Secret::new),
            csrf_enabled: self.csrf,
            csrf_key: self.csrf_key.map(Secret::new),
            body_limit: self.body_limit,
            public_url: self.public_url,
            storage_key: self.storage_key.map(Secret::new),
            webdav_timeout_seconds: self.webdav_timeout_seconds,
            s3_timeout_seconds: self.s3_timeout_seconds,
            forward_max_attempts: self.speechminer_max_attempts,
            forward_initial_backoff_ms: self.speechminer_initial_backoff_ms,
            forward_max_backoff_ms: self.speechminer_max_backoff_ms,
            forward_timeout_seconds: self.speechminer_timeout_seconds,
            forward_concurrency: self.speechminer_concurrency,
            tls_cert: self.tls_cert,
            tls_key: self.tls_key,
            max_connections: self.max_connections,
            max_header_bytes: self.max_header_bytes,
            request_timeout_seconds: self.request_timeout_seconds,
            max_connections_per_address: self.max_connections_per_address,
            idle_timeout_seconds: self.idle_timeout_seconds,
            max_page_bytes: self.max_page_bytes,
            cors: CrossOriginSettings {
                allowed_origins: self.cors_allowed_origins.map(ListSetting::Text),
                allowed_methods: self.cors_allowed_methods.map(ListSetting::Text),
                allowed_headers: self.cors_allowed_headers.map(ListSetting::Text),
                allow_credentials: self.cors_allow_credentials,
                exposed_headers: self.cors_exposed_headers.map(ListSetting::Text),
                cors_filter_cache_time_to_live: self.cors_max_age_seconds,
            },
        }
    }
}

/// After printing the summary: exit code 1 when every record would fail (the server
/// refuses the credentials, the contact center or its feature), 4 when the import stopped
/// before the end (Ctrl-C, a server that stayed unreachable: run it again), 3 while
/// rejected records remain (or records are invalid, with --dry-run).
async fn import(args: gird_import::ImportArgs) -> anyhow::Result<()> {
    let summary = gird_import::run(args).await?;
    if let Some(why) = &summary.failed {
        anyhow::bail!("{why}");
    }
    match summary.exit_code() {
        0 => Ok(()),
        code => std::process::exit(code),
    }
}

fn hash_password() -> anyhow::Result<()> {
    let mut password = String::new();
    std::io::stdin().read_line(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']);
    println!("{}", gird_server::auth::hash_password(password)?);
    Ok(())
}

async fn migrate(args: ServeArgs) -> anyhow::Result<()> {
    let settings = args.settings()?;
    gird_server::bootstrap::migrate(&settings).await?;
    println!("gird: the database schema is up to date");
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let settings = args.settings()?;
    let app = gird_server::prepare(&settings).await?;
    let shutdown = shutdown_signal()?;
    let listener = TcpListener::bind(&settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let address = listener.local_addr()?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "gird: listening on {}://{address}", app.scheme())?;
    if let Some(password) = &app.generated_password {
        print_first_start(
            &mut out,
            &app.ops_user,
            password,
            &settings,
            &format!("{}://{address}", app.scheme()),
        )?;
    }
    out.flush()?;
    drop(out);
    tracing::info!(%address, database = ?settings.database, csrf = settings.csrf_enabled, "gird started");
    gird_server::serve(listener, app, shutdown).await?;
    tracing::info!("gird stopped");
    Ok(())
}

fn print_first_start(
    out: &mut impl Write,
    user: &str,
    password: &Secret,
    settings: &Settings,
    address: &str,
) -> std::io::Result<()> {
    let password_file = settings
        .data_dir
        .join(gird_server::bootstrap::PASSWORD_FILE);
    let contact_center = gird_server::bootstrap::DEFAULT_CONTACT_CENTER;
    writeln!(out)?;
    writeln!(
        out,
        "First start: generated the ops password (kept in {}):",
        password_file.display()
    )?;
    writeln!(out, "  user:     {user}")?;
    writeln!(out, "  password: {}", password.expose())?;
    writeln!(out)?;
    writeln!(
        out,
        "Insert the public sample into the contact center '{contact_center}':"
    )?;
    writeln!(
        out,
        "  curl -u '{user}:{}' -H 'Content-Type: application/json' --data-binary @examples/seed-sample.json {address}/internal-api/contact-centers/{contact_center}/recordings",
        password.expose()
    )?;
    if settings.csrf_enabled {
        writeln!(out, "  (CSRF protection is on: GET any API path first and send back the JSESSIONID cookie and X-CSRF-TOKEN header.)")?;
    }
    writeln!(out)
}

/// Resolves on SIGTERM or Ctrl-C. The handlers are installed when this is called, not
/// when the future is first polled, so a signal that arrives as soon as the listening line
/// is printed is already handled gracefully.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    #[cfg(unix)]
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = terminate.recv() => {},
            _ = interrupt.recv() => {},
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: finishing in-flight requests");
    })
}
