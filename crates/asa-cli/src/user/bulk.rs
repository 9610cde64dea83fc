//! The bulk runner behind `asa product` and `asa search`. It reads the account's limits
//! (`GET /api/v1/account` → `limits.concurrency`, `limits.rps`) unless given, and hands
//! them to the client, which paces every attempt to the rate, keeps at most that many in
//! flight, and holds everyone when a 429/503 says `Retry-After`. Retries are the client's
//! (the retry policy of docs/API.md). Results stream to the sink as they finish; failures go to stderr or
//! `--failures` with their request ids; a summary ends the run.

use super::fetch::RunArgs;
use super::output::{Format, Kind, Sink};
use super::progress::{status_line, Progress};
use super::{exit_code_of, ConnArgs, EXIT_FAILED, EXIT_OK};
use asa_client::{Error, Next, ProductParams, SearchParams};
use futures::StreamExt;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// One request of a run: its input as the user gave it, and its parameters.
pub enum Job {
    Product(String, ProductParams),
    Search(String, SearchParams),
}

impl Job {
    fn input(&self) -> &str {
        match self {
            Job::Product(i, _) | Job::Search(i, _) => i,
        }
    }
}

/// Counted by the client's observer, across every attempt of the run.
#[derive(Default)]
struct AttemptCounts {
    attempts: AtomicU64,
    retries: AtomicU64,
    /// 429 and 503 answers seen.
    throttled: AtomicU64,
}

struct Done {
    input: String,
    result: Result<(Value, u64), Error>,
}

/// Concurrency used when the account's limits cannot be read.
const FALLBACK_CONCURRENCY: usize = 2;

pub fn run(
    jobs: Vec<Job>,
    kind: Kind,
    format: Format,
    args: &RunArgs,
    conn: &ConnArgs,
) -> anyhow::Result<ExitCode> {
    super::runtime()?.block_on(run_async(jobs, kind, format, args, conn))
}

async fn run_async(
    jobs: Vec<Job>,
    kind: Kind,
    format: Format,
    args: &RunArgs,
    conn: &ConnArgs,
) -> anyhow::Result<ExitCode> {
    let total = jobs.len();
    let bulk = total > 1;
    let mut concurrency = args.concurrency;
    let mut rps = args.rps;
    if bulk && (concurrency.is_none() || rps.is_none()) {
        let probe = match conn.builder().build() {
            Ok(c) => c,
            Err(e) => return Ok(super::fail(&e)),
        };
        match probe.account().await {
            Ok(a) => {
                concurrency = concurrency.or(Some(a.data.limits.concurrency as usize));
                rps = rps.or(Some(a.data.limits.rps));
            }
            Err(e) if exit_code_of(&e) != EXIT_FAILED => return Ok(super::fail(&e)),
            Err(e) => eprintln!(
                "warning: could not read the account's limits ({}); running {FALLBACK_CONCURRENCY} at a time",
                e.one_line()
            ),
        }
    }
    let concurrency = concurrency.unwrap_or(FALLBACK_CONCURRENCY).max(1);

    let counts = Arc::new(AttemptCounts::default());
    let seen = counts.clone();
    let mut builder = conn
        .builder()
        .max_in_flight(concurrency)
        .observer(move |e| {
            seen.attempts.fetch_add(1, Ordering::Relaxed);
            if matches!(e.attempt.status, Some(429 | 503)) {
                seen.throttled.fetch_add(1, Ordering::Relaxed);
            }
            if matches!(e.next, Next::Retry(_)) {
                seen.retries.fetch_add(1, Ordering::Relaxed);
            }
        });
    if let Some(r) = rps.filter(|r| *r > 0.0) {
        builder = builder.rate_limit(r);
    }
    let client = match builder.build() {
        Ok(c) => c,
        Err(e) => return Ok(super::fail(&e)),
    };

    let out: Box<dyn Write + Send> = match &args.output {
        Some(p) => Box::new(std::io::BufWriter::new(std::fs::File::create(p)?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let mut sink = Sink::new(format, kind, bulk, out)?;
    let mut failures_file = match &args.failures {
        Some(p) => Some(std::io::BufWriter::new(std::fs::File::create(p)?)),
        None => None,
    };
    let progress = Progress::new(total as u64, bulk && !args.no_progress);

    let started = Instant::now();
    let mut ok = 0u64;
    let mut credits = 0u64;
    let mut by_code: BTreeMap<String, u64> = BTreeMap::new();
    let mut codes_of_exit: Vec<u8> = Vec::new();
    let mut stream = futures::stream::iter(jobs)
        .map(|job| {
            let c = client.clone();
            async move {
                let input = job.input().to_string();
                let result = match job {
                    Job::Product(_, p) => c.product(p).await.map(|r| (r.raw, r.meta.cost)),
                    Job::Search(_, p) => c.search(p).await.map(|r| (r.raw, r.meta.cost)),
                };
                Done {
                    input,
                    result: result.map(|(raw, cost)| (raw, cost.unwrap_or(0))),
                }
            }
        })
        // Room for calls waiting out a retry while others use the in-flight slots.
        .buffer_unordered(concurrency * 2);
    while let Some(done) = stream.next().await {
        match done.result {
            Ok((body, cost)) => {
                ok += 1;
                credits += cost;
                sink.write(&body)?;
            }
            Err(e) => {
                *by_code.entry(e.code().to_string()).or_default() += 1;
                codes_of_exit.push(exit_code_of(&e));
                match &mut failures_file {
                    Some(f) => {
                        serde_json::to_writer(&mut *f, &failure_record(&done.input, &e))?;
                        f.write_all(b"\n")?;
                    }
                    None if bulk => progress.println(&format!("{}: {}", done.input, e.one_line())),
                    None => eprintln!("{}", e.one_line()),
                }
            }
        }
        progress.update(ok, &by_code);
    }
    sink.finish()?;
    if let Some(mut f) = failures_file {
        f.flush()?;
    }
    progress.finish();

    let elapsed = started.elapsed().as_secs_f64();
    let failed: u64 = by_code.values().sum();
    let throttled_unretried = by_code.get("rate_limited").copied().unwrap_or(0)
        + by_code.get("capacity").copied().unwrap_or(0);
    let attempts = counts.attempts.load(Ordering::Relaxed);
    let summary = json!({
        "total": total,
        "ok": ok,
        "failed": failed,
        "failures_by_code": by_code,
        "elapsed_s": round3(elapsed),
        "requests_per_s": round3(total as f64 / elapsed.max(1e-9)),
        "attempts": attempts,
        "attempts_per_s": round3(attempts as f64 / elapsed.max(1e-9)),
        "allowed_rps": rps,
        "concurrency": concurrency,
        "retries": counts.retries.load(Ordering::Relaxed),
        "throttled_answers": counts.throttled.load(Ordering::Relaxed),
        "throttled_unretried": throttled_unretried,
        "credits_charged": credits,
    });
    if let Some(p) = &args.summary {
        std::fs::write(p, serde_json::to_string_pretty(&summary)? + "\n")?;
    }
    if bulk {
        eprintln!("{}", summary_line(&summary, ok, &by_code, rps));
        if let Some(p) = &args.failures {
            if failed > 0 {
                eprintln!("failures written to {}", p.display());
            }
        }
    }
    Ok(ExitCode::from(exit_code(&codes_of_exit)))
}

/// 0 when nothing failed; the common class when every failure shares one (usage,
/// unreachable); otherwise 1.
fn exit_code(codes: &[u8]) -> u8 {
    match codes.first() {
        None => EXIT_OK,
        Some(first) if codes.iter().all(|c| c == first) => *first,
        Some(_) => EXIT_FAILED,
    }
}

fn failure_record(input: &str, e: &Error) -> Value {
    let api = e.as_api();
    json!({
        "input": input,
        "error": e.code(),
        "status": e.status(),
        "message": api.map_or_else(|| e.to_string(), |a| a.message.clone()),
        "retryable": api.map(|a| a.retryable),
        "request_id": e.request_id(),
        "request_ids": e.request_ids(),
        "attempts": e.attempts().len(),
        "stopped": api.map(|a| a.stop.to_string()),
    })
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn summary_line(s: &Value, ok: u64, by_code: &BTreeMap<String, u64>, rps: Option<f64>) -> String {
    let allowed = rps.map_or(String::new(), |r| format!("; plan allows {r}/s"));
    format!(
        "{} requests in {:.1} s ({:.2}/s{allowed}): {}; {} retries, {} throttled answers ({} left unretried); {} credits",
        s["total"],
        s["elapsed_s"].as_f64().unwrap_or(0.0),
        s["requests_per_s"].as_f64().unwrap_or(0.0),
        status_line(ok, by_code),
        s["retries"],
        s["throttled_answers"],
        s["throttled_unretried"],
        s["credits_charged"],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_of_a_run() {
        assert_eq!(exit_code(&[]), 0);
        assert_eq!(exit_code(&[1, 1]), 1);
        assert_eq!(exit_code(&[3, 3]), 3);
        assert_eq!(exit_code(&[3, 1]), 1);
        assert_eq!(exit_code(&[2]), 2);
    }
}
