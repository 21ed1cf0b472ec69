//! A throwaway PostgreSQL cluster of a test's own, which it may stop and start again
//! (the shared server of `database` must stay up for the other tests).

use std::path::PathBuf;

use tempfile::TempDir;
use tokio::process::Command;

use crate::helpers::free_port;

const BIN: &str = "/usr/lib/postgresql/15/bin";

pub struct Cluster {
    /// Holds `data` and `log`; owned by the `postgres` user when we are root (initdb
    /// refuses to run as root).
    root: TempDir,
    pub port: u16,
    /// What `gird --database` takes.
    pub url: String,
}

impl Cluster {
    /// `initdb` on a new folder, then starts it on a free port.
    pub async fn start() -> Cluster {
        let root = TempDir::new().expect("cluster folder");
        if is_root() {
            run(std::process::Command::new("chown")
                .args(["postgres:postgres"])
                .arg(root.path()));
        }
        let port = free_port();
        let cluster = Cluster {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            root,
            port,
        };
        cluster
            .as_postgres("initdb", &["-A", "trust", "-U", "postgres", "--no-sync"])
            .await;
        cluster.resume().await;
        cluster
    }

    fn data(&self) -> PathBuf {
        self.root.path().join("data")
    }

    /// Starts the stopped cluster; answers once it accepts connections (`pg_ctl -w`).
    pub async fn resume(&self) {
        let options = format!("-p {} -k /tmp -c listen_addresses=127.0.0.1", self.port);
        let log = self.root.path().join("log");
        let log = log.to_str().expect("UTF-8 path");
        self.as_postgres("pg_ctl", &["-w", "-l", log, "-o", &options, "start"])
            .await;
    }

    /// `pg_ctl stop -m fast`: disconnects every client, then shuts down cleanly.
    pub async fn stop(&self) {
        self.as_postgres("pg_ctl", &["-w", "-m", "fast", "stop"])
            .await;
    }

    /// Runs a PostgreSQL program on the data folder (as `postgres` when we are root).
    async fn as_postgres(&self, program: &str, args: &[&str]) {
        let output = Command::from(self.program(program))
            .args(args)
            .output()
            .await
            .unwrap_or_else(|error| panic!("run {program}: {error}"));
        assert!(
            output.status.success(),
            "{program} {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// `program -D <data folder>`, run by the `postgres` user when we are root.
    fn program(&self, program: &str) -> std::process::Command {
        let path = format!("{BIN}/{program}");
        let mut command = match is_root() {
            true => std::process::Command::new("runuser"),
            false => std::process::Command::new(&path),
        };
        if is_root() {
            command.args(["-u", "postgres", "--", &path]);
        }
        command.arg("-D").arg(self.data());
        command
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self
            .program("pg_ctl")
            .args(["-w", "-m", "immediate", "stop"])
            .output();
    }
}

fn is_root() -> bool {
    let output = std::process::Command::new("id").arg("-u").output();
    output.is_ok_and(|output| output.stdout.trim_ascii() == b"0")
}

fn run(command: &mut std::process::Command) {
    let status = command.status().expect("run a command");
    assert!(status.success(), "{command:?} failed");
}
