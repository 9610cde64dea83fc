//! Experiment: what upstream connections cost this process while their requests wait,
//! and how many are held open at once. Not a test: it only prints figures.
//!
//! `cargo run --release -p asa-upstream --example held -- parked [N] [PAGE_BYTES] [SLOTS]`
//!
//! What one connection costs: N requests (default 1,000) go out at once through SLOTS page
//! slots (default 16: before any page has been drained the intake lets 64 per slot out, so
//! all N go upstream); the judges of the first SLOTS pages block, so the other answers
//! stay parked with their heads read and bodies unread. The process's RSS is read from
//! /proc before, while the N wait for their heads, and once the heads are in.
//!
//! `cargo run --release -p asa-upstream --example held -- burst [N] [PAGE_BYTES] [BUDGET_S]`
//!
//! A burst: N requests (default 2,000) at once with a budget of BUDGET_S seconds (default
//! 15), through the default page slots (twice the cores), each page judged in 50 ms (an
//! extraction's time). Prints how they ended, the most connections open at once (sampled
//! from /proc/self/fd every 50 ms) and the peak RSS (VmHWM).
//!
//! In both, a simulator in a child process (this same binary, `sim` argument, so its
//! memory is not counted) answers every request after 3 s with a brotli-encoded page of
//! PAGE_BYTES (default 1,000,000).

use asa_model::{Asin, Marketplace};
use asa_upstream::{FetchRequest, FetchTarget, Judge, Upstream, UpstreamConfig, Verdict};
use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const LATENCY: Duration = Duration::from_secs(3);

/// Blocks every judge while `hold` is set, keeps each `busy`; counts bodies judged and
/// their bytes.
struct Gate {
    hold: AtomicBool,
    busy: Duration,
    judged: AtomicUsize,
    bytes: AtomicUsize,
}

impl Judge for Gate {
    type Output = ();
    fn judge(&self, _: u16, _: &str, body: &[u8]) -> Verdict<()> {
        self.judged.fetch_add(1, Ordering::SeqCst);
        self.bytes.fetch_add(body.len(), Ordering::SeqCst);
        while self.hold.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(self.busy);
        Verdict::Accept(())
    }
}

async fn run_sim(page_bytes: usize) {
    let cfg = asa_sim::SimConfig {
        latency: asa_sim::Latency::Fixed(LATENCY),
        page_bytes,
        log_capacity: 10,
        ..asa_sim::SimConfig::default()
    };
    let sim = asa_sim::start_local(cfg).await.unwrap();
    println!("{}", sim.url_template());
    std::io::stdout().flush().unwrap();
    // Serve until the parent closes our stdin.
    let _ = tokio::task::spawn_blocking(|| std::io::stdin().lines().count()).await;
}

fn request(i: usize) -> FetchRequest {
    FetchRequest {
        request_id: format!("req_{i:012}"),
        marketplace: Marketplace::Us,
        target: FetchTarget::Product {
            // One ASIN: the simulator builds and encodes the page once.
            asin: Asin::parse("B0HELD0001").unwrap(),
        },
        language: String::new(),
        country: String::new(),
    }
}

/// `VmRSS` or `VmHWM` of this process, in KB.
fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Bytes waiting unread in the kernel's receive queues of this machine's TCP connections
/// to `port` (/proc/net/tcp): the bodies the parked answers have not read yet.
fn unread_bytes(port: u16) -> u64 {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    let remote = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let (rem, queues) = (f.get(2)?, f.get(4)?);
            let rx = queues.split(':').nth(1)?;
            rem.ends_with(&remote)
                .then(|| u64::from_str_radix(rx, 16).ok())?
        })
        .sum()
}

/// The simulator's port in a `http://127.0.0.1:PORT/amazon.{domain}` template.
fn port_of(template: &str) -> u16 {
    let authority = template.split('/').nth(2).unwrap_or_default();
    authority
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0)
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

/// The simulator child and the storefront template it serves.
fn start_sim(program: &str, page_bytes: usize) -> (std::process::Child, String) {
    let mut child = std::process::Command::new(program)
        .args(["sim", &page_bytes.to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start the simulator child");
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let template = lines.next().unwrap().unwrap();
    (child, template)
}

fn gate(busy: Duration) -> Arc<Gate> {
    Arc::new(Gate {
        hold: AtomicBool::new(false),
        busy,
        judged: AtomicUsize::new(0),
        bytes: AtomicUsize::new(0),
    })
}

async fn parked(template: String, n: usize, page_bytes: usize, slots: usize) {
    let port = port_of(&template);
    let up = Arc::new(
        Upstream::new(UpstreamConfig {
            url_template: template,
            pages_at_once: slots,
            overall_timeout: Duration::from_secs(120),
            attempt_timeout: Duration::from_secs(60),
            ..UpstreamConfig::default()
        })
        .unwrap(),
    );
    let gate = gate(Duration::ZERO);
    // One page first, so the client, its pool and the allocator's arenas are warm.
    assert!(up.fetch(&request(0), gate.clone()).await.result.is_ok());
    gate.judged.store(0, Ordering::SeqCst);
    gate.bytes.store(0, Ordering::SeqCst);
    gate.hold.store(true, Ordering::SeqCst);
    let future_bytes = std::mem::size_of_val(&up.fetch(&request(0), gate.clone()));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = status_kb("VmRSS:");

    let tasks: Vec<_> = (1..=n)
        .map(|i| {
            let (up, gate) = (up.clone(), gate.clone());
            tokio::spawn(async move { up.fetch(&request(i), gate).await.result.is_ok() })
        })
        .collect();
    tokio::time::sleep(LATENCY / 2).await;
    let sent = status_kb("VmRSS:");
    let fds_sent = open_fds();
    // The heads come after LATENCY; the slots' judges then block with their pages read.
    tokio::time::sleep(LATENCY).await;
    while gate.judged.load(Ordering::SeqCst) < slots.min(n) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let parked = status_kb("VmRSS:");
    let unread_kb = unread_bytes(port) / 1024;
    let in_slots = gate.judged.load(Ordering::SeqCst);
    let page_kb = gate.bytes.load(Ordering::SeqCst) as u64 / 1024;

    let per = |kb: u64, count: usize| kb as f64 / count.max(1) as f64;
    println!("{n} requests, {page_bytes} byte pages (brotli), {slots} page slots; fetch future {future_bytes} bytes; {fds_sent} descriptors open while they wait");
    println!("RSS before: {before} KB");
    println!(
        "RSS with {n} sent, waiting for their heads: {sent} KB (+{:.1} KB per request)",
        per(sent.saturating_sub(before), n)
    );
    let parked_extra = parked.saturating_sub(sent).saturating_sub(page_kb);
    println!(
        "RSS with {} heads read and bodies unread, {in_slots} pages ({page_kb} KB decoded) in slots: {parked} KB (+{:.1} KB per parked answer beyond the pages)",
        n - in_slots,
        per(parked_extra, n - in_slots)
    );
    println!(
        "per parked connection in all: {:.1} KB",
        per(
            parked.saturating_sub(before).saturating_sub(page_kb),
            n - in_slots
        )
    );
    println!(
        "unread in the kernel's receive queues meanwhile: {unread_kb} KB ({:.1} KB per parked answer; not in RSS)",
        per(unread_kb, n - in_slots)
    );
    gate.hold.store(false, Ordering::SeqCst);
    let mut ok = 0;
    for t in tasks {
        ok += usize::from(t.await.unwrap());
    }
    println!("{ok} of {n} delivered");
}

async fn burst(template: String, n: usize, page_bytes: usize, budget: u64) {
    let up = Arc::new(
        Upstream::new(UpstreamConfig {
            url_template: template,
            overall_timeout: Duration::from_secs(budget),
            attempt_timeout: Duration::from_secs(budget),
            ..UpstreamConfig::default()
        })
        .unwrap(),
    );
    let slots = up.config().page_slots();
    let gate = gate(Duration::from_millis(50));
    let fds_idle = open_fds();
    let most = Arc::new(AtomicUsize::new(0));
    let sampler = tokio::spawn({
        let most = most.clone();
        async move {
            loop {
                most.fetch_max(open_fds(), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    });
    let started = std::time::Instant::now();
    let tasks: Vec<_> = (1..=n)
        .map(|i| {
            let (up, gate) = (up.clone(), gate.clone());
            tokio::spawn(async move {
                let f = up.fetch(&request(i), gate).await;
                f.result.err().map(|e| e.code().as_str())
            })
        })
        .collect();
    let mut ended = std::collections::BTreeMap::new();
    for t in tasks {
        let code = t.await.unwrap().unwrap_or("delivered");
        *ended.entry(code).or_insert(0usize) += 1;
    }
    sampler.abort();
    println!("{n} requests at once, {page_bytes} byte pages (brotli) after 3 s, {slots} page slots, 50 ms a page, {budget} s budget");
    println!(
        "ended: {ended:?} in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    println!(
        "most connections open at once: {} (descriptors beyond the {fds_idle} idle)",
        most.load(Ordering::Relaxed).saturating_sub(fds_idle)
    );
    println!("peak RSS: {} KB", status_kb("VmHWM:"));
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg =
        |i: usize, default: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let mode = args.get(1).map(String::as_str).unwrap_or("parked");
    if mode == "sim" {
        run_sim(arg(2, 1_000_000)).await;
        return;
    }
    let page_bytes = arg(3, 1_000_000);
    let (mut child, template) = start_sim(&args[0], page_bytes);
    match mode {
        "burst" => burst(template, arg(2, 2000), page_bytes, arg(4, 15) as u64).await,
        _ => parked(template, arg(2, 1000), page_bytes, arg(4, 16)).await,
    }
    drop(child.stdin.take());
    let _ = child.wait();
}
