//! Batches end to end: creation checks, a 1,000-item batch against the simulator with
//! injected faults, signed webhook deliveries, ownership and idempotency.

use crate::helpers::{Answer, SimApp, TestApp};
use asa_model::Credits;
use asa_model::KeyKind;
use asa_server::config::{Countries, CountryKeyword, PlanConfig};
use asa_server::Config;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

async fn post_batch(app: &TestApp, key: &str, body: &Value, idem: Option<&str>) -> Answer {
    let mut rb = app
        .client
        .post(format!("{}/api/v1/amazon/batch", app.base))
        .bearer_auth(key)
        .json(body);
    if let Some(k) = idem {
        rb = rb.header("Idempotency-Key", k);
    }
    app.send(rb).await
}

/// Polls until the batch is complete or failed.
async fn finished(app: &TestApp, key: &str, id: &str, within: Duration) -> Answer {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let a = app.get_as(key, &format!("/api/v1/amazon/batch/{id}")).await;
        assert_eq!(a.status, 200, "{}", a.text);
        if matches!(a.body["status"].as_str(), Some("complete" | "failed")) {
            return a;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "batch {id} not finished: {}",
            a.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A plan fast enough that a big batch is bound by the worker, not by the rate limit.
fn bulk_plan(c: &mut Config) {
    c.plans.insert(
        "bulk".into(),
        PlanConfig {
            concurrency: 64,
            rps: 5000.0,
            burst: 5000,
            countries: Countries::Keyword(CountryKeyword::Any),
        },
    );
}

#[tokio::test]
async fn bad_creations_are_refused_up_front_naming_what_is_wrong() {
    let app = TestApp::spawn().await;
    let h = app.account("vibe", 100, KeyKind::Live).await;
    let cases = [
        (json!({"items": [{"query": "B000LQXC2Q"}]}), "endpoint"),
        (
            json!({"endpoint": "amazon.reviews", "items": [{"query": "B000LQXC2Q"}]}),
            "endpoint",
        ),
        (json!({"endpoint": "amazon.product", "items": []}), "items"),
        (json!({"endpoint": "amazon.product"}), "items"),
        (
            json!({"endpoint": "amazon.product", "items": [{"query": "B000LQXC2Q"}, {"query": "nope"}]}),
            "items[1]",
        ),
        (
            json!({"endpoint": "amazon.product", "items": [{"query": "B000LQXC2Q", "domain": "moon"}]}),
            "items[0]",
        ),
        (
            json!({"endpoint": "amazon.search", "items": [{"query": "usb c", "pages": 11}]}),
            "items[0]",
        ),
        (
            json!({"endpoint": "amazon.product", "items": [{"query": ["B000LQXC2Q"]}]}),
            "items[0]",
        ),
        (
            json!({"endpoint": "amazon.product", "items": [{"query": "B000LQXC2Q"}], "webhook_url": "http://hooks.example.com/x"}),
            "webhook_url",
        ),
        (
            json!({"endpoint": "amazon.product", "items": [{"query": "B000LQXC2Q"}], "webhook_url": "https://127.0.0.1/x"}),
            "webhook_url",
        ),
        (
            json!({"endpoint": "amazon.product", "items": [{"query": "B000LQXC2Q"}], "webhook_url": "https://169.254.169.254/latest"}),
            "webhook_url",
        ),
    ];
    for (body, names) in cases {
        let a = post_batch(&app, &h.key, &body, None).await;
        a.assert_envelope("invalid_params");
        assert!(
            a.body["message"].as_str().unwrap().contains(names),
            "{body}: {}",
            a.text
        );
    }
    let too_many: Vec<Value> = (0..1001).map(|_| json!({"query": "B000LQXC2Q"})).collect();
    let a = post_batch(
        &app,
        &h.key,
        &json!({"endpoint": "amazon.product", "items": too_many}),
        None,
    )
    .await;
    a.assert_envelope("invalid_params");
    assert!(a.body["message"].as_str().unwrap().contains("1001"));
    // Not JSON at all.
    let a = app
        .send(
            app.client
                .post(format!("{}/api/v1/amazon/batch", app.base))
                .bearer_auth(&h.key)
                .body("{items"),
        )
        .await;
    a.assert_envelope("invalid_params");
    // A country the plan does not allow is a 403 naming the item.
    let free = app.account("free", 100, KeyKind::Live).await;
    let a = post_batch(
        &app,
        &free.key,
        &json!({"endpoint": "amazon.product", "items": [{"query": "B000LQXC2Q"}, {"query": "B000LQXC2Q", "country": "DE"}]}),
        None,
    )
    .await;
    a.assert_envelope("forbidden_region");
    assert!(a.body["message"].as_str().unwrap().starts_with("items[1]"));
    // No key, no batch; an empty account cannot start one.
    let a = app
        .send(
            app.client
                .post(format!("{}/api/v1/amazon/batch", app.base))
                .json(&json!({"endpoint": "amazon.product", "items": [{"query": "B000LQXC2Q"}]})),
        )
        .await;
    a.assert_envelope("unauthorized");
    let broke = app.account("vibe", 0, KeyKind::Live).await;
    let a = post_batch(
        &app,
        &broke.key,
        &json!({"endpoint": "amazon.product", "items": [{"query": "B000LQXC2Q"}]}),
        None,
    )
    .await;
    a.assert_envelope("insufficient_credits");
    assert!(app
        .store
        .batches(&h.account_id.clone(), 10)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_batch_is_idempotent_and_private_to_its_account() {
    let app = TestApp::spawn().await;
    let h = app.account("free", 0, KeyKind::Test).await;
    let other = app.account("free", 0, KeyKind::Test).await;
    let body = json!({"endpoint": "amazon.product", "items": [{"query": "B000LQXC2Q"}]});
    let first = post_batch(&app, &h.key, &body, Some("order-42")).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let id = first.body["id"].as_str().unwrap().to_string();
    assert!(first.body["webhook_signature_secret"]
        .as_str()
        .unwrap()
        .starts_with("whsec_"));
    assert_eq!(first.body["total_count"], 1);
    assert!(first.body["poll_url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/api/v1/amazon/batch/{id}")));
    let again = post_batch(&app, &h.key, &body, Some("order-42")).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.body["id"], id.as_str());
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(
        again.body["webhook_signature_secret"],
        first.body["webhook_signature_secret"]
    );
    // The same key on another account is another batch; neither sees the other's.
    let theirs = post_batch(&app, &other.key, &body, Some("order-42")).await;
    assert_ne!(theirs.body["id"], id.as_str());
    let a = app
        .get_as(&other.key, &format!("/api/v1/amazon/batch/{id}"))
        .await;
    a.assert_envelope("not_found");
    let done = finished(&app, &h.key, &id, Duration::from_secs(30)).await;
    assert_eq!(done.body["status"], "complete");
    assert!(done.body.get("webhook_signature_secret").is_none());
    let list = app.get_as(&h.key, "/api/v1/amazon/batch?limit=5").await;
    assert_eq!(list.status, 200);
    let batches = list.body["batches"].as_array().unwrap();
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0]["id"], id.as_str());
    let a = app.get_as(&h.key, "/api/v1/amazon/batch?limit=0").await;
    a.assert_envelope("invalid_params");
    let a = app
        .get_as(&h.key, "/api/v1/amazon/batch/bat_0000000000000000")
        .await;
    a.assert_envelope("not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_items_with_faults_complete_with_exact_counts_and_charges() {
    let sim = asa_sim::SimConfig {
        page_bytes: 48 * 1024,
        faults: asa_sim::FaultRates {
            captcha_rate: 0.10,
            error503_rate: 0.05,
            ..Default::default()
        },
        ..Default::default()
    };
    let s = SimApp::spawn_custom(sim, |c| {
        bulk_plan(c);
        c.batches.workers = 48;
    })
    .await;
    let h = s.app.account("bulk", 10_000, KeyKind::Live).await;
    // Deterministic failures by position, fault-injected retries everywhere.
    let items: Vec<Value> = (0..1000)
        .map(|i| match i % 20 {
            0 => json!({"query": "B0NOTFND01"}),
            1 => json!({"query": "B0GALLERY1", "domain": "de"}),
            2 => json!({"query": "B0UNKNOWN1"}),
            _ => {
                let domain = ["com", "de", "co.jp", "fr"][i % 4];
                json!({"query": format!("B0{i:08}"), "domain": domain})
            }
        })
        .collect();
    let a = post_batch(
        &s.app,
        &h.key,
        &json!({"endpoint": "amazon.product", "items": items}),
        None,
    )
    .await;
    assert_eq!(a.status, 201, "{}", a.text);
    let id = a.body["id"].as_str().unwrap().to_string();
    let done = finished(&s.app, &h.key, &id, Duration::from_secs(300)).await;
    let b = &done.body;
    assert_eq!(b["status"], "complete");
    assert_eq!(b["total_count"], 1000);
    assert_eq!(b["processed_count"], 1000);
    let results = b["results"].as_array().unwrap();
    assert_eq!(results.len(), 1000);
    let mut ok = 0i64;
    for r in results {
        let i = r["index"].as_u64().unwrap() as usize;
        let expected = match i % 20 {
            0 => Some("product_not_found"),
            1 => Some("generic_gallery_page"),
            2 => Some("extraction_failed"),
            _ => None,
        };
        match (r["status"].as_str(), expected) {
            (Some("ok"), None) => {
                ok += 1;
                assert_eq!(r["http_status"], 200);
                assert_eq!(r["credits_charged"], 5);
                assert_eq!(r["data"]["asin"], format!("B0{i:08}").as_str(), "{r}");
                assert_eq!(r["data"]["request_id"], r["request_id"]);
            }
            (Some("error"), Some(code)) => {
                assert_eq!(r["error"]["error"], code, "{r}");
                assert_eq!(r["credits_charged"], 0);
                assert_eq!(r["error"]["request_id"], r["request_id"]);
            }
            // Four answers in a row drawn as challenges: possible, rare, and free.
            (Some("error"), None) => {
                assert_eq!(r["error"]["error"], "blocked_by_amazon", "{r}");
                assert_eq!(r["credits_charged"], 0);
            }
            other => panic!("item {i}: {other:?}: {r}"),
        }
    }
    assert!(ok >= 840, "only {ok} of 850 delivered");
    assert_eq!(b["success_count"].as_i64(), Some(ok));
    assert_eq!(b["failure_count"].as_i64(), Some(1000 - ok));
    assert_eq!(b["credits_charged"].as_i64(), Some(ok * 5));
    assert_eq!(
        s.app.credits(&h.account_id).await,
        (Credits(10_000 - ok * 5), Credits(0)),
        "the account paid exactly for what was delivered"
    );
    // Every item's trace is readable like any other request's.
    let rid = results[5]["request_id"].as_str().unwrap();
    let mut trace = None;
    for _ in 0..50 {
        let t = s
            .app
            .get_as(&h.key, &format!("/api/v1/requests/{rid}"))
            .await;
        if t.status == 200 {
            trace = Some(t);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let trace = trace.expect("the item's trace is stored");
    assert_eq!(trace.body["endpoint"], "amazon.product");
    assert_eq!(trace.body["params"]["batch_id"], id.as_str());
    // Results page.
    let page = s
        .app
        .get_as(
            &h.key,
            &format!("/api/v1/amazon/batch/{id}?results_offset=990&results_limit=5"),
        )
        .await;
    assert_eq!(page.body["results"].as_array().unwrap().len(), 5);
    assert_eq!(page.body["results"][0]["index"], 990);
    assert_eq!(page.body["results_next_offset"], 995);
}

/// The deliveries a receiver got: headers and raw body of each.
type Deliveries = Arc<Mutex<Vec<(axum::http::HeaderMap, Vec<u8>)>>>;

/// A webhook receiver on loopback that records what it is sent, answering the given
/// statuses in turn (then 200).
async fn receiver(statuses: Vec<u16>) -> (String, Deliveries) {
    let seen: Deliveries = Arc::default();
    let answers = Arc::new(Mutex::new(statuses.into_iter()));
    let recorded = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let recorded = recorded.clone();
                let answers = answers.clone();
                async move {
                    recorded.lock().unwrap().push((headers, body.to_vec()));
                    let status = answers.lock().unwrap().next().unwrap_or(200);
                    axum::http::StatusCode::from_u16(status).unwrap()
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

/// Verifies a signature with the Python SDK's own `verify_webhook_signature`.
fn python_sdk_verifies(secret: &str, body: &[u8], header: &str) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("body");
    std::fs::write(&file, body).unwrap();
    // The SDK's module file itself, loaded alone: the package's HTTP client (httpx) is
    // not needed to check a signature.
    let module = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../sdk/python/src/asa/webhook.py"
    );
    let out = std::process::Command::new("python3")
        .env("WH_MODULE", module)
        .env("WH_SECRET", secret)
        .env("WH_SIG", header)
        .env("WH_FILE", &file)
        .arg("-c")
        .arg(
            "import os,sys,importlib.util as u\n\
             spec=u.spec_from_file_location('asa_webhook', os.environ['WH_MODULE'])\n\
             m=u.module_from_spec(spec); spec.loader.exec_module(m)\n\
             v=m.verify_webhook_signature\n\
             body=open(os.environ['WH_FILE'],'rb').read()\n\
             sys.exit(0 if v(os.environ['WH_SECRET'], body, os.environ['WH_SIG']) else 3)",
        )
        .output()
        .expect("python3 runs (the Python SDK's verifier is part of this test)");
    match out.status.code() {
        Some(0) => true,
        Some(3) => false,
        _ => panic!(
            "python verifier failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

#[tokio::test]
async fn the_completion_webhook_is_signed_and_retried_on_failure() {
    let (url, seen) = receiver(vec![500]).await;
    let app = TestApp::spawn_with(|c| c.batches.allow_private_webhooks = true).await;
    let h = app.account("free", 0, KeyKind::Test).await;
    let a = post_batch(
        &app,
        &h.key,
        &json!({"endpoint": "amazon.product", "items": [{"query": "B000LQXC2Q"}, {"query": "B0CAPTCHA1"}], "webhook_url": url}),
        None,
    )
    .await;
    assert_eq!(a.status, 201, "{}", a.text);
    let id = a.body["id"].as_str().unwrap().to_string();
    let secret = a.body["webhook_signature_secret"]
        .as_str()
        .unwrap()
        .to_string();
    finished(&app, &h.key, &id, Duration::from_secs(60)).await;
    // The first delivery is refused with a 500: it is recorded and scheduled a minute on.
    let mut status = Value::Null;
    for _ in 0..100 {
        let b = app
            .get_as(&h.key, &format!("/api/v1/amazon/batch/{id}"))
            .await;
        if b.body["webhook_attempts"] == 1 {
            status = b.body;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status["webhook_delivery_status"], "pending", "{status}");
    assert_eq!(
        status["webhook_last_error"],
        "the receiver answered HTTP 500"
    );
    let completed =
        chrono::DateTime::parse_from_rfc3339(status["completed_at"].as_str().unwrap()).unwrap();
    let next =
        chrono::DateTime::parse_from_rfc3339(status["webhook_next_attempt_at"].as_str().unwrap())
            .unwrap();
    let wait = (next - completed).num_seconds();
    assert!(
        (59..=61).contains(&wait),
        "next attempt {wait} s after completion"
    );

    let deliveries = seen.lock().unwrap().clone();
    assert_eq!(deliveries.len(), 1);
    let (headers, body) = &deliveries[0];
    assert_eq!(headers["x-asa-batch-id"], id.as_str());
    assert_eq!(headers["x-asa-event"], "batch.completed");
    let sig = headers["x-asa-signature"].to_str().unwrap();
    assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64, "{sig}");
    asa_client::webhook::verify(&secret, body, sig).expect("asa-client verifies the signature");
    let python = asa_server::dev_runtime::usable(
        "python3",
        "checking the signature with the Python SDK's verifier",
    );
    if python {
        assert!(python_sdk_verifies(&secret, body, sig));
        assert!(!python_sdk_verifies("whsec_wrong", body, sig));
    }
    let event = asa_client::webhook::parse_event(&secret, body, sig).unwrap();
    assert_eq!(event.id, id);
    assert_eq!(event.results.len(), 2);
    assert_eq!(event.success_count, 1);
    assert_eq!(event.failure_count, 1);
    let json: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(json["event"], "batch.completed");
    assert!(json.get("webhook_signature_secret").is_none());
    // A tampered body fails both verifiers.
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    assert!(asa_client::webhook::verify(&secret, &tampered, sig).is_err());
    if python {
        assert!(!python_sdk_verifies(&secret, &tampered, sig));
    }
}

#[tokio::test]
async fn a_webhook_that_answers_2xx_is_delivered_once() {
    let (url, seen) = receiver(vec![]).await;
    let app = TestApp::spawn_with(|c| c.batches.allow_private_webhooks = true).await;
    let h = app.account("free", 0, KeyKind::Test).await;
    let a = post_batch(
        &app,
        &h.key,
        &json!({"endpoint": "amazon.search", "items": [{"query": "usb c hub"}], "webhook_url": url}),
        None,
    )
    .await;
    assert_eq!(a.status, 201, "{}", a.text);
    let id = a.body["id"].as_str().unwrap().to_string();
    finished(&app, &h.key, &id, Duration::from_secs(60)).await;
    let mut b = Value::Null;
    for _ in 0..100 {
        b = app
            .get_as(&h.key, &format!("/api/v1/amazon/batch/{id}"))
            .await
            .body;
        if b["webhook_delivery_status"] == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(b["webhook_delivery_status"], "delivered", "{b}");
    assert_eq!(b["webhook_attempts"], 1);
    assert_eq!(b["results"][0]["status"], "ok");
    assert!(!b["results"][0]["data"]["products"]
        .as_array()
        .unwrap()
        .is_empty());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(seen.lock().unwrap().len(), 1);
}

/// Polls the batch until its webhook has been tried once; returns the batch body.
async fn first_delivery(app: &TestApp, key: &str, id: &str) -> Value {
    for _ in 0..150 {
        let b = app
            .get_as(key, &format!("/api/v1/amazon/batch/{id}"))
            .await
            .body;
        if b["webhook_attempts"].as_u64().unwrap_or(0) >= 1 {
            return b;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("batch {id}: no delivery attempt within 15 s");
}

#[tokio::test]
async fn a_webhook_redirect_is_not_followed() {
    // The target answers 302 to a second receiver; a followed redirect would reach it.
    let (elsewhere, reached) = receiver(vec![]).await;
    let redirector = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let to = elsewhere.clone();
            async move { (axum::http::StatusCode::FOUND, [("location", to)]) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, redirector).await.unwrap() });

    let app = TestApp::spawn_with(|c| c.batches.allow_private_webhooks = true).await;
    let h = app.account("free", 0, KeyKind::Test).await;
    let a = post_batch(
        &app,
        &h.key,
        &json!({"endpoint": "amazon.product", "items": [{"query": "B000LQXC2Q"}], "webhook_url": url}),
        None,
    )
    .await;
    assert_eq!(a.status, 201, "{}", a.text);
    let id = a.body["id"].as_str().unwrap().to_string();
    let b = first_delivery(&app, &h.key, &id).await;
    assert_eq!(b["webhook_delivery_status"], "pending", "{b}");
    assert_eq!(b["webhook_last_error"], "the receiver answered HTTP 302");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        reached.lock().unwrap().is_empty(),
        "the redirect was followed"
    );
}

#[tokio::test]
async fn a_webhook_target_is_checked_again_at_delivery() {
    // A batch whose target passed the check when it was made but resolves to a private
    // address now (DNS rebinding): stored directly, as a public name that later points to
    // loopback would be. The node allows no private webhooks.
    let (url, seen) = receiver(vec![]).await;
    let app = TestApp::spawn().await;
    let h = app.account("free", 0, KeyKind::Test).await;
    let (batch, _) = app
        .store
        .create_batch(asa_store::batch::NewBatch {
            account_id: h.account_id.clone(),
            key_id: h.key_id.clone(),
            endpoint: asa_store::batch::BatchEndpoint::Product,
            items: vec![json!({"query": "B000LQXC2Q"})],
            webhook_url: Some(url),
            webhook_secret: "whsec_test".into(),
            idempotency_key: None,
            request_id: "req_0000000000aa".into(),
        })
        .await
        .unwrap();
    let b = first_delivery(&app, &h.key, &batch.id).await;
    let error = b["webhook_last_error"].as_str().unwrap_or_default();
    assert!(error.starts_with("webhook_url refused"), "{b}");
    assert!(
        seen.lock().unwrap().is_empty(),
        "a private target was reached"
    );
}
