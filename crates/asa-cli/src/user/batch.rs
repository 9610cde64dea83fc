//! `asa batch <file>` (create an asynchronous batch, optionally wait for it) and
//! `asa batch-status <id>`. The file holds one item per line: a bare ASIN/URL/query, or a
//! JSON object with the sync endpoint's parameters. `--wait` shows the batch's progress as
//! a bulk run does (`progress`).

use super::interrupt::Interrupts;
use super::progress::{waiting_line, Progress, Snapshot, Waits};
use super::{fail, print_json, usage, ConnArgs};
use asa_client::{BatchEndpoint, BatchRequest, Client, Next};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum EndpointArg {
    Product,
    Search,
}

#[derive(Debug, clap::Args)]
#[command(after_help = super::EXIT_CODES_HELP)]
pub struct BatchArgs {
    /// One item per line: an ASIN/URL/query, or a JSON object of parameters (`-` = stdin).
    pub file: PathBuf,
    #[arg(long, value_enum, default_value = "product")]
    pub endpoint: EndpointArg,
    /// Applied to bare lines.
    #[arg(long)]
    pub domain: Option<String>,
    #[arg(long)]
    pub language: Option<String>,
    #[arg(long)]
    pub country: Option<String>,
    /// An https URL that receives the `batch.completed` webhook.
    #[arg(long, value_name = "URL")]
    pub webhook_url: Option<String>,
    /// Makes a repeated submission return the first batch.
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
    /// Poll until the batch is complete or failed, then print it.
    #[arg(long)]
    pub wait: bool,
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub poll_interval: Duration,
    #[command(flatten)]
    pub conn: ConnArgs,
}

#[derive(Debug, clap::Args)]
#[command(after_help = super::EXIT_CODES_HELP)]
pub struct BatchStatusArgs {
    pub id: String,
    /// Print only the results, one JSON object per line.
    #[arg(long)]
    pub json_per_line: bool,
    #[command(flatten)]
    pub conn: ConnArgs,
}

fn items(text: &str, args: &BatchArgs) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let item = if t.starts_with('{') {
            serde_json::from_str(t).map_err(|e| format!("line {}: {e}", n + 1))?
        } else {
            let mut o = json!({ "query": t });
            for (k, v) in [
                ("domain", &args.domain),
                ("language", &args.language),
                ("country", &args.country),
            ] {
                if let Some(v) = v {
                    o[k] = json!(v);
                }
            }
            o
        };
        out.push(item);
    }
    Ok(out)
}

pub fn create(args: BatchArgs) -> anyhow::Result<ExitCode> {
    let text = if args.file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(&args.file)
    };
    let text = match text {
        Ok(t) => t,
        Err(e) => return Ok(usage(format!("{}: {e}", args.file.display()))),
    };
    let items = match items(&text, &args) {
        Ok(i) if i.is_empty() => return Ok(usage("the batch file has no items")),
        Ok(i) => i,
        Err(e) => return Ok(usage(e)),
    };
    let req = BatchRequest {
        endpoint: match args.endpoint {
            EndpointArg::Product => BatchEndpoint::Product,
            EndpointArg::Search => BatchEndpoint::Search,
        },
        items,
        webhook_url: args.webhook_url.clone(),
        idempotency_key: args.idempotency_key.clone(),
    };
    let rt = super::runtime()?;
    rt.block_on(async {
        let waits = Arc::new(Waits::default());
        let seen = waits.clone();
        // The one call in flight is job 0 of `waits`: the progress says when it retries.
        let client = match args
            .conn
            .builder()
            .observer(move |e| {
                if let Next::Retry(delay) = e.next {
                    seen.scheduled(0, e.attempt.code.as_deref().unwrap_or("error"), delay);
                }
            })
            .build()
        {
            Ok(c) => c,
            Err(e) => return Ok(fail(&e)),
        };
        let created = match client.create_batch(req).await {
            Ok(r) => r,
            Err(e) => return Ok(fail(&e)),
        };
        if !args.wait {
            print_json(&created.raw)?;
            if created.data.webhook_signature_secret.is_some() {
                eprintln!("keep webhook_signature_secret: it is shown only once");
            }
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!("batch {} created; waiting", created.data.id);
        if let (Some(secret), Some(_)) = (
            &created.data.webhook_signature_secret,
            &created.data.webhook_url,
        ) {
            // The finished batch no longer shows it: this is the only chance to keep it.
            eprintln!("webhook_signature_secret {secret} (shown only once: keep it)");
        }
        wait(&client, &waits, &created.data.id, args.poll_interval).await
    })
}

/// Polls until the batch is finished, with the same progress as a bulk run: a bar on a
/// terminal, plain lines otherwise, and the poll's own retry waits. A first SIGINT/SIGTERM
/// stops waiting (the batch goes on on the server).
async fn wait(
    client: &Client,
    waits: &Waits,
    id: &str,
    every: Duration,
) -> anyhow::Result<ExitCode> {
    let mut interrupts = Interrupts::listen()?;
    let mut progress: Option<Progress> = None;
    loop {
        let polled = tokio::select! {
            biased;
            sig = interrupts.next() => {
                if let Some(p) = &progress {
                    p.finish();
                }
                eprintln!(
                    "interrupted by {}: stopped waiting; batch {id} goes on on the server (asa batch-status {id})",
                    sig.name()
                );
                return Ok(ExitCode::from(sig.exit_code()));
            }
            b = poll(client, waits, id, progress.as_ref()) => b,
        };
        let b = match polled {
            Ok(b) => b,
            Err(e) => return Ok(fail(&e)),
        };
        if b.data.status.is_finished() {
            if let Some(p) = &progress {
                p.finish();
            }
            print_json(&b.raw)?;
            let all_ok =
                b.data.failure_count == 0 && b.data.status == asa_client::BatchStatus::Complete;
            return Ok(ExitCode::from(if all_ok {
                super::EXIT_OK
            } else {
                super::EXIT_FAILED
            }));
        }
        let p = progress.get_or_insert_with(|| Progress::new(b.data.total_count.into(), true));
        let failures: BTreeMap<String, u64> = match b.data.failure_count {
            0 => BTreeMap::new(),
            n => [("failed".to_string(), u64::from(n))].into(),
        };
        p.show(&Snapshot {
            done: b.data.processed_count.into(),
            ok: b.data.success_count.into(),
            failures: &failures,
            waiting: waits.snapshot(),
            note: Some(format!("batch {}", b.raw["status"].as_str().unwrap_or("?"))),
        });
        tokio::time::sleep(every).await;
    }
}

/// One `GET /batches/{id}`, redrawing the progress while the client waits to retry it.
async fn poll(
    client: &Client,
    waits: &Waits,
    id: &str,
    progress: Option<&Progress>,
) -> Result<asa_client::Reply<asa_client::Batch>, asa_client::Error> {
    let call = client.get_batch(id);
    tokio::pin!(call);
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    // Each wait is told once, when it starts.
    let mut told = false;
    loop {
        tokio::select! {
            r = &mut call => {
                waits.clear(0);
                return r;
            }
            _ = tick.tick() => match waiting_line(&waits.snapshot()) {
                Some(line) if !told => {
                    told = true;
                    let line = format!("batch {id}: polling it failed; {line}");
                    match progress {
                        Some(p) => p.println(&line),
                        None => eprintln!("{line}"),
                    }
                }
                Some(_) => {}
                None => told = false,
            },
        }
    }
}

pub fn status(args: BatchStatusArgs) -> anyhow::Result<ExitCode> {
    let rt = super::runtime()?;
    rt.block_on(async {
        let client = match args.conn.builder().build() {
            Ok(c) => c,
            Err(e) => return Ok(fail(&e)),
        };
        match client.get_batch(args.id.trim()).await {
            Ok(b) if args.json_per_line => {
                for r in b.raw["results"].as_array().into_iter().flatten() {
                    println!("{}", serde_json::to_string(r)?);
                }
                Ok(ExitCode::SUCCESS)
            }
            Ok(b) => {
                print_json(&b.raw)?;
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Ok(fail(&e)),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        b: BatchArgs,
    }

    #[test]
    fn bare_lines_take_the_flags_and_json_lines_stay_as_given() {
        let t = T::parse_from(["t", "f.txt", "--domain", "de"]);
        let got = items(
            "# asins\nB000LQXC2Q\n\n{\"query\":\"B0X\",\"domain\":\"fr\"}\n",
            &t.b,
        )
        .unwrap();
        assert_eq!(
            got,
            vec![
                json!({"query": "B000LQXC2Q", "domain": "de"}),
                json!({"query": "B0X", "domain": "fr"})
            ]
        );
        assert!(items("{not json", &t.b).unwrap_err().starts_with("line 1"));
    }
}
