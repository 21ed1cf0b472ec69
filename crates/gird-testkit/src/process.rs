//! A server child process up to the line that says it listens: `gird serve` prints
//! `gird: listening on http://127.0.0.1:PORT` once its listener is bound, so that is when
//! it can be used, whatever port it got, with no sleep and no polling.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;
use tokio::sync::mpsc;

/// What `gird serve` prints first, followed by its address.
pub const GIRD_LISTENING: &str = "gird: listening on ";

/// A child's standard output, line by line. A task of its own reads it to the end, so
/// that the child never blocks on a full pipe; lines nobody waits for are dropped.
#[derive(Debug)]
pub struct Lines(mpsc::UnboundedReceiver<String>);

impl Lines {
    /// Takes the child's standard output (it must be piped). With `echo`, every line is
    /// also copied to standard error, after `[echo] `.
    pub fn read(child: &mut Child, echo: Option<&str>) -> Lines {
        let stdout = child
            .stdout
            .take()
            .expect("the child's standard output is piped");
        let echo = echo.map(str::to_owned);
        let (sender, receiver) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(name) = &echo {
                    eprintln!("[{name}] {line}");
                }
                let _ = sender.send(line);
            }
        });
        Lines(receiver)
    }

    /// The next line; `None` once the child has closed its standard output (exited).
    pub async fn next(&mut self) -> Option<String> {
        self.0.recv().await
    }
}

/// A server that said where it listens.
#[derive(Debug)]
pub struct Listening {
    pub child: Child,
    /// What followed the ready prefix on its line, e.g. `http://127.0.0.1:41234`.
    pub address: String,
    /// Standard output up to and including the ready line.
    pub printed: Vec<String>,
    /// Standard output from then on.
    pub stdout: Lines,
}

/// A server that did not say it listens: it exited first, or took longer than allowed.
#[derive(Debug)]
pub enum NotListening {
    Exited {
        child: Child,
        printed: Vec<String>,
    },
    TimedOut {
        child: Child,
        printed: Vec<String>,
        patience: Duration,
    },
}

impl NotListening {
    /// Its standard output so far.
    pub fn printed(&self) -> &[String] {
        match self {
            NotListening::Exited { printed, .. } | NotListening::TimedOut { printed, .. } => {
                printed
            }
        }
    }

    pub fn into_child(self) -> Child {
        match self {
            NotListening::Exited { child, .. } | NotListening::TimedOut { child, .. } => child,
        }
    }
}

/// Waits, at most `patience`, until `child` (spawned with standard output piped) prints a
/// line that starts with `ready` (e.g. [`GIRD_LISTENING`]); answers it with the rest of
/// that line as its address. With `echo`, its standard output is copied to standard
/// error (see [`Lines::read`]).
pub async fn wait_until_listening(
    mut child: Child,
    ready: &str,
    patience: Duration,
    echo: Option<&str>,
) -> Result<Listening, NotListening> {
    let mut stdout = Lines::read(&mut child, echo);
    let mut printed = Vec::new();
    let found = tokio::time::timeout(patience, async {
        while let Some(line) = stdout.next().await {
            let address = line
                .trim()
                .strip_prefix(ready)
                .map(|rest| rest.trim().to_owned());
            printed.push(line);
            if address.is_some() {
                return address;
            }
        }
        None
    })
    .await;
    match found {
        Ok(Some(address)) => Ok(Listening {
            child,
            address,
            printed,
            stdout,
        }),
        Ok(None) => Err(NotListening::Exited { child, printed }),
        Err(_) => Err(NotListening::TimedOut {
            child,
            printed,
            patience,
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::process::Stdio;

    use tokio::process::Command;

    use super::*;

    fn shell(script: &str) -> Child {
        Command::new("sh")
            .args(["-c", script])
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap()
    }

    #[tokio::test]
    async fn the_address_follows_the_ready_line_and_the_rest_reads_on() {
        let child = shell(&format!(
            "echo starting; echo '{GIRD_LISTENING}http://127.0.0.1:4711'; echo later"
        ));
        let mut listening =
            wait_until_listening(child, GIRD_LISTENING, Duration::from_secs(10), None)
                .await
                .unwrap();
        assert_eq!(listening.address, "http://127.0.0.1:4711");
        assert_eq!(listening.printed.len(), 2);
        assert_eq!(listening.stdout.next().await.as_deref(), Some("later"));
        assert_eq!(listening.stdout.next().await, None);
    }

    #[tokio::test]
    async fn exiting_first_or_taking_too_long_is_told_apart() {
        let exited = wait_until_listening(
            shell("echo oops"),
            GIRD_LISTENING,
            Duration::from_secs(10),
            None,
        )
        .await;
        match exited {
            Err(NotListening::Exited { printed, .. }) => assert_eq!(printed, ["oops"]),
            other => panic!("{other:?}"),
        }
        let slow = wait_until_listening(
            shell("echo waiting; exec sleep 30"),
            GIRD_LISTENING,
            Duration::from_millis(300),
            None,
        )
        .await;
        let error = slow.unwrap_err();
        assert!(matches!(error, NotListening::TimedOut { .. }), "{error:?}");
        assert_eq!(error.printed(), ["waiting"]);
    }
}
