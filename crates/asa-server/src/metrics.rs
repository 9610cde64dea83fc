//! `/metrics` in the Prometheus text format: counters and histograms the request path
//! records, plus gauges read at scrape time (trace queue, proxy health). One registry per
//! server, so several servers in one process (tests) keep their own figures.
//!
//! The registry is sharded by thread: a request records into its worker thread's shard,
//! so recording never waits on another thread's request (no global lock on the hot
//! path); a scrape merges the shards.

use crate::traces::TraceSink;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Histogram bucket upper bounds, in seconds.
const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

type Labels = Vec<(&'static str, String)>;

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn add(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(other.counts) {
            *a += b;
        }
        self.sum += other.sum;
        self.count += other.count;
    }
}

/// More shards than a node has worker threads, so threads rarely share one.
const SHARDS: usize = 32;

#[derive(Default)]
struct Shard {
    counters: BTreeMap<(&'static str, Labels), u64>,
    histograms: BTreeMap<(&'static str, Labels), Histogram>,
}

pub struct Metrics {
    shards: Vec<Mutex<Shard>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }
}

/// The calling thread's shard, handed out round-robin on its first use.
fn shard_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    SHARD.with(|s| *s)
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
        "asa_upstream_shed_total",
        "counter",
        "Pages refused for lack of local capacity (503 capacity): more were queued than the page slots could drain before the deadline",
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
    (
        "asa_stage_duration_seconds",
        "histogram",
        "Time a request spent in one stage of the pipeline: auth (key and account lookup), limits (rate, concurrency, capacity), ledger (reserve and settle credits), trace (metrics and the trace handed to its writer)",
    ),
];

impl Metrics {
    fn with_shard(&self, f: impl FnOnce(&mut Shard)) {
        if let Ok(mut shard) = self.shards[shard_index()].lock() {
            f(&mut shard);
        }
    }

    pub fn count(&self, name: &'static str, labels: Labels, by: u64) {
        self.with_shard(|s| *s.counters.entry((name, labels)).or_insert(0) += by);
    }

    pub fn observe(&self, name: &'static str, labels: Labels, d: Duration) {
        let secs = d.as_secs_f64();
        self.with_shard(|s| {
            let h = s.histograms.entry((name, labels)).or_default();
            for (i, bound) in BUCKETS.iter().enumerate() {
                if secs <= *bound {
                    h.counts[i] += 1;
                }
            }
            h.sum += secs;
            h.count += 1;
        });
    }

    /// Observes the time since `since` under `asa_stage_duration_seconds{stage}`.
    pub fn stage(&self, stage: &'static str, since: std::time::Instant) {
        self.observe(
            "asa_stage_duration_seconds",
            vec![("stage", stage.to_string())],
            since.elapsed(),
        );
    }

    /// The counter's value (tests read it).
    pub fn counter(&self, name: &'static str, labels: &[(&'static str, &str)]) -> u64 {
        let wanted: Labels = labels.iter().map(|(k, v)| (*k, v.to_string())).collect();
        let key = (name, wanted);
        self.shards
            .iter()
            .filter_map(|s| s.lock().ok().and_then(|s| s.counters.get(&key).copied()))
            .sum()
    }

    /// Every shard's figures added up.
    fn merged(&self) -> Shard {
        let mut all = Shard::default();
        for shard in &self.shards {
            let Ok(shard) = shard.lock() else { continue };
            for (k, v) in &shard.counters {
                *all.counters.entry(k.clone()).or_insert(0) += v;
            }
            for (k, h) in &shard.histograms {
                all.histograms.entry(k.clone()).or_default().add(h);
            }
        }
        all
    }

    fn render(&self, out: &mut String) {
        let all = self.merged();
        for (name, kind, help) in HELP {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            if *kind == "counter" {
                for ((n, labels), v) in all.counters.iter().filter(|((n, _), _)| n == name) {
                    let _ = writeln!(out, "{n}{} {v}", fmt_labels(labels, None));
                }
                continue;
            }
            for ((n, labels), h) in all.histograms.iter().filter(|((n, _), _)| n == name) {
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

/// The text `GET /metrics` answers: this registry, then the gauges read now from the trace
/// queue and the upstream's exits.
pub fn exposition(
    metrics: &Metrics,
    traces: &TraceSink,
    upstream: &asa_upstream::Upstream,
) -> String {
    let mut out = String::with_capacity(8 * 1024);
    metrics.render(&mut out);
    let c = traces.counters();
    let gauges = [
        (
            "asa_trace_queue_depth",
            "gauge",
            "Traces waiting to be written",
            traces.depth() as u64,
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
    for p in upstream.proxy_health() {
        let healthy = u8::from(p.state != asa_upstream::ProxyState::Benched);
        let labels: Labels = vec![("proxy", p.id.clone()), ("pool", p.pool.clone())];
        let _ = writeln!(
            out,
            "asa_proxy_healthy{} {healthy}",
            fmt_labels(&labels, None)
        );
    }
    out
}
