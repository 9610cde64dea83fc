//! One request in, one planned answer out: route it, pick its fault, find or build its
//! body, encode it as the client accepts, and record it.

use crate::bot::BotDesk;
use crate::cache::PageCache;
use crate::config::SimConfig;
use crate::encoding::{encode, negotiate};
use crate::faults::{
    magic_product, magic_search, Fault, MagicProduct, RateDraws, HUGE_PAGE_BYTES, REDIRECT_TARGET,
};
use crate::fingerprint::ConnectionPrint;
use crate::log::{RequestLog, RequestRecord};
use crate::pages::{blocks, product::product_page, search::search_page};
use crate::routing::{route, Routed, Target};
use crate::saved::{strip_http_header, SavedPages};
use crate::truth::{product_truth, search_truth};
use asa_model::{Marketplace, SortBy};
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A parsed request head.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// How the connection delivers a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Send,
    /// Reset the connection instead of answering.
    Reset,
    /// Promise more bytes than are sent, then close.
    Truncate,
    /// Send the head at once and the body in [`DRIP_PIECES`] pieces spread over this long.
    Drip(Duration),
}

/// The pieces a dripped body is sent in.
pub const DRIP_PIECES: usize = 20;

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Bytes,
    pub action: Action,
    pub head_only: bool,
}

/// What the body is before encoding.
struct Outcome {
    status: u16,
    body: Bytes,
    /// Set for cached bodies, so their encodings are cached too.
    key: Option<String>,
    fault: Option<Fault>,
    source: &'static str,
    location: Option<String>,
    content_type: &'static str,
}

impl Outcome {
    fn html(status: u16, body: String, source: &'static str) -> Outcome {
        Outcome {
            status,
            body: Bytes::from(body),
            key: None,
            fault: None,
            source,
            location: None,
            content_type: "text/html;charset=UTF-8",
        }
    }
}

#[derive(Debug)]
pub struct App {
    pub cfg: SimConfig,
    pub log: RequestLog,
    cache: PageCache,
    saved: Option<SavedPages>,
    flaky: Mutex<HashMap<String, u32>>,
    /// Faults forced on every product/search request through an exit.
    exit_faults: Mutex<HashMap<String, Fault>>,
    draws: RateDraws,
    /// The bot manager, when `cfg.bot_manager` is set.
    bot: Option<BotDesk>,
}

impl App {
    pub fn new(cfg: SimConfig, saved: Option<SavedPages>) -> App {
        App {
            log: RequestLog::new(cfg.log_capacity),
            cache: PageCache::new(cfg.cache_bytes),
            draws: RateDraws::new(cfg.seed),
            flaky: Mutex::new(HashMap::new()),
            exit_faults: Mutex::new(HashMap::new()),
            bot: cfg.bot_manager.clone().map(BotDesk::new),
            saved,
            cfg,
        }
    }

    /// Forgets the request log and the per-ASIN counters of `B0FLAKYn`.
    pub fn clear(&self) {
        self.log.clear();
        self.flaky.lock().unwrap_or_else(|e| e.into_inner()).clear();
        if let Some(bot) = &self.bot {
            bot.clear();
        }
    }

    /// Answers a request that came in without TLS.
    pub async fn handle(&self, req: &Request, exit: &str) -> Response {
        self.handle_from(req, exit, None).await
    }

    /// Answers a request from a client with the connection fingerprint `print` (TLS).
    pub async fn handle_from(
        &self,
        req: &Request,
        exit: &str,
        print: Option<&ConnectionPrint>,
    ) -> Response {
        let started = Instant::now();
        let at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let seq = self.log.next_seq();
        let routed = route(
            &req.method,
            &req.target,
            req.header("host"),
            req.header("cookie"),
        );
        let mut record = RequestRecord {
            seq,
            exit: exit.to_string(),
            method: req.method.clone(),
            url: req.target.clone(),
            proxied: req.target.starts_with("http://") || req.target.starts_with("https://"),
            host: req.header("host").map(str::to_string),
            marketplace: Some(routed.marketplace.domain().to_string()),
            language: Some(routed.language.clone()),
            asin: None,
            query: None,
            page: None,
            fault: None,
            source: None,
            status: None,
            at_ms,
            elapsed_ms: 0,
            ja3: print.map(|p| p.tls.ja3.clone()),
            ja4: print.map(|p| p.tls.ja4.clone()),
            http2: print.and_then(|p| p.http2.get().cloned()),
            alpn: print.and_then(|p| p.tls.alpn.clone()),
            session: None,
            bot: None,
        };
        let head_only = req.method == "HEAD";
        // Decide the fault first and wait before building the body, so a request that
        // waits (5 s in the benchmarks) holds no page in memory meanwhile.
        let (mut fault, fault_delay) = match &routed.target {
            Target::Product { asin } => self.product_fault(asin, exit),
            Target::Search { query, page, .. } => self.search_fault(query, *page, exit),
            _ => (None, Duration::ZERO),
        };
        let mut new_session = None;
        if let (Some(bot), Target::Product { .. } | Target::Search { .. }) =
            (&self.bot, &routed.target)
        {
            let seen = bot.see(req, exit, print, &self.draws);
            record.session = seen.session;
            new_session = seen.new_session;
            // Magic values and forced faults keep their meaning; the bot manager's
            // challenge takes the place of a clean answer.
            if let (None, Some(challenge)) = (fault, seen.challenge) {
                record.bot = Some(challenge.as_str().to_string());
                fault = Some(Fault::Captcha);
            }
        }
        let is_fetch = req.method == "GET" || head_only;
        // A dripped body takes its delay while it is sent, not before the head.
        let (fault_delay, drip) = match fault {
            Some(Fault::Drip) => (Duration::ZERO, fault_delay),
            _ => (fault_delay, Duration::ZERO),
        };
        let delay = self.cfg.latency.sample(self.draws.unit()) + fault_delay;
        if is_fetch
            && !matches!(routed.target, Target::SimRequests | Target::SimClear)
            && !delay.is_zero()
        {
            tokio::time::sleep(delay).await;
        }
        let outcome = match &routed.target {
            Target::SimRequests => {
                let json = serde_json::to_vec(&self.log.snapshot()).unwrap_or_default();
                return plain(200, "application/json", Bytes::from(json));
            }
            Target::SimClear => {
                self.clear();
                return plain(204, "text/plain", Bytes::new());
            }
            _ if req.method == "CONNECT" => Outcome {
                content_type: "text/plain;charset=UTF-8",
                ..Outcome::html(501, "CONNECT is not supported: asa-sim is a plain-HTTP proxy; send absolute-form GET requests.\n".into(), "block")
            },
            _ if !is_fetch => Outcome {
                content_type: "text/plain;charset=UTF-8",
                ..Outcome::html(405, "Method Not Allowed\n".into(), "block")
            },
            Target::Product { asin } => {
                record.asin = Some(asin.clone());
                self.product(&routed, asin, fault).await
            }
            Target::Search { query, page, sort } => {
                record.query = Some(query.clone());
                record.page = Some(*page);
                self.search(&routed, query, *page, *sort, fault).await
            }
            Target::Other => Outcome::html(404, blocks::not_found(routed.marketplace), "block"),
        };
        let action = match outcome.fault {
            Some(Fault::Reset) => Action::Reset,
            Some(Fault::Truncate) => Action::Truncate,
            Some(Fault::Drip) => Action::Drip(drip),
            _ => Action::Send,
        };
        record.fault = outcome.fault.map(|f| f.as_str().to_string());
        record.source = Some(outcome.source.to_string());
        record.status = (action != Action::Reset).then_some(outcome.status);
        record.elapsed_ms = started.elapsed().as_millis() as u64;
        tracing::debug!(exit, url = %record.url, status = ?record.status, fault = ?record.fault, "sim request");
        self.log.push(record);
        let mut response = self
            .respond(outcome, &routed, req, action, head_only, seq)
            .await;
        if let Some(id) = new_session {
            response
                .headers
                .push(("Set-Cookie", format!("session-id={id}; Path=/")));
        }
        response
    }

    /// A fault forced on exit `exit`, with its delay when it is `Slow`.
    fn exit_fault(&self, exit: &str) -> Option<(Fault, Duration)> {
        let forced = *self
            .exit_faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(exit)?;
        let delay = match forced {
            Fault::Slow => self.cfg.faults.slow_latency.sample(self.draws.unit()),
            _ => Duration::ZERO,
        };
        Some((forced, delay))
    }

    pub fn set_exit_fault(&self, exit: &str, fault: Option<Fault>) {
        let mut map = self.exit_faults.lock().unwrap_or_else(|e| e.into_inner());
        match fault {
            Some(f) => map.insert(exit.to_string(), f),
            None => map.remove(exit),
        };
    }

    /// The fault a product request meets: exit override, magic ASIN, then rates.
    fn product_fault(&self, asin: &str, exit: &str) -> (Option<Fault>, Duration) {
        let mut fault = None;
        let mut delay = Duration::ZERO;
        let magic = match self.exit_fault(exit) {
            Some((f, d)) => Some(MagicProduct::Fault(f, d)),
            None => magic_product(asin),
        };
        match magic {
            Some(MagicProduct::Fault(f, d)) => (fault, delay) = (Some(f), d),
            Some(MagicProduct::Flaky(n)) => {
                let mut counts = self.flaky.lock().unwrap_or_else(|e| e.into_inner());
                let seen = counts.entry(asin.to_string()).or_insert(0);
                *seen += 1;
                if *seen <= n {
                    fault = Some(Fault::Captcha);
                }
            }
            None => {
                if let Some((f, d)) = self.draws.draw(&self.cfg.faults) {
                    (fault, delay) = (Some(f), d);
                }
            }
        }
        (fault, delay)
    }

    async fn product(&self, routed: &Routed, asin: &str, fault: Option<Fault>) -> Outcome {
        let m = routed.marketplace;
        let lang = routed.language.as_str();
        let mut out = match fault {
            Some(Fault::Captcha) => Outcome::html(200, blocks::captcha(m, asin), "block"),
            Some(Fault::WafChallenge) => Outcome::html(202, blocks::waf_challenge(asin), "block"),
            Some(Fault::Error503) => Outcome::html(503, blocks::error_503(m), "block"),
            Some(Fault::NotFound) => Outcome::html(404, blocks::not_found(m), "block"),
            Some(Fault::Gallery) => Outcome::html(200, blocks::gallery(m, asin, lang), "block"),
            Some(Fault::UnknownLayout) => Outcome::html(
                200,
                blocks::unknown_product(&product_truth(m, asin, lang)),
                "generated",
            ),
            Some(Fault::Redirect) => {
                let location = match &routed.origin {
                    Some(origin) => format!("{origin}/dp/{REDIRECT_TARGET}"),
                    None => format!("{}/dp/{REDIRECT_TARGET}", routed.prefix),
                };
                Outcome {
                    location: Some(location.clone()),
                    ..Outcome::html(301, blocks::moved(&location), "block")
                }
            }
            Some(Fault::Huge) => self.generated_product(m, asin, lang, HUGE_PAGE_BYTES).await,
            Some(Fault::Slow | Fault::Reset | Fault::Truncate | Fault::Drip) | None => {
                self.product_body(m, asin, lang).await
            }
        };
        out.fault = fault;
        out
    }

    async fn product_body(&self, m: Marketplace, asin: &str, lang: &str) -> Outcome {
        if let Some(path) = self.saved.as_ref().and_then(|s| s.product(m, asin)) {
            if let Some(out) = self.saved_body(path).await {
                return out;
            }
        }
        self.generated_product(m, asin, lang, self.cfg.page_bytes)
            .await
    }

    async fn generated_product(
        &self,
        m: Marketplace,
        asin: &str,
        lang: &str,
        bytes: usize,
    ) -> Outcome {
        let key = format!("p|{}|{asin}|{lang}|{bytes}", m.domain());
        let (asin, lang) = (asin.to_string(), lang.to_string());
        let body = self
            .cache
            .get_or_build(key.clone(), move || {
                Bytes::from(product_page(&product_truth(m, &asin, &lang), bytes))
            })
            .await;
        Outcome {
            key: Some(key),
            ..Outcome::html(200, String::new(), "generated")
        }
        .with_body(body)
    }

    async fn saved_body(&self, path: &std::path::Path) -> Option<Outcome> {
        let key = format!("f|{}", path.display());
        let owned = path.to_path_buf();
        let body = self
            .cache
            .get_or_build(key.clone(), move || match std::fs::read(&owned) {
                Ok(raw) => Bytes::copy_from_slice(strip_http_header(&raw)),
                Err(e) => {
                    tracing::warn!(path = %owned.display(), error = %e, "saved page unreadable; generating instead");
                    Bytes::new()
                }
            })
            .await;
        (!body.is_empty()).then(|| {
            Outcome {
                key: Some(key),
                ..Outcome::html(200, String::new(), "saved")
            }
            .with_body(body)
        })
    }

    /// The fault a search request meets: exit override, magic query, then rates.
    fn search_fault(&self, query: &str, page: u32, exit: &str) -> (Option<Fault>, Duration) {
        let drawn = self
            .exit_fault(exit)
            .or_else(|| magic_search(query, page))
            .or_else(|| self.draws.draw(&self.cfg.faults));
        match drawn {
            Some((f, d)) => (Some(f), d),
            None => (None, Duration::ZERO),
        }
    }

    async fn search(
        &self,
        routed: &Routed,
        query: &str,
        page: u32,
        sort: SortBy,
        fault: Option<Fault>,
    ) -> Outcome {
        let m = routed.marketplace;
        let lang = routed.language.clone();
        let mut out = match fault {
            Some(Fault::Captcha) => Outcome::html(200, blocks::captcha(m, query), "block"),
            Some(Fault::WafChallenge) => Outcome::html(202, blocks::waf_challenge(query), "block"),
            Some(Fault::Error503) => Outcome::html(503, blocks::error_503(m), "block"),
            Some(Fault::UnknownLayout) => {
                Outcome::html(200, blocks::unknown_search(m, query, &lang), "generated")
            }
            _ => {
                let saved = self.saved.as_ref().and_then(|s| s.search(m, query, page));
                let from_disk = match saved {
                    Some(path) => self.saved_body(path).await,
                    None => None,
                };
                match from_disk {
                    Some(o) => o,
                    None => {
                        let key =
                            format!("s|{}|{query}|{page}|{}|{lang}", m.domain(), sort.as_str());
                        let bytes = self.cfg.page_bytes * 3 / 4;
                        let q = query.to_string();
                        let body = self
                            .cache
                            .get_or_build(key.clone(), move || {
                                Bytes::from(search_page(
                                    &search_truth(m, &q, page, sort, &lang),
                                    bytes,
                                ))
                            })
                            .await;
                        Outcome {
                            key: Some(key),
                            ..Outcome::html(200, String::new(), "generated")
                        }
                        .with_body(body)
                    }
                }
            }
        };
        out.fault = fault;
        out
    }

    async fn respond(
        &self,
        out: Outcome,
        routed: &Routed,
        req: &Request,
        action: Action,
        head_only: bool,
        seq: u64,
    ) -> Response {
        let mut headers: Vec<(&'static str, String)> = vec![
            ("Content-Type", out.content_type.to_string()),
            ("Server", "Server".to_string()),
            (
                "Vary",
                "Content-Type,Accept-Encoding,User-Agent".to_string(),
            ),
            ("Content-Language", routed.language.replace('_', "-")),
            ("x-amz-rid", format!("SIM{seq:017}")),
        ];
        if out.status == 202 {
            headers.push(("x-amzn-waf-action", "challenge".to_string()));
        }
        if let Some(location) = &out.location {
            headers.push(("Location", location.clone()));
        }
        let encoding = if self.cfg.compress && out.body.len() >= 256 {
            negotiate(req.header("accept-encoding"))
        } else {
            None
        };
        let body = match encoding {
            None => out.body,
            Some(enc) => {
                headers.push(("Content-Encoding", enc.to_string()));
                let plain = out.body;
                match out.key {
                    Some(key) => {
                        self.cache
                            .get_or_build(format!("{key}|{enc}"), move || encode(&plain, enc))
                            .await
                    }
                    None => encode(&plain, enc),
                }
            }
        };
        Response {
            status: out.status,
            headers,
            body,
            action,
            head_only,
        }
    }
}

impl Outcome {
    fn with_body(mut self, body: Bytes) -> Outcome {
        self.body = body;
        self
    }
}

fn plain(status: u16, content_type: &str, body: Bytes) -> Response {
    Response {
        status,
        headers: vec![("Content-Type", content_type.to_string())],
        body,
        action: Action::Send,
        head_only: false,
    }
}
