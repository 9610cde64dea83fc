//! Any query string through the server's parameter parsing: it must return, never panic;
//! an accepted request keeps the documented ranges, a refusal names the parameter, and
//! the key never reaches the parameters kept for traces.
#![no_main]

use asa_model::ErrorCode;
use asa_server::params::{ProductParams, RawQuery, SearchParams, MAX_PAGE, MAX_SEARCH_QUERY_CHARS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The server reads the query as text; undecodable bytes arrive percent-encoded.
    let Ok(qs) = std::str::from_utf8(data) else {
        return;
    };
    let q = RawQuery::parse(Some(qs));
    if let Some(map) = q.to_json().as_object() {
        assert!(!map.contains_key("api_key"), "api_key kept for traces");
    }
    match ProductParams::parse(&q) {
        Ok(p) => {
            let asin = p.asin.as_str();
            assert_eq!(asin.len(), 10, "{asin}");
            assert!(
                asin.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
                "{asin}"
            );
            assert!(p.locale.marketplace.accepts_language(&p.locale.language));
        }
        Err(e) => refusal(&e),
    }
    match SearchParams::parse(&q) {
        Ok(s) => {
            assert!(!s.query.is_empty());
            assert!(s.query.chars().count() <= MAX_SEARCH_QUERY_CHARS);
            assert!((1..=MAX_PAGE).contains(&s.start_page));
            assert!((1..=MAX_PAGE).contains(&s.pages));
            assert!(s.locale.marketplace.accepts_language(&s.locale.language));
        }
        Err(e) => refusal(&e),
    }
});

/// A refusal is a 400 naming the parameter in backquotes, or the roadmap's 501.
fn refusal(e: &asa_server::ApiError) {
    match e.code {
        ErrorCode::InvalidParams => {
            assert!(
                e.message.starts_with("Invalid parameter `"),
                "{}",
                e.message
            )
        }
        ErrorCode::NotImplemented => {}
        other => panic!("parameter parsing answered {other}"),
    }
}
