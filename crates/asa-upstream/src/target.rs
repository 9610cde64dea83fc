//! What to fetch and where: the request, the storefront URL built from the configured
//! template, and the locale signals (query parameter, cookie, Accept-Language) that make
//! Amazon answer in the requested interface language.

use asa_model::{Asin, Marketplace, SortBy};
use url::form_urlencoded;

/// One fetch the caller wants: a product page or one page of search results, on one
/// marketplace, in one interface language, through an exit in one country.
#[derive(Debug, Clone)]
pub struct FetchRequest {
    /// The API request id, carried into the tracing span of every attempt.
    pub request_id: String,
    pub marketplace: Marketplace,
    pub target: FetchTarget,
    /// `xx_YY`, one of the marketplace's languages (validated by the caller).
    pub language: String,
    /// ISO 3166-1 alpha-2 exit country; empty means the marketplace's own country.
    pub country: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchTarget {
    Product {
        asin: Asin,
    },
    Search {
        query: String,
        page: u32,
        sort: SortBy,
    },
}

impl FetchRequest {
    /// The exit country, upper case; the marketplace's own when none was given.
    pub fn exit_country(&self) -> String {
        let c = self.country.trim();
        if c.is_empty() {
            self.marketplace.country().to_string()
        } else {
            c.to_ascii_uppercase()
        }
    }

    /// The language to ask for; the marketplace's default when none was given.
    pub fn language(&self) -> &str {
        let l = self.language.trim();
        if l.is_empty() {
            self.marketplace.default_language()
        } else {
            l
        }
    }
}

/// Storefront base for a marketplace: the template with `{domain}` replaced, without a
/// trailing slash (`https://www.amazon.de`, `http://127.0.0.1:8080/amazon.de`).
pub(crate) fn base_url(template: &str, marketplace: Marketplace) -> String {
    template
        .replace("{domain}", marketplace.domain())
        .trim_end_matches('/')
        .to_string()
}

/// The full URL of the page: product `/dp/<ASIN>?th=1&psc=1` (the selected variant's buy
/// box), search `/s?k=<query>&page=N[&s=<sort>]`, both with `language=xx_YY`.
pub(crate) fn page_url(template: &str, req: &FetchRequest) -> String {
    let base = base_url(template, req.marketplace);
    let mut query = form_urlencoded::Serializer::new(String::new());
    let path = match &req.target {
        FetchTarget::Product { asin } => {
            query.append_pair("th", "1").append_pair("psc", "1");
            format!("/dp/{}", asin.as_str())
        }
        FetchTarget::Search {
            query: q,
            page,
            sort,
        } => {
            query
                .append_pair("k", q)
                .append_pair("page", &(*page).max(1).to_string());
            if let Some(s) = sort.amazon_value() {
                query.append_pair("s", s);
            }
            "/s".to_string()
        }
    };
    query.append_pair("language", req.language());
    format!("{base}{path}?{}", query.finish())
}

/// Name of the cookie Amazon keeps the interface language in: `lc-main` on amazon.com,
/// `lc-acb<xx>` on the other storefronts (`lc-acbde`, `lc-acbuk`, `lc-acbjp`, ...).
pub(crate) fn locale_cookie_name(marketplace: Marketplace) -> String {
    match marketplace {
        Marketplace::Us => "lc-main".to_string(),
        Marketplace::Uk => "lc-acbuk".to_string(),
        m => format!("lc-acb{}", m.country().to_ascii_lowercase()),
    }
}

/// The locale cookie as a `Set-Cookie` string for the attempt's jar.
pub(crate) fn locale_cookie(marketplace: Marketplace, language: &str) -> String {
    format!("{}={}; Path=/", locale_cookie_name(marketplace), language)
}

/// An Accept-Language header a browser set to `language` sends; the `q` weights differ
/// between Chrome and Firefox, so the browser profile supplies them.
pub(crate) fn accept_language(language: &str, weights: [&str; 3]) -> String {
    let tag = language.replace('_', "-");
    let primary = tag.split('-').next().unwrap_or("en").to_string();
    let mut parts = vec![tag.clone()];
    if primary != tag {
        parts.push(format!("{primary};q={}", weights[0]));
    }
    if primary != "en" {
        parts.push(format!("en-US;q={}", weights[1]));
        parts.push(format!("en;q={}", weights[2]));
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(m: Marketplace, target: FetchTarget, language: &str) -> FetchRequest {
        FetchRequest {
            request_id: "req_000000000000".into(),
            marketplace: m,
            target,
            language: language.into(),
            country: String::new(),
        }
    }

    fn product(asin: &str) -> FetchTarget {
        FetchTarget::Product {
            asin: Asin::parse(asin).unwrap(),
        }
    }

    const LIVE: &str = "https://www.amazon.{domain}";

    #[test]
    fn product_urls_per_marketplace() {
        let r = req(Marketplace::De, product("b0abcdef12"), "");
        assert_eq!(
            page_url(LIVE, &r),
            "https://www.amazon.de/dp/B0ABCDEF12?th=1&psc=1&language=de_DE"
        );
        let r = req(Marketplace::Uk, product("B0ABCDEF12"), "en_GB");
        assert_eq!(
            page_url(LIVE, &r),
            "https://www.amazon.co.uk/dp/B0ABCDEF12?th=1&psc=1&language=en_GB"
        );
        let r = req(Marketplace::Jp, product("4065123456"), "en_US");
        assert_eq!(
            page_url("http://127.0.0.1:9/amazon.{domain}/", &r),
            "http://127.0.0.1:9/amazon.co.jp/dp/4065123456?th=1&psc=1&language=en_US"
        );
    }

    #[test]
    fn search_urls_encode_the_query_and_map_the_sort() {
        let search = |q: &str, page, sort| FetchTarget::Search {
            query: q.into(),
            page,
            sort,
        };
        let r = req(
            Marketplace::Us,
            search("usb c & hdmi/4k", 1, SortBy::BestMatch),
            "",
        );
        assert_eq!(
            page_url(LIVE, &r),
            "https://www.amazon.com/s?k=usb+c+%26+hdmi%2F4k&page=1&language=en_US"
        );
        let expected = [
            (SortBy::PriceAsc, "price-asc-rank"),
            (SortBy::PriceDesc, "price-desc-rank"),
            (SortBy::AvgCustomerReview, "review-rank"),
            (SortBy::Newest, "date-desc-rank"),
        ];
        for (sort, value) in expected {
            let r = req(Marketplace::Fr, search("café", 3, sort), "en_GB");
            assert_eq!(
                page_url(LIVE, &r),
                format!("https://www.amazon.fr/s?k=caf%C3%A9&page=3&s={value}&language=en_GB")
            );
        }
        let r = req(
            Marketplace::Ae,
            search("قهوة", 0, SortBy::BestMatch),
            "ar_AE",
        );
        let url = page_url(LIVE, &r);
        assert!(url.starts_with("https://www.amazon.ae/s?k=%D9%82"), "{url}");
        assert!(
            url.ends_with("&page=1&language=ar_AE"),
            "page 0 reads as 1: {url}"
        );
    }

    #[test]
    fn every_marketplace_builds_a_parseable_url_with_its_default_language() {
        for m in Marketplace::ALL {
            let r = req(m, product("B000000001"), "");
            let url = url::Url::parse(&page_url(LIVE, &r)).unwrap();
            assert_eq!(url.host_str(), Some(m.host().as_str()));
            let lang = url
                .query_pairs()
                .find(|(k, _)| k == "language")
                .map(|(_, v)| v.into_owned());
            assert_eq!(lang.as_deref(), Some(m.default_language()));
        }
    }

    #[test]
    fn locale_cookies() {
        assert_eq!(locale_cookie_name(Marketplace::Us), "lc-main");
        assert_eq!(locale_cookie_name(Marketplace::Uk), "lc-acbuk");
        assert_eq!(locale_cookie_name(Marketplace::De), "lc-acbde");
        assert_eq!(locale_cookie_name(Marketplace::Jp), "lc-acbjp");
        assert_eq!(
            locale_cookie(Marketplace::De, "en_GB"),
            "lc-acbde=en_GB; Path=/"
        );
    }

    #[test]
    fn accept_language_matches_the_language() {
        let w = ["0.9", "0.8", "0.7"];
        assert_eq!(
            accept_language("de_DE", w),
            "de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7"
        );
        assert_eq!(accept_language("en_GB", w), "en-GB,en;q=0.9");
        assert_eq!(accept_language("en_US", w), "en-US,en;q=0.9");
    }

    #[test]
    fn exit_country_defaults_to_the_marketplace() {
        let mut r = req(Marketplace::Uk, product("B000000001"), "");
        assert_eq!(r.exit_country(), "GB");
        r.country = "de".into();
        assert_eq!(r.exit_country(), "DE");
    }
}
