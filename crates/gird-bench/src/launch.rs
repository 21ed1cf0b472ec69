//! Starting gird for a benchmark: on a temporary data folder or a kept one, with a
//! fresh random ops password, and stopping it so that a kept folder stays usable.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use gird_testkit::GIRD_LISTENING;
use tokio::process::Command;

use crate::ops::Session;
use crate::server::{self, ServerProcess};

pub const OPS_USER: &str = "ops";

/// Where gird's data lives for a run we start ourselves.
pub enum DataDir {
    Temporary(tempfile::TempDir),
    Kept(PathBuf),
}

impl DataDir {
    /// `Some(dir)`: that folder (created if missing), kept after the run; `None`: a
    /// temporary folder deleted when this value is dropped.
    pub fn new(kept: Option<&Path>) -> anyhow::Result<Self> {
        Ok(match kept {
            Some(path) => {
                std::fs::create_dir_all(path)
                    .with_context(|| format!("cannot create {}", path.display()))?;
                DataDir::Kept(path.canonicalize()?)
            }
            None => DataDir::Temporary(tempfile::Builder::new().prefix("gird-bench-").tempdir()?),
        })
    }

    pub fn path(&self) -> PathBuf {
        match self {
            DataDir::Temporary(dir) => dir.path().to_owned(),
            DataDir::Kept(path) => path.clone(),
        }
    }
}

/// How to start gird.
pub struct GirdLaunch<'a> {
    pub binary: Option<&'a Path>,
    pub extra_args: &'a [String],
    pub verbose: bool,
}

/// Starts `gird serve` on `data_dir` and returns it with a session for its ops user.
pub async fn start_gird(
    launch: &GirdLaunch<'_>,
    data_dir: &DataDir,
) -> anyhow::Result<(ServerProcess, Session)> {
    start_gird_with_password(launch, data_dir, &random_token(18)?).await
}

/// [`start_gird`] with a given ops password, for instances that share one database.
pub async fn start_gird_with_password(
    launch: &GirdLaunch<'_>,
    data_dir: &DataDir,
    password: &str,
) -> anyhow::Result<(ServerProcess, Session)> {
    let binary = server::locate_gird(launch.binary)?;
    let mut command = Command::new(&binary);
    command
        .arg("serve")
        .args(["--listen", "127.0.0.1:0", "--ops-user", OPS_USER])
        .arg("--data-dir")
        .arg(data_dir.path())
        .args(["--ops-password", password])
        .args(launch.extra_args)
        // gird reads ./application.yaml when there is one; a stray file must not apply.
        .current_dir(data_dir.path());
    let gird = ServerProcess::start("gird", command, GIRD_LISTENING, launch.verbose)
        .await
        .with_context(|| format!("starting {}", binary.display()))?;
    let session = Session::new(&gird.base_url, OPS_USER, password)?;
    Ok((gird, session))
}

fn random_bytes(count: usize) -> anyhow::Result<Vec<u8>> {
    let mut bytes = vec![0; count];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut bytes))
        .context("reading /dev/urandom")?;
    Ok(bytes)
}

pub fn random_token(bytes: usize) -> anyhow::Result<String> {
    use base64::Engine;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes(bytes)?))
}

pub fn random_hex(bytes: usize) -> anyhow::Result<String> {
    Ok(random_bytes(bytes)?
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect())
}
