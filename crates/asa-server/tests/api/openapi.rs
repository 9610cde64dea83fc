//! `/openapi.json` is generated from the routes; a change to it must be deliberate:
//! run with `UPDATE_SNAPSHOTS=1` to accept it.

use crate::helpers::TestApp;
use asa_model::ErrorCode;

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots/openapi.json");

#[tokio::test]
async fn openapi_matches_its_snapshot() {
    let app = TestApp::spawn().await;
    let a = app.get("/openapi.json").await;
    assert_eq!(a.status, 200);
    let served = serde_json::to_string_pretty(&a.body).unwrap() + "\n";
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(SNAPSHOT, &served).unwrap();
    }
    let stored = std::fs::read_to_string(SNAPSHOT)
        .expect("snapshot exists; create it with UPDATE_SNAPSHOTS=1");
    assert!(
        served == stored,
        "/openapi.json changed; review and run with UPDATE_SNAPSHOTS=1"
    );
}

#[tokio::test]
async fn openapi_describes_every_route_and_error() {
    let app = TestApp::spawn().await;
    let doc = app.get("/openapi.json").await.body;
    for path in [
        "/api/v1/amazon/product",
        "/api/v1/amazon/search",
        "/api/v1/account",
        "/api/v1/requests/{request_id}",
    ] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} missing");
    }
    let product = &doc["paths"]["/api/v1/amazon/product"]["get"]["responses"];
    for code in ErrorCode::ALL {
        let r = &product[code.status().to_string()];
        assert!(
            r["description"]
                .as_str()
                .unwrap_or("")
                .contains(code.as_str()),
            "{code} not described"
        );
    }
    let names: Vec<_> = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(names.len(), 17);
}

/// `/docs/api` is Swagger UI over `/openapi.json`, served whole by the binary: the page,
/// its script and its configuration, with nothing fetched from another host.
#[tokio::test]
async fn the_viewer_serves_the_document_with_its_own_assets() {
    let app = TestApp::spawn().await;
    let page = app.get("/docs/api").await;
    assert_eq!(page.status, 200, "redirected to /docs/api/: {}", page.text);
    assert!(page.text.contains("swagger-ui"), "{}", page.text);
    let mut scripts = 0;
    for src in page.text.split("src=\"").skip(1) {
        let src = &src[..src.find('"').unwrap()];
        assert!(
            !src.starts_with("http") && !src.starts_with("//"),
            "loads {src} from elsewhere"
        );
        let asset = app
            .get(&format!("/docs/api/{}", src.trim_start_matches("./")))
            .await;
        assert_eq!(asset.status, 200, "{src}");
        scripts += 1;
        if src.contains("initializer") {
            assert!(asset.text.contains("/openapi.json"), "{}", asset.text);
        }
    }
    assert!(scripts >= 2, "{}", page.text);
    let css = app.get("/docs/api/swagger-ui.css").await;
    assert_eq!(css.status, 200);
}
