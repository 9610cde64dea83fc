//! The typed calls on success: bodies, headers, attempts; the blocking facade.

use crate::harness::Server;
use asa_client::{ProductParams, SearchParams, SortBy};
use asa_model::{KeyKind, Marketplace};

#[tokio::test]
async fn product_search_account_and_trace_are_typed() {
    let s = Server::start(asa_sim::SimConfig::default(), |_| {});
    let h = s.account("vibe", 1000, KeyKind::Live).await;
    let c = s.client(&h.key).build().unwrap();

    let p = c
        .product(ProductParams::new("b000lqxc2q").domain("de").add_html(true))
        .await
        .unwrap();
    let truth = asa_sim::product_truth(Marketplace::De, "B000LQXC2Q", "de_DE");
    assert_eq!(p.data.asin, "B000LQXC2Q");
    assert_eq!(p.data.title.as_deref(), Some(truth.title.as_str()));
    assert_eq!(p.data.marketplace, Some(Marketplace::De));
    assert_eq!(p.meta.cost, Some(5));
    assert_eq!(p.meta.status, 200);
    assert_eq!(p.request_id(), p.data.request_id);
    assert_eq!(p.attempts.len(), 1);
    assert!(p.raw["html"].as_str().unwrap().contains("productTitle"));
    assert!(p.meta.concurrency.as_deref().unwrap().ends_with("/30"));

    let url = c
        .product("https://www.amazon.co.uk/dp/B000LQXC2Q")
        .await
        .unwrap();
    assert_eq!(url.data.marketplace, Some(Marketplace::Uk));

    let sr = c
        .search(
            SearchParams::new("usb c cable")
                .domain("com")
                .sort_by(SortBy::PriceAsc)
                .start_page(2)
                .pages(2),
        )
        .await
        .unwrap();
    assert_eq!(sr.data.sort_by, SortBy::PriceAsc);
    assert_eq!((sr.data.start_page, sr.data.pages), (2, 2));
    assert!(!sr.data.products.is_empty());
    assert!(sr.data.products.iter().all(|p| p.page == 2 || p.page == 3));
    assert_eq!(sr.meta.cost, Some(10));

    let a = c.account().await.unwrap();
    assert_eq!(a.data.account_id, h.account_id);
    assert_eq!(a.data.plan, "vibe");
    assert_eq!((a.data.limits.concurrency, a.data.limits.rps), (30, 10.0));
    assert_eq!(a.data.credits.balance, 1000 - 5 - 5 - 10);

    let t = c.trace(sr.request_id()).await.unwrap();
    assert_eq!(t.data.endpoint, "amazon.search");
    assert_eq!(t.data.credits_charged, 10);
    assert_eq!(t.data.params["sort_by"], "price_asc");
}

#[test]
fn the_blocking_facade_works_without_a_runtime() {
    let s = Server::start(asa_sim::SimConfig::default(), |_| {});
    let rt = tokio::runtime::Runtime::new().unwrap();
    let h = rt.block_on(s.account("free", 0, KeyKind::Test));
    let c = asa_client::BlockingClient::from_builder(
        asa_client::Client::builder()
            .ignore_environment()
            .base_url(&s.base)
            .api_key(&h.key),
    )
    .unwrap();
    let p = c.product("B000LQXC2Q").unwrap();
    assert_eq!(p.data.asin, "B000LQXC2Q");
    assert_eq!(p.meta.cost, Some(0), "sandbox keys are never billed");
    let e = c.product("B0NOTFND03").unwrap_err();
    assert_eq!(e.code(), "product_not_found");
    assert_eq!(c.account().unwrap().data.plan, "free");
    drop(c);
    drop(rt);
}

#[tokio::test]
async fn a_missing_key_is_a_config_error_before_any_request() {
    let c = asa_client::Client::builder()
        .ignore_environment()
        .base_url("http://127.0.0.1:9")
        .build()
        .unwrap();
    let e = c.product("B000LQXC2Q").await.unwrap_err();
    assert_eq!(e.code(), "config");
    assert!(e.attempts().is_empty());
    assert!(e.to_string().contains("asa login"));
}
