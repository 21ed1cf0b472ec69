//! The progress bar on standard error: how far into the file (a spinner for crawls), the
//! records finished and their rate, the time left, and while the server does not answer,
//! that it is being retried. When the bar is not drawn (standard error is not a terminal,
//! or `--quiet`), the server going away and coming back are written as lines instead.

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::summary::Summary;

pub struct Progress {
    bar: ProgressBar,
    /// Lines of the source file, when it is one.
    lines: Option<u64>,
    /// When the first record of this run was posted (or checked).
    posting_since: OnceLock<Instant>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The furthest line of the file finished.
    position: u64,
    /// What the bar says while no answer comes: `server unreachable, retrying in 2 s`.
    outage: Option<String>,
    /// The message of the last counts shown.
    counts: String,
}

impl Progress {
    /// A bar over `lines` lines of a file, or a spinner; hidden with `quiet`.
    pub fn new(quiet: bool, lines: Option<u64>) -> Progress {
        let bar = match (quiet, lines) {
            (true, _) => ProgressBar::hidden(),
            (false, Some(lines)) => ProgressBar::new(lines).with_style(
                ProgressStyle::with_template("{elapsed_precise} [{wide_bar}] {percent:>3}% {msg}")
                    .expect("a valid template"),
            ),
            (false, None) => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{elapsed_precise} {spinner} {msg}")
                    .expect("a valid template"),
            ),
        };
        if !bar.is_hidden() {
            bar.enable_steady_tick(Duration::from_millis(200));
        }
        Progress {
            bar,
            lines,
            posting_since: OnceLock::new(),
            state: Mutex::default(),
        }
    }

    /// Runs `f` (which prints) with the bar out of the way.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.bar.suspend(f)
    }

    /// A record is about to be posted: the rate counts from the first one.
    pub fn posting(&self) {
        self.posting_since.get_or_init(Instant::now);
    }

    /// An item from `origin` (`line 12`, `line 3 to line 5`, a URL) is finished.
    pub fn finished(&self, origin: &str) {
        if let (Some(_), Some(line)) = (self.lines, last_line_of(origin)) {
            let mut state = self.lock();
            state.position = state.position.max(line);
        }
    }

    /// Shows the counts so far (unless the server is being retried: that stays shown).
    pub fn show(&self, summary: &Summary) {
        let mut state = self.lock();
        let posted = summary.run.total() + summary.valid + summary.invalid;
        let posting_for = self.posting_since.get().map(Instant::elapsed);
        let rate = posting_for.and_then(|elapsed| rate(posted, elapsed));
        let finished = posted + summary.skipped;
        let left = self
            .lines
            .zip(rate)
            .and_then(|(lines, rate)| time_left(finished, state.position, lines, rate));
        state.counts = counts_message(summary, rate, left);
        if state.outage.is_none() {
            self.bar.set_message(state.counts.clone());
        }
        if self.lines.is_some() {
            self.bar.set_position(state.position);
        }
    }

    /// No answer (or an answer to try again later): retried in `wait`.
    pub fn retrying(&self, error: &str, wait: Duration) {
        let what = if error.starts_with("HTTP ") {
            "server unavailable"
        } else {
            "server unreachable"
        };
        let message = format!("{what}, retrying in {}", seconds(wait));
        let mut state = self.lock();
        if state.outage.is_none() && self.bar.is_hidden() {
            eprintln!("gird import: {message}: {error}");
        }
        self.bar.set_message(message.clone());
        state.outage = Some(message);
    }

    /// The server answered (whatever it said): the outage, if any, is over.
    pub fn answered(&self) {
        let mut state = self.lock();
        if state.outage.take().is_some() {
            if self.bar.is_hidden() {
                eprintln!("gird import: the server answers again");
            }
            self.bar.set_message(state.counts.clone());
        }
    }

    pub fn finish(&self) {
        if let Some(lines) = self.lines {
            self.bar.set_position(lines);
        }
        self.bar.finish_and_clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The last line number an origin names.
fn last_line_of(origin: &str) -> Option<u64> {
    origin
        .rsplit_once("line ")?
        .1
        .split(' ')
        .next()?
        .parse()
        .ok()
}

/// Records a second, once there is enough to tell.
fn rate(posted: u64, elapsed: Duration) -> Option<f64> {
    let seconds = elapsed.as_secs_f64();
    (posted > 0 && seconds >= 0.5).then(|| posted as f64 / seconds)
}

/// The time the records left take at `rate`, the records of the file estimated from the
/// records per line so far. `finished` includes the records an earlier run did (they are
/// passed quickly) but `rate` does not, so they do not make the import look faster.
fn time_left(finished: u64, position: u64, lines: u64, rate: f64) -> Option<Duration> {
    if position == 0 || rate <= 0.0 {
        return None;
    }
    let expected = finished as f64 * lines as f64 / position as f64;
    let left = (expected - finished as f64).max(0.0);
    Some(Duration::from_secs_f64(left / rate))
}

fn counts_message(summary: &Summary, rate: Option<f64>, left: Option<Duration>) -> String {
    let done = summary.run.total() + summary.valid + summary.invalid;
    let rate = rate.map_or(String::new(), |rate| format!(" ({rate:.0}/s)"));
    let mut message = format!(
        "{done} records{rate}, {} rejected, {} already done",
        summary.run.rejected + summary.invalid,
        summary.skipped
    );
    if let Some(left) = left {
        let seconds = left.as_secs();
        message.push_str(&format!(
            ", {:02}:{:02}:{:02} left",
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60
        ));
    }
    message
}

fn seconds(wait: Duration) -> String {
    match wait.as_secs_f64() {
        seconds if seconds < 1.0 => format!("{seconds:.1} s"),
        seconds => format!("{} s", seconds.ceil() as u64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::Counts;

    #[test]
    fn the_time_left_comes_from_the_records_posted_in_this_run() {
        // 10,000 of 100,000 lines done by an earlier run and passed in no time; this run
        // posted 1,000 in 10 s: 89,000 left at 100 a second.
        let rate = rate(1_000, Duration::from_secs(10)).unwrap();
        assert_eq!(rate, 100.0);
        let left = time_left(11_000, 11_000, 100_000, rate).unwrap();
        assert_eq!(left.as_secs(), 890);
        // Two CSV rows a record: the records left are estimated, not the lines.
        let left = time_left(5_000, 10_000, 100_000, rate).unwrap();
        assert_eq!(left.as_secs(), 450);
        assert!(time_left(0, 0, 100, rate).is_none());
        assert!(
            super::rate(0, Duration::from_secs(3)).is_none(),
            "nothing posted yet"
        );
        assert!(
            super::rate(10, Duration::from_millis(100)).is_none(),
            "too soon"
        );
    }

    #[test]
    fn the_bar_counts_records_only() {
        let summary = Summary {
            run: Counts {
                new: 40,
                rejected: 2,
                ..Counts::default()
            },
            skipped: 100,
            ..Summary::default()
        };
        assert_eq!(
            counts_message(&summary, Some(21.4), Some(Duration::from_secs(3_725))),
            "42 records (21/s), 2 rejected, 100 already done, 01:02:05 left"
        );
        assert_eq!(
            counts_message(&Summary::default(), None, None),
            "0 records, 0 rejected, 0 already done"
        );
        assert_eq!(last_line_of("line 3 to line 15"), Some(15));
        assert_eq!(last_line_of("http://dav/a.mp3"), None);
    }

    #[test]
    fn while_the_server_is_retried_the_bar_says_so_until_it_answers() {
        let progress = Progress::new(true, Some(10));
        progress.show(&Summary::default());
        progress.retrying(
            "error sending request: connection refused",
            Duration::from_secs(2),
        );
        assert_eq!(
            progress.bar.message(),
            "server unreachable, retrying in 2 s"
        );
        progress.show(&Summary::default());
        assert_eq!(
            progress.bar.message(),
            "server unreachable, retrying in 2 s",
            "counts do not hide it"
        );
        progress.retrying("HTTP 503, statusCode 4: later", Duration::from_millis(400));
        assert_eq!(
            progress.bar.message(),
            "server unavailable, retrying in 0.4 s"
        );
        progress.answered();
        assert_eq!(
            progress.bar.message(),
            "0 records, 0 rejected, 0 already done"
        );
    }
}
