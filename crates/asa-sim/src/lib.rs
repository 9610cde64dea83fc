//! asa-sim: a stand-in Amazon for tests, sandbox keys (`asa_test_...`), demos and
//! benchmarks. It serves product (`/dp/<ASIN>`, `/gp/product/<ASIN>`, `/<slug>/dp/<ASIN>`)
//! and search (`/s?k=...&page=N&s=...`) pages for every marketplace, from a directory of
//! saved pages or from its own templates imitating Amazon's current desktop markup, with
//! realistic sizes (1-2 MB), locale-correct numbers, gzip/br encoding, and fault modes.
//!
//! It must not be used by production paths, except to serve sandbox keys: nothing here
//! talks to Amazon, and nothing a live request fetches may come from it.
//!
//! The marketplace comes from an Amazon `Host` (also absolute-form proxy requests,
//! `GET http://www.amazon.de/dp/X`) or a first path segment `amazon.<domain>` (the
//! upstream URL template in tests is `http://127.0.0.1:PORT/amazon.{domain}`).
//!
//! With `SimConfig::tls` it also sees what Amazon's bot defences see: every listener
//! accepts TLS and `CONNECT` tunnels (a client using the exit as its proxy, with the live
//! `https://www.amazon.*` URLs), records each client's JA3, JA4 and HTTP/2 (Akamai)
//! fingerprints in the request log, and serves HTTP/2 to clients that offer it. With
//! `SimConfig::bot_manager` it challenges, at configured rates, clients whose fingerprints
//! are not a browser's, or whose session changed exit or fingerprint.
//!
//! Magic ASINs and queries trigger each fault deterministically (see `FAULTS.md`):
//! `B0CAPTCHA*` captcha (200), `B0WAFCHAL*` AWS WAF challenge (202), `B0ERR503*` 503,
//! `B0NOTFND*` 404, `B0GALLERY*` delisted shelf (200), `B0REDIRCT*` 301 to `B0MOVEDTO1`,
//! `B0UNKNOWN*` unknown layout (200), `B0SLOWnnnn` waits nnnn x 10 ms, `B0DRIPnnnn` sends
//! its body over nnnn x 10 ms, `B0RESET*` reset,
//! `B0TRUNC*` truncated body, `B0HUGE*` 20 MB page, `B0FLAKYn*` captcha for the first n
//! requests. Queries: `sim-captcha`, `sim-waf`, `sim-503`, `sim-empty`, `sim-slow-<ms>`,
//! `sim-fail-page-<n>`, `sim-unknown`, `sim-reset`, `sim-truncate`.
//!
//! # Layout
//! - [`config`]: `SimConfig`, fault rates, latency distributions.
//! - [`truth`]: `product_truth` / `search_truth`, the values each generated page states.
//! - [`pages`]: HTML templates (product, search, block pages, bulk padding).
//! - [`i18n`], [`money`]: interface labels per language; prices, counts and ratings per
//!   storefront locale.
//! - [`faults`]: magic ASINs/queries and seeded rate draws.
//! - [`routing`]: request -> marketplace, language, page.
//! - [`saved`]: the directory of saved pages.
//! - [`handler`], [`http`], [`cache`], [`encoding`], [`log`]: the server: per-request
//!   plan, a small HTTP/1.1 server with socket-level faults, the bounded page cache,
//!   gzip/br, the request log.
//! - [`sim`]: `start`, `start_local` and `SimHandle`.
//! - [`tls`], `h2`, [`fingerprint`]: the TLS listener (self-signed certificate, `CONNECT`
//!   tunnels), HTTP/2 serving, and the ClientHello / HTTP/2 preface parsers with JA3, JA4
//!   and the Akamai fingerprint.
//! - [`bot`]: the bot-manager mode.

pub mod bot;
pub mod cache;
pub mod config;
pub mod detrand;
pub mod encoding;
pub mod faults;
pub mod fingerprint;
mod h2;
pub mod handler;
pub mod http;
pub mod i18n;
pub mod log;
pub mod money;
pub mod pages;
pub mod routing;
pub mod saved;
pub mod sim;
pub mod tls;
pub mod truth;

pub use bot::{known_browsers, BotManager, BrowserFamily, BrowserPrint};
pub use config::{FaultRates, Latency, SimConfig, DEFAULT_PAGE_BYTES};
pub use faults::{Fault, HUGE_PAGE_BYTES, REDIRECT_TARGET};
pub use fingerprint::ClientFingerprint;
pub use log::RequestRecord;
pub use sim::{start, start_local, start_on, SimError, SimHandle};
pub use truth::{
    product_truth, search_truth, ProductTruth, SearchResultTruth, SearchTruth, VariationTruth,
};

use asa_model::{Marketplace, SortBy};

/// The generated product page for `asin`, as the simulator serves it, without a server.
pub fn render_product_page(
    m: Marketplace,
    asin: &str,
    language: &str,
    page_bytes: usize,
) -> String {
    pages::product::product_page(&product_truth(m, asin, language), page_bytes)
}

/// The generated search page, as the simulator serves it, without a server.
pub fn render_search_page(
    m: Marketplace,
    query: &str,
    page: u32,
    sort: SortBy,
    language: &str,
    page_bytes: usize,
) -> String {
    pages::search::search_page(&search_truth(m, query, page, sort, language), page_bytes)
}
