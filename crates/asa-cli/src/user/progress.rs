//! The progress of a bulk run (and of `asa batch --wait`) on stderr: done and total, rate,
//! an ETA that counts the retry waits, successes and failures by code, and how many
//! requests wait to retry and when the soonest tries again. On a terminal it is a bar;
//! otherwise (a pipe, a log file, a test) a plain line every few seconds. Messages printed
//! through it do not tear the bar.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::{BTreeMap, HashMap};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often a plain progress line is printed when stderr is not a terminal.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// Where each request of a run stands, keyed by job: sent (it may be answered and
/// billed) or waiting out a retry (it has cost nothing). Filled from the client's hooks
/// (the send hook, and the observer that says the code and delay of each retry), read by
/// the progress line and by the interrupt handling.
#[derive(Default)]
pub struct Waits {
    by_job: Mutex<HashMap<usize, State>>,
}

enum State {
    Sent,
    /// Why, and when the next attempt may go.
    Waiting(String, Instant),
}

impl Waits {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<usize, State>) -> T) -> T {
        f(&mut self.by_job.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// An attempt of `job` was sent.
    pub fn sent(&self, job: usize) {
        self.with(|m| m.insert(job, State::Sent));
    }

    /// The client scheduled another attempt of `job` after `delay` because of `code`.
    pub fn scheduled(&self, job: usize, code: &str, delay: Duration) {
        let until = Instant::now() + delay;
        self.with(|m| m.insert(job, State::Waiting(code.to_string(), until)));
    }

    /// The job is over.
    pub fn clear(&self, job: usize) {
        self.with(|m| m.remove(&job));
    }

    /// Whether an attempt of `job` is out now: sent and not answered yet.
    pub fn is_sent(&self, job: usize) -> bool {
        self.with(|m| matches!(m.get(&job), Some(State::Sent)))
    }

    /// The jobs sleeping before their next attempt now.
    pub fn waiting_jobs(&self) -> Vec<usize> {
        let now = Instant::now();
        self.with(|m| {
            m.iter()
                .filter(|(_, s)| matches!(s, State::Waiting(_, until) if *until > now))
                .map(|(j, _)| *j)
                .collect()
        })
    }

    /// The code and time left of every wait in progress.
    pub fn snapshot(&self) -> Vec<(String, Duration)> {
        let now = Instant::now();
        self.with(|m| {
            m.values()
                .filter_map(|s| match s {
                    State::Waiting(code, until) if *until > now => {
                        Some((code.clone(), *until - now))
                    }
                    _ => None,
                })
                .collect()
        })
    }
}

/// What the progress line shows at one moment.
pub struct Snapshot<'a> {
    /// Finished in this run (skipped inputs are not counted).
    pub done: u64,
    pub ok: u64,
    pub failures: &'a BTreeMap<String, u64>,
    /// Code and time left of each request waiting to retry.
    pub waiting: Vec<(String, Duration)>,
    /// Set once the run is stopping (e.g. `interrupted (SIGINT): finishing 3 in flight`).
    pub note: Option<String>,
}

pub struct Progress {
    bar: Option<ProgressBar>,
    plain: bool,
    /// Requests this run has to do (inputs skipped by `--resume` excluded).
    total: u64,
    started: Instant,
    last_plain: Mutex<Option<Instant>>,
}

impl Progress {
    /// A bar when `enabled` and stderr is a terminal, plain lines when `enabled` and it is
    /// not; nothing otherwise.
    pub fn new(total: u64, enabled: bool) -> Progress {
        let tty = std::io::stderr().is_terminal();
        let bar = (enabled && tty).then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        Progress {
            bar,
            plain: enabled && !tty,
            total,
            started: Instant::now(),
            last_plain: Mutex::new(None),
        }
    }

    /// Redraws the bar; prints a plain line when the last one is `PLAIN_EVERY` old.
    pub fn show(&self, s: &Snapshot<'_>) {
        let rate = s.done as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
        let line = progress_line(self.total, s, rate);
        if let Some(b) = &self.bar {
            b.set_position(s.done);
            b.set_message(line);
            return;
        }
        if self.plain {
            let mut last = self.last_plain.lock().unwrap_or_else(|e| e.into_inner());
            if last.is_none_or(|t| t.elapsed() >= PLAIN_EVERY) {
                *last = Some(Instant::now());
                eprintln!("progress: {}/{} {line}", s.done, self.total);
            }
        }
    }

    /// A line above the bar (or plainly on stderr without one).
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(b) => b.println(line),
            None => eprintln!("{line}"),
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// `2.4/s · ETA 1 min 05 s · ok 12 · failed 1 (product_not_found 1) · 1 waiting:
/// blocked_by_amazon, next try in 47 s`. The ETA is the longer of the queue at the rate
/// seen so far and the longest wait in progress.
pub fn progress_line(total: u64, s: &Snapshot<'_>, per_s: f64) -> String {
    let mut parts = vec![rate(per_s)];
    let left = total.saturating_sub(s.done);
    let queued = left.saturating_sub(s.waiting.len() as u64);
    let longest_wait = s.waiting.iter().map(|w| w.1).max().unwrap_or_default();
    let eta = if left == 0 {
        Some(Duration::ZERO)
    } else if queued == 0 {
        Some(longest_wait)
    } else if per_s > 0.0 {
        Some(Duration::from_secs_f64(queued as f64 / per_s).max(longest_wait))
    } else {
        None
    };
    parts.push(match eta {
        Some(d) => format!("ETA {}", duration(d)),
        None => "ETA ?".to_string(),
    });
    parts.push(status_line(s.ok, s.failures));
    if let Some(w) = waiting_line(&s.waiting) {
        parts.push(w);
    }
    if let Some(n) = &s.note {
        parts.push(n.clone());
    }
    parts.join(" · ")
}

/// `1 waiting: blocked_by_amazon, next try in 47 s`, or with several codes
/// `3 waiting: blocked_by_amazon 2, upstream_timeout 1; next try in 2 s`.
pub fn waiting_line(waiting: &[(String, Duration)]) -> Option<String> {
    let soonest = waiting.iter().map(|w| w.1).min()?;
    let mut by: BTreeMap<&str, u64> = BTreeMap::new();
    for (code, _) in waiting {
        *by.entry(code.as_str()).or_default() += 1;
    }
    let codes = if by.len() == 1 {
        format!("{},", by.keys().next().copied().unwrap_or_default())
    } else {
        let mut v: Vec<_> = by.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let parts: Vec<String> = v.iter().map(|(c, n)| format!("{c} {n}")).collect();
        format!("{};", parts.join(", "))
    };
    Some(format!(
        "{} waiting: {codes} next try in {}",
        waiting.len(),
        duration(soonest)
    ))
}

/// Two or three significant digits: `120/s`, `12/s`, `2.4/s`, `0.42/s`, `6.0/min`.
pub fn rate(per_s: f64) -> String {
    if per_s <= 0.0 {
        return "0/s".to_string();
    }
    let (v, unit) = if per_s >= 0.1 {
        (per_s, "s")
    } else {
        (per_s * 60.0, "min")
    };
    if v >= 10.0 {
        format!("{v:.0}/{unit}")
    } else if v >= 1.0 || unit == "min" {
        format!("{v:.1}/{unit}")
    } else {
        format!("{v:.2}/{unit}")
    }
}

/// `47 s`, `2 min 05 s`, `1 h 02 min`; a started second counts.
pub fn duration(d: Duration) -> String {
    let s = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        format!("{} h {:02} min", s / 3600, (s % 3600) / 60)
    }
}

/// `ok 12 · failed 3 (product_not_found 2, asin_mismatch 1)`.
pub fn status_line(ok: u64, failures: &BTreeMap<String, u64>) -> String {
    let failed: u64 = failures.values().sum();
    if failed == 0 {
        return format!("ok {ok}");
    }
    let mut by: Vec<_> = failures.iter().collect();
    by.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let parts: Vec<String> = by.iter().map(|(c, n)| format!("{c} {n}")).collect();
    format!("ok {ok} · failed {failed} ({})", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_line_sorts_failures_by_count() {
        let mut f = BTreeMap::new();
        assert_eq!(status_line(3, &f), "ok 3");
        f.insert("asin_mismatch".to_string(), 1);
        f.insert("product_not_found".to_string(), 2);
        assert_eq!(
            status_line(7, &f),
            "ok 7 · failed 3 (product_not_found 2, asin_mismatch 1)"
        );
    }

    #[test]
    fn rates_and_durations_read_well() {
        assert_eq!(rate(153.27), "153/s");
        assert_eq!(rate(12.49), "12/s");
        assert_eq!(rate(2.437), "2.4/s");
        assert_eq!(rate(0.4237), "0.42/s");
        assert_eq!(rate(0.05), "3.0/min");
        assert_eq!(rate(0.0), "0/s");
        assert_eq!(duration(Duration::from_millis(46_200)), "47 s");
        assert_eq!(duration(Duration::from_secs(125)), "2 min 05 s");
        assert_eq!(duration(Duration::from_secs(3720)), "1 h 02 min");
    }

    #[test]
    fn the_waiting_line_names_codes_and_the_soonest_try() {
        assert_eq!(waiting_line(&[]), None);
        let one = [("blocked_by_amazon".to_string(), Duration::from_secs(47))];
        assert_eq!(
            waiting_line(&one).unwrap(),
            "1 waiting: blocked_by_amazon, next try in 47 s"
        );
        let three = [
            ("upstream_timeout".to_string(), Duration::from_secs(2)),
            ("blocked_by_amazon".to_string(), Duration::from_secs(40)),
            ("blocked_by_amazon".to_string(), Duration::from_secs(61)),
        ];
        assert_eq!(
            waiting_line(&three).unwrap(),
            "3 waiting: blocked_by_amazon 2, upstream_timeout 1; next try in 2 s"
        );
    }

    #[test]
    fn the_eta_counts_the_waits() {
        let f = BTreeMap::new();
        // 40 of 41 done at 10/s: the queue is empty, the one left waits 47 s.
        let s = Snapshot {
            done: 40,
            ok: 40,
            failures: &f,
            waiting: vec![("blocked_by_amazon".into(), Duration::from_secs(47))],
            note: None,
        };
        assert_eq!(
            progress_line(41, &s, 10.0),
            "10/s · ETA 47 s · ok 40 · 1 waiting: blocked_by_amazon, next try in 47 s"
        );
        // 100 queued at 2/s: 50 s, longer than the 5 s wait.
        let s = Snapshot {
            done: 0,
            ok: 0,
            failures: &f,
            waiting: vec![("upstream_timeout".into(), Duration::from_secs(5))],
            note: Some("stopping".into()),
        };
        assert!(progress_line(101, &s, 2.0).starts_with("2.0/s · ETA 50 s · ok 0 · 1 waiting"));
        assert!(progress_line(101, &s, 0.0).contains("ETA ?"));
    }
}
