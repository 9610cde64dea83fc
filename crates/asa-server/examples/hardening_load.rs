//! The load generator of `hardening/chaos.sh` and `hardening/soak.sh`: drives a running
//! asa server over HTTP/1.1 and judges every answer against the API contract, writing one
//! line per request for the scripts to sum up.
//!
//! Open loop at a fixed rate (`LOAD_RATE` requests/s; latency is counted from the time a
//! request was due, so a server that falls behind shows it), or closed loop with
//! `LOAD_RATE=0` (`LOAD_CONCURRENCY` clients back to back, to measure capacity).
//!
//! Environment (not `ASA_*`: those belong to the server):
//! - `LOAD_BASE` (`http://127.0.0.1:8080`), `LOAD_KEY` (a live key), `LOAD_SECONDS` (60)
//! - `LOAD_RATE` (0), `LOAD_CONCURRENCY` (16; in the open loop, the most requests in
//!   flight: a request due while that many are out is counted `shed`, not sent)
//! - `LOAD_MIX`: `plain` (product pages of random ASINs) or `chaos` (products, searches,
//!   the simulator's magic ASINs, a bad parameter and a missing key, each with the one
//!   answer the contract allows)
//! - `LOAD_OUT`: file of records, one a line, tab-separated: due time (s from start),
//!   latency (ms), HTTP status (0: no answer), error code, request id, `Asa-Cost`, kind,
//!   verdict (`ok` or `bad:<why>`)
//! - `LOAD_TIMEOUT` (client timeout per request, seconds, 120)
//! - `LOAD_ASINS` (0): when N > 0, the product pages of `plain` are those of N fixed
//!   ASINs, drawn at random, so the simulator serves them from its page cache: the
//!   machine's CPU then goes to asa, not to building and compressing Amazon's pages (which,
//!   in production, are Amazon's cost, not the node's). asa keeps no page cache of its own,
//!   so every request is still fetched, decoded, extracted, billed and traced.
//!
//! `cargo build --release -p asa-server --example hardening_load`

use asa_model::ErrorCode;
use rand::Rng;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Semaphore};

fn env_str(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

fn env_num(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What a request asks for, and so which answers are correct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A random ASIN: the page, or an error the simulator's faults explain.
    Product,
    /// A random one-page search: likewise.
    Search,
    /// Magic ASINs with one correct answer each.
    NotFound,
    Gallery,
    Mismatch,
    Unknown,
    /// `query=nope`: 400.
    BadParam,
    /// No key: 401.
    NoKey,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Product => "product",
            Kind::Search => "search",
            Kind::NotFound => "not_found",
            Kind::Gallery => "gallery",
            Kind::Mismatch => "mismatch",
            Kind::Unknown => "unknown_layout",
            Kind::BadParam => "bad_param",
            Kind::NoKey => "no_key",
        }
    }

    /// The one error code this kind must get, if it must get one.
    fn required_code(self) -> Option<ErrorCode> {
        let code = match self {
            Kind::Product | Kind::Search => return None,
            Kind::NotFound => "product_not_found",
            Kind::Gallery => "generic_gallery_page",
            Kind::Mismatch => "asin_mismatch",
            Kind::Unknown => "extraction_failed",
            Kind::BadParam => "invalid_params",
            Kind::NoKey => "unauthorized",
        };
        ErrorCode::parse(code)
    }

    fn pick(mix: &str, rng: &mut impl Rng) -> Kind {
        if mix != "chaos" {
            return Kind::Product;
        }
        match rng.gen_range(0..100) {
            0..80 => Kind::Product,
            80..88 => Kind::Search,
            88..90 => Kind::NotFound,
            90..92 => Kind::Gallery,
            92..94 => Kind::Mismatch,
            94..96 => Kind::Unknown,
            96..98 => Kind::BadParam,
            _ => Kind::NoKey,
        }
    }
}

/// The errors a fetch of a normal page may end in when the upstream misbehaves
/// (captchas and 503s: blocked; resets and truncated bodies: unreachable; slow past the
/// budget: timeout).
const FAULT_CODES: &[&str] = &[
    "upstream_timeout",
    "blocked_by_amazon",
    "target_unreachable",
];

fn alnum(rng: &mut impl Rng, n: usize) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    (0..n)
        .map(|_| A[rng.gen_range(0..A.len())] as char)
        .collect()
}

fn asin(prefix: &str, rng: &mut impl Rng) -> String {
    format!("{prefix}{}", alnum(rng, 10 - prefix.len()))
}

/// Where a request's ASIN comes from: anywhere, or a catalogue of `n` fixed ones.
#[derive(Debug, Clone, Copy)]
struct Asins(usize);

impl Asins {
    fn product(self, rng: &mut impl Rng) -> String {
        match self.0 {
            0 => asin("B1", rng),
            n => format!("B1{:08}", rng.gen_range(0..n)),
        }
    }
}

fn path_for(kind: Kind, asins: Asins, rng: &mut impl Rng) -> (String, String) {
    let (q, path) = match kind {
        Kind::Product => {
            let a = asins.product(rng);
            (a.clone(), format!("/api/v1/amazon/product?query={a}"))
        }
        Kind::Search => {
            let q = format!("usb cable {}", alnum(rng, 6).to_lowercase());
            (
                q.clone(),
                format!("/api/v1/amazon/search?query={}", q.replace(' ', "+")),
            )
        }
        Kind::NotFound => {
            let a = asin("B0NOTFND", rng);
            (a.clone(), format!("/api/v1/amazon/product?query={a}"))
        }
        Kind::Gallery => {
            let a = asin("B0GALLERY", rng);
            (a.clone(), format!("/api/v1/amazon/product?query={a}"))
        }
        Kind::Mismatch => {
            let a = asin("B0REDIRCT", rng);
            (a.clone(), format!("/api/v1/amazon/product?query={a}"))
        }
        Kind::Unknown => {
            let a = asin("B0UNKNOWN", rng);
            (a.clone(), format!("/api/v1/amazon/product?query={a}"))
        }
        Kind::BadParam => (
            "nope".into(),
            "/api/v1/amazon/product?query=nope".to_string(),
        ),
        Kind::NoKey => {
            let a = asin("B1", rng);
            (a.clone(), format!("/api/v1/amazon/product?query={a}"))
        }
    };
    (q, path)
}

fn valid_request_id(rid: &str) -> bool {
    rid.len() == 16
        && rid.starts_with("req_")
        && rid[4..]
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}

struct Judged {
    status: u16,
    code: String,
    request_id: String,
    cost: String,
    verdict: String,
}

/// Checks one answer against the contract: the envelope exactly on every non-2xx, with
/// `Asa-Cost: 0`, the status of its code and the right `retryable`; the code one this
/// request may get; on a 2xx, the body of its endpoint and the cost of one page.
fn judge(
    kind: Kind,
    query: &str,
    status: u16,
    headers: &reqwest::header::HeaderMap,
    text: &str,
) -> Judged {
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let cost = header("asa-cost");
    let xrid = header("x-request-id");
    let body: serde_json::Value = serde_json::from_str(text).unwrap_or(serde_json::Value::Null);
    let rid = body["request_id"].as_str().unwrap_or("").to_string();
    let code = body["error"].as_str().unwrap_or("").to_string();
    let mut bad: Vec<String> = Vec::new();
    if !valid_request_id(&rid) {
        bad.push("request_id".into());
    } else if xrid != rid {
        bad.push("x-request-id".into());
    }
    if (200..300).contains(&status) {
        if let Some(c) = kind.required_code() {
            bad.push(format!("2xx where {} was due", c.as_str()));
        }
        if cost != "5" {
            bad.push(format!("cost {cost} on a one-page 2xx"));
        }
        match kind {
            Kind::Search => {
                if !body["products"].is_array() {
                    bad.push("search body".into());
                }
            }
            _ => {
                if body["asin"].as_str() != Some(query) {
                    bad.push("product body asin".into());
                }
            }
        }
    } else {
        match body.as_object() {
            None => bad.push("not a JSON envelope".into()),
            Some(obj) => {
                let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
                keys.sort();
                if keys != ["docs_url", "error", "message", "request_id", "retryable"] {
                    bad.push(format!("envelope keys {keys:?}"));
                }
            }
        }
        if cost != "0" {
            bad.push(format!("cost {cost} on a non-2xx"));
        }
        match ErrorCode::parse(&code) {
            None => bad.push(format!("unknown code {code:?}")),
            Some(c) => {
                if c.status() != status {
                    bad.push(format!("{code} with status {status}"));
                }
                if body["retryable"].as_bool() != Some(c.retryable()) {
                    bad.push("retryable".into());
                }
                if !body["docs_url"]
                    .as_str()
                    .unwrap_or("")
                    .ends_with(&format!("/docs/guides/errors#{code}"))
                {
                    bad.push("docs_url".into());
                }
                if matches!(status, 429 | 503) && header("retry-after").parse::<u64>().is_err() {
                    bad.push("no Retry-After".into());
                }
                let allowed = match kind.required_code() {
                    // The redirect's target is a normal page, fetched through the same
                    // faults.
                    Some(required) if kind == Kind::Mismatch => {
                        required == c || FAULT_CODES.contains(&code.as_str())
                    }
                    Some(required) => required == c,
                    None => FAULT_CODES.contains(&code.as_str()),
                };
                if !allowed {
                    bad.push(format!("{code} for a {} request", kind.name()));
                }
            }
        }
    }
    Judged {
        status,
        code,
        request_id: rid,
        cost,
        verdict: if bad.is_empty() {
            "ok".into()
        } else {
            format!("bad:{}", bad.join("; ").replace(['\t', '\n'], " "))
        },
    }
}

#[derive(Default)]
struct Counters {
    sent: AtomicU64,
    answered: AtomicU64,
    bad: AtomicU64,
    no_answer: AtomicU64,
    shed: AtomicU64,
}

#[allow(clippy::too_many_arguments)]
async fn one(
    client: reqwest::Client,
    base: Arc<str>,
    key: Arc<str>,
    kind: Kind,
    query: String,
    path: String,
    due: Instant,
    t0: Instant,
    out: mpsc::UnboundedSender<String>,
    counters: Arc<Counters>,
) {
    counters.sent.fetch_add(1, Ordering::Relaxed);
    let mut rb = client.get(format!("{base}{path}"));
    if kind != Kind::NoKey {
        rb = rb.bearer_auth(&*key);
    }
    let res = match rb.send().await {
        Ok(res) => {
            let status = res.status().as_u16();
            let headers = res.headers().clone();
            match res.text().await {
                Ok(text) => Ok(judge(kind, &query, status, &headers, &text)),
                Err(e) => Err(format!("body: {e}")),
            }
        }
        Err(e) => Err(format!("send: {e}")),
    };
    let latency = due.elapsed().as_secs_f64() * 1000.0;
    let at = due.saturating_duration_since(t0).as_secs_f64();
    let line = match res {
        Ok(j) => {
            counters.answered.fetch_add(1, Ordering::Relaxed);
            if j.verdict != "ok" {
                counters.bad.fetch_add(1, Ordering::Relaxed);
            }
            format!(
                "{at:.3}\t{latency:.1}\t{}\t{}\t{}\t{}\t{}\t{}",
                j.status,
                j.code,
                j.request_id,
                j.cost,
                kind.name(),
                j.verdict
            )
        }
        Err(e) => {
            counters.no_answer.fetch_add(1, Ordering::Relaxed);
            let e = e.replace(['\t', '\n'], " ");
            format!(
                "{at:.3}\t{latency:.1}\t0\t\t\t\t{}\tbad:no answer: {e}",
                kind.name()
            )
        }
    };
    let _ = out.send(line);
}

#[tokio::main]
async fn main() {
    let base: Arc<str> = env_str("LOAD_BASE", "http://127.0.0.1:8080").into();
    let key: Arc<str> = env_str("LOAD_KEY", "").into();
    let seconds = env_num("LOAD_SECONDS", 60.0);
    let rate = env_num("LOAD_RATE", 0.0);
    let concurrency = env_num("LOAD_CONCURRENCY", 16.0).max(1.0) as usize;
    let mix = env_str("LOAD_MIX", "plain");
    let out_path = env_str("LOAD_OUT", "load.tsv");
    let timeout = Duration::from_secs_f64(env_num("LOAD_TIMEOUT", 120.0));
    let asins = Asins(env_num("LOAD_ASINS", 0.0).max(0.0) as usize);
    assert!(!key.is_empty(), "LOAD_KEY is required");

    let client = reqwest::Client::builder()
        .timeout(timeout)
        .pool_max_idle_per_host(concurrency)
        .build()
        .expect("client");
    let counters = Arc::new(Counters::default());
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let writer = std::thread::spawn(move || {
        let file = std::fs::File::create(&out_path).expect("LOAD_OUT is writable");
        let mut w = std::io::BufWriter::new(file);
        while let Some(line) = rx.blocking_recv() {
            writeln!(w, "{line}").expect("write a record");
        }
        w.flush().expect("flush the records");
    });

    let t0 = Instant::now();
    let end = t0 + Duration::from_secs_f64(seconds);
    let mut tasks = tokio::task::JoinSet::new();
    if rate > 0.0 {
        // Open loop: one request every 1/rate s, whatever the answers do.
        let slots = Arc::new(Semaphore::new(concurrency));
        let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let mut rng = rand::thread_rng();
        loop {
            let due = tick.tick().await.into_std();
            if due >= end {
                break;
            }
            let kind = Kind::pick(&mix, &mut rng);
            let (query, path) = path_for(kind, asins, &mut rng);
            match slots.clone().try_acquire_owned() {
                Ok(permit) => {
                    let (client, base, key, tx, counters) = (
                        client.clone(),
                        base.clone(),
                        key.clone(),
                        tx.clone(),
                        counters.clone(),
                    );
                    tasks.spawn(async move {
                        one(client, base, key, kind, query, path, due, t0, tx, counters).await;
                        drop(permit);
                    });
                }
                Err(_) => {
                    counters.shed.fetch_add(1, Ordering::Relaxed);
                    let at = due.saturating_duration_since(t0).as_secs_f64();
                    let _ = tx.send(format!(
                        "{at:.3}\t0\t-1\t\t\t\t{}\tbad:shed ({concurrency} in flight)",
                        kind.name()
                    ));
                }
            }
            // Reap finished tasks so the set stays small.
            while tasks.try_join_next().is_some() {}
        }
    } else {
        // Closed loop: each client sends its next request when the last one is answered.
        for _ in 0..concurrency {
            let (client, base, key, tx, counters, mix) = (
                client.clone(),
                base.clone(),
                key.clone(),
                tx.clone(),
                counters.clone(),
                mix.clone(),
            );
            tasks.spawn(async move {
                while Instant::now() < end {
                    let (kind, query, path) = {
                        let mut rng = rand::thread_rng();
                        let kind = Kind::pick(&mix, &mut rng);
                        let (q, p) = path_for(kind, asins, &mut rng);
                        (kind, q, p)
                    };
                    let due = Instant::now();
                    one(
                        client.clone(),
                        base.clone(),
                        key.clone(),
                        kind,
                        query,
                        path,
                        due,
                        t0,
                        tx.clone(),
                        counters.clone(),
                    )
                    .await;
                }
            });
        }
    }
    while tasks.join_next().await.is_some() {}
    let elapsed = t0.elapsed().as_secs_f64();
    drop(tx);
    writer.join().expect("writer");
    let c = &counters;
    let answered = c.answered.load(Ordering::Relaxed);
    println!(
        "sent {} answered {} bad {} no_answer {} shed {} elapsed_s {elapsed:.1} answered_per_s {:.2}",
        c.sent.load(Ordering::Relaxed),
        answered,
        c.bad.load(Ordering::Relaxed),
        c.no_answer.load(Ordering::Relaxed),
        c.shed.load(Ordering::Relaxed),
        answered as f64 / elapsed.min(seconds.max(0.001)),
    );
}
