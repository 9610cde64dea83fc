//! What one attempt sends and how it reads the answer: URL, language, browser headers,
//! cookies across redirects, content encodings and the body cap.

use crate::support::*;
use asa_model::{Marketplace, SortBy};
use asa_upstream::{FetchError, Outcome, Upstream, UpstreamConfig};
use axum::body::Body;
use axum::extract::Request;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::io::Write;

/// Answers with what it was asked: path, query and headers, as JSON.
async fn echo(req: Request) -> Response {
    let headers: serde_json::Map<String, serde_json::Value> = req
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").into()))
        .collect();
    let v = serde_json::json!({
        "path": req.uri().path(),
        "query": req.uri().query(),
        "headers": headers,
    });
    ([(header::CONTENT_TYPE, "application/json")], v.to_string()).into_response()
}

fn echoed(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap()
}

#[tokio::test]
async fn product_request_carries_language_as_query_cookie_and_accept_language() {
    let origin = serve(Router::new().fallback(echo)).await;
    let up = Upstream::new(config(origin)).unwrap();
    let mut req = product(Marketplace::De, "b0test0001");
    req.language = "en_GB".into();

    let fetched = up.fetch(&req, judge()).await;
    let delivered = fetched.result.expect("delivered");
    let v = echoed(&delivered.value);
    assert_eq!(v["path"], "/amazon.de/dp/B0TEST0001");
    assert_eq!(v["query"], "th=1&psc=1&language=en_GB");
    let h = &v["headers"];
    assert!(
        h["cookie"].as_str().unwrap().contains("lc-acbde=en_GB"),
        "{h}"
    );
    assert_eq!(h["accept-encoding"], "gzip, deflate, br");
    assert_eq!(h["upgrade-insecure-requests"], "1");
    assert_eq!(h["sec-fetch-mode"], "navigate");
    let ua = h["user-agent"].as_str().unwrap();
    if ua.contains("Chrome/") {
        let version = ua
            .split("Chrome/")
            .nth(1)
            .unwrap()
            .split('.')
            .next()
            .unwrap();
        let brands = h["sec-ch-ua"].as_str().expect("Chrome sends client hints");
        assert!(
            brands.contains(&format!("v=\"{version}\"")),
            "{brands} vs {ua}"
        );
        assert!(h["accept"].as_str().unwrap().contains("image/avif"));
        assert_eq!(h["accept-language"], "en-GB,en;q=0.9");
    } else {
        assert!(ua.contains("Firefox/"), "{ua}");
        assert!(h.get("sec-ch-ua").is_none());
        assert_eq!(h["accept-language"], "en-GB,en;q=0.8");
    }

    assert_eq!(fetched.attempts.len(), 1);
    let a = &fetched.attempts[0];
    assert_eq!(a.proxy_id.as_deref(), Some("direct"));
    assert_eq!(a.exit_country, None);
    assert_eq!((a.outcome, a.status), (Outcome::Ok, Some(200)));
    assert_eq!(a.bytes, delivered.body.len() as u64);
    assert_eq!(a.url, up.url_for(&req));
    assert_eq!(delivered.final_url, a.url);
    assert_eq!(a.final_url, None);
}

#[tokio::test]
async fn search_request_maps_sort_page_and_default_language() {
    let origin = serve(Router::new().fallback(echo)).await;
    let up = Upstream::new(config(origin)).unwrap();
    let req = search(Marketplace::Uk, "usb c hub", 2, SortBy::PriceAsc);
    let v = echoed(&up.fetch(&req, judge()).await.result.unwrap().value);
    assert_eq!(v["path"], "/amazon.co.uk/s");
    assert_eq!(
        v["query"],
        "k=usb+c+hub&page=2&s=price-asc-rank&language=en_GB"
    );
    assert!(v["headers"]["cookie"]
        .as_str()
        .unwrap()
        .contains("lc-acbuk=en_GB"));

    let req = search(Marketplace::Us, "lamp", 1, SortBy::BestMatch);
    let v = echoed(&up.fetch(&req, judge()).await.result.unwrap().value);
    assert_eq!(v["path"], "/amazon.com/s");
    assert_eq!(v["query"], "k=lamp&page=1&language=en_US");
    assert!(v["headers"]["cookie"]
        .as_str()
        .unwrap()
        .contains("lc-main=en_US"));
}

async fn storefront(req: Request) -> Response {
    let cookie = req
        .headers()
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    match req.uri().path() {
        "/amazon.com/dp/B0OLD00001" => Response::builder()
            .status(301)
            .header(header::LOCATION, "/amazon.com/dp/B0NEW00001?th=1&psc=1")
            .header(header::SET_COOKIE, "session-id=131-7; Path=/")
            .body(Body::empty())
            .unwrap(),
        "/amazon.com/dp/B0NEW00001" => format!("product page; cookies: {cookie}").into_response(),
        "/amazon.com/dp/B0LOOP0001" => Response::builder()
            .status(302)
            .header(header::LOCATION, "/amazon.com/dp/B0LOOP0001")
            .body(Body::empty())
            .unwrap(),
        _ => (axum::http::StatusCode::NOT_FOUND, "no such page").into_response(),
    }
}

#[tokio::test]
async fn redirects_are_followed_with_the_attempts_cookies_and_recorded() {
    let origin = serve(Router::new().fallback(storefront)).await;
    let up = Upstream::new(config(origin)).unwrap();

    let fetched = up
        .fetch(&product(Marketplace::Us, "B0OLD00001"), judge())
        .await;
    let d = fetched.result.expect("delivered");
    let expected = format!("http://{origin}/amazon.com/dp/B0NEW00001?th=1&psc=1");
    assert_eq!(d.final_url, expected);
    assert!(d.value.contains("session-id=131-7"), "{}", d.value);
    assert!(d.value.contains("lc-main=en_US"), "{}", d.value);
    assert_eq!(fetched.attempts.len(), 1);
    assert_eq!(
        fetched.attempts[0].final_url.as_deref(),
        Some(expected.as_str())
    );
    assert!(fetched.attempts[0].url.contains("/dp/B0OLD00001"));

    // A fresh jar per attempt: the next fetch starts without the session cookie.
    let d = up
        .fetch(&product(Marketplace::Us, "B0NEW00001"), judge())
        .await
        .result
        .unwrap();
    assert!(!d.value.contains("session-id"), "{}", d.value);

    let fetched = up
        .fetch(&product(Marketplace::Us, "B0LOOP0001"), judge())
        .await;
    assert!(matches!(
        fetched.result,
        Err(FetchError::Blocked { last: None })
    ));
    assert_eq!(fetched.attempts.len(), 4);
    for a in &fetched.attempts {
        assert_eq!((a.outcome, a.status), (Outcome::Redirect, Some(302)));
        assert!(a.error.as_deref().unwrap().contains("redirects"));
    }
}

const PAGE: &str = "<html><body><span id=\"productTitle\">Kaffeemühle</span></body></html>";

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn brotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        w.write_all(data).unwrap();
    }
    out
}

async fn encoded(req: Request) -> Response {
    let accepts = req
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let (encoding, body) = match req.uri().path() {
        "/amazon.de/dp/B0GZIP0001" => ("gzip", gzip(PAGE.as_bytes())),
        "/amazon.de/dp/B0BROT0001" => ("br", brotli(PAGE.as_bytes())),
        // Decodes to 1 MiB from about a kilobyte.
        "/amazon.de/dp/B0BOMB0001" => ("gzip", gzip(&vec![b'a'; 1 << 20])),
        _ => return (axum::http::StatusCode::NOT_FOUND, "").into_response(),
    };
    if !accepts.contains(encoding) {
        return (axum::http::StatusCode::NOT_ACCEPTABLE, "").into_response();
    }
    ([(header::CONTENT_ENCODING, encoding)], body).into_response()
}

#[tokio::test]
async fn gzip_and_brotli_bodies_are_decoded() {
    let origin = serve(Router::new().fallback(encoded)).await;
    let up = Upstream::new(config(origin)).unwrap();
    for asin in ["B0GZIP0001", "B0BROT0001"] {
        let fetched = up.fetch(&product(Marketplace::De, asin), judge()).await;
        let d = fetched.result.expect(asin);
        assert_eq!(d.value, PAGE, "{asin}");
        assert_eq!(&d.body[..], PAGE.as_bytes());
        assert_eq!(fetched.attempts[0].bytes, PAGE.len() as u64);
    }
}

async fn big(req: Request) -> Response {
    let body = vec![b'x'; 200 * 1024];
    match req.uri().path() {
        // Content-Length says it all up front.
        "/amazon.com/dp/B0SIZED001" => body.into_response(),
        // Chunked, so the cap can only be seen while streaming.
        "/amazon.com/dp/B0STREAM01" => {
            let chunks = body
                .chunks(16 * 1024)
                .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
                .collect::<Vec<_>>();
            Body::from_stream(futures::stream::iter(chunks)).into_response()
        }
        _ => encoded(req).await,
    }
}

#[tokio::test]
async fn bodies_over_the_cap_are_too_large_even_when_compressed() {
    let router = Router::new().fallback(big);
    let origin = serve(router).await;
    let up = Upstream::new(UpstreamConfig {
        body_cap: 64 * 1024,
        max_attempts: 2,
        ..config(origin)
    })
    .unwrap();
    for (m, asin) in [
        (Marketplace::Us, "B0SIZED001"),
        (Marketplace::Us, "B0STREAM01"),
        (Marketplace::De, "B0BOMB0001"),
    ] {
        let fetched = up.fetch(&product(m, asin), judge()).await;
        assert!(
            matches!(fetched.result, Err(FetchError::Unreachable)),
            "{asin}: {:?}",
            fetched.result
        );
        assert_eq!(fetched.attempts.len(), 2, "{asin}");
        for a in &fetched.attempts {
            assert_eq!(a.outcome, Outcome::TooLarge, "{asin}");
            assert_eq!(a.status, Some(200));
            // Reading stopped at the cap, long before the end of the body.
            assert!(a.bytes < 200 * 1024, "{asin}: read {} bytes", a.bytes);
        }
    }
}
