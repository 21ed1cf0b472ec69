//! Command-line parsing: flags, with environment variables as their fallback.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Arg, ArgMatches, Args, Parser, Subcommand};
use gird_server::{Layer, Secret, Settings};
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
    Migrate(Box<StoreArgs>),
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
    pub(crate) store: StoreArgs,
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
    pub(crate) store: StoreArgs,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    config: ConfigFile,
    /// Every setting of `application.yaml` that has a flag (and an environment variable).
    #[command(flatten)]
    settings: Layer,
    /// Log lines as text or as JSON objects (one per line, with the request id).
    #[arg(long, env = "GIRD_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Append the audit log (every insert, delete and legal-hold change) to this file, as JSON lines.
    #[arg(long, env = "GIRD_AUDIT_LOG")]
    audit_log: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct ConfigFile {
    /// application.yaml (RWS shape); default: ./application.yaml if it exists.
    #[arg(long, env = "GIRD_CONFIG")]
    config: Option<PathBuf>,
}

impl ConfigFile {
    fn path(&self) -> Option<PathBuf> {
        let default = Path::new("application.yaml");
        self.config
            .clone()
            .or_else(|| default.exists().then(|| default.to_owned()))
    }
}

/// The settings that say where the database is: the commands that only open it (`gird
/// migrate`, `gird repost`, `gird outbox status`) take these flags of `gird serve`.
const STORE_SETTINGS: [&str; 2] = ["database", "data_dir"];

/// `--config` and the [`STORE_SETTINGS`] flags, with their environment variables, as
/// `gird serve` declares them; the other settings come from the file alone.
#[derive(Debug)]
pub(crate) struct StoreArgs {
    config: ConfigFile,
    settings: Layer,
}

/// `gird serve`'s declarations of the [`STORE_SETTINGS`].
fn store_arguments() -> Vec<Arg> {
    Layer::augment_args(clap::Command::new("serve"))
        .get_arguments()
        .filter(|arg| STORE_SETTINGS.contains(&arg.get_id().as_str()))
        .cloned()
        .collect()
}

impl Args for StoreArgs {
    fn augment_args(command: clap::Command) -> clap::Command {
        // In this command's order, not serve's.
        let arguments = store_arguments()
            .into_iter()
            .map(|arg| arg.display_order(None));
        ConfigFile::augment_args(command).args(arguments)
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        StoreArgs::augment_args(command)
    }
}

impl clap::FromArgMatches for StoreArgs {
    /// The values given, parsed again by the full declaration (with no environment), so
    /// that they are typed the way `gird serve` types them.
    fn from_arg_matches(matches: &ArgMatches) -> Result<StoreArgs, clap::Error> {
        let mut given = Vec::new();
        for arg in store_arguments() {
            let long = arg.get_long().expect("a store setting has a flag");
            for value in matches.get_raw(arg.get_id().as_str()).into_iter().flatten() {
                let mut flag = OsString::from(format!("--{long}="));
                flag.push(value);
                given.push(flag);
            }
        }
        let serve = Layer::augment_args(clap::Command::new("serve").no_binary_name(true))
            .mut_args(|arg| arg.env(None));
        Ok(StoreArgs {
            config: ConfigFile::from_arg_matches(matches)?,
            settings: Layer::from_arg_matches(&serve.try_get_matches_from(given)?)?,
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = StoreArgs::from_arg_matches(matches)?;
        Ok(())
    }
}

impl StoreArgs {
    /// The settings these arguments, their environment variables and the file give.
    pub(crate) fn settings(self) -> anyhow::Result<Settings> {
        Ok(Settings::load(
            self.config.path().as_deref(),
            self.settings,
        )?)
    }
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
        Ok(Settings::load(
            self.config.path().as_deref(),
            self.settings,
        )?)
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

async fn migrate(args: StoreArgs) -> anyhow::Result<()> {
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::Mutex;

    use clap::CommandFactory;
    use serde_json::{json, Map, Value};

    use super::*;

    /// Every setting with a flag: the flag, its environment variable, its key in
    /// `application.yaml`, and the value the file, the environment and the flag give in
    /// the walk (each different from the others and from the default).
    #[rustfmt::skip]
    const SETTINGS: &[(&str, &str, &str, [&str; 3])] = &[
        ("listen", "GIRD_LISTEN", "gird.listen", ["127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003"]),
        ("data-dir", "GIRD_DATA_DIR", "gird.dataDir", ["/file/data", "/env/data", "/flag/data"]),
        ("database", "GIRD_DATABASE", "gird.database", ["sqlite:///file.db", "sqlite:///env.db", "sqlite:///flag.db"]),
        ("ops-user", "GIRD_OPS_USER", "serverSettings.opsUserName", ["file-user", "env-user", "flag-user"]),
        ("ops-password", "GIRD_OPS_PASSWORD", "serverSettings.opsUserPassword", ["file-Pw-1", "env-Pw-2", "flag-Pw-3"]),
        ("csrf", "GIRD_CSRF", "serverSettings.enableCsrfProtection", ["true", "false", "true"]),
        ("csrf-key", "GIRD_CSRF_KEY", "gird.csrfKey", ["file-csrf", "env-csrf", "flag-csrf"]),
        ("body-limit", "GIRD_BODY_LIMIT", "gird.bodyLimit", ["1001", "1002", "1003"]),
        ("public-url", "GIRD_PUBLIC_URL", "gird.publicUrl", [ "https://file.example", "https://env.example", "https://flag.example", ]),
        ("storage-key", "GIRD_STORAGE_KEY", "gird.storageKey", ["file-seal", "env-seal", "flag-seal"]),
        ("webdav-timeout-seconds", "GIRD_WEBDAV_TIMEOUT_SECONDS", "gird.webdavTimeoutSeconds", ["11", "12", "13"]),
        ("s3-timeout-seconds", "GIRD_S3_TIMEOUT_SECONDS", "gird.s3.timeoutSeconds", ["21", "22", "23"]),
        ("tls-cert", "GIRD_TLS_CERT", "gird.tls.certFile", ["/file/cert.pem", "/env/cert.pem", "/flag/cert.pem"]),
        ("tls-key", "GIRD_TLS_KEY", "gird.tls.keyFile", ["/file/key.pem", "/env/key.pem", "/flag/key.pem"]),
        ("max-connections", "GIRD_MAX_CONNECTIONS", "gird.maxConnections", ["31", "32", "33"]),
        ("max-header-bytes", "GIRD_MAX_HEADER_BYTES", "gird.maxHeaderBytes", ["2001", "2002", "2003"]),
        ("request-timeout-seconds", "GIRD_REQUEST_TIMEOUT_SECONDS", "gird.requestTimeoutSeconds", ["41", "42", "43"]),
        ("max-connections-per-address", "GIRD_MAX_CONNECTIONS_PER_ADDRESS", "gird.maxConnectionsPerAddress", ["51", "52", "53"]),
        ("idle-timeout-seconds", "GIRD_IDLE_TIMEOUT_SECONDS", "gird.idleTimeoutSeconds", ["61", "62", "63"]),
        ("max-page-bytes", "GIRD_MAX_PAGE_BYTES", "gird.maxPageBytes", ["3001", "3002", "3003"]),
        ("speechminer-max-attempts", "GIRD_SPEECHMINER_MAX_ATTEMPTS", "gird.speechminer.maxAttempts", ["71", "72", "73"]),
        ("speechminer-initial-backoff-ms", "GIRD_SPEECHMINER_INITIAL_BACKOFF_MS", "gird.speechminer.initialBackoffMs", ["81", "82", "83"]),
        ("speechminer-max-backoff-ms", "GIRD_SPEECHMINER_MAX_BACKOFF_MS", "gird.speechminer.maxBackoffMs", ["9001", "9002", "9003"]),
        ("speechminer-timeout-seconds", "GIRD_SPEECHMINER_TIMEOUT_SECONDS", "gird.speechminer.timeoutSeconds", ["91", "92", "93"]),
        ("speechminer-concurrency", "GIRD_SPEECHMINER_CONCURRENCY", "gird.speechminer.concurrency", ["4", "5", "6"]),
        ("cors-allowed-origins", "GIRD_CORS_ALLOWED_ORIGINS", "serverSettings.crossOriginSettings.allowedOrigins", [ "https://file.example", "https://env.example", "https://flag.example", ]),
        ("cors-allowed-methods", "GIRD_CORS_ALLOWED_METHODS", "serverSettings.crossOriginSettings.allowedMethods", ["PATCH", "PUT", "TRACE"]),
        ("cors-allowed-headers", "GIRD_CORS_ALLOWED_HEADERS", "serverSettings.crossOriginSettings.allowedHeaders", ["x-file", "x-env", "x-flag"]),
        ("cors-allow-credentials", "GIRD_CORS_ALLOW_CREDENTIALS", "serverSettings.crossOriginSettings.allowCredentials", ["true", "false", "true"]),
        ("cors-exposed-headers", "GIRD_CORS_EXPOSED_HEADERS", "serverSettings.crossOriginSettings.exposedHeaders", ["x-file-exposed", "x-env-exposed", "x-flag-exposed"]),
        ("cors-max-age-seconds", "GIRD_CORS_MAX_AGE_SECONDS", "serverSettings.crossOriginSettings.corsFilterCacheTimeToLive", ["101", "102", "103"]),
        ("ldap-url", "GIRD_LDAP_URL", "gird.ldap.url", ["ldap://file.example", "ldap://env.example:3389", "ldap://flag.example:4389"]),
        ("ldap-start-tls", "GIRD_LDAP_START_TLS", "gird.ldap.startTls", ["true", "false", "true"]),
        ("ldap-ca-file", "GIRD_LDAP_CA_FILE", "gird.ldap.caFile", ["/file/ca.pem", "/env/ca.pem", "/flag/ca.pem"]),
        ("ldap-bind-dn", "GIRD_LDAP_BIND_DN", "gird.ldap.bindDn", ["cn=file,dc=example", "cn=env,dc=example", "cn=flag,dc=example"]),
        ("ldap-bind-password-file", "GIRD_LDAP_BIND_PASSWORD_FILE", "gird.ldap.bindPasswordFile", ["/file/bind", "/env/bind", "/flag/bind"]),
        ("ldap-user-base", "GIRD_LDAP_USER_BASE", "gird.ldap.userBase", ["ou=file,dc=example", "ou=env,dc=example", "ou=flag,dc=example"]),
        ("ldap-user-filter", "GIRD_LDAP_USER_FILTER", "gird.ldap.userFilter", ["(cn={user})", "(mail={user})", "(sAMAccountName={user})"]),
        ("ldap-group-base", "GIRD_LDAP_GROUP_BASE", "gird.ldap.groupBase", ["ou=file-groups,dc=example", "ou=env-groups,dc=example", "ou=flag-groups,dc=example"]),
        ("ldap-group-filter", "GIRD_LDAP_GROUP_FILTER", "gird.ldap.groupFilter", ["(uniqueMember={dn})", "(memberUid={user})", "(roleOccupant={dn})"]),
        ("ldap-contact-center", "GIRD_LDAP_CONTACT_CENTER", "gird.ldap.contactCenter", ["file-cc", "env-cc", "flag-cc"]),
        ("ldap-timeout-seconds", "GIRD_LDAP_TIMEOUT_SECONDS", "gird.ldap.timeoutSeconds", ["7", "8", "9"]),
        ("ldap-cache-seconds", "GIRD_LDAP_CACHE_SECONDS", "gird.ldap.cacheSeconds", ["111", "112", "113"]),
    ];
    const FILE: usize = 0;
    const ENV: usize = 1;
    const FLAG: usize = 2;

    /// clap reads the environment of the process: one test at a time changes it.
    static ENVIRONMENT: Mutex<()> = Mutex::new(());

    fn clear_environment() {
        for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("GIRD_")) {
            std::env::remove_var(name);
        }
    }

    /// `application.yaml` holding `values` (setting index → value) at their keys.
    fn yaml(values: &[(usize, &str)]) -> String {
        let mut root = Map::new();
        for &(index, value) in values {
            let (_, _, path, _) = SETTINGS[index];
            let (sections, key) = path.rsplit_once('.').expect("a nested key");
            let mut section = &mut root;
            for name in sections.split('.') {
                section = section
                    .entry(name)
                    .or_insert_with(|| json!({}))
                    .as_object_mut()
                    .expect("a section");
            }
            let typed = serde_json::from_str(value).unwrap_or_else(|_| json!(value));
            section.insert(key.to_owned(), typed);
        }
        // JSON is YAML.
        Value::Object(root).to_string()
    }

    /// `gird <args>` with only `env` in the environment (GIRD_ variables).
    fn parse(args: &[String], env: &[(&str, &str)]) -> Result<Cli, clap::Error> {
        clear_environment();
        for (name, value) in env {
            std::env::set_var(name, value);
        }
        let cli =
            Cli::try_parse_from(std::iter::once("gird".to_owned()).chain(args.iter().cloned()));
        clear_environment();
        cli
    }

    fn settings(cli: Cli) -> anyhow::Result<Settings> {
        match cli.command {
            Command::Serve(args) => args.settings(),
            Command::Migrate(args) => args.settings(),
            Command::Outbox {
                command: OutboxCommand::Status(args),
            } => args.store.settings(),
            Command::Repost(args) => args.store.settings(),
            _ => panic!("a command without settings"),
        }
    }

    /// Everything the settings hold, the secrets too; or why they were refused (a TLS
    /// certificate without its key, say).
    fn described(settings: anyhow::Result<Settings>) -> String {
        let settings = match settings {
            Ok(settings) => settings,
            Err(error) => return format!("refused: {error:#}"),
        };
        let exposed = |secret: &Option<Secret>| secret.as_ref().map(|s| s.expose().to_owned());
        format!(
            "{settings:#?}\nops password: {:?}\nCSRF key: {:?}\nstorage key: {:?}",
            exposed(&settings.ops_password),
            exposed(&settings.csrf_key),
            exposed(&settings.storage_key)
        )
    }

    /// Writes `text` to a file of its own in `folder`; answers its path.
    fn config_file(folder: &Path, text: &str) -> String {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        let name = BuildHasherDefault::<DefaultHasher>::default().hash_one(text);
        let path = folder.join(format!("{name:016x}.yaml"));
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    /// What `gird serve --config <file>` makes of `file`, with the settings of `env` in
    /// the environment and those of `flags` as flags.
    fn serve(folder: &Path, file: &str, env: &[(usize, &str)], flags: &[(usize, &str)]) -> String {
        let mut args = vec!["serve".into(), "--config".into(), config_file(folder, file)];
        args.extend(
            flags
                .iter()
                .map(|&(index, value)| format!("--{}={value}", SETTINGS[index].0)),
        );
        let env: Vec<(&str, &str)> = env
            .iter()
            .map(|&(index, value)| (SETTINGS[index].1, value))
            .collect();
        let cli = parse(&args, &env).unwrap_or_else(|error| panic!("{args:?}: {error}"));
        described(settings(cli))
    }

    /// The value each setting `given` picks has in `layer`.
    fn layer(layer: usize, given: impl Fn(usize) -> bool) -> Vec<(usize, &'static str)> {
        (0..SETTINGS.len())
            .filter(|&index| given(index))
            .map(|index| (index, SETTINGS[index].3[layer]))
            .collect()
    }

    #[test]
    fn every_setting_is_read_from_the_file_the_environment_and_its_flag_in_that_order() {
        let _environment = ENVIRONMENT
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let folder = tempfile::tempdir().unwrap();
        let file = yaml(&layer(FILE, |_| true));
        let defaults = serve(folder.path(), "", &[], &[]);
        // Which layer gives each setting decides whose value it has: the settings must be
        // those of a file that holds just the winning values.
        type Picks = fn(usize) -> bool;
        let cases: [(&str, Picks, Picks); 4] = [
            ("the file alone", |_| false, |_| false),
            ("the environment over the file", |_| true, |_| false),
            ("flags over the environment", |_| true, |_| true),
            ("a mix, key by key", |i| i % 2 == 0, |i| i % 3 == 0),
        ];
        for (case, in_env, in_flags) in cases {
            let winners: Vec<(usize, &str)> = (0..SETTINGS.len())
                .map(|index| {
                    let winner = match (in_flags(index), in_env(index)) {
                        (true, _) => FLAG,
                        (false, true) => ENV,
                        (false, false) => FILE,
                    };
                    (index, SETTINGS[index].3[winner])
                })
                .collect();
            let expected = serve(folder.path(), &yaml(&winners), &[], &[]);
            assert!(!expected.starts_with("refused"), "{case}: {expected}");
            let actual = serve(
                folder.path(),
                &file,
                &layer(ENV, in_env),
                &layer(FLAG, in_flags),
            );
            assert_eq!(actual, expected, "{case}");
            assert_ne!(actual, defaults, "{case}");
        }
        // Each one alone, in each layer, changes the settings: none is ignored anywhere.
        // (The file's value is never the default, not even for the flags that are booleans;
        // the other CORS settings count only where origins are allowed.)
        let origins = SETTINGS
            .iter()
            .position(|(flag, ..)| *flag == "cors-allowed-origins")
            .unwrap();
        for (index, (flag, env, path, values)) in SETTINGS.iter().enumerate() {
            let cors = path.contains(".crossOriginSettings.") && index != origins;
            let base: &[(usize, &str)] = match cors {
                true => &[(origins, SETTINGS[origins].3[FILE])],
                false => &[],
            };
            let with = |given: (usize, &'static str)| -> Vec<(usize, &str)> {
                base.iter().copied().chain([given]).collect()
            };
            let value = values[FILE];
            let unchanged = serve(folder.path(), &yaml(base), &[], &[]);
            let alone = [
                (
                    path,
                    serve(folder.path(), &yaml(&with((index, value))), &[], &[]),
                ),
                (
                    env,
                    serve(folder.path(), &yaml(base), &[(index, value)], &[]),
                ),
                (
                    flag,
                    serve(folder.path(), &yaml(base), &[], &[(index, value)]),
                ),
            ];
            for (given, settings) in alone {
                assert_ne!(settings, unchanged, "{given} alone changes nothing");
            }
        }
    }

    #[test]
    fn the_walk_covers_every_flag_of_serve_with_its_environment_variable() {
        let command = Cli::command();
        let serve = command.find_subcommand("serve").expect("gird serve");
        let declared: BTreeSet<(String, String)> = serve
            .get_arguments()
            .filter_map(|arg| Some((arg.get_long()?, arg.get_env()?.to_str()?)))
            .filter(|(long, _)| !["config", "log-format", "audit-log"].contains(long))
            .map(|(long, env)| (long.to_owned(), env.to_owned()))
            .collect();
        let walked: BTreeSet<(String, String)> = SETTINGS
            .iter()
            .map(|(flag, env, _, _)| (flag.to_string(), env.to_string()))
            .collect();
        assert_eq!(declared, walked);
    }

    #[test]
    fn the_log_settings_come_from_the_environment_or_the_flags() {
        let _environment = ENVIRONMENT
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let serve = |args: &[&str], env: &[(&str, &str)]| {
            let mut all = vec!["serve".to_owned()];
            all.extend(args.iter().map(|arg| arg.to_string()));
            let (format, audit) = parse(&all, env).unwrap().logging();
            (format!("{format:?}"), audit)
        };
        assert_eq!(serve(&[], &[]), ("Text".into(), None));
        let env = [
            ("GIRD_LOG_FORMAT", "json"),
            ("GIRD_AUDIT_LOG", "/env/audit"),
        ];
        assert_eq!(serve(&[], &env), ("Json".into(), Some("/env/audit".into())));
        assert_eq!(
            serve(
                &["--log-format", "text", "--audit-log", "/flag/audit"],
                &env
            ),
            ("Text".into(), Some("/flag/audit".into()))
        );
    }

    /// `gird migrate`, `gird repost` and `gird outbox status` take the database settings
    /// of `gird serve`, in the same order, and no other flag or environment variable.
    #[test]
    fn the_store_commands_take_only_the_database_settings() {
        let _environment = ENVIRONMENT
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let folder = tempfile::tempdir().unwrap();
        let commands: [&[&str]; 3] = [
            &["migrate"],
            &["outbox", "status", "--json"],
            &["repost", "--contact-center", "cc", "--dead-letters"],
        ];
        for command in commands {
            let run = |args: &[&str], env: &[(&str, &str)]| {
                let mut all: Vec<String> = command.iter().map(|arg| arg.to_string()).collect();
                all.extend(args.iter().map(|arg| arg.to_string()));
                parse(&all, env).map(|cli| described(settings(cli)))
            };
            let file = config_file(
                folder.path(),
                "gird:\n  dataDir: /file/data\n  database: sqlite:///file.db\n  bodyLimit: 7\n",
            );
            let database = |settings: &str, expected: &str| {
                assert!(
                    settings.contains(&format!("Sqlite(\n        \"{expected}\",")),
                    "{command:?}: {expected}: {settings}"
                );
            };
            let from_file = run(&["--config", &file], &[]).unwrap();
            database(&from_file, "/file.db");
            assert!(
                from_file.contains("body_limit: 7,"),
                "the file is read whole: {from_file}"
            );
            let env = [
                ("GIRD_DATABASE", "sqlite:///env.db"),
                ("GIRD_DATA_DIR", "/env/data"),
            ];
            database(&run(&["--config", &file], &env).unwrap(), "/env.db");
            let flagged = run(
                &["--config", &file, "--database", "sqlite:///flag.db"],
                &env,
            )
            .unwrap();
            database(&flagged, "/flag.db");
            let data_dir = run(
                &["--data-dir", "/flag/data"],
                &[("GIRD_DATA_DIR", "/env/data")],
            )
            .unwrap();
            database(&data_dir, "/flag/data/gird.db");
            let config = [("GIRD_CONFIG", file.as_str())];
            database(&run(&[], &config).unwrap(), "/file.db");
            // serve's other settings are no flags here, and their variables are not read.
            for other in ["--listen", "--body-limit", "--ops-password"] {
                let error = run(&[other, "1"], &[]).unwrap_err();
                assert_eq!(
                    error.kind(),
                    clap::error::ErrorKind::UnknownArgument,
                    "{other}"
                );
            }
            let ignored = [
                ("GIRD_BODY_LIMIT", "not a number"),
                ("GIRD_LISTEN", "nowhere"),
            ];
            let settings = run(&["--data-dir", "/flag/data"], &ignored).unwrap();
            assert!(!settings.contains("nowhere"), "{settings}");
        }
    }
}
