//! Traces under a burst: none lost, none blocking a response.

use crate::helpers::TestApp;
use asa_model::KeyKind;
use futures::StreamExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_ten_thousand_requests_loses_no_trace() {
    let app = TestApp::spawn_with(|c| c.admin.token = "op-secret-token".into()).await;
    let h = app.account("custom", 0, KeyKind::Live).await;
    const N: usize = 10_000;
    // Refused at the parameter step: cheap for the server, yet each one is traced.
    let statuses: Vec<u16> = futures::stream::iter(0..N)
        .map(|i| {
            let app = &app;
            let key = h.key.clone();
            async move {
                app.get_as(&key, &format!("/api/v1/amazon/product?query=bad{i}"))
                    .await
                    .status
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    assert!(statuses.iter().all(|s| *s == 400));
    // Reading a trace flushes the queue first.
    let last = app
        .get_as(&h.key, "/api/v1/amazon/product?query=last")
        .await;
    let id = last.header("x-request-id").unwrap().to_string();
    assert_eq!(
        app.get_as(&h.key, &format!("/api/v1/requests/{id}"))
            .await
            .status,
        200
    );
    let usage = app.store.usage(&h.account_id.clone(), 1).await.unwrap();
    // The product requests (N + 1) all flushed; the trace read itself may or may not be
    // written yet, since its trace is recorded after its own answer.
    let traced = usage.total.requests as usize;
    assert!(
        (N + 1..=N + 2).contains(&traced),
        "every request has its trace: {traced}"
    );
    let metrics = app.metrics().await.text;
    assert!(
        metrics.contains("\nasa_traces_dropped_total 0\n"),
        "{metrics}"
    );
}

#[tokio::test]
async fn traces_can_be_switched_off_for_measurement() {
    let app = TestApp::spawn_with(|c| c.record_traces = false).await;
    let h = app.account("free", 0, KeyKind::Live).await;
    let a = app.get_as(&h.key, "/api/v1/amazon/product?query=bad").await;
    let id = a.header("x-request-id").unwrap();
    app.get_as(&h.key, &format!("/api/v1/requests/{id}"))
        .await
        .assert_envelope("not_found");
}
