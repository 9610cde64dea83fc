//! No key reaches the log: the real server binary (`asa dev`) at its most verbose useful level
//! (`ASA_LOG=debug`, every crate), its log captured whole, while keys arrive in each of the
//! three places a key is accepted, valid, unknown, malformed and revoked, and through the
//! dashboard's sign-in form. The log must carry the refusals (with their request ids), and
//! none of the keys' secrets.

mod support;

use asa_model::{Credits, KeyKind};
use asa_store::NewAccount;
use support::{start_node_logging, Shared};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_never_reach_the_log() {
    let sim = asa_sim::start_local(asa_sim::SimConfig {
        page_bytes: 50_000,
        ..asa_sim::SimConfig::default()
    })
    .await
    .unwrap();
    let shared = Shared::sqlite();
    let store = shared.store().await;
    let account = store
        .create_account(NewAccount {
            plan: "vibe".into(),
            name: None,
            credits: Credits(1000),
        })
        .await
        .unwrap();
    let (_, live) = store.create_key(&account.id, KeyKind::Live).await.unwrap();
    let (old_rec, old) = store.create_key(&account.id, KeyKind::Live).await.unwrap();
    store.revoke_key(&old_rec.id).await.unwrap();
    let live = live.expose().to_string();
    let old = old.expose().to_string();
    let unknown = "asa_live_Zq8mV3kT1xW9pL2rN6sB4yH7cJ0dF5gA".to_string();
    let malformed = "asa_live_tooShortButSecret123".to_string();

    let log = shared.dir.path().join("serve.log");
    let node = start_node_logging(&shared, &sim, &[("ASA_LOG", "debug")], Some(&log));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = |path: &str| format!("{}{path}", node.base);
    // The API's refusals: each is logged with its request id.
    let mut refused = Vec::new();
    let mut note = |res: reqwest::Response| {
        let status = res.status().as_u16();
        if status >= 400 && res.url().path().starts_with("/api/") {
            refused.push(res.headers()["x-request-id"].to_str().unwrap().to_string());
        }
        status
    };
    let product = url("/api/v1/amazon/product?query=B000LQXC2Q");
    assert_eq!(
        note(
            client
                .get(&product)
                .bearer_auth(&live)
                .send()
                .await
                .unwrap()
        ),
        200
    );
    let captcha = url("/api/v1/amazon/product?query=B0CAPTCHA1");
    assert_eq!(
        note(
            client
                .get(&captcha)
                .header("x-api-key", &live)
                .send()
                .await
                .unwrap()
        ),
        422
    );
    let in_query = url(&format!("/api/v1/account?api_key={live}"));
    assert_eq!(note(client.get(&in_query).send().await.unwrap()), 200);
    for (key, status) in [(&unknown, 401), (&old, 401), (&malformed, 401)] {
        let res = client.get(&product).bearer_auth(key).send().await.unwrap();
        assert_eq!(note(res), status);
        let res = client
            .get(url(&format!("/api/v1/account?api_key={key}")))
            .send()
            .await
            .unwrap();
        assert_eq!(note(res), status);
    }
    for key in [&live, &unknown, &malformed] {
        let res = client
            .post(url("/dashboard/login"))
            .header("origin", &node.base)
            .form(&[("key", key.as_str())])
            .send()
            .await
            .unwrap();
        assert!(matches!(note(res), 303 | 401));
    }
    drop(node); // SIGKILL: the log file holds everything the node wrote.

    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.lines().count() > 20, "the log was captured:\n{text}");
    assert_eq!(refused.len(), 7);
    for id in &refused {
        assert!(text.contains(id.as_str()), "refusal {id} is in the log");
    }
    for key in [&live, &old, &unknown, &malformed] {
        // The whole secret, and the part past the public short prefix on its own.
        for secret in [&key["asa_live_".len()..], &key["asa_live_".len() + 12..]] {
            assert!(
                !text.contains(secret),
                "a key's secret reached the log: {}",
                text.lines()
                    .find(|l| l.contains(secret))
                    .unwrap_or_default()
            );
        }
    }
}
