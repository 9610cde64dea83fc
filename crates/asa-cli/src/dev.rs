//! `asa dev`: a simulator and an API server in one process on free loopback ports, for
//! tests, SDK harnesses, benchmarks and trying asa out. Once both answer it prints one line
//! saying where they are (`--json`: one JSON object), then serves until SIGTERM or Ctrl-C.
//! Binding port 0 and printing what was bound leaves no window in which another process
//! could take a port picked in advance.

use anyhow::Context;
use asa_server::dev::{Dev, Launch, Upstream};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Every other setting comes from the configuration file and the ASA_* environment, as for \
`asa serve` (plans, upstream budgets, ASA_ADMIN_TOKEN for the operator's pages, ...). Where \
neither the flags nor the configuration say otherwise, the API and the operator's pages \
listen on 127.0.0.1 port 0 and the database is a fresh SQLite file in a temporary directory \
(removed on exit); the upstream is always the simulator.

The line printed with --json:
  {\"api\":\"http://127.0.0.1:PORT\",\"sim\":\"http://127.0.0.1:PORT\",\"sim_exits\":[...],
   \"admin\":null,\"database_url\":\"sqlite://...\",\"sandbox_key\":\"asa_test_...\",
   \"account\":null,\"live_key\":null}
sandbox_key is set when the database was empty (config sandbox.bootstrap); account and \
live_key with --live-key. A second node on the same state: \
`asa dev --json --sim SIM --database-url DATABASE_URL`.")]
pub struct DevArgs {
    /// Print one JSON object instead of a sentence.
    #[arg(long)]
    pub json: bool,
    /// Where the API listens (default 127.0.0.1:0).
    #[arg(long)]
    pub listen: Option<String>,
    /// Where the operator's pages and /metrics listen, served only with an admin token
    /// (ASA_ADMIN_TOKEN; default 127.0.0.1:0).
    #[arg(long)]
    pub admin_listen: Option<String>,
    /// Database URL (default a fresh SQLite file in a temporary directory).
    #[arg(long)]
    pub database_url: Option<String>,
    /// Fetch from a simulator already running (another `asa dev`'s `sim`) instead of
    /// starting one; the simulator flags below are then ignored.
    #[arg(long, value_name = "URL")]
    pub sim: Option<String>,
    /// Where the simulator listens; repeat to open several exits (each also an HTTP proxy).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub sim_listen: Vec<String>,
    /// Also create an account on this plan with a live key, and print both.
    #[arg(long, value_name = "PLAN")]
    pub live_key: Option<String>,
    /// Credits of the --live-key account.
    #[arg(long, default_value_t = 1_000_000_000, requires = "live_key")]
    pub credits: i64,
    /// Log as JSON lines instead of text (logs go to stderr; overrides `log_format`).
    #[arg(long)]
    pub json_logs: bool,
    #[command(flatten)]
    pub sim_flags: crate::sim::SimFlags,
}

pub fn run(file: Option<&str>, args: DevArgs) -> anyhow::Result<ExitCode> {
    let config =
        asa_server::Config::load(file, std::env::vars()).context("loading configuration")?;
    let upstream = match &args.sim {
        Some(url) => Upstream::Shared(url.clone()),
        None => Upstream::Sim(args.sim_flags.config()?),
    };
    crate::serve::init_logs(&config, args.json_logs);
    let rt = tokio::runtime::Runtime::new().context("starting the runtime")?;
    rt.block_on(async move {
        let mut launch = Launch::new(config)
            .upstream(upstream)
            .sim_listen(args.sim_listen.clone());
        if let Some(addr) = &args.listen {
            launch = launch.listen(addr);
        }
        if let Some(addr) = &args.admin_listen {
            launch = launch.admin_listen(addr);
        }
        if let Some(url) = &args.database_url {
            launch = launch.database_url(url);
        }
        let dev = launch.start().await?;
        dev.wait_ready().await?;
        let live = match &args.live_key {
            Some(plan) => Some(dev.live_key(plan, args.credits).await?),
            None => None,
        };
        let line = if args.json {
            serde_json::to_string(&summary(&dev, live.as_ref()))?
        } else {
            sentence(&dev, live.as_ref())
        };
        // The one line on stdout; logs go to stderr.
        println!("{line}");
        crate::serve::shutdown_signal().await;
        dev.stop().await?;
        Ok(ExitCode::SUCCESS)
    })
}

fn summary(dev: &Dev, live: Option<&asa_server::dev::LiveKey>) -> serde_json::Value {
    let exits: Vec<String> = dev
        .sim()
        .map(|s| {
            s.addrs()
                .iter()
                .map(|(_, a)| format!("http://{a}"))
                .collect()
        })
        .unwrap_or_default();
    serde_json::json!({
        "api": dev.api_url(),
        "sim": dev.sim_url(),
        "sim_exits": exits,
        "admin": dev.admin_url(),
        "database_url": dev.database_url(),
        "sandbox_key": dev.sandbox_key(),
        "account": live.map(|l| &l.account_id),
        "live_key": live.map(|l| &l.key),
    })
}

fn sentence(dev: &Dev, live: Option<&asa_server::dev::LiveKey>) -> String {
    let mut s = format!(
        "asa dev: API {} fetching from the simulator at {}, database {}",
        dev.api_url(),
        dev.sim_url()
            .unwrap_or_else(|| "(configured upstream)".into()),
        dev.database_url()
    );
    if let Some(admin) = dev.admin_url() {
        s.push_str(&format!(", operator pages {admin}/operator"));
    }
    if let Some(key) = dev.sandbox_key() {
        s.push_str(&format!("; sandbox key {key}"));
    }
    if let Some(l) = live {
        s.push_str(&format!(
            "; account {} with live key {}",
            l.account_id, l.key
        ));
    }
    s
}
