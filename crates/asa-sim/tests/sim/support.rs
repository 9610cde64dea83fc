//! Shared helpers: a simulator per test and a raw client.

use asa_sim::{SimConfig, SimHandle};
use std::time::Duration;

/// Small generated pages keep the tests fast where size does not matter.
pub fn small() -> SimConfig {
    SimConfig {
        page_bytes: 60_000,
        ..SimConfig::default()
    }
}

pub async fn sim(cfg: SimConfig) -> SimHandle {
    asa_sim::start_local(cfg).await.expect("simulator starts")
}

/// A client that neither decodes bodies nor follows redirects, so tests see the wire.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .no_deflate()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client")
}

pub fn url(sim: &SimHandle, path: &str) -> String {
    format!("http://{}{path}", sim.addr())
}

pub async fn get(sim: &SimHandle, path: &str) -> (u16, String) {
    let r = client().get(url(sim, path)).send().await.expect("response");
    let status = r.status().as_u16();
    (status, r.text().await.expect("body"))
}
