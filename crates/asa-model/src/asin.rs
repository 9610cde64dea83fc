//! `Asin`: Amazon's 10-character product id (an ISBN-10 for books), parsed from a bare id
//! or from a product URL on a supported host.

use crate::Marketplace;
use serde::{Deserialize, Serialize};

/// A validated ASIN: exactly 10 characters of `[A-Z0-9]`, upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Asin(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AsinError {
    #[error("must be a 10-character ASIN/ISBN-10 ([A-Z0-9]{{10}}) or a product URL on a supported Amazon host")]
    Malformed,
    #[error("the URL's host is not a supported Amazon marketplace")]
    UnsupportedHost,
    #[error("the URL is not a product URL (/dp/<ASIN>, /gp/product/<ASIN> or /gp/aw/d/<ASIN>)")]
    NotAProductUrl,
}

impl Asin {
    pub fn parse(s: &str) -> Result<Asin, AsinError> {
        let s = s.trim();
        if s.len() == 10 && s.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(Asin(s.to_ascii_uppercase()))
        } else {
            Err(AsinError::Malformed)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Asin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Asin {
    type Error = AsinError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Asin::parse(&s)
    }
}

impl From<Asin> for String {
    fn from(a: Asin) -> String {
        a.0
    }
}

impl std::str::FromStr for Asin {
    type Err = AsinError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Asin::parse(s)
    }
}

/// The `query` of a product request: an ASIN, and the marketplace when it came from a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductQuery {
    pub asin: Asin,
    /// Set when the query was a URL: the URL's host names the marketplace.
    pub marketplace: Option<Marketplace>,
}

impl ProductQuery {
    pub fn parse(input: &str) -> Result<ProductQuery, AsinError> {
        let input = input.trim();
        if let Ok(asin) = Asin::parse(input) {
            return Ok(ProductQuery {
                asin,
                marketplace: None,
            });
        }
        let lower = input.to_ascii_lowercase();
        let with_scheme = if lower.starts_with("http://") || lower.starts_with("https://") {
            input.to_string()
        } else if lower.contains("amazon.") && lower.contains('/') {
            format!("https://{input}")
        } else {
            return Err(AsinError::Malformed);
        };
        let url = url::Url::parse(&with_scheme).map_err(|_| AsinError::Malformed)?;
        let host = url.host_str().ok_or(AsinError::Malformed)?;
        let marketplace = Marketplace::from_host(host).ok_or(AsinError::UnsupportedHost)?;
        let segments: Vec<&str> = url.path_segments().map(|s| s.collect()).unwrap_or_default();
        let asin = product_asin_in_path(&segments).ok_or(AsinError::NotAProductUrl)?;
        Ok(ProductQuery {
            asin,
            marketplace: Some(marketplace),
        })
    }
}

/// Finds the ASIN after `dp`, `gp/product` or `gp/aw/d` anywhere in the path, so slugs
/// (`/Some-Title/dp/X`) and language prefixes (`/-/pt/dp/X`) work.
pub fn product_asin_in_path(segments: &[&str]) -> Option<Asin> {
    for (i, seg) in segments.iter().enumerate() {
        let next = |k: usize| segments.get(i + k).copied();
        let candidate = match *seg {
            "dp" => next(1),
            "gp" if next(1) == Some("product") => next(2),
            "gp" if next(1) == Some("aw") && next(2) == Some("d") => next(3),
            _ => None,
        };
        if let Some(c) = candidate {
            return Asin::parse(c).ok();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bare_asins_and_isbns() {
        assert_eq!(Asin::parse("b0057oc5o8").unwrap().as_str(), "B0057OC5O8");
        assert_eq!(Asin::parse("193435659X").unwrap().as_str(), "193435659X");
        assert!(Asin::parse("B0057OC5O").is_err());
        assert!(Asin::parse("B0057OC5O8X").is_err());
        assert!(Asin::parse("B0057-C5O8").is_err());
    }

    #[test]
    fn product_urls_set_the_marketplace() {
        let q = ProductQuery::parse(
            "https://www.amazon.de/Gastroback-42709/dp/B000LQXC2Q/ref=sr_1_1?x=1",
        )
        .unwrap();
        assert_eq!(q.asin.as_str(), "B000LQXC2Q");
        assert_eq!(q.marketplace, Some(Marketplace::De));
        let q = ProductQuery::parse("https://www.amazon.co.uk/gp/product/1849757097").unwrap();
        assert_eq!(q.marketplace, Some(Marketplace::Uk));
        let q = ProductQuery::parse("http://amazon.com/gp/aw/d/0596516177").unwrap();
        assert_eq!(q.asin.as_str(), "0596516177");
        let q = ProductQuery::parse("https://www.amazon.es/-/pt/dp/B07ZCVN7YN").unwrap();
        assert_eq!(q.marketplace, Some(Marketplace::Es));
        let q = ProductQuery::parse("www.amazon.co.jp/dp/B0DR8G428S").unwrap();
        assert_eq!(q.marketplace, Some(Marketplace::Jp));
    }

    #[test]
    fn other_urls_are_refused() {
        assert_eq!(
            ProductQuery::parse("https://www.ebay.com/dp/B000LQXC2Q"),
            Err(AsinError::UnsupportedHost)
        );
        assert_eq!(
            ProductQuery::parse("https://www.amazon.cn/dp/B000LQXC2Q"),
            Err(AsinError::UnsupportedHost)
        );
        assert_eq!(
            ProductQuery::parse("https://www.amazon.com/s?k=tape"),
            Err(AsinError::NotAProductUrl)
        );
        assert_eq!(
            ProductQuery::parse("https://www.amazon.com/dp/SHORT"),
            Err(AsinError::NotAProductUrl)
        );
        assert!(ProductQuery::parse("").is_err());
        assert!(ProductQuery::parse("not an asin").is_err());
    }

    proptest! {
        #[test]
        fn any_ten_alnum_is_an_asin(s in "[A-Za-z0-9]{10}") {
            let q = ProductQuery::parse(&s).unwrap();
            prop_assert_eq!(q.asin.as_str(), s.to_ascii_uppercase());
            prop_assert_eq!(q.marketplace, None);
        }

        #[test]
        fn url_round_trip(s in "[A-Z0-9]{10}", slug in "[A-Za-z-]{0,20}", mi in 0usize..20) {
            let m = Marketplace::ALL[mi];
            let url = if slug.is_empty() {
                format!("https://{}/dp/{s}", m.host())
            } else {
                format!("https://{}/{slug}/dp/{s}?psc=1", m.host())
            };
            let q = ProductQuery::parse(&url).unwrap();
            prop_assert_eq!(q.asin.as_str(), s.as_str());
            prop_assert_eq!(q.marketplace, Some(m));
        }

        #[test]
        fn never_panics(s in "\\PC{0,200}") {
            let _ = ProductQuery::parse(&s);
        }

        #[test]
        fn wrong_lengths_are_refused(s in "[A-Z0-9]{1,9}|[A-Z0-9]{11,30}") {
            prop_assert!(ProductQuery::parse(&s).is_err());
        }
    }
}
