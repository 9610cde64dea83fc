//! Which fault a request gets: magic ASINs and queries (deterministic, documented in
//! `FAULTS.md`, also what sandbox users type to see each error), then the configured
//! rates drawn from a seeded sequence.

use crate::config::FaultRates;
use crate::detrand::splitmix;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A way the simulator misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// Classic robot-check captcha page, HTTP 200.
    Captcha,
    /// AWS WAF JavaScript challenge, HTTP 202.
    WafChallenge,
    /// "Sorry! Something went wrong!", HTTP 503.
    Error503,
    /// The 404 dog page.
    NotFound,
    /// Placeholder shelf of a delisted product, HTTP 200.
    Gallery,
    /// 301 to another ASIN (`B0MOVEDTO1`).
    Redirect,
    /// A 200 page in a layout no extractor knows.
    UnknownLayout,
    /// The real page, late.
    Slow,
    /// The connection is reset without a response.
    Reset,
    /// Content-Length promises more than is sent, then the connection closes.
    Truncate,
    /// A 20 MB product page.
    Huge,
    /// The real page at once, its body sent in pieces spread over the delay (a slow
    /// download: the answer's head is quick, its body is not).
    Drip,
}

impl Fault {
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::Captcha => "captcha",
            Fault::WafChallenge => "waf_challenge",
            Fault::Error503 => "error_503",
            Fault::NotFound => "not_found",
            Fault::Gallery => "gallery",
            Fault::Redirect => "redirect",
            Fault::UnknownLayout => "unknown_layout",
            Fault::Slow => "slow",
            Fault::Reset => "reset",
            Fault::Truncate => "truncate",
            Fault::Huge => "huge",
            Fault::Drip => "drip",
        }
    }
}

/// The ASIN `B0REDIRCT...` redirects to.
pub const REDIRECT_TARGET: &str = "B0MOVEDTO1";
/// Size of the `B0HUGE...` page.
pub const HUGE_PAGE_BYTES: usize = 20 * 1024 * 1024;

/// What a magic ASIN asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MagicProduct {
    Fault(Fault, Duration),
    /// A captcha for the first `n` requests of this ASIN, then the real page.
    Flaky(u32),
}

/// The fault a magic ASIN (upper case) asks for, if any.
pub fn magic_product(asin: &str) -> Option<MagicProduct> {
    let fixed = [
        ("B0CAPTCHA", Fault::Captcha),
        ("B0WAFCHAL", Fault::WafChallenge),
        ("B0ERR503", Fault::Error503),
        ("B0NOTFND", Fault::NotFound),
        ("B0GALLERY", Fault::Gallery),
        ("B0REDIRCT", Fault::Redirect),
        ("B0UNKNOWN", Fault::UnknownLayout),
        ("B0RESET", Fault::Reset),
        ("B0TRUNC", Fault::Truncate),
        ("B0HUGE", Fault::Huge),
    ];
    if let Some((_, f)) = fixed.iter().find(|(p, _)| asin.starts_with(p)) {
        return Some(MagicProduct::Fault(*f, Duration::ZERO));
    }
    for (prefix, fault) in [("B0SLOW", Fault::Slow), ("B0DRIP", Fault::Drip)] {
        if let Some(digits) = asin.strip_prefix(prefix) {
            if digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_digit()) {
                let tens: u64 = digits.parse().unwrap_or(0);
                return Some(MagicProduct::Fault(fault, Duration::from_millis(tens * 10)));
            }
        }
    }
    if let Some(rest) = asin.strip_prefix("B0FLAKY") {
        if let Some(d) = rest.chars().next().and_then(|c| c.to_digit(10)) {
            return Some(MagicProduct::Flaky(d));
        }
    }
    None
}

/// The fault a magic search query asks for on result page `page`, if any.
pub fn magic_search(query: &str, page: u32) -> Option<(Fault, Duration)> {
    let q = query.trim().to_ascii_lowercase();
    if let Some(ms) = q.strip_prefix("sim-slow-") {
        let digits: String = ms.chars().take_while(char::is_ascii_digit).collect();
        return digits
            .parse()
            .ok()
            .map(|ms| (Fault::Slow, Duration::from_millis(ms)));
    }
    if let Some(n) = q.strip_prefix("sim-fail-page-") {
        let digits: String = n.chars().take_while(char::is_ascii_digit).collect();
        return (digits.parse::<u32>().ok() == Some(page))
            .then_some((Fault::Error503, Duration::ZERO));
    }
    let fixed = [
        ("sim-captcha", Fault::Captcha),
        ("sim-waf", Fault::WafChallenge),
        ("sim-503", Fault::Error503),
        ("sim-unknown", Fault::UnknownLayout),
        ("sim-reset", Fault::Reset),
        ("sim-truncate", Fault::Truncate),
    ];
    fixed
        .iter()
        .find(|(p, _)| q.starts_with(p))
        .map(|(_, f)| (*f, Duration::ZERO))
}

/// Draws rate-based faults from a seeded sequence: the n-th draw of an instance is the
/// same in every run, so counts over a run are reproducible.
#[derive(Debug)]
pub struct RateDraws {
    seed: u64,
    n: AtomicU64,
}

impl RateDraws {
    pub fn new(seed: u64) -> RateDraws {
        RateDraws {
            seed,
            n: AtomicU64::new(0),
        }
    }

    /// A uniform number in `0.0..1.0`, the next of the sequence.
    pub fn unit(&self) -> f64 {
        let n = self.n.fetch_add(1, Ordering::Relaxed);
        (splitmix(self.seed ^ splitmix(n)) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// At most one fault for one request, with its delay for `Slow`.
    pub fn draw(&self, rates: &FaultRates) -> Option<(Fault, Duration)> {
        let u = self.unit();
        let mut edge = 0.0;
        for (rate, fault) in [
            (rates.captcha_rate, Fault::Captcha),
            (rates.error503_rate, Fault::Error503),
            (rates.reset_rate, Fault::Reset),
            (rates.truncate_rate, Fault::Truncate),
            (rates.slow_rate, Fault::Slow),
        ] {
            edge += rate.max(0.0);
            if u < edge {
                let delay = if fault == Fault::Slow {
                    rates.slow_latency.sample(self.unit())
                } else {
                    Duration::ZERO
                };
                return Some((fault, delay));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_asins() {
        assert_eq!(
            magic_product("B0CAPTCHA1"),
            Some(MagicProduct::Fault(Fault::Captcha, Duration::ZERO))
        );
        assert_eq!(
            magic_product("B0SLOW0150"),
            Some(MagicProduct::Fault(
                Fault::Slow,
                Duration::from_millis(1500)
            ))
        );
        assert_eq!(magic_product("B0SLOWABCD"), None);
        assert_eq!(
            magic_product("B0DRIP0200"),
            Some(MagicProduct::Fault(Fault::Drip, Duration::from_secs(2)))
        );
        assert_eq!(magic_product("B0FLAKY3XX"), Some(MagicProduct::Flaky(3)));
        assert_eq!(magic_product("B0MOVEDTO1"), None);
        assert_eq!(magic_product("B000LQXC2Q"), None);
    }

    #[test]
    fn magic_queries() {
        assert_eq!(
            magic_search("sim-slow-250 lamps", 1),
            Some((Fault::Slow, Duration::from_millis(250)))
        );
        assert_eq!(
            magic_search("sim-fail-page-2", 2),
            Some((Fault::Error503, Duration::ZERO))
        );
        assert_eq!(magic_search("sim-fail-page-2", 1), None);
        assert_eq!(
            magic_search("SIM-CAPTCHA", 1).map(|f| f.0),
            Some(Fault::Captcha)
        );
        assert_eq!(magic_search("sim-empty", 1), None);
        assert_eq!(magic_search("usb cable", 1), None);
    }

    #[test]
    fn rates_are_reproducible_and_roughly_honoured() {
        let rates = FaultRates {
            captcha_rate: 0.1,
            error503_rate: 0.05,
            reset_rate: 0.05,
            ..FaultRates::default()
        };
        let count = |seed| {
            let d = RateDraws::new(seed);
            let v: Vec<_> = (0..10_000).map(|_| d.draw(&rates).map(|f| f.0)).collect();
            v
        };
        let a = count(42);
        assert_eq!(a, count(42));
        let captchas = a.iter().filter(|f| **f == Some(Fault::Captcha)).count();
        let resets = a.iter().filter(|f| **f == Some(Fault::Reset)).count();
        assert!((850..1150).contains(&captchas), "{captchas}");
        assert!((400..600).contains(&resets), "{resets}");
        assert!(a.iter().filter(|f| f.is_none()).count() > 7500);
    }
}
