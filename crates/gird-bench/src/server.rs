//! Child server processes: start one, wait for its "listening on" line (as the API tests
//! do, with gird-testkit), read its memory, stop it. A child is killed when its handle is dropped, so an error
//! anywhere in the benchmark does not leave servers behind.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context};
use gird_testkit::{wait_until_listening, NotListening};
use tokio::process::{Child, Command};

const START_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

pub struct ServerProcess {
    name: &'static str,
    child: Child,
    /// `http://host:port`, as printed by the server.
    pub base_url: String,
}

impl ServerProcess {
    /// Starts `command` and waits until it prints `ready_prefix` followed by its URL.
    pub async fn start(
        name: &'static str,
        mut command: Command,
        ready_prefix: &str,
        verbose: bool,
    ) -> anyhow::Result<Self> {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(if verbose {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .kill_on_drop(true);
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {name}"))?;
        // Standard output is read on to its end, so a chatty server never blocks on a
        // full pipe.
        let echo = verbose.then_some(name);
        match wait_until_listening(child, ready_prefix, START_TIMEOUT, echo).await {
            Ok(listening) => Ok(Self {
                name,
                child: listening.child,
                base_url: listening.address.trim_end_matches('/').to_owned(),
            }),
            Err(NotListening::Exited { .. }) => bail!(
                "{name} exited before printing `{ready_prefix}<url>` (run with --verbose to see its log)"
            ),
            Err(NotListening::TimedOut { .. }) => {
                bail!("{name} did not start within {START_TIMEOUT:?}")
            }
        }
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Fails if the server has exited, e.g. crashed under load.
    pub fn ensure_running(&mut self) -> anyhow::Result<()> {
        match self.child.try_wait()? {
            Some(status) => bail!("{} exited during the benchmark ({status})", self.name),
            None => Ok(()),
        }
    }

    pub fn memory(&self) -> Option<Memory> {
        Memory::of_process(self.pid()?)
    }

    /// CPU time (user + system) the server has used so far.
    pub fn cpu_time(&self) -> Option<Duration> {
        process_cpu_time(self.pid()?)
    }

    /// SIGTERM first, so gird can commit and close its database cleanly (it matters
    /// with --keep-data); SIGKILL if it takes too long.
    /// SIGKILL: no chance to finish anything.
    pub async fn kill(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }

    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let terminated = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success());
            if terminated
                && tokio::time::timeout(STOP_TIMEOUT, self.child.wait())
                    .await
                    .is_ok()
            {
                return;
            }
        }
        let _ = self.child.kill().await;
    }
}

/// CPU time (user + system) process `pid` has used so far.
pub fn process_cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    cpu_time_from_stat(&stat)
}

/// Fields 14 and 15 of `/proc/<pid>/stat`, counted after the parenthesised command
/// name (which may itself contain spaces), in USER_HZ ticks: 100 per second on Linux.
pub fn cpu_time_from_stat(stat: &str) -> Option<Duration> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((user + system) * 10))
}

/// Resident memory of a process, from `/proc/<pid>/status`, in KiB.
#[derive(Clone, Copy, Debug)]
pub struct Memory {
    pub resident_kib: u64,
    pub peak_resident_kib: u64,
}

impl Memory {
    pub fn of_process(pid: u32) -> Option<Self> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        Self::parse(&status)
    }

    fn parse(status: &str) -> Option<Self> {
        let field = |name: &str| {
            status.lines().find_map(|line| {
                let value = line.strip_prefix(name)?.strip_prefix(':')?;
                value.trim().trim_end_matches("kB").trim().parse().ok()
            })
        };
        Some(Self {
            resident_kib: field("VmRSS")?,
            peak_resident_kib: field("VmHWM")?,
        })
    }
}

/// The gird binary: `--gird-bin`, else `gird` next to this executable.
pub fn locate_gird(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    let path = match explicit {
        Some(path) => path.to_owned(),
        None => std::env::current_exe()
            .context("cannot find the benchmark's own executable")?
            .with_file_name(format!("gird{}", std::env::consts::EXE_SUFFIX)),
    };
    if !path.is_file() {
        bail!(
            "gird binary not found at {}: build it first with `cargo build --release -p gird` \
             (or pass --gird-bin PATH)",
            path.display()
        );
    }
    Ok(path)
}

/// Bytes of all files under `dir`.
pub fn disk_usage(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.metadata() {
            Ok(metadata) if metadata.is_dir() => disk_usage(&entry.path()),
            Ok(metadata) => metadata.len(),
            Err(_) => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_is_read_from_proc_status() {
        let status = "Name:\tgird\nVmHWM:\t   52100 kB\nVmRSS:\t   41000 kB\nThreads:\t3\n";
        let memory = Memory::parse(status).unwrap();
        assert_eq!(memory.resident_kib, 41_000);
        assert_eq!(memory.peak_resident_kib, 52_100);
    }

    #[test]
    fn cpu_time_is_user_plus_system_ticks() {
        let stat = "4242 (gird (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 3";
        assert_eq!(cpu_time_from_stat(stat), Some(Duration::from_millis(3250)));
    }

    #[test]
    fn own_memory_is_readable() {
        let memory = Memory::of_process(std::process::id()).unwrap();
        assert!(memory.peak_resident_kib >= memory.resident_kib);
    }
}
