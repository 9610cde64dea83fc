//! A TLS simulator and an upstream pointed at it, for the engine and session tests.

use asa_model::Marketplace;
use asa_sim::{BotManager, RequestRecord, SimConfig, SimHandle};
use asa_upstream::{Engine, Judge, Outcome, UpstreamConfig, Verdict};
use std::sync::Arc;
use std::time::Duration;

/// Reads the simulator's pages: its robot check is a challenge, anything else a page.
pub struct SimJudge;

impl Judge for SimJudge {
    type Output = ();
    fn judge(&self, _status: u16, _final_url: &str, body: &[u8]) -> Verdict<()> {
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

pub fn judge() -> Arc<SimJudge> {
    Arc::new(SimJudge)
}

/// A TLS simulator on `exits` listeners (`exit-1`, ...), with small pages.
pub async fn sim(exits: usize, bot: Option<BotManager>) -> SimHandle {
    let exits = vec!["127.0.0.1:0"; exits];
    let cfg = SimConfig {
        tls: true,
        bot_manager: bot,
        page_bytes: 20_000,
        ..SimConfig::default()
    };
    asa_sim::start_on(cfg, &exits).await.unwrap()
}

/// An upstream on `engine` that reaches the simulator over TLS and trusts its
/// certificate: directly, or through its exits as HTTP proxies (`CONNECT`) with the
/// live storefront URLs.
pub fn config(sim: &SimHandle, engine: Engine, through_exits: bool) -> UpstreamConfig {
    let mut cfg = UpstreamConfig {
        url_template: sim.https_url_template().unwrap(),
        engine,
        extra_root_certs: vec![sim.tls_certificate_pem().unwrap().to_string()],
        overall_timeout: Duration::from_secs(20),
        attempt_timeout: Duration::from_secs(10),
        backoff_base: Duration::from_millis(5),
        backoff_cap: Duration::from_millis(20),
        ..UpstreamConfig::default()
    };
    if through_exits {
        cfg.url_template = "https://www.amazon.{domain}".into();
        let proxies = sim
            .addrs()
            .iter()
            .map(|(id, addr)| format!("http://{addr}#{id}"))
            .collect();
        cfg.proxies
            .insert(Marketplace::De.country().to_string(), proxies);
    }
    cfg
}

/// The simulator's records of product requests, in arrival order.
pub fn product_requests(sim: &SimHandle) -> Vec<RequestRecord> {
    sim.requests()
        .into_iter()
        .filter(|r| r.asin.is_some())
        .collect()
}
