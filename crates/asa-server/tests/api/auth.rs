//! Keys: the three places a key may be sent, 401 unauthorized vs 401 revoked, rotation with
//! and without a grace period.

use crate::helpers::TestApp;
use asa_model::KeyKind;
use std::time::Duration;

#[tokio::test]
async fn missing_malformed_and_unknown_keys_are_unauthorized() {
    let app = TestApp::spawn().await;
    let path = "/api/v1/account";
    app.get(path).await.assert_envelope("unauthorized");
    app.get_as("not-a-key", path)
        .await
        .assert_envelope("unauthorized");
    app.get_as("asa_live_00000000000000000000000000000000", path)
        .await
        .assert_envelope("unauthorized");
    let basic = app
        .send(
            app.client
                .get(format!("{}{path}", app.base))
                .header("authorization", "Basic abc"),
        )
        .await;
    basic.assert_envelope("unauthorized");
    assert!(basic.body["message"].as_str().unwrap().contains("Bearer"));
}

#[tokio::test]
async fn the_key_is_accepted_in_all_three_places() {
    let app = TestApp::spawn().await;
    let h = app.account("free", 0, KeyKind::Live).await;
    let url = format!("{}/api/v1/account", app.base);
    let bearer = app.send(app.client.get(&url).bearer_auth(&h.key)).await;
    let header = app
        .send(app.client.get(&url).header("x-api-key", &h.key))
        .await;
    let query = app
        .send(app.client.get(format!("{url}?api_key={}", h.key)))
        .await;
    for a in [bearer, header, query] {
        assert_eq!(a.status, 200, "{}", a.text);
        assert_eq!(a.body["account_id"], h.account_id.as_str());
        assert!(a.body["request_id"].as_str().unwrap().starts_with("req_"));
        assert!(!a.text.contains(&h.key), "the key never comes back");
    }
}

#[tokio::test]
async fn first_match_wins() {
    let app = TestApp::spawn().await;
    let h = app.account("free", 0, KeyKind::Live).await;
    // A bad Bearer token is not rescued by a good X-API-Key.
    let a = app
        .send(
            app.client
                .get(format!("{}/api/v1/account", app.base))
                .bearer_auth("asa_live_00000000000000000000000000000000")
                .header("x-api-key", &h.key),
        )
        .await;
    a.assert_envelope("unauthorized");
}

#[tokio::test]
async fn revoked_and_rotated_keys() {
    let app = TestApp::spawn().await;
    let h = app.account("free", 0, KeyKind::Live).await;
    let path = "/api/v1/account";
    assert_eq!(app.get_as(&h.key, path).await.status, 200);

    // Rotation without grace: the old key is revoked at once, the new one works.
    let (new_rec, new_key) = app.store.rotate_key(&h.key_id.clone(), None).await.unwrap();
    app.get_as(&h.key, path).await.assert_envelope("revoked");
    assert_eq!(app.get_as(new_key.expose(), path).await.status, 200);

    // Rotation with a grace period: both work until it ends, then the old one is revoked.
    let (_, newer_key) = app
        .store
        .rotate_key(&new_rec.id, Some(Duration::from_millis(1500)))
        .await
        .unwrap();
    assert_eq!(app.get_as(new_key.expose(), path).await.status, 200);
    assert_eq!(app.get_as(newer_key.expose(), path).await.status, 200);
    tokio::time::sleep(Duration::from_millis(2000)).await;
    app.get_as(new_key.expose(), path)
        .await
        .assert_envelope("revoked");

    // Plain revocation.
    let other = app.account("free", 0, KeyKind::Live).await;
    app.store.revoke_key(&other.key_id.clone()).await.unwrap();
    app.get_as(&other.key, path)
        .await
        .assert_envelope("revoked");
}

#[tokio::test]
async fn the_key_is_checked_before_the_parameters() {
    let app = TestApp::spawn().await;
    app.get("/api/v1/amazon/product?query=bad")
        .await
        .assert_envelope("unauthorized");
    app.get("/api/v1/amazon/search")
        .await
        .assert_envelope("unauthorized");
}
