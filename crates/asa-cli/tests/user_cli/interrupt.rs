//! Bulk runs stopped part-way lose nothing: interrupted by SIGINT or SIGTERM in the
//! middle of a run, every record written parses and every result the server billed (as the
//! account's API reports it) is in the output; `--resume` then asks only for the rest. A
//! request waiting out a slow retry shows on the progress line, and an interrupt drops it
//! at once (it is not billed). A closed pipe and a full disk stop the run and say so.

use crate::harness::{bulk_plan, Server};
use asa_model::KeyKind;
use serde_json::Value;
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// Credits per product page.
const COST: i64 = 5;

/// The account as its key sees it through the API: balance and billed requests.
async fn account(s: &Server, key: &str) -> (i64, i64) {
    let a: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/account", s.base))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        a["credits"]["balance"].as_i64().unwrap(),
        a["usage"]["total"]["billed_requests"].as_i64().unwrap(),
    )
}

/// The account's figures once its usage has caught up with its balance (the trace of a
/// request is recorded just after its answer).
async fn settled(s: &Server, key: &str, credits: i64) -> (i64, i64) {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let (balance, billed) = account(s, key).await;
        if (credits - balance) == billed * COST || Instant::now() > until {
            return (balance, billed);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The ASINs of the results in `path`, which must be whole records: NDJSON lines that
/// parse, or CSV rows with every column.
fn asins_in(path: &std::path::Path, csv: bool) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "a cut-off record: {text}"
    );
    if csv {
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let header = r.headers().unwrap().clone();
        let col = header.iter().position(|h| h == "asin").unwrap();
        r.records()
            .map(|row| {
                let row = row.unwrap();
                assert_eq!(row.len(), header.len(), "{row:?}");
                row[col].to_string()
            })
            .collect()
    } else {
        text.lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
                assert!(v["request_id"].as_str().unwrap().starts_with("req_"));
                v["asin"].as_str().unwrap().to_string()
            })
            .collect()
    }
}

fn lines_in(path: &std::path::Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().count())
}

/// A server whose upstream budgets leave room for slow pages on a busy machine (the tests
/// of this file run side by side), so that only the interrupts stop a run early.
async fn roomy_server() -> Server {
    Server::start(asa_sim::SimConfig::default(), |c| {
        c.plans.insert("bulk".into(), bulk_plan(4, 50.0, 10));
        c.upstream.timeout = Duration::from_secs(30);
        c.upstream.attempt_timeout = Duration::from_secs(15);
        c.upstream.pages_at_once = 16;
    })
    .await
}

/// 40 slow products (0.50 to 0.89 s each at Amazon), 4 at a time: several seconds of run.
/// The signal comes once 8 results are written; then `--resume` finishes the run.
async fn interrupt_then_resume(signal: &str, csv: bool) {
    let s = roomy_server().await;
    let credits = 100_000;
    let (_, key) = s.key("bulk", credits, KeyKind::Live).await;
    let inputs: Vec<String> = (50..90).map(|ms| format!("B0SLOW00{ms}")).collect();
    let file = s.path("asins.txt");
    std::fs::write(&file, inputs.join("\n") + "\n").unwrap();
    let out = s.path(if csv { "out.csv" } else { "out.ndjson" });
    let (fails, summary) = (s.path("fails.ndjson"), s.path("sum.json"));
    let mut args = vec![
        "product",
        "--input",
        file.to_str().unwrap(),
        if csv { "--csv" } else { "--json-per-line" },
        "-o",
        out.to_str().unwrap(),
        "--failures",
        fails.to_str().unwrap(),
        "--summary",
        summary.to_str().unwrap(),
    ];

    let run = s.spawn(Some(&key), &args, true);
    let until = Instant::now() + Duration::from_secs(60);
    while lines_in(&out) < 8 + usize::from(csv) {
        assert!(Instant::now() < until, "{}", run.stderr());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    run.signal(signal);
    let stopped = run.finish().await;
    let name = format!("SIG{signal}");
    let code = if signal == "INT" { 130 } else { 143 };
    assert_eq!(stopped.code, code, "{}", stopped.stderr);
    assert!(
        stopped
            .stderr
            .contains(&format!("interrupted by {name}: not starting the")),
        "{}",
        stopped.stderr
    );
    assert!(
        stopped.stderr.contains(&format!("stopped by {name}: ")),
        "{}",
        stopped.stderr
    );

    // Every record is whole, and every result the server billed is there: the in-flight
    // requests were finished and written, the queued ones never sent.
    let first = asins_in(&out, csv);
    assert!(first.len() >= 8 && first.len() < 40, "{}", first.len());
    assert_eq!(lines_in(&fails), 0);
    let (balance, billed) = settled(&s, &key, credits).await;
    assert_eq!(billed as usize, first.len(), "billed = written");
    assert_eq!(balance, credits - COST * first.len() as i64);
    let sum: Value = serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    assert_eq!(sum["stopped"], name.as_str());
    assert_eq!(sum["ok"], first.len());
    assert_eq!(sum["not_done"], 40 - first.len());

    // Resumed: only the missing inputs are asked for and billed.
    args.push("--resume");
    let resumed = s.asa(Some(&key), &args, None).await;
    assert_eq!(resumed.code, 0, "{}", resumed.stderr);
    assert!(
        resumed.stderr.contains(&format!(
            "resuming: {} of 40 inputs already answered; {} to do",
            first.len(),
            40 - first.len()
        )),
        "{}",
        resumed.stderr
    );
    let all = asins_in(&out, csv);
    assert_eq!(all.len(), 40);
    assert_eq!(
        all.iter().collect::<HashSet<_>>(),
        inputs.iter().collect::<HashSet<_>>()
    );
    assert_eq!(
        &all[..first.len()],
        &first[..],
        "the first run's records stay"
    );
    let sum: Value = serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    assert_eq!(sum["skipped"], first.len());
    assert_eq!(sum["ok"], 40 - first.len());
    assert_eq!(sum["stopped"], Value::Null);
    let (balance, billed) = settled(&s, &key, credits).await;
    assert_eq!(billed, 40, "each input billed once over both runs");
    assert_eq!(balance, credits - COST * 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_mid_run_loses_nothing_and_resume_pays_only_the_rest() {
    interrupt_then_resume("INT", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_run_of_a_csv_loses_nothing_and_resume_pays_only_the_rest() {
    interrupt_then_resume("TERM", true).await;
}

/// A captcha ASIN fails with `blocked_by_amazon`, whose retry waits at least 60 s: the
/// plain progress (stderr is a pipe here) says so, and an interrupt does not wait for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_retry_shows_on_the_progress_and_an_interrupt_drops_it() {
    let s = roomy_server().await;
    let credits = 10_000;
    let (_, key) = s.key("bulk", credits, KeyKind::Live).await;
    let file = s.path("asins.txt");
    std::fs::write(&file, "B0T0000001\nB0CAPTCHA1\nB0T0000002\nB0NOTFND01\n").unwrap();
    let (out, fails) = (s.path("out.ndjson"), s.path("fails.ndjson"));
    let mut args = vec![
        "product",
        "--input",
        file.to_str().unwrap(),
        "--json-per-line",
        "-o",
        out.to_str().unwrap(),
        "--failures",
        fails.to_str().unwrap(),
    ];
    let run = s.spawn(Some(&key), &args, true);
    // Once the other three are done, the last input waits out its 60-90 s.
    let waiting = "progress: 3/4 ";
    run.wait_for_stderr(
        "ok 2 · failed 1 (product_not_found 1) · 1 waiting: blocked_by_amazon, next try in ",
        Duration::from_secs(90),
    )
    .await;
    let line = run
        .stderr()
        .lines()
        .find(|l| l.contains("ok 2 · failed 1") && l.contains("1 waiting"))
        .unwrap()
        .to_string();
    assert!(line.starts_with(waiting), "{line}");
    // The ETA is the wait, not 0 s: the last input is due in about a minute.
    let eta = line.split("ETA ").nth(1).unwrap();
    assert!(eta.starts_with("1 min") || eta.starts_with('5'), "{line}");

    let signalled = Instant::now();
    run.signal("INT");
    let stopped = run.finish().await;
    assert!(
        signalled.elapsed() < Duration::from_secs(10),
        "an interrupt does not wait out a retry"
    );
    assert_eq!(stopped.code, 130, "{}", stopped.stderr);
    assert!(
        stopped
            .stderr
            .contains("dropping the 1 queued or waiting to retry (not sent, not billed)"),
        "{}",
        stopped.stderr
    );
    assert_eq!(asins_in(&out, false).len(), 2);
    // The final failure is kept; the captcha, dropped, is not a failure.
    assert_eq!(lines_in(&fails), 1);
    let (balance, billed) = settled(&s, &key, credits).await;
    assert_eq!((balance, billed), (credits - 2 * COST, 2));

    // Resumed: only the captcha ASIN is asked for again (and fails again, without the
    // 60 s wait); the final not-found failure is not asked for again.
    args.extend(["--resume", "--max-retry-delay", "1s"]);
    let resumed = s.asa(Some(&key), &args, None).await;
    assert_eq!(resumed.code, 1, "{}", resumed.stderr);
    assert!(
        resumed
            .stderr
            .contains("resuming: 3 of 4 inputs already answered; 1 to do"),
        "{}",
        resumed.stderr
    );
    let failures: Vec<Value> = std::fs::read_to_string(&fails)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let codes: Vec<&str> = failures
        .iter()
        .map(|f| f["error"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["product_not_found", "blocked_by_amazon"]);
    assert_eq!(failures[1]["params"]["query"], "B0CAPTCHA1");
}

/// A second SIGINT does not wait for the requests in flight: the run stops at once, and
/// still leaves whole records only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_sigint_stops_at_once() {
    let s = roomy_server().await;
    let (_, key) = s.key("bulk", 10_000, KeyKind::Live).await;
    // 4 seconds each at Amazon.
    let asins: Vec<String> = (0..8).map(|i| format!("B0SLOW040{i}")).collect();
    let (out, summary) = (s.path("out.ndjson"), s.path("sum.json"));
    let mut args = vec![
        "product",
        "--json-per-line",
        "-o",
        out.to_str().unwrap(),
        "--summary",
        summary.to_str().unwrap(),
    ];
    args.extend(asins.iter().map(String::as_str));
    let run = s.spawn(Some(&key), &args, true);
    run.wait_for_stderr("progress: 0/8", Duration::from_secs(30))
        .await;
    run.signal("INT");
    run.wait_for_stderr("interrupted by SIGINT", Duration::from_secs(10))
        .await;
    let second = Instant::now();
    run.signal("INT");
    let stopped = run.finish().await;
    assert!(
        second.elapsed() < Duration::from_secs(3),
        "{}",
        stopped.stderr
    );
    assert_eq!(stopped.code, 130, "{}", stopped.stderr);
    assert!(
        stopped.stderr.contains("stopped at once: "),
        "{}",
        stopped.stderr
    );
    let written = asins_in(&out, false);
    assert!(written.len() < 8);
    let sum: Value = serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    assert_eq!(sum["stopped"], "SIGINT twice");
    assert_eq!(sum["ok"], written.len());
}

/// A closed pipe and a full disk stop the run at once, and say which.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_pipe_or_a_full_disk_stops_the_run_and_says_which() {
    let s = roomy_server().await;
    let (_, key) = s.key("bulk", 10_000, KeyKind::Live).await;
    let asins: Vec<String> = (0..20).map(|i| format!("B0T{i:07}")).collect();
    let mut args = vec!["product", "--json-per-line"];
    args.extend(asins.iter().map(String::as_str));

    let closed = s.spawn(Some(&key), &args, false).finish().await;
    assert_eq!(closed.code, 4, "{}", closed.stderr);
    assert!(
        closed
            .stderr
            .contains("cannot write stdout: the reading end of the pipe was closed"),
        "{}",
        closed.stderr
    );
    assert!(closed
        .stderr
        .contains("fix the output and rerun with --resume"));

    if std::path::Path::new("/dev/full").exists() {
        args.extend(["-o", "/dev/full"]);
        let full = s.asa(Some(&key), &args, None).await;
        assert_eq!(full.code, 4, "{}", full.stderr);
        assert!(
            full.stderr
                .contains("cannot write /dev/full: the disk is full"),
            "{}",
            full.stderr
        );
    }
}
