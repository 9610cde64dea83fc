//! Parameter rules through the real server: every 400 names its parameter, roadmap
//! parameters are 501, and the region check comes after them.

use crate::helpers::TestApp;
use asa_model::Credits;
use asa_model::KeyKind;

#[tokio::test]
async fn each_product_rule_is_a_400_naming_the_parameter() {
    let app = TestApp::spawn().await;
    let h = app.account("vibe", 100, KeyKind::Live).await;
    for (qs, param) in [
        ("", "query"),
        ("query=B00", "query"),
        ("query=B000LQXC2Q1", "query"),
        ("query=https://www.ebay.com/dp/B000LQXC2Q", "query"),
        ("query=https://www.amazon.com/s?k=x", "query"),
        ("query=B000LQXC2Q&domain=cn", "domain"),
        ("query=B000LQXC2Q&domain=de&language=fr_FR", "language"),
        ("query=B000LQXC2Q&language=xx", "language"),
        ("query=B000LQXC2Q&country=Germany", "country"),
        ("query=B000LQXC2Q&add_html=perhaps", "add_html"),
    ] {
        let a = app
            .get_as(&h.key, &format!("/api/v1/amazon/product?{qs}"))
            .await;
        a.assert_envelope("invalid_params");
        assert!(
            a.body["message"]
                .as_str()
                .unwrap()
                .contains(&format!("`{param}`")),
            "{qs}: {}",
            a.text
        );
    }
}

#[tokio::test]
async fn each_search_rule_is_a_400_naming_the_parameter() {
    let app = TestApp::spawn().await;
    let h = app.account("vibe", 100, KeyKind::Live).await;
    let long = "a".repeat(501);
    for (qs, param) in [
        ("".to_string(), "query"),
        (format!("query={long}"), "query"),
        ("query=x&sort_by=cheapest".into(), "sort_by"),
        ("query=x&start_page=0".into(), "start_page"),
        ("query=x&start_page=11".into(), "start_page"),
        ("query=x&pages=0".into(), "pages"),
        ("query=x&pages=11".into(), "pages"),
        ("query=x&domain=amazon".into(), "domain"),
    ] {
        let a = app
            .get_as(&h.key, &format!("/api/v1/amazon/search?{qs}"))
            .await;
        a.assert_envelope("invalid_params");
        assert!(
            a.body["message"]
                .as_str()
                .unwrap()
                .contains(&format!("`{param}`")),
            "{qs}: {}",
            a.text
        );
    }
}

#[tokio::test]
async fn roadmap_parameters_are_not_implemented_whatever_the_value() {
    let app = TestApp::spawn().await;
    let h = app.account("vibe", 100, KeyKind::Live).await;
    for qs in [
        "render_js=true",
        "render_js=false",
        "screenshot=1",
        "screenshot=",
    ] {
        let a = app
            .get_as(
                &h.key,
                &format!("/api/v1/amazon/product?query=B000LQXC2Q&{qs}"),
            )
            .await;
        a.assert_envelope("not_implemented");
        let a = app
            .get_as(&h.key, &format!("/api/v1/amazon/search?query=cable&{qs}"))
            .await;
        a.assert_envelope("not_implemented");
    }
}

#[tokio::test]
async fn exit_countries_outside_the_plan_are_forbidden() {
    let app = TestApp::spawn().await;
    let free = app.account("free", 100, KeyKind::Live).await;
    let a = app
        .get_as(
            &free.key,
            "/api/v1/amazon/product?query=B000LQXC2Q&domain=de&country=US",
        )
        .await;
    a.assert_envelope("forbidden_region");
    let vibe = app.account("vibe", 100, KeyKind::Live).await;
    let a = app
        .get_as(
            &vibe.key,
            "/api/v1/amazon/product?query=B000LQXC2Q&domain=de&country=FI",
        )
        .await;
    a.assert_envelope("forbidden_region");
    // A 400 wins over a 403.
    let a = app
        .get_as(
            &free.key,
            "/api/v1/amazon/product?query=B000LQXC2Q&domain=de&country=US&language=xx",
        )
        .await;
    a.assert_envelope("invalid_params");
}

#[tokio::test]
async fn no_credits_is_402_and_free() {
    let app = TestApp::spawn().await;
    let h = app.account("free", 0, KeyKind::Live).await;
    let a = app
        .get_as(&h.key, "/api/v1/amazon/product?query=B000LQXC2Q")
        .await;
    a.assert_envelope("insufficient_credits");
    assert_eq!(app.credits(&h.account_id).await, (Credits(0), Credits(0)));
}
