//! The progress bar of a bulk run, on stderr and only when stderr is a terminal: done and
//! total, rate, ETA, successes and failures by code. Messages printed through it do not
//! tear the bar.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::BTreeMap;
use std::io::IsTerminal;

pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar when `enabled` and stderr is a terminal; otherwise nothing is drawn.
    pub fn new(total: u64, enabled: bool) -> Progress {
        if !enabled || !std::io::stderr().is_terminal() {
            return Progress { bar: None };
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let style =
            ProgressStyle::with_template("{bar:30} {pos}/{len} {per_sec:.bold} ETA {eta} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        Progress { bar: Some(bar) }
    }

    /// One more request finished; `failures` counts the failures by code so far.
    pub fn update(&self, ok: u64, failures: &BTreeMap<String, u64>) {
        if let Some(b) = &self.bar {
            b.inc(1);
            b.set_message(status_line(ok, failures));
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
}
