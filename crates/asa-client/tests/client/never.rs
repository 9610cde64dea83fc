//! Permanent codes: one attempt, a typed error carrying the catalog's code, status and
//! `retryable`, and the attempt's request id, which the account can read back as a trace.

use crate::harness::{Events, Server};
use asa_client::{ErrorCode, Next, ProductParams, SearchParams, Stop};
use asa_model::KeyKind;

fn assert_permanent(e: &asa_client::Error, code: ErrorCode) {
    let api = e
        .as_api()
        .unwrap_or_else(|| panic!("not an API error: {e:?}"));
    assert_eq!(api.kind, Some(code), "{e}");
    assert_eq!(api.code, code.as_str());
    assert_eq!(api.status, code.status());
    assert!(!api.retryable);
    assert_eq!(api.stop, Stop::NotRetryable, "{e}");
    assert_eq!(api.attempts.len(), 1, "{code} must not be retried");
    assert!(api.request_id.starts_with("req_") && api.request_id.len() == 16);
    assert_eq!(e.request_ids(), vec![api.request_id.as_str()]);
    assert!(api.docs_url.as_deref().unwrap().ends_with(code.as_str()));
    let line = e.one_line();
    assert!(
        line.contains(code.as_str()) && line.contains(&api.request_id),
        "{line}"
    );
}

#[tokio::test]
async fn permanent_errors_are_never_retried() {
    let s = Server::start(asa_sim::SimConfig::default(), |_| {});
    let vibe = s.account("vibe", 1000, KeyKind::Live).await;
    let free = s.account("free", 1000, KeyKind::Live).await;
    let broke = s.account("vibe", 0, KeyKind::Live).await;
    let events = Events::default();
    let c = s.client(&vibe.key).observer(events.hook()).build().unwrap();

    let cases: Vec<(ErrorCode, Result<_, asa_client::Error>)> = vec![
        (
            ErrorCode::InvalidParams,
            c.product(ProductParams::new("B000LQXC2Q").domain("xx"))
                .await
                .map(|_| ()),
        ),
        (
            ErrorCode::InvalidParams,
            c.search(SearchParams::new("usb").param("sort_by", "relevance"))
                .await
                .map(|_| ()),
        ),
        (
            ErrorCode::ProductNotFound,
            c.product("B0NOTFND01").await.map(|_| ()),
        ),
        (
            ErrorCode::AsinMismatch,
            c.product("B0REDIRCT1").await.map(|_| ()),
        ),
        (
            ErrorCode::NotImplemented,
            c.product(ProductParams::new("B000LQXC2Q").param("render_js", "true"))
                .await
                .map(|_| ()),
        ),
        (
            ErrorCode::NotFound,
            c.trace("req_000000000000").await.map(|_| ()),
        ),
        (
            ErrorCode::ForbiddenRegion,
            s.client(&free.key)
                .build()
                .unwrap()
                .product(ProductParams::new("B000LQXC2Q").country("DE"))
                .await
                .map(|_| ()),
        ),
        (
            ErrorCode::InsufficientCredits,
            s.client(&broke.key)
                .build()
                .unwrap()
                .product("B000LQXC2Q")
                .await
                .map(|_| ()),
        ),
        (
            ErrorCode::Unauthorized,
            s.client("asa_live_00000000000000000000000000000000")
                .build()
                .unwrap()
                .account()
                .await
                .map(|_| ()),
        ),
    ];
    for (code, r) in &cases {
        assert_permanent(r.as_ref().expect_err("must fail"), *code);
    }
    // The observer saw one final attempt per call made through `c`.
    let seen = events.take();
    assert_eq!(seen.len(), 6);
    assert!(seen
        .iter()
        .all(|(_, n)| *n == Next::Stop(Stop::NotRetryable)));

    // A rotated-out key: 401 revoked.
    let store = s.store.clone();
    let key_id = asa_model::KeyId::from(vibe.key_id.as_str());
    s.on_server(async move { store.revoke_key(&key_id).await.unwrap() })
        .await;
    let mut last = None;
    // Revocation reaches every node within 30 s; this single node sees it at once.
    for _ in 0..50 {
        match c.account().await {
            Err(e) if e.code() == "revoked" => {
                last = Some(e);
                break;
            }
            _ => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    assert_permanent(
        &last.expect("the key is refused as revoked"),
        ErrorCode::Revoked,
    );
    // Nothing above was billed.
    assert_eq!(s.balance(&free.account_id).await, 1000);
}

#[tokio::test]
async fn the_request_id_of_a_failure_pulls_its_trace() {
    let s = Server::start(asa_sim::SimConfig::default(), |_| {});
    let h = s.account("vibe", 1000, KeyKind::Live).await;
    let c = s.client(&h.key).build().unwrap();
    let e = c.product("B0NOTFND02").await.unwrap_err();
    let t = c.trace(e.request_id().unwrap()).await.unwrap();
    assert_eq!(t.data.request_id, e.request_id().unwrap());
    assert_eq!(t.data.status, 404);
    assert_eq!(t.data.error_code.as_deref(), Some("product_not_found"));
    assert_eq!(t.data.endpoint, "amazon.product");
    assert_eq!(t.data.credits_charged, 0);
}

#[tokio::test]
async fn a_gallery_page_is_never_retried() {
    let s = Server::start(asa_sim::SimConfig::default(), |_| {});
    let h = s.account("vibe", 1000, KeyKind::Live).await;
    let c = s.client(&h.key).build().unwrap();
    let e = c.product("B0GALLERY1").await.unwrap_err();
    assert_permanent(&e, ErrorCode::GenericGalleryPage);
}
