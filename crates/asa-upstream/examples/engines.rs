//! Benchmark: the same load through each upstream engine against the simulator's
//! bot-manager mode. Prints the captcha rate, attempts per success, p50 / p99 latency
//! and the client's CPU time per request. Not a test: it only prints figures.
//!
//! `cargo run --release -p asa-upstream --example engines [--features browser] [REQUESTS]`
//!
//! The simulator runs in a child process (this same binary, `sim` argument), so the
//! CPU figure is the client's alone.

use asa_model::{Asin, Marketplace};
use asa_upstream::{
    Engine, FetchRequest, FetchTarget, Judge, Outcome, Upstream, UpstreamConfig, Verdict,
};
use std::io::{BufRead, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

const EXITS: usize = 8;
const CONCURRENCY: usize = 16;

struct SimJudge;

impl Judge for SimJudge {
    type Output = ();
    fn judge(&self, _: u16, _: &str, body: &[u8]) -> Verdict<()> {
        if body.windows(15).any(|w| w == b"validateCaptcha") {
            Verdict::Retry {
                outcome: Outcome::Captcha,
                value: (),
            }
        } else {
            Verdict::Accept(())
        }
    }
}

/// The child: a TLS simulator with a bot manager, its exits and certificate on stdout.
async fn run_sim() {
    let exits = vec!["127.0.0.1:0"; EXITS];
    let cfg = asa_sim::SimConfig {
        tls: true,
        page_bytes: 200_000,
        bot_manager: Some(asa_sim::BotManager {
            // A bot manager that lets some tells through, as real ones do, and
            // challenges a few real browsers too.
            session_change_rate: 0.9,
            non_browser_rate: 0.6,
            browser_rate: 0.02,
            browsers: asa_sim::known_browsers(),
        }),
        log_capacity: 10,
        ..asa_sim::SimConfig::default()
    };
    let sim = asa_sim::start_on(cfg, &exits).await.unwrap();
    let mut out = std::io::stdout().lock();
    for (id, addr) in sim.addrs() {
        writeln!(out, "exit {id} {addr}").unwrap();
    }
    write!(out, "{}", sim.tls_certificate_pem().unwrap()).unwrap();
    writeln!(out, "ready").unwrap();
    out.flush().unwrap();
    drop(out);
    // Serve until the parent closes our stdin.
    let _ = tokio::task::spawn_blocking(|| std::io::stdin().lines().count()).await;
}

/// User + system CPU of this process, from /proc (Linux; clock ticks of 10 ms).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Runs the load and returns its row of the table.
async fn measure(engine: Engine, exits: &[String], pem: &str, requests: usize) -> String {
    let mut cfg = UpstreamConfig {
        url_template: "https://www.amazon.{domain}".into(),
        engine,
        extra_root_certs: vec![pem.to_string()],
        session_requests: 10,
        // No cooldown: a challenged exit is skipped for the rest of its request only, so
        // the figures measure the engines rather than how fast the exits run out.
        challenge_cooldown: Duration::ZERO,
        backoff_base: Duration::from_millis(10),
        backoff_cap: Duration::from_millis(50),
        ..UpstreamConfig::default()
    };
    cfg.proxies.insert("DE".into(), exits.to_vec());
    let up = Arc::new(Upstream::new(cfg).unwrap());
    let judge = Arc::new(SimJudge);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let cpu0 = cpu_time();
    let wall = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..CONCURRENCY {
        let (up, judge, next) = (up.clone(), judge.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= requests {
                    return out;
                }
                let req = FetchRequest {
                    request_id: format!("req_{i:012}"),
                    marketplace: Marketplace::De,
                    target: FetchTarget::Product {
                        asin: Asin::parse(&format!("B0{:08}", i % 5000)).unwrap(),
                    },
                    language: String::new(),
                    country: String::new(),
                };
                let t = Instant::now();
                let fetched = up.fetch(&req, judge.clone()).await;
                out.push((t.elapsed(), fetched.result.is_ok(), fetched.attempts));
            }
        }));
    }
    let mut results = Vec::new();
    for w in workers {
        results.extend(w.await.unwrap());
    }
    let cpu = cpu_time().saturating_sub(cpu0);
    let elapsed = wall.elapsed();
    let attempts: usize = results.iter().map(|r| r.2.len()).sum();
    let captchas = results
        .iter()
        .flat_map(|r| &r.2)
        .filter(|a| a.outcome == Outcome::Captcha)
        .count();
    let successes = results.iter().filter(|r| r.1).count();
    let mut latencies: Vec<Duration> = results.iter().map(|r| r.0).collect();
    latencies.sort();
    format!(
        "| {engine} | {requests} | {:.1}% | {:.2} | {:.1}% | {} | {} | {:.2} | {:.0} |",
        100.0 * captchas as f64 / attempts.max(1) as f64,
        attempts as f64 / successes.max(1) as f64,
        100.0 * successes as f64 / requests as f64,
        percentile(&latencies, 0.50).as_millis(),
        percentile(&latencies, 0.99).as_millis(),
        cpu.as_secs_f64() * 1000.0 / requests as f64,
        requests as f64 / elapsed.as_secs_f64(),
    )
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("sim") {
        run_sim().await;
        return;
    }
    let requests: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(600);
    let mut child = std::process::Command::new(&args[0])
        .arg("sim")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start the simulator child");
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut exits, mut pem) = (Vec::new(), String::new());
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line == "ready" {
            break;
        }
        match line.strip_prefix("exit ") {
            Some(rest) => {
                let (id, addr) = rest.split_once(' ').unwrap();
                exits.push(format!("http://{addr}#{id}"));
            }
            None => {
                pem.push_str(&line);
                pem.push('\n');
            }
        }
    }
    println!("{requests} product requests per engine, {CONCURRENCY} at a time, {EXITS} exits, sessions of up to 10 requests, up to 4 attempts each");
    println!("| engine | requests | captcha rate (per attempt) | attempts per success | success | p50 ms | p99 ms | client CPU ms / request | requests/s |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut engines = vec![Engine::Standard];
    if Engine::Browser.is_built() {
        engines.push(Engine::Browser);
    }
    for engine in engines {
        // Warm up: the first TLS handshakes and page builds are not the steady state.
        measure(engine, &exits, &pem, CONCURRENCY).await;
    }
    for engine in [Engine::Standard, Engine::Browser] {
        if engine.is_built() {
            println!("{}", measure(engine, &exits, &pem, requests).await);
        } else {
            println!("| {engine} | - | not in this build (cargo feature `browser`) | | | | | | |");
        }
    }
    drop(child.stdin.take());
    let _ = child.wait();
}
