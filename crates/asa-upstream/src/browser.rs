//! Browser-grade request headers. Each attempt picks one desktop browser profile and
//! sends that browser's whole header set for a top-level navigation, so user agent,
//! client hints, accept and accept-language never contradict each other.

use crate::target::accept_language;
use rand::Rng;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Chrome,
    Firefox,
}

/// One real browser build on one platform.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Profile {
    pub family: Family,
    pub user_agent: &'static str,
    /// `sec-ch-ua` brands, Chrome only.
    sec_ch_ua: Option<&'static str>,
    /// `sec-ch-ua-platform`, Chrome only.
    platform: Option<&'static str>,
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
        family: Family::Chrome,
        user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
        sec_ch_ua: Some(CHROME_142),
        platform: Some("\"Windows\""),
    },
    Profile {
        family: Family::Chrome,
        user_agent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
        sec_ch_ua: Some(CHROME_142),
        platform: Some("\"macOS\""),
    },
    Profile {
        family: Family::Chrome,
        user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36",
        sec_ch_ua: Some(CHROME_141),
        platform: Some("\"Windows\""),
    },
    Profile {
        family: Family::Chrome,
        user_agent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
        sec_ch_ua: Some(CHROME_142),
        platform: Some("\"Linux\""),
    },
    Profile {
        family: Family::Firefox,
        user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:145.0) Gecko/20100101 Firefox/145.0",
        sec_ch_ua: None,
        platform: None,
    },
    Profile {
        family: Family::Firefox,
        user_agent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:145.0) Gecko/20100101 Firefox/145.0",
        sec_ch_ua: None,
        platform: None,
    },
];

impl Profile {
    pub(crate) fn random() -> Profile {
        PROFILES[rand::thread_rng().gen_range(0..PROFILES.len())]
    }

    /// The navigation headers, in the order the browser sends them. `Cookie` is added
    /// per hop from the attempt's jar; `Host` by the HTTP client.
    pub(crate) fn headers(&self, language: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        let mut put = |name: &'static str, value: &str| {
            // Every value here is ASCII built from constants and a validated language tag.
            if let Ok(v) = HeaderValue::from_str(value) {
                h.insert(HeaderName::from_static(name), v);
            }
        };
        match self.family {
            Family::Chrome => {
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
            Family::Firefox => {
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
                Family::Chrome => {
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
                Family::Firefox => {
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
}
