//! `/healthz` says the process serves; `/readyz` says whether it can serve: the database
//! answers with its migrations current, and Redis answers when limits are shared. Each
//! case on the real components: a schema left unmigrated, a schema a newer asa migrated,
//! a Redis that goes away.

use crate::helpers::TestApp;
use std::time::Duration;
use tokio::net::TcpListener;

#[tokio::test]
async fn a_migrated_node_is_live_and_ready_and_metrics_are_not_public() {
    let app = TestApp::spawn().await;
    let live = app.get("/healthz").await;
    assert_eq!(
        (live.status, live.body["status"].as_str()),
        (200, Some("ok"))
    );
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, 200, "{}", ready.text);
    assert_eq!(ready.body["status"], "ready");
    assert_eq!(ready.body["limits"], "in-process");
    // `/metrics` lives on the admin listener only.
    app.get("/metrics").await.assert_envelope("not_found");
}

#[tokio::test]
async fn an_unmigrated_schema_is_not_ready_until_it_is_migrated() {
    // `migrate = false` on an empty database: every migration is pending.
    let app = TestApp::spawn_with(|c| c.migrate = false).await;
    let status = app.store.schema_status().await.unwrap();
    assert_eq!(status.pending.len(), 3, "{status:?}");
    let a = app.get("/readyz").await;
    a.assert_envelope("capacity");
    assert!(a.text.contains("pending: 0001"), "{}", a.text);
    assert!(a.text.contains("asa migrate"), "{}", a.text);
    assert_eq!(a.header("retry-after"), Some("5"));
    // Liveness does not depend on the schema.
    assert_eq!(app.get("/healthz").await.status, 200);

    let applied = app.store.migrate().await.unwrap();
    assert_eq!(applied.len(), 3);
    assert!(app.store.schema_status().await.unwrap().is_current());
    assert_eq!(app.get("/readyz").await.status, 200);
    assert!(
        app.store.migrate().await.unwrap().is_empty(),
        "nothing left"
    );
}

#[tokio::test]
async fn a_schema_a_newer_asa_migrated_is_not_ready() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/readyz").await.status, 200);
    // What a newer build leaves behind: a migration this one does not know.
    let pool = sqlx::SqlitePool::connect(app.dev_database_url())
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) \
         VALUES (9999, 'from the future', CURRENT_TIMESTAMP, TRUE, X'00', 0)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let a = app.get("/readyz").await;
    a.assert_envelope("capacity");
    assert!(
        a.text.contains("applied by a newer asa: 9999"),
        "{}",
        a.text
    );
    // A migration of this build missing from the record is pending again.
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version IN (3, 9999)")
        .execute(&pool)
        .await
        .unwrap();
    let a = app.get("/readyz").await;
    a.assert_envelope("capacity");
    assert!(a.text.contains("pending: 0003"), "{}", a.text);
}

/// A TCP relay to the real Redis, which the test can cut: Redis "goes away" for the node
/// behind it, while the Redis other tests share stays up.
async fn relay_to(target: String) -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut pipes = tokio::task::JoinSet::new();
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else {
                break;
            };
            let target = target.clone();
            pipes.spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
        // Dropping the set aborts every pipe: their connections close.
    });
    (format!("redis://{addr}"), task)
}

#[tokio::test]
async fn a_node_whose_redis_goes_away_is_not_ready() {
    let Ok(redis) = std::env::var("REDIS_URL") else {
        eprintln!("skipped: REDIS_URL is not set (this test needs a real Redis)");
        return;
    };
    let target = url::Url::parse(&redis).unwrap();
    let target = format!(
        "{}:{}",
        target.host_str().unwrap(),
        target.port().unwrap_or(6379)
    );
    let (url, relay) = relay_to(target).await;
    let app = TestApp::spawn_with(|c| {
        c.redis_url = Some(url);
        c.redis_prefix = format!("asa_readyz_{:x}", rand::random::<u32>());
    })
    .await;
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, 200, "{}", ready.text);
    assert_eq!(ready.body["limits"], "redis");

    relay.abort();
    let _ = relay.await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let a = loop {
        let a = app.get("/readyz").await;
        if a.status != 200 || std::time::Instant::now() > deadline {
            break a;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    a.assert_envelope("capacity");
    assert!(a.text.contains("redis limits backend"), "{}", a.text);
    assert_eq!(app.get("/healthz").await.status, 200);
}
