//! The bot-manager mode: what Amazon's defences do with what they see before the page.
//!
//! A client is challenged (the robot-check page) at configured rates when
//! - its session (`session-id` cookie, set by the first answer) comes back through
//!   another exit (IP) or with another TLS / HTTP/2 fingerprint than it started with;
//! - its fingerprints are not a browser's: JA4 and HTTP/2 fingerprint not a known
//!   browser's, or a known browser's other than the one its `User-Agent` names;
//! - and, rarely, for no reason a client can fix (real visitors meet captchas too).

use crate::faults::RateDraws;
use crate::fingerprint::ConnectionPrint;
use crate::handler::Request;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// A browser engine family, as told by the user agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrowserFamily {
    /// Chrome, Edge, Opera and other Chromium browsers share one network stack.
    Chromium,
    Firefox,
    Safari,
}

impl BrowserFamily {
    /// The family a `User-Agent` claims, if it claims a desktop browser.
    pub fn of_user_agent(ua: &str) -> Option<BrowserFamily> {
        if ua.contains("Firefox/") {
            Some(BrowserFamily::Firefox)
        } else if ua.contains("Chrome/") || ua.contains("Edg/") {
            Some(BrowserFamily::Chromium)
        } else if ua.contains("Safari/") && ua.contains("Version/") {
            Some(BrowserFamily::Safari)
        } else {
            None
        }
    }
}

/// The network fingerprints of one browser release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserPrint {
    pub family: BrowserFamily,
    pub ja4: String,
    /// Akamai format.
    pub http2: String,
}

/// Rates (0.0..=1.0) and the browsers the bot manager knows.
#[derive(Debug, Clone)]
pub struct BotManager {
    /// A session seen again through another exit or with other fingerprints.
    pub session_change_rate: f64,
    /// A client whose fingerprints are not those of the browser it claims to be.
    pub non_browser_rate: f64,
    /// Any other client.
    pub browser_rate: f64,
    pub browsers: Vec<BrowserPrint>,
}

/// Current desktop browsers' fingerprints as published by public fingerprinting pages
/// (JA4 per FoxIO's spec, HTTP/2 in Akamai's format).
pub fn known_browsers() -> Vec<BrowserPrint> {
    let print = |family, ja4: &str, http2: &str| BrowserPrint {
        family,
        ja4: ja4.to_string(),
        http2: http2.to_string(),
    };
    use BrowserFamily::*;
    vec![
        // Chrome / Edge 133 and later (ALPS on its new code point 17613).
        print(
            Chromium,
            "t13d1516h2_8daaf6152771_d8a2da3f94cd",
            "1:65536;2:0;4:6291456;6:262144|15663105|0|m,a,s,p",
        ),
        // Chrome / Edge 120-132 (ALPS on 17513).
        print(
            Chromium,
            "t13d1516h2_8daaf6152771_02713d6af862",
            "1:65536;2:0;4:6291456;6:262144|15663105|0|m,a,s,p",
        ),
        // Firefox 13x.
        print(
            Firefox,
            "t13d1717h2_5b57614c22b0_3cbfd9057e0d",
            "1:65536;2:0;4:131072;5:16384|12517377|0|m,p,a,s",
        ),
        // Safari 17 / 18 on macOS.
        print(
            Safari,
            "t13d2014h2_a09f3c656075_14788d8d241b",
            "2:0;3:100;4:2097152;9:1|10420225|0|m,s,a,p",
        ),
    ]
}

impl Default for BotManager {
    /// Strict: every tell is challenged, ordinary browsers never.
    fn default() -> Self {
        BotManager {
            session_change_rate: 1.0,
            non_browser_rate: 1.0,
            browser_rate: 0.0,
            browsers: known_browsers(),
        }
    }
}

/// Why a request was challenged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge {
    SessionIpChanged,
    SessionFingerprintChanged,
    NotABrowser,
    Baseline,
}

impl Challenge {
    pub fn as_str(self) -> &'static str {
        match self {
            Challenge::SessionIpChanged => "session_ip_changed",
            Challenge::SessionFingerprintChanged => "session_fingerprint_changed",
            Challenge::NotABrowser => "not_a_browser",
            Challenge::Baseline => "baseline",
        }
    }
}

/// How one request was seen.
#[derive(Debug, Default)]
pub struct Seen {
    /// Its session id, old or new.
    pub session: Option<String>,
    /// A session id minted for this answer's `Set-Cookie`.
    pub new_session: Option<String>,
    pub challenge: Option<Challenge>,
}

/// What a session started with.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    exit: String,
    ja4: Option<String>,
    http2: Option<String>,
}

/// Sessions remembered before the table is cleared: enough for any benchmark run.
const MAX_SESSIONS: usize = 1_000_000;

#[derive(Debug)]
pub struct BotDesk {
    cfg: BotManager,
    sessions: Mutex<HashMap<String, Origin>>,
    minted: AtomicU64,
}

/// The `session-id` cookie's value, if the request carries one.
fn session_cookie(req: &Request) -> Option<String> {
    req.headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("cookie"))
        .flat_map(|(_, v)| v.split(';'))
        .find_map(|c| c.trim().strip_prefix("session-id=").map(str::to_string))
}

impl BotDesk {
    pub fn new(cfg: BotManager) -> BotDesk {
        BotDesk {
            cfg,
            sessions: Mutex::new(HashMap::new()),
            minted: AtomicU64::new(0),
        }
    }

    pub fn clear(&self) {
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Whether the client's fingerprints are those of the browser its user agent names.
    fn is_browser(&self, req: &Request, print: Option<&ConnectionPrint>) -> bool {
        let Some(print) = print else { return false };
        let Some(family) = req
            .header("user-agent")
            .and_then(BrowserFamily::of_user_agent)
        else {
            return false;
        };
        let http2 = print.http2.get();
        self.cfg
            .browsers
            .iter()
            .any(|b| b.family == family && b.ja4 == print.tls.ja4 && http2 == Some(&b.http2))
    }

    /// Registers the request's session and decides whether it meets a challenge.
    pub fn see(
        &self,
        req: &Request,
        exit: &str,
        print: Option<&ConnectionPrint>,
        draws: &RateDraws,
    ) -> Seen {
        let origin = Origin {
            exit: exit.to_string(),
            ja4: print.map(|p| p.tls.ja4.clone()),
            http2: print.and_then(|p| p.http2.get().cloned()),
        };
        let mut seen = Seen::default();
        let change = {
            let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
            if sessions.len() >= MAX_SESSIONS {
                sessions.clear();
            }
            match session_cookie(req) {
                Some(id) => {
                    let started = sessions.entry(id.clone()).or_insert_with(|| origin.clone());
                    seen.session = Some(id);
                    if started.exit != origin.exit {
                        Some(Challenge::SessionIpChanged)
                    } else if *started != origin {
                        Some(Challenge::SessionFingerprintChanged)
                    } else {
                        None
                    }
                }
                None => {
                    let n = self.minted.fetch_add(1, Ordering::Relaxed) + 1;
                    let id = format!("262-{:07}-{:07}", n / 10_000_000, n % 10_000_000);
                    sessions.insert(id.clone(), origin);
                    seen.session = Some(id.clone());
                    seen.new_session = Some(id);
                    None
                }
            }
        };
        let hit = |rate: f64| rate > 0.0 && draws.unit() < rate;
        seen.challenge = match change {
            Some(c) if hit(self.cfg.session_change_rate) => Some(c),
            _ if !self.is_browser(req, print) => {
                hit(self.cfg.non_browser_rate).then_some(Challenge::NotABrowser)
            }
            _ => hit(self.cfg.browser_rate).then_some(Challenge::Baseline),
        };
        seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fingerprint::ClientFingerprint;

    fn req(ua: &str, cookie: Option<&str>) -> Request {
        let mut headers = vec![("user-agent".to_string(), ua.to_string())];
        if let Some(c) = cookie {
            headers.push(("cookie".to_string(), c.to_string()));
        }
        Request {
            method: "GET".into(),
            target: "/dp/B000000001".into(),
            headers,
        }
    }

    fn chrome_print() -> ConnectionPrint {
        let b = &known_browsers()[0];
        let p = ConnectionPrint {
            tls: ClientFingerprint {
                ja4: b.ja4.clone(),
                ..ClientFingerprint::default()
            },
            ..ConnectionPrint::default()
        };
        p.http2.set(b.http2.clone()).unwrap();
        p
    }

    const CHROME_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/137.0.0.0 Safari/537.36";
    const FIREFOX_UA: &str =
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:139.0) Gecko/20100101 Firefox/139.0";

    #[test]
    fn a_browser_passes_and_keeps_its_session() {
        let desk = BotDesk::new(BotManager::default());
        let draws = RateDraws::new(1);
        let print = chrome_print();
        let first = desk.see(&req(CHROME_UA, None), "exit-1", Some(&print), &draws);
        assert_eq!(first.challenge, None);
        let id = first.new_session.unwrap();
        let cookie = format!("i18n-prefs=EUR; session-id={id}");
        let again = desk.see(
            &req(CHROME_UA, Some(&cookie)),
            "exit-1",
            Some(&print),
            &draws,
        );
        assert_eq!((again.challenge, again.new_session), (None, None));
        let moved = desk.see(
            &req(CHROME_UA, Some(&cookie)),
            "exit-2",
            Some(&print),
            &draws,
        );
        assert_eq!(moved.challenge, Some(Challenge::SessionIpChanged));
        let other = ConnectionPrint::default();
        let reprinted = desk.see(
            &req(CHROME_UA, Some(&cookie)),
            "exit-1",
            Some(&other),
            &draws,
        );
        assert_eq!(
            reprinted.challenge,
            Some(Challenge::SessionFingerprintChanged)
        );
    }

    #[test]
    fn wrong_or_missing_fingerprints_are_not_a_browser() {
        let desk = BotDesk::new(BotManager::default());
        let draws = RateDraws::new(1);
        let print = chrome_print();
        for (ua, p) in [
            (FIREFOX_UA, Some(&print)),
            (CHROME_UA, None),
            ("curl/8.5.0", Some(&print)),
        ] {
            let seen = desk.see(&req(ua, None), "exit-1", p, &draws);
            assert_eq!(seen.challenge, Some(Challenge::NotABrowser), "{ua}");
        }
        let lenient = BotDesk::new(BotManager {
            non_browser_rate: 0.0,
            ..BotManager::default()
        });
        let seen = lenient.see(&req("curl/8.5.0", None), "exit-1", None, &draws);
        assert_eq!(seen.challenge, None);
    }
}
