//! The surface every request meets: routing, the envelope, docs, OpenAPI, panics.

use crate::helpers::TestApp;
use asa_model::ErrorCode;

#[tokio::test]
async fn unknown_paths_and_methods_are_not_found_envelopes() {
    let app = TestApp::spawn().await;
    for path in [
        "/",
        "/api/v1/nope",
        "/api/v2/amazon/product",
        "/api/v1/amazon/product/extra",
    ] {
        app.get(path).await.assert_envelope("not_found");
    }
    let a = app
        .send(
            app.client
                .delete(format!("{}/api/v1/amazon/product", app.base)),
        )
        .await;
    a.assert_envelope("not_found");
    let a = app
        .send(app.client.post(format!("{}/healthz", app.base)))
        .await;
    a.assert_envelope("not_found");
}

#[tokio::test]
async fn every_docs_url_lands_on_a_row_of_the_docs_page() {
    let app = TestApp::spawn().await;
    let page = app.get("/docs/guides/errors").await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    for code in ErrorCode::ALL {
        assert!(
            page.text.contains(&format!("<tr id=\"{code}\">")),
            "no row for {code}"
        );
    }
    let a = app.get("/nowhere").await;
    let url = a.body["docs_url"].as_str().unwrap().to_string();
    assert!(
        url.starts_with(&app.base),
        "docs base defaults to the server's own address: {url}"
    );
    let (page_url, anchor) = url.split_once('#').unwrap();
    let fetched = app.send(app.client.get(page_url)).await;
    assert!(fetched.text.contains(&format!("id=\"{anchor}\"")));
}

#[tokio::test]
async fn docs_base_is_configurable() {
    let app =
        TestApp::spawn_with(|c| c.docs_base_url = Some("https://docs.example.org/".into())).await;
    let a = app.get("/nowhere").await;
    assert_eq!(
        a.body["docs_url"],
        "https://docs.example.org/docs/guides/errors#not_found"
    );
}

#[tokio::test]
async fn oversized_query_strings_are_refused_with_400() {
    let app = TestApp::spawn().await;
    let long = "a".repeat(20_000);
    let a = app
        .get(&format!("/api/v1/amazon/product?query={long}"))
        .await;
    a.assert_envelope("invalid_params");
    assert!(a.body["message"].as_str().unwrap().contains("query string"));
}

#[tokio::test]
async fn a_panicking_handler_becomes_internal_error() {
    async fn boom() -> &'static str {
        panic!("deliberate test panic")
    }
    let extra = axum::Router::new().route("/boom", axum::routing::get(boom));
    let app = TestApp::spawn_full(|_| {}, Some(extra)).await;
    let a = app.get("/boom").await;
    a.assert_envelope("internal_error");
    assert!(
        !a.text.contains("deliberate"),
        "panic text must not leak to users"
    );
    // The server is still up.
    assert_eq!(app.get("/healthz").await.status, 200);
}

#[tokio::test]
async fn healthz_carries_a_request_id() {
    let app = TestApp::spawn().await;
    let a = app.get("/healthz").await;
    assert_eq!(a.status, 200);
    assert!(a.header("x-request-id").unwrap().starts_with("req_"));
    assert_eq!(a.header("asa-cost"), Some("0"));
}

#[tokio::test]
async fn batch_routes_exist_check_the_key_and_refuse_oversized_bodies_with_400() {
    let app = TestApp::spawn_with(|c| c.max_body_bytes = 1024).await;
    let url = format!("{}/api/v1/amazon/batch", app.base);
    app.send(app.client.post(&url).body("{}"))
        .await
        .assert_envelope("unauthorized");
    let a = app
        .send(
            app.client
                .post(&url)
                .bearer_auth(key(&app).await)
                .body("x".repeat(4096)),
        )
        .await;
    a.assert_envelope("invalid_params");
    assert!(a.body["message"].as_str().unwrap().contains("`body`"));
    let a = app
        .send(
            app.client
                .post(&url)
                .bearer_auth(key(&app).await)
                .body("not json"),
        )
        .await;
    a.assert_envelope("invalid_params");
    let a = app
        .send(
            app.client
                .post(&url)
                .bearer_auth(key(&app).await)
                .body("{\"endpoint\":\"amazon.product\",\"items\":[]}"),
        )
        .await;
    a.assert_envelope("invalid_params");
    assert!(a.body["message"].as_str().unwrap().contains("`items`"));
    app.send(
        app.client
            .get(format!("{url}/b_1"))
            .bearer_auth(key(&app).await),
    )
    .await
    .assert_envelope("not_found");
}

async fn key(app: &TestApp) -> String {
    app.account("free", 0, asa_model::KeyKind::Live).await.key
}
