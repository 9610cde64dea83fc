//! The bulk runner behind `asa product` and `asa search`. It reads the account's limits
//! (`GET /api/v1/account` → `limits.concurrency`, `limits.rps`) unless given, and hands
//! them to the client, which paces every attempt to the rate, keeps at most that many in
//! flight, and holds everyone when a 429/503 says `Retry-After`. Retries are the client's
//! (the retry policy of docs/API.md). Results are written as they finish, one whole flushed record each
//! (`records`); failures go to stderr or `--failures` with their request ids; a summary
//! ends the run.
//!
//! Stopping: a first SIGINT/SIGTERM starts no new request, drops those with no attempt out
//! (queued for a slot or the pace, or waiting to retry: not billed), lets those in flight
//! finish and writes them; a second stops at once. A
//! failed write (closed pipe, full disk) stops the run and says which. `--resume` skips
//! the inputs an earlier run answered (`resume`).

use super::fetch::RunArgs;
use super::interrupt::{Interrupt, Interrupts};
use super::output::{Format, Kind, Sink};
use super::progress::{rate, status_line, Progress, Snapshot, Waits};
use super::records::{write_whole, RecordOut, WriteError};
use super::resume::Answered;
use super::{exit_code_of, ConnArgs, EXIT_FAILED, EXIT_OK, EXIT_OUTPUT};
use asa_client::{Error, Next, ProductParams, SearchParams};
use futures::future::{AbortHandle, Abortable, Aborted};
use futures::stream::{FuturesUnordered, StreamExt};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One request of a run: its input as the user gave it, and its parameters.
pub enum Job {
    Product(String, ProductParams),
    Search(String, SearchParams),
}

impl Job {
    pub fn input(&self) -> &str {
        match self {
            Job::Product(i, _) | Job::Search(i, _) => i,
        }
    }

    /// Every parameter sent, as the failures file records them.
    pub fn params(&self) -> Value {
        match self {
            Job::Product(_, p) => serde_json::to_value(p),
            Job::Search(_, p) => serde_json::to_value(p),
        }
        .unwrap_or(Value::Null)
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

tokio::task_local! {
    /// The job whose call is being polled, so the observer knows whose retry it sees.
    static JOB: usize;
}

struct Done {
    job: usize,
    input: String,
    params: Value,
    /// `Err` when the run dropped it while no attempt was out (nothing billed).
    result: Result<Result<(Value, u64), Error>, Aborted>,
}

/// Why a run ended before every input was done.
enum Stop {
    /// A first signal: no new requests; the ones in flight finished.
    Interrupted(Interrupt),
    /// A second signal: stopped at once.
    Forced(Interrupt),
    /// An output could not be written.
    Output(WriteError),
}

/// Concurrency used when the account's limits cannot be read.
const FALLBACK_CONCURRENCY: usize = 2;
/// How often the progress is redrawn and waiting requests are checked after an interrupt.
const TICK: Duration = Duration::from_millis(250);

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
    if args.resume {
        if args.output.is_none() {
            return Ok(super::usage(
                "--resume needs -o FILE: the output of the run to continue",
            ));
        }
        if format == Format::Pretty {
            return Ok(super::usage(
                "--resume needs --json-per-line or --csv: a pretty JSON array cannot be continued",
            ));
        }
    }
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
    let waits = Arc::new(Waits::default());
    let (seen, waits_seen, waits_sent) = (counts.clone(), waits.clone(), waits.clone());
    let mut builder = conn
        .builder()
        .max_in_flight(concurrency)
        .on_send(move |_| {
            let _ = JOB.try_with(|job| waits_sent.sent(*job));
        })
        .observer(move |e| {
            seen.attempts.fetch_add(1, Ordering::Relaxed);
            if matches!(e.attempt.status, Some(429 | 503)) {
                seen.throttled.fetch_add(1, Ordering::Relaxed);
            }
            if let Next::Retry(delay) = e.next {
                seen.retries.fetch_add(1, Ordering::Relaxed);
                let code = e.attempt.code.as_deref().unwrap_or("error");
                let _ = JOB.try_with(|job| waits_seen.scheduled(*job, code, delay));
            }
        });
    if let Some(r) = rps.filter(|r| *r > 0.0) {
        builder = builder.rate_limit(r);
    }
    let client = match builder.build() {
        Ok(c) => c,
        Err(e) => return Ok(super::fail(&e)),
    };

    // Outputs, continued after what an earlier run answered with --resume.
    let mut answered = Answered::default();
    let (out, header) = match &args.output {
        Some(p) if args.resume => {
            let st = match answered.read_output(p, &format, kind) {
                Ok(st) => st,
                Err(e) => return Ok(super::usage(e)),
            };
            if st.dropped_tail {
                eprintln!(
                    "{}: dropped a cut-off last record (an earlier run was killed mid-write)",
                    p.display()
                );
            }
            (RecordOut::continue_after(p, st.keep)?, !st.has_header)
        }
        Some(p) => (RecordOut::create(p)?, true),
        None => (RecordOut::stdout(), true),
    };
    let mut failures_out = match &args.failures {
        Some(p) if args.resume => {
            let st = match answered.read_failures(p) {
                Ok(st) => st,
                Err(e) => return Ok(super::usage(e)),
            };
            write_whole(p, &st.kept)?;
            if st.retried > 0 {
                eprintln!(
                    "{}: {} failures that may pass now will be tried again",
                    p.display(),
                    st.retried
                );
            }
            Some(RecordOut::continue_after(p, st.kept.len() as u64)?)
        }
        Some(p) => Some(RecordOut::create(p)?),
        None => None,
    };
    let todo: Vec<(usize, Job)> = jobs
        .into_iter()
        .enumerate()
        .filter(|(_, j)| !(args.resume && answered.take(j)))
        .collect();
    let skipped = total - todo.len();
    if args.resume {
        eprintln!(
            "resuming: {skipped} of {total} inputs already answered; {} to do",
            todo.len()
        );
    }
    let mut sink = Sink::new(format, kind, bulk, out, header)?;
    let progress = Progress::new(todo.len() as u64, bulk && !args.no_progress);
    let mut interrupts = Interrupts::listen()?;

    let started = Instant::now();
    let mut ok = 0u64;
    let mut credits = 0u64;
    let mut abandoned = 0u64;
    let mut by_code: BTreeMap<String, u64> = BTreeMap::new();
    let mut codes_of_exit: Vec<u8> = Vec::new();
    let mut stop: Option<Stop> = None;
    let mut queue = todo.into_iter();
    let mut running = FuturesUnordered::new();
    let mut aborts: HashMap<usize, AbortHandle> = HashMap::new();
    let mut tick = tokio::time::interval(TICK);
    loop {
        // Start requests while fewer than `concurrency` are active (waiting to retry does
        // not count), with room for those waiting; none once the run is stopping.
        while stop.is_none()
            && running.len() < concurrency * 2
            && running.len() - waits.waiting_jobs().len() < concurrency
        {
            let Some((n, job)) = queue.next() else { break };
            let (handle, reg) = AbortHandle::new_pair();
            aborts.insert(n, handle);
            let c = client.clone();
            let (input, params) = (job.input().to_string(), job.params());
            let call = async move {
                let result = match job {
                    Job::Product(_, p) => c.product(p).await.map(|r| (r.raw, r.meta.cost)),
                    Job::Search(_, p) => c.search(p).await.map(|r| (r.raw, r.meta.cost)),
                };
                result.map(|(raw, cost)| (raw, cost.unwrap_or(0)))
            };
            running.push(JOB.scope(n, async move {
                Done {
                    job: n,
                    input,
                    params,
                    result: Abortable::new(call, reg).await,
                }
            }));
        }
        if running.is_empty() {
            break;
        }
        tokio::select! {
            biased;
            sig = interrupts.next() => match stop {
                Some(Stop::Interrupted(_)) => {
                    stop = Some(Stop::Forced(sig));
                    break;
                }
                _ => {
                    let sent = aborts.keys().filter(|j| waits.is_sent(**j)).count();
                    let unsent = running.len() - sent;
                    progress.println(&format!(
                        "interrupted by {}: not starting the {} inputs left{}; finishing the {sent} in flight (they may be billed); {} again stops at once",
                        sig.name(),
                        queue.len(),
                        if unsent > 0 { format!(", dropping the {unsent} queued or waiting to retry (not sent, not billed)") } else { String::new() },
                        sig.name(),
                    ));
                    stop = Some(Stop::Interrupted(sig));
                }
            },
            Some(done) = running.next() => {
                waits.clear(done.job);
                aborts.remove(&done.job);
                match done.result {
                    Err(Aborted) => abandoned += 1,
                    Ok(Ok((body, cost))) => {
                        credits += cost;
                        if let Err(e) = sink.write(&body) {
                            stop = Some(Stop::Output(e));
                            break;
                        }
                        ok += 1;
                    }
                    Ok(Err(e)) => {
                        *by_code.entry(e.code().to_string()).or_default() += 1;
                        codes_of_exit.push(exit_code_of(&e));
                        let record = failure_record(&done.input, &done.params, &e);
                        match &mut failures_out {
                            Some(f) => {
                                let mut line = serde_json::to_vec(&record)?;
                                line.push(b'\n');
                                if let Err(e) = f.record(&line) {
                                    stop = Some(Stop::Output(e));
                                    break;
                                }
                            }
                            None if bulk => progress.println(&format!("{}: {}", done.input, e.one_line())),
                            None => eprintln!("{}", e.one_line()),
                        }
                    }
                }
            }
            _ = tick.tick() => {}
        }
        if matches!(stop, Some(Stop::Interrupted(_))) {
            // A request not out now (queued for a slot or the pace, or waiting to retry)
            // has cost nothing: an interrupted run does not wait for it.
            aborts.retain(|job, h| {
                let out = waits.is_sent(*job);
                if !out {
                    h.abort();
                }
                out
            });
        }
        let note = match &stop {
            Some(Stop::Interrupted(sig)) => Some(format!("stopping ({})", sig.name())),
            _ => None,
        };
        progress.show(&Snapshot {
            done: ok + by_code.values().sum::<u64>() + abandoned,
            ok,
            failures: &by_code,
            waiting: waits.snapshot(),
            note,
        });
    }
    // In flight when the run stopped at once, or when an output failed: their answers, if
    // any, are not written.
    let cut_off = aborts.keys().filter(|j| waits.is_sent(**j)).count();
    drop(running);
    let not_started = queue.len() as u64;
    let closed = sink.finish();
    progress.finish();
    if stop.is_none() {
        closed?;
    }

    let elapsed = started.elapsed().as_secs_f64();
    let failed: u64 = by_code.values().sum();
    let done = ok + failed;
    let throttled_unretried = by_code.get("rate_limited").copied().unwrap_or(0)
        + by_code.get("capacity").copied().unwrap_or(0);
    let attempts = counts.attempts.load(Ordering::Relaxed);
    let stopped = match &stop {
        None => None,
        Some(Stop::Interrupted(s)) => Some(s.name().to_string()),
        Some(Stop::Forced(s)) => Some(format!("{} twice", s.name())),
        Some(Stop::Output(e)) => Some(e.to_string()),
    };
    let summary = json!({
        "total": total,
        "skipped": skipped,
        "ok": ok,
        "failed": failed,
        "not_done": total as u64 - skipped as u64 - done,
        "stopped": stopped,
        "failures_by_code": by_code,
        "elapsed_s": round3(elapsed),
        "requests_per_s": round3(done as f64 / elapsed.max(1e-9)),
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
        let text = serde_json::to_string_pretty(&summary)? + "\n";
        if let Err(e) = write_whole(p, &text) {
            eprintln!("{e}");
        }
    }
    match &stop {
        None => {}
        Some(Stop::Interrupted(_)) => eprintln!(
            "stopped: {not_started} inputs not started, {abandoned} dropped before being sent or while waiting to retry; rerun with --resume to do them"
        ),
        Some(Stop::Forced(_)) => eprintln!(
            "stopped at once: {not_started} inputs not started; {cut_off} requests in flight were cut off (the server may bill those that finish); rerun with --resume to do them"
        ),
        Some(Stop::Output(e)) => eprintln!(
            "stopped: {e}; {cut_off} requests in flight were dropped; fix the output and rerun with --resume"
        ),
    }
    if bulk || stop.is_some() {
        eprintln!(
            "{}",
            summary_line(&summary, ok, &by_code, rps, skipped, stopped.as_deref())
        );
        if let Some(p) = &args.failures {
            if failed > 0 {
                eprintln!("failures written to {}", p.display());
            }
        }
    }
    Ok(ExitCode::from(match &stop {
        None => exit_code(&codes_of_exit),
        Some(Stop::Interrupted(s) | Stop::Forced(s)) => s.exit_code(),
        Some(Stop::Output(_)) => EXIT_OUTPUT,
    }))
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

fn failure_record(input: &str, params: &Value, e: &Error) -> Value {
    let api = e.as_api();
    json!({
        "input": input,
        "params": params,
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

fn summary_line(
    s: &Value,
    ok: u64,
    by_code: &BTreeMap<String, u64>,
    rps: Option<f64>,
    skipped: usize,
    stopped: Option<&str>,
) -> String {
    let allowed = rps.map_or(String::new(), |r| format!("; plan allows {r}/s"));
    let stopped = stopped.map_or(String::new(), |s| format!("stopped by {s}: "));
    let skipped = if skipped > 0 {
        format!("; {skipped} skipped (answered by an earlier run)")
    } else {
        String::new()
    };
    let done = ok + by_code.values().sum::<u64>();
    format!(
        "{stopped}{done} requests in {:.1} s ({}{allowed}): {}{skipped}; {} retries, {} throttled answers ({} left unretried); {} credits",
        s["elapsed_s"].as_f64().unwrap_or(0.0),
        rate(s["requests_per_s"].as_f64().unwrap_or(0.0)),
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
