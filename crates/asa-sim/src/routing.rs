//! From a request line and headers to what Amazon would serve: the marketplace (Host
//! header, absolute-form proxy URL, or an `/amazon.<domain>` first path segment), the
//! interface language, and the page asked for.

use asa_model::{Marketplace, SortBy};

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Product {
        asin: String,
    },
    Search {
        query: String,
        page: u32,
        sort: SortBy,
    },
    /// `GET /__sim/requests`: the request log as JSON.
    SimRequests,
    /// `DELETE /__sim/requests` or `POST /__sim/clear`.
    SimClear,
    /// Anything else: Amazon's 404 page.
    Other,
}

/// A routed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    pub marketplace: Marketplace,
    pub language: String,
    pub target: Target,
    /// The path prefix the request used for the marketplace (`/amazon.de`), kept for
    /// redirects so a client following them stays on the same storefront.
    pub prefix: String,
    /// Absolute-form (proxy) request: the scheme and host to put in redirects.
    pub origin: Option<String>,
    /// Path and query as Amazon would see them.
    pub path: String,
}

/// Routes one request. `target` is the request-target of the request line (origin-form
/// `/dp/X` or absolute-form `http://www.amazon.de/dp/X`).
pub fn route(method: &str, target: &str, host: Option<&str>, cookie: Option<&str>) -> Routed {
    let (mut marketplace, mut origin, path_and_query) = match url::Url::parse(target) {
        Ok(u) if target.starts_with("http://") || target.starts_with("https://") => {
            let m = u.host_str().and_then(Marketplace::from_host);
            let origin = u.host_str().map(|h| format!("{}://{h}", u.scheme()));
            let pq = match u.query() {
                Some(q) => format!("{}?{q}", u.path()),
                None => u.path().to_string(),
            };
            (m, origin, pq)
        }
        _ => {
            let h = host.map(|h| {
                h.rsplit_once(':').map_or(h, |(name, port)| {
                    if port.bytes().all(|b| b.is_ascii_digit()) {
                        name
                    } else {
                        h
                    }
                })
            });
            (h.and_then(Marketplace::from_host), None, target.to_string())
        }
    };
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((&path_and_query, ""));
    let mut segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut prefix = String::new();
    if let Some(first) = segments.first() {
        if first.starts_with("amazon.") {
            if let Some(m) = Marketplace::from_domain(first) {
                marketplace = Some(m);
                prefix = format!("/{first}");
                segments.remove(0);
                origin = None;
            }
        }
    }
    let marketplace = marketplace.unwrap_or(Marketplace::Us);
    let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let param = |k: &str| {
        params
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };

    let mut path_language = None;
    if segments.first() == Some(&"-") && segments.len() > 1 {
        path_language = Some(segments[1].to_string());
        segments.drain(..2);
    }
    let language = choose_language(
        marketplace,
        param("language"),
        path_language.as_deref(),
        cookie,
    );
    let rest = format!("/{}", segments.join("/"));
    let path = if query.is_empty() {
        rest.clone()
    } else {
        format!("{rest}?{query}")
    };

    let target = if segments.first() == Some(&"__sim") {
        match (method, segments.get(1).copied()) {
            ("GET", Some("requests")) => Target::SimRequests,
            ("DELETE", Some("requests")) | ("POST", Some("clear")) => Target::SimClear,
            _ => Target::Other,
        }
    } else if let Some(asin) = asa_model::asin::product_asin_in_path(&segments).map(String::from) {
        Target::Product { asin }
    } else if segments.first() == Some(&"s") {
        let query = param("k")
            .or_else(|| param("field-keywords"))
            .unwrap_or("")
            .to_string();
        let page = param("page").and_then(|p| p.parse().ok()).unwrap_or(1);
        let sort = param("s")
            .and_then(|s| {
                SortBy::ALL
                    .into_iter()
                    .find(|v| v.amazon_value() == Some(s))
            })
            .unwrap_or_default();
        Target::Search { query, page, sort }
    } else {
        Target::Other
    };
    Routed {
        marketplace,
        language,
        target,
        prefix,
        origin,
        path,
    }
}

/// `language=` parameter first, then a `/-/xx/` path prefix, then the `lc-main` cookie;
/// a language the storefront does not offer falls back to its default, as Amazon does.
fn choose_language(
    m: Marketplace,
    param: Option<&str>,
    path: Option<&str>,
    cookie: Option<&str>,
) -> String {
    let from_cookie = cookie.and_then(|c| {
        c.split(';')
            .filter_map(|kv| kv.trim().split_once('='))
            .find(|(k, _)| *k == "lc-main")
            .map(|(_, v)| v.trim_matches('"').to_string())
    });
    let from_path = path.and_then(|p| {
        m.languages()
            .iter()
            .find(|l| l.get(..2) == Some(p))
            .map(|l| l.to_string())
    });
    [param.map(str::to_string), from_path, from_cookie]
        .into_iter()
        .flatten()
        .find(|l| m.accepts_language(l))
        .unwrap_or_else(|| m.default_language().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_prefix_sets_the_marketplace() {
        let r = route(
            "GET",
            "/amazon.de/dp/B000LQXC2Q?th=1&psc=1",
            Some("127.0.0.1:4000"),
            None,
        );
        assert_eq!(r.marketplace, Marketplace::De);
        assert_eq!(
            r.target,
            Target::Product {
                asin: "B000LQXC2Q".into()
            }
        );
        assert_eq!(r.language, "de_DE");
        assert_eq!(r.prefix, "/amazon.de");
        let r = route(
            "GET",
            "/amazon.co.jp/s?k=pokemon+box&page=3&s=price-asc-rank&language=en_US",
            None,
            None,
        );
        assert_eq!(r.marketplace, Marketplace::Jp);
        assert_eq!(r.language, "en_US");
        assert_eq!(
            r.target,
            Target::Search {
                query: "pokemon box".into(),
                page: 3,
                sort: SortBy::PriceAsc
            }
        );
    }

    #[test]
    fn host_header_and_absolute_form() {
        let r = route(
            "GET",
            "/Some-Slug/dp/b0057oc5o8/ref=x",
            Some("www.amazon.co.uk"),
            None,
        );
        assert_eq!(r.marketplace, Marketplace::Uk);
        assert_eq!(
            r.target,
            Target::Product {
                asin: "B0057OC5O8".into()
            }
        );
        let r = route(
            "GET",
            "http://www.amazon.fr/gp/product/B0057OC5O8",
            Some("www.amazon.fr"),
            Some("lc-main=en_GB; x=1"),
        );
        assert_eq!(r.marketplace, Marketplace::Fr);
        assert_eq!(r.language, "en_GB");
        assert_eq!(r.origin.as_deref(), Some("http://www.amazon.fr"));
    }

    #[test]
    fn languages_fall_back_and_other_paths_are_404() {
        let r = route("GET", "/amazon.es/-/pt/dp/B07ZCVN7YN", None, None);
        assert_eq!(r.language, "pt_PT");
        let r = route("GET", "/amazon.ca/dp/B07ZCVN7YN?language=de_DE", None, None);
        assert_eq!(r.language, "en_CA");
        assert_eq!(
            route("GET", "/amazon.de/gp/cart/view.html", None, None).target,
            Target::Other
        );
        assert_eq!(route("GET", "/dp/SHORT", None, None).target, Target::Other);
        assert_eq!(
            route("GET", "/__sim/requests", None, None).target,
            Target::SimRequests
        );
        assert_eq!(
            route("DELETE", "/__sim/requests", None, None).target,
            Target::SimClear
        );
    }
}
