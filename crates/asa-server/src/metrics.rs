//! `/metrics` in the Prometheus text format: counters and histograms the request path
//! records, plus gauges read at scrape time (trace queue, proxy health). One registry per
//! server, so several servers in one process (tests) keep their own figures.

use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::Duration;

/// Histogram bucket upper bounds, in seconds.
const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

type Labels = Vec<(&'static str, String)>;

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<(&'static str, Labels), u64>>,
    histograms: Mutex<BTreeMap<(&'static str, Labels), Histogram>>,
}

/// Names and help texts, so the exposition is self-describing.
const HELP: &[(&str, &str, &str)] = &[
    (
        "asa_requests_total",
        "counter",
        "API requests by endpoint, status and error code",
    ),
    (
        "asa_upstream_attempts_total",
        "counter",
        "Upstream attempts by outcome and exit country",
    ),
    (
        "asa_credits_charged_total",
        "counter",
        "Credits charged for delivered 2xx answers",
    ),
    (
        "asa_limiter_decisions_total",
        "counter",
        "Limiter decisions by result",
    ),
    (
        "asa_request_duration_seconds",
        "histogram",
        "Total time to answer an API request",
    ),
    (
        "asa_upstream_duration_seconds",
        "histogram",
        "Time spent fetching one page upstream, all attempts",
    ),
    (
        "asa_extraction_duration_seconds",
        "histogram",
        "Time the extractor spent on one page",
    ),
];

impl Metrics {
    pub fn count(&self, name: &'static str, labels: Labels, by: u64) {
        if let Ok(mut c) = self.counters.lock() {
            *c.entry((name, labels)).or_insert(0) += by;
        }
    }

    pub fn observe(&self, name: &'static str, labels: Labels, d: Duration) {
        let secs = d.as_secs_f64();
        if let Ok(mut h) = self.histograms.lock() {
            let h = h.entry((name, labels)).or_default();
            for (i, bound) in BUCKETS.iter().enumerate() {
                if secs <= *bound {
                    h.counts[i] += 1;
                }
            }
            h.sum += secs;
            h.count += 1;
        }
    }

    /// The counter's value (tests read it).
    pub fn counter(&self, name: &'static str, labels: &[(&'static str, &str)]) -> u64 {
        let wanted: Labels = labels.iter().map(|(k, v)| (*k, v.to_string())).collect();
        self.counters
            .lock()
            .map(|c| c.get(&(name, wanted)).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    fn render(&self, out: &mut String) {
        for (name, kind, help) in HELP {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            if *kind == "counter" {
                if let Ok(c) = self.counters.lock() {
                    for ((n, labels), v) in c.iter().filter(|((n, _), _)| n == name) {
                        let _ = writeln!(out, "{n}{} {v}", fmt_labels(labels, None));
                    }
                }
            } else if let Ok(hs) = self.histograms.lock() {
                for ((n, labels), h) in hs.iter().filter(|((n, _), _)| n == name) {
                    for (i, bound) in BUCKETS.iter().enumerate() {
                        let _ = writeln!(
                            out,
                            "{n}_bucket{} {}",
                            fmt_labels(labels, Some(&bound.to_string())),
                            h.counts[i]
                        );
                    }
                    let _ = writeln!(
                        out,
                        "{n}_bucket{} {}",
                        fmt_labels(labels, Some("+Inf")),
                        h.count
                    );
                    let _ = writeln!(out, "{n}_sum{} {}", fmt_labels(labels, None), h.sum);
                    let _ = writeln!(out, "{n}_count{} {}", fmt_labels(labels, None), h.count);
                }
            }
        }
    }
}

fn fmt_labels(labels: &Labels, le: Option<&str>) -> String {
    let mut parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    if let Some(le) = le {
        parts.push(format!("le=\"{le}\""));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

/// `GET /metrics`.
pub async fn scrape(State(state): State<AppState>) -> impl IntoResponse {
    let mut out = String::with_capacity(8 * 1024);
    state.metrics.render(&mut out);
    let c = state.traces.counters();
    let gauges = [
        (
            "asa_trace_queue_depth",
            "gauge",
            "Traces waiting to be written",
            state.traces.depth() as u64,
        ),
        (
            "asa_traces_dropped_total",
            "counter",
            "Traces dropped because the queue was full",
            c.dropped.load(Ordering::Relaxed),
        ),
        (
            "asa_traces_written_total",
            "counter",
            "Traces written to the store",
            c.written.load(Ordering::Relaxed),
        ),
        (
            "asa_traces_failed_total",
            "counter",
            "Traces lost to store errors",
            c.failed.load(Ordering::Relaxed),
        ),
    ];
    for (name, kind, help, v) in gauges {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}"
        );
    }
    let _ = writeln!(out, "# HELP asa_proxy_healthy Whether an exit proxy is in use (1) or benched (0)\n# TYPE asa_proxy_healthy gauge");
    for p in state.upstream.proxy_health() {
        let healthy = u8::from(p.state != asa_upstream::ProxyState::Benched);
        let labels: Labels = vec![("proxy", p.id.clone()), ("pool", p.pool.clone())];
        let _ = writeln!(
            out,
            "asa_proxy_healthy{} {healthy}",
            fmt_labels(&labels, None)
        );
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}
