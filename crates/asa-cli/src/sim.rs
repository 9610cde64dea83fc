//! `asa sim`: run the Amazon simulator standalone, for offline demos, load tests and as the
//! upstream of a test server (`ASA_UPSTREAM_URL_TEMPLATE=http://ADDR/amazon.{domain}`).
//! Its page and fault flags ([`SimFlags`]) are `asa dev`'s too.

use anyhow::Context;
use asa_sim::{FaultRates, Latency, SimConfig};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct SimArgs {
    /// Address to listen on; repeat to open several exits (each also works as an HTTP
    /// proxy that records which exit a request took).
    #[arg(long, default_value = "127.0.0.1:8181")]
    pub listen: Vec<String>,
    #[command(flatten)]
    pub flags: SimFlags,
}

/// What the simulator serves and how it misbehaves.
#[derive(Debug, clap::Args)]
pub struct SimFlags {
    /// A folder of saved pages served verbatim for the ASINs they name.
    #[arg(long)]
    pub pages_dir: Option<String>,
    /// Target size of generated product pages, in bytes.
    #[arg(long)]
    pub page_bytes: Option<usize>,
    /// Latency added to every answer, e.g. `5s`.
    #[arg(long)]
    pub latency: Option<String>,
    #[arg(long, default_value_t = 0.0)]
    pub captcha_rate: f64,
    #[arg(long, default_value_t = 0.0)]
    pub error503_rate: f64,
    #[arg(long, default_value_t = 0.0)]
    pub reset_rate: f64,
    #[arg(long, default_value_t = 0.0)]
    pub truncate_rate: f64,
    #[arg(long, default_value_t = 0.0)]
    pub slow_rate: f64,
    /// Extra delay of a request drawn as slow, e.g. `60s`.
    #[arg(long, default_value = "60s")]
    pub slow_latency: String,
    /// Send bodies uncompressed whatever the client accepts.
    #[arg(long)]
    pub no_compress: bool,
    #[arg(long, default_value_t = 0x5eed)]
    pub seed: u64,
}

fn duration(s: &str) -> anyhow::Result<Duration> {
    humantime::parse_duration(s).with_context(|| format!("not a duration: {s}"))
}

impl SimFlags {
    pub fn config(&self) -> anyhow::Result<SimConfig> {
        let mut cfg = SimConfig {
            pages_dir: self.pages_dir.as_ref().map(Into::into),
            ..SimConfig::default()
        };
        if let Some(b) = self.page_bytes {
            cfg.page_bytes = b;
        }
        if let Some(l) = &self.latency {
            cfg.latency = Latency::Fixed(duration(l)?);
        }
        cfg.faults = FaultRates {
            captcha_rate: self.captcha_rate,
            error503_rate: self.error503_rate,
            reset_rate: self.reset_rate,
            truncate_rate: self.truncate_rate,
            slow_rate: self.slow_rate,
            slow_latency: Latency::Fixed(duration(&self.slow_latency)?),
        };
        cfg.compress = !self.no_compress;
        cfg.seed = self.seed;
        Ok(cfg)
    }
}

pub fn run(file: Option<&str>, args: SimArgs) -> anyhow::Result<ExitCode> {
    // Only for `log_format`: the simulator logs like the server beside it.
    let config =
        asa_server::Config::load(file, std::env::vars()).context("loading configuration")?;
    crate::serve::init_logs(&config, false);
    let cfg = args.flags.config()?;
    let rt = tokio::runtime::Runtime::new().context("starting the runtime")?;
    rt.block_on(async move {
        let sim = asa_sim::start_on(cfg, &args.listen).await.context("starting the simulator")?;
        for (exit, a) in sim.addrs() {
            println!("asa-sim {exit} listening on http://{a}  (upstream template: http://{a}/amazon.{{domain}})");
        }
        crate::serve::shutdown_signal().await;
        sim.shutdown().await;
        Ok(ExitCode::SUCCESS)
    })
}
