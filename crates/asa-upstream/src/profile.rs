//! Browser profiles: one real desktop browser build on one platform, as a session
//! presents it. Each session keeps one profile for all its requests, so user agent,
//! client hints, header order and (with the browser engine) TLS and HTTP/2 fingerprints
//! never contradict each other, nor change mid-session.
//!
//! The standard engine can only send a profile's headers: its TLS is rustls's. The
//! browser engine's profiles are wreq-util emulations, which bring their own header set
//! and order; only `accept-language` is ours.

use crate::engine::Engine;
use crate::target::accept_language;
use asa_model::Marketplace;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Chrome,
    Edge,
    Firefox,
    Safari,
}

/// A wreq-util emulation: browser release and operating system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Emulated {
    Chrome137Windows,
    Chrome137MacOs,
    Edge134Windows,
    Firefox139Windows,
    Firefox139MacOs,
    Safari18_5MacOs,
}

/// One real browser build on one platform.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Profile {
    /// `chrome_142_windows`: what a trace records.
    pub id: &'static str,
    pub family: Family,
    /// The user agent the standard engine sends (the browser engine's comes from its
    /// emulation).
    pub user_agent: &'static str,
    /// `sec-ch-ua` brands, Chrome only.
    sec_ch_ua: Option<&'static str>,
    /// `sec-ch-ua-platform`, Chrome only.
    platform: Option<&'static str>,
    /// Set for the browser engine's profiles.
    pub emulated: Option<Emulated>,
    /// The JA4 TLS fingerprint this profile is published with, when it presents one.
    pub ja4: Option<&'static str>,
    /// The HTTP/2 fingerprint (Akamai format) it is published with.
    pub http2: Option<&'static str>,
}

const CHROME_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
const FIREFOX_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
/// Only the encodings this client decodes (browsers add zstd; we do not decode it).
const ACCEPT_ENCODING: &str = "gzip, deflate, br";

const CHROME_142: &str = r#""Chromium";v="142", "Google Chrome";v="142", "Not_A Brand";v="99""#;
const CHROME_141: &str = r#""Google Chrome";v="141", "Not?A_Brand";v="8", "Chromium";v="141""#;

/// Current desktop browsers, in roughly their share of desktop traffic.
pub(crate) const PROFILES: [Profile; 6] = [
    Profile {
        id: "chrome_142_windows",
        family: Family::Chrome,
        user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
        sec_ch_ua: Some(CHROME_142),
        platform: Some("\"Windows\""),
        emulated: None,
        ja4: None,
        http2: None,
    },
    Profile {
        id: "chrome_142_macos",
        family: Family::Chrome,
        user_agent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
        sec_ch_ua: Some(CHROME_142),
        platform: Some("\"macOS\""),
        emulated: None,
        ja4: None,
        http2: None,
    },
    Profile {
        id: "chrome_141_windows",
        family: Family::Chrome,
        user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36",
        sec_ch_ua: Some(CHROME_141),
        platform: Some("\"Windows\""),
        emulated: None,
        ja4: None,
        http2: None,
    },
    Profile {
        id: "chrome_142_linux",
        family: Family::Chrome,
        user_agent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
        sec_ch_ua: Some(CHROME_142),
        platform: Some("\"Linux\""),
        emulated: None,
        ja4: None,
        http2: None,
    },
    Profile {
        id: "firefox_145_windows",
        family: Family::Firefox,
        user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:145.0) Gecko/20100101 Firefox/145.0",
        sec_ch_ua: None,
        platform: None,
        emulated: None,
        ja4: None,
        http2: None,
    },
    Profile {
        id: "firefox_145_macos",
        family: Family::Firefox,
        user_agent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:145.0) Gecko/20100101 Firefox/145.0",
        sec_ch_ua: None,
        platform: None,
        emulated: None,
        ja4: None,
        http2: None,
    },
];

/// The browser engine's profiles: wreq-util emulations of current desktop browsers. The
/// fingerprints are those public fingerprinting pages publish for these releases, and
/// what the simulator's TLS listener measures of this engine (tested). Safari's JA4 is
/// left out: the emulation's extension hash differs from the Safari value we could
/// check against a publication, so the trace does not claim one.
pub(crate) const EMULATED: [Profile; 6] = [
    emulated(
        "chrome_137_windows",
        Family::Chrome,
        Emulated::Chrome137Windows,
        Some(CHROMIUM_JA4),
        CHROMIUM_H2,
    ),
    emulated(
        "chrome_137_macos",
        Family::Chrome,
        Emulated::Chrome137MacOs,
        Some(CHROMIUM_JA4),
        CHROMIUM_H2,
    ),
    emulated(
        "edge_134_windows",
        Family::Edge,
        Emulated::Edge134Windows,
        Some(CHROMIUM_LEGACY_JA4),
        CHROMIUM_H2,
    ),
    emulated(
        "firefox_139_windows",
        Family::Firefox,
        Emulated::Firefox139Windows,
        Some(FIREFOX_JA4),
        FIREFOX_H2,
    ),
    emulated(
        "firefox_139_macos",
        Family::Firefox,
        Emulated::Firefox139MacOs,
        Some(FIREFOX_JA4),
        FIREFOX_H2,
    ),
    emulated(
        "safari_18_5_macos",
        Family::Safari,
        Emulated::Safari18_5MacOs,
        None,
        SAFARI_H2,
    ),
];

const CHROMIUM_JA4: &str = "t13d1516h2_8daaf6152771_d8a2da3f94cd";
/// Chromium 120-132 (ALPS on its old code point): wreq-util's Edge 134 emulation is built
/// on its Chrome 131 one, so it presents this published value.
const CHROMIUM_LEGACY_JA4: &str = "t13d1516h2_8daaf6152771_02713d6af862";
const CHROMIUM_H2: &str = "1:65536;2:0;4:6291456;6:262144|15663105|0|m,a,s,p";
const FIREFOX_JA4: &str = "t13d1717h2_5b57614c22b0_3cbfd9057e0d";
const FIREFOX_H2: &str = "1:65536;2:0;4:131072;5:16384|12517377|0|m,p,a,s";
const SAFARI_H2: &str = "2:0;3:100;4:2097152;9:1|10420225|0|m,s,a,p";

const fn emulated(
    id: &'static str,
    family: Family,
    emulated: Emulated,
    ja4: Option<&'static str>,
    http2: &'static str,
) -> Profile {
    Profile {
        id,
        family,
        user_agent: "",
        sec_ch_ua: None,
        platform: None,
        emulated: Some(emulated),
        ja4,
        http2: Some(http2),
    }
}

/// The profiles of an engine.
pub(crate) fn profiles(engine: Engine) -> &'static [Profile] {
    match engine {
        Engine::Standard => &PROFILES,
        Engine::Browser => &EMULATED,
    }
}

/// Hands out profiles to new sessions: each marketplace rotates through its own pool, so
/// consecutive sessions on one storefront look like different visitors.
#[derive(Debug)]
pub(crate) struct Rotation {
    pool: &'static [Profile],
    cursors: [AtomicUsize; Marketplace::ALL.len()],
}

impl Rotation {
    pub(crate) fn new(engine: Engine) -> Rotation {
        Rotation {
            pool: profiles(engine),
            cursors: std::array::from_fn(|_| AtomicUsize::new(rand::random::<u8>() as usize)),
        }
    }

    /// The profile for the next session on `m`.
    pub(crate) fn next(&self, m: Marketplace) -> &'static Profile {
        let slot = Marketplace::ALL.iter().position(|x| *x == m).unwrap_or(0);
        let n = self.cursors[slot].fetch_add(1, Ordering::Relaxed);
        &self.pool[n % self.pool.len()]
    }
}

impl Profile {
    /// The navigation headers, in the order the browser sends them. `Cookie` is added
    /// per hop from the session's jar; `Host` by the HTTP client. An emulated profile's
    /// own header set comes from its emulation: only the storefront's language is ours.
    pub(crate) fn headers(&self, language: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        if self.emulated.is_some() {
            let q = match self.family {
                Family::Firefox => ["0.8", "0.5", "0.3"],
                _ => ["0.9", "0.8", "0.7"],
            };
            if let Ok(v) = HeaderValue::from_str(&accept_language(language, q)) {
                h.insert(reqwest::header::ACCEPT_LANGUAGE, v);
            }
            return h;
        }
        let mut put = |name: &'static str, value: &str| {
            // Every value here is ASCII built from constants and a validated language tag.
            if let Ok(v) = HeaderValue::from_str(value) {
                h.insert(HeaderName::from_static(name), v);
            }
        };
        match self.family {
            Family::Chrome | Family::Edge => {
                put("sec-ch-ua", self.sec_ch_ua.unwrap_or_default());
                put("sec-ch-ua-mobile", "?0");
                put("sec-ch-ua-platform", self.platform.unwrap_or_default());
                put("upgrade-insecure-requests", "1");
                put("user-agent", self.user_agent);
                put("accept", CHROME_ACCEPT);
                put("sec-fetch-site", "none");
                put("sec-fetch-mode", "navigate");
                put("sec-fetch-user", "?1");
                put("sec-fetch-dest", "document");
                put("accept-encoding", ACCEPT_ENCODING);
                put(
                    "accept-language",
                    &accept_language(language, ["0.9", "0.8", "0.7"]),
                );
                put("priority", "u=0, i");
            }
            Family::Firefox | Family::Safari => {
                put("user-agent", self.user_agent);
                put("accept", FIREFOX_ACCEPT);
                put(
                    "accept-language",
                    &accept_language(language, ["0.8", "0.5", "0.3"]),
                );
                put("accept-encoding", ACCEPT_ENCODING);
                put("upgrade-insecure-requests", "1");
                put("sec-fetch-dest", "document");
                put("sec-fetch-mode", "navigate");
                put("sec-fetch-site", "none");
                put("sec-fetch-user", "?1");
                put("priority", "u=0, i");
            }
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_is_consistent() {
        for p in PROFILES {
            let h = p.headers("de_DE");
            let ua = h["user-agent"].to_str().unwrap();
            assert_eq!(ua, p.user_agent);
            assert!(h["accept-language"]
                .to_str()
                .unwrap()
                .starts_with("de-DE,de;q="));
            assert_eq!(h["accept-encoding"], "gzip, deflate, br");
            match p.family {
                Family::Chrome | Family::Edge => {
                    let version = ua
                        .split("Chrome/")
                        .nth(1)
                        .unwrap()
                        .split('.')
                        .next()
                        .unwrap();
                    let brands = h["sec-ch-ua"].to_str().unwrap();
                    assert!(brands.contains(&format!("\"Google Chrome\";v=\"{version}\"")));
                    let platform = h["sec-ch-ua-platform"].to_str().unwrap();
                    let expected = if ua.contains("Windows") {
                        "\"Windows\""
                    } else if ua.contains("Macintosh") {
                        "\"macOS\""
                    } else {
                        "\"Linux\""
                    };
                    assert_eq!(platform, expected);
                    assert!(h["accept"].to_str().unwrap().contains("image/avif"));
                }
                Family::Firefox | Family::Safari => {
                    assert!(ua.contains("Firefox/"));
                    assert!(!h.contains_key("sec-ch-ua"));
                    assert!(!h.contains_key("sec-ch-ua-platform"));
                }
            }
        }
    }

    #[test]
    fn both_families_are_in_the_pool() {
        assert!(PROFILES.iter().any(|p| p.family == Family::Chrome));
        assert!(PROFILES.iter().any(|p| p.family == Family::Firefox));
    }

    #[test]
    fn emulated_profiles_cover_four_browsers_and_send_only_the_language() {
        for family in [
            Family::Chrome,
            Family::Edge,
            Family::Firefox,
            Family::Safari,
        ] {
            assert!(EMULATED.iter().any(|p| p.family == family), "{family:?}");
        }
        let mut ids: Vec<&str> = EMULATED
            .iter()
            .chain(PROFILES.iter())
            .map(|p| p.id)
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), EMULATED.len() + PROFILES.len(), "ids are unique");
        let h = EMULATED[0].headers("de_DE");
        assert_eq!(h.len(), 1);
        assert!(h["accept-language"]
            .to_str()
            .unwrap()
            .starts_with("de-DE,de;q="));
    }

    #[test]
    fn each_marketplace_rotates_through_its_pool() {
        let r = Rotation::new(Engine::Browser);
        let de: Vec<&str> = (0..EMULATED.len())
            .map(|_| r.next(Marketplace::De).id)
            .collect();
        let mut sorted = de.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), EMULATED.len(), "{de:?}");
        // Another storefront's sessions do not move the German rotation.
        let next_de = r.next(Marketplace::De).id;
        assert_eq!(next_de, de[0]);
        let _ = r.next(Marketplace::Us);
        assert_eq!(r.next(Marketplace::De).id, de[1]);
    }
}
