//! Query parameters parsed into typed requests (parse, don't validate). Every refusal is a
//! `400 invalid_params` naming the parameter and its rule; roadmap parameters are `501`.

use crate::error::ApiError;
use asa_model::{Asin, Country, ErrorCode, Marketplace, ProductQuery, SortBy};
use serde::Serialize;

/// The query string as pairs, in order, with `api_key` kept apart so it never reaches a
/// trace or a log.
#[derive(Debug, Clone, Default)]
pub struct RawQuery {
    pairs: Vec<(String, String)>,
    pub api_key: Option<String>,
}

impl RawQuery {
    pub fn parse(query: Option<&str>) -> RawQuery {
        let mut out = RawQuery::default();
        for (k, v) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            if k == "api_key" {
                out.api_key.get_or_insert_with(|| v.into_owned());
            } else {
                out.pairs.push((k.into_owned(), v.into_owned()));
            }
        }
        out
    }

    /// Parameters that did not come from a query string (a batch item's fields).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> RawQuery {
        RawQuery {
            pairs,
            api_key: None,
        }
    }

    /// The parameters without the key, for traces.
    pub fn to_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for (k, v) in &self.pairs {
            map.entry(k.clone())
                .or_insert_with(|| serde_json::Value::String(v.clone()));
        }
        serde_json::Value::Object(map)
    }

    /// The value of `name`; empty values count as absent; a repeated parameter is refused.
    fn get(&self, name: &str) -> Result<Option<&str>, ApiError> {
        let mut found = self
            .pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str());
        let first = found.next();
        if found.next().is_some() {
            return Err(ApiError::param(name, "must be given at most once"));
        }
        Ok(first.map(str::trim).filter(|v| !v.is_empty()))
    }

    /// An integer parameter within `min..=max`, `default` when absent.
    pub fn integer(&self, name: &str, min: u32, max: u32, default: u32) -> Result<u32, ApiError> {
        match self.get(name)? {
            None => Ok(default),
            Some(s) => s
                .parse::<u32>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| {
                    ApiError::param(name, format!("must be an integer from {min} to {max}"))
                }),
        }
    }

    fn has(&self, name: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == name)
    }
}

/// The locale parameters of product and search, as the OpenAPI document describes them
/// (parsing is [`Locale`]'s; `crate::openapi` sets their exact schemas). Surrounding white
/// space is ignored and an empty value counts as absent. The reserved `render_js` and
/// `screenshot` are left out on purpose: any value of them is `501 not_implemented`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LocaleQuery {
    /// Marketplace TLD: com, co.uk, de, fr, it, es, nl, pl, se, ca, com.mx, com.br, com.au,
    /// co.jp, sg, in, com.tr, ae, sa, eg (default com).
    pub domain: Option<String>,
    /// Interface language xx_YY, one of the marketplace's own (default: its default language).
    pub language: Option<String>,
    /// ISO 3166-1 alpha-2 exit country (default: the marketplace's own); must be allowed by
    /// the plan.
    pub country: Option<String>,
    /// Attach the raw page(s) under `html` (search: keyed by page number): true, false, 1,
    /// 0, yes or no, in any case.
    pub add_html: Option<String>,
}

/// The parameters shared by product and search.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Locale {
    pub marketplace: Marketplace,
    pub language: String,
    /// The exit country: the marketplace's own unless asked otherwise.
    pub country: Country,
    pub add_html: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProductParams {
    pub asin: Asin,
    pub locale: Locale,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchParams {
    pub query: String,
    pub sort_by: SortBy,
    pub start_page: u32,
    pub pages: u32,
    pub locale: Locale,
}

pub const MAX_SEARCH_QUERY_CHARS: usize = 500;
pub const MAX_PAGE: u32 = 10;

impl ProductParams {
    pub fn parse(q: &RawQuery) -> Result<ProductParams, ApiError> {
        let raw = q.get("query")?.ok_or_else(|| {
            ApiError::param(
                "query",
                "is required: a 10-character ASIN/ISBN-10 or an Amazon product URL",
            )
        })?;
        let pq = ProductQuery::parse(raw).map_err(|e| ApiError::param("query", e))?;
        let domain = parse_domain(q)?;
        let marketplace = match (pq.marketplace, domain) {
            (Some(from_url), Some(d)) if from_url != d => {
                return Err(ApiError::param(
                    "domain",
                    format!(
                        "`{d}` conflicts with the URL's marketplace `{from_url}`; drop one of them"
                    ),
                ))
            }
            (Some(m), _) => m,
            (None, d) => d.unwrap_or(Marketplace::Us),
        };
        let locale = parse_locale(q, marketplace)?;
        refuse_roadmap(q)?;
        Ok(ProductParams {
            asin: pq.asin,
            locale,
        })
    }
}

impl SearchParams {
    pub fn parse(q: &RawQuery) -> Result<SearchParams, ApiError> {
        let query = q
            .get("query")?
            .ok_or_else(|| ApiError::param("query", "is required: the search keywords"))?;
        let chars = query.chars().count();
        if chars > MAX_SEARCH_QUERY_CHARS {
            return Err(ApiError::param(
                "query",
                format!("is {chars} characters; at most {MAX_SEARCH_QUERY_CHARS}"),
            ));
        }
        let marketplace = parse_domain(q)?.unwrap_or(Marketplace::Us);
        let sort_by = match q.get("sort_by")? {
            None => SortBy::BestMatch,
            Some(s) => SortBy::parse(s).ok_or_else(|| {
                let all: Vec<_> = SortBy::ALL.iter().map(|v| v.as_str()).collect();
                ApiError::param("sort_by", format!("must be one of {}", all.join(", ")))
            })?,
        };
        let start_page = page_number(q, "start_page")?;
        let pages = page_number(q, "pages")?;
        let locale = parse_locale(q, marketplace)?;
        refuse_roadmap(q)?;
        Ok(SearchParams {
            query: query.to_string(),
            sort_by,
            start_page,
            pages,
            locale,
        })
    }
}

fn page_number(q: &RawQuery, name: &str) -> Result<u32, ApiError> {
    q.integer(name, 1, MAX_PAGE, 1)
}

fn parse_domain(q: &RawQuery) -> Result<Option<Marketplace>, ApiError> {
    match q.get("domain")? {
        None => Ok(None),
        Some(d) => Marketplace::from_domain(d).map(Some).ok_or_else(|| {
            ApiError::param(
                "domain",
                format!(
                    "must be one of {}",
                    Marketplace::domains().collect::<Vec<_>>().join(", ")
                ),
            )
        }),
    }
}

fn parse_locale(q: &RawQuery, marketplace: Marketplace) -> Result<Locale, ApiError> {
    let language = match q.get("language")? {
        None => marketplace.default_language().to_string(),
        Some(l) if marketplace.accepts_language(l) => l.to_string(),
        Some(_) => {
            return Err(ApiError::param(
                "language",
                format!(
                    "must be one of {} on `{marketplace}`",
                    marketplace.languages().join(", ")
                ),
            ))
        }
    };
    let country = match q.get("country")? {
        None => {
            Country::parse(marketplace.country()).expect("marketplace countries are valid codes")
        }
        Some(c) => Country::parse(c).ok_or_else(|| {
            ApiError::param(
                "country",
                "must be an ISO 3166-1 alpha-2 country code such as DE",
            )
        })?,
    };
    let add_html = match q.get("add_html")? {
        None => false,
        Some(v) => {
            parse_bool(v).ok_or_else(|| ApiError::param("add_html", "must be true or false"))?
        }
    };
    Ok(Locale {
        marketplace,
        language,
        country,
        add_html,
    })
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

fn refuse_roadmap(q: &RawQuery) -> Result<(), ApiError> {
    for name in ["render_js", "screenshot"] {
        if q.has(name) {
            return Err(ApiError::new(
                ErrorCode::NotImplemented,
                format!("`{name}` is on the roadmap and not implemented yet; drop the parameter"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(qs: &str) -> Result<ProductParams, ApiError> {
        ProductParams::parse(&RawQuery::parse(Some(qs)))
    }

    fn search(qs: &str) -> Result<SearchParams, ApiError> {
        SearchParams::parse(&RawQuery::parse(Some(qs)))
    }

    #[test]
    fn product_defaults_and_urls() {
        let p = product("query=b000lqxc2q").unwrap();
        assert_eq!(p.asin.as_str(), "B000LQXC2Q");
        assert_eq!(p.locale.marketplace, Marketplace::Us);
        assert_eq!(p.locale.language, "en_US");
        assert_eq!(p.locale.country.as_str(), "US");
        let p =
            product("query=https%3A%2F%2Fwww.amazon.de%2Fdp%2FB000LQXC2Q&language=en_GB").unwrap();
        assert_eq!(p.locale.marketplace, Marketplace::De);
        assert_eq!(p.locale.language, "en_GB");
        assert_eq!(p.locale.country.as_str(), "DE");
    }

    #[test]
    fn product_refusals_name_the_parameter() {
        for (qs, param) in [
            ("", "query"),
            ("query=SHORT", "query"),
            ("query=B000LQXC2Q&domain=cn", "domain"),
            ("query=B000LQXC2Q&domain=de&language=fr_FR", "language"),
            ("query=B000LQXC2Q&country=DEU", "country"),
            ("query=B000LQXC2Q&add_html=maybe", "add_html"),
            (
                "query=https://www.amazon.de/dp/B000LQXC2Q&domain=fr",
                "domain",
            ),
            ("query=B000LQXC2Q&query=B000LQXC2R", "query"),
        ] {
            let e = product(qs).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidParams, "{qs}");
            assert!(
                e.message.contains(&format!("`{param}`")),
                "{qs}: {}",
                e.message
            );
        }
        assert_eq!(
            product("query=B000LQXC2Q&render_js=false")
                .unwrap_err()
                .code,
            ErrorCode::NotImplemented
        );
        assert_eq!(
            product("query=B000LQXC2Q&screenshot=1").unwrap_err().code,
            ErrorCode::NotImplemented
        );
    }

    #[test]
    fn search_rules() {
        let s = search("query=usb+c&domain=co.jp&sort_by=newest&start_page=2&pages=3").unwrap();
        assert_eq!(s.query, "usb c");
        assert_eq!(s.sort_by, SortBy::Newest);
        assert_eq!((s.start_page, s.pages), (2, 3));
        assert_eq!(s.locale.language, "ja_JP");
        for qs in [
            "",
            "query=x&sort_by=relevance",
            "query=x&pages=11",
            "query=x&start_page=0",
            "query=x&pages=two",
        ] {
            assert_eq!(
                search(qs).unwrap_err().code,
                ErrorCode::InvalidParams,
                "{qs}"
            );
        }
        let long = "a".repeat(501);
        assert_eq!(
            search(&format!("query={long}")).unwrap_err().code,
            ErrorCode::InvalidParams
        );
        assert!(search(&format!("query={}", "a".repeat(500))).is_ok());
    }

    #[test]
    fn api_key_never_in_params() {
        let q = RawQuery::parse(Some("query=x&api_key=asa_live_secret"));
        assert_eq!(q.api_key.as_deref(), Some("asa_live_secret"));
        assert!(!q.to_json().to_string().contains("secret"));
    }
}
