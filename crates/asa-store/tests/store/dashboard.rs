//! What the dashboard reads and keeps: sessions, the request-log filters, errors by code,
//! latency percentiles and per-account activity.

use crate::backend::Backend;
use crate::ledger::account;
use asa_model::KeyKind;
use asa_model::{Credits, RequestId};
use asa_store::{Clock, Outcome, Trace, TraceFilter};
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use serde_json::json;
use std::time::Duration;

crate::suite!(
    sessions_open_expire_follow_a_key_and_end,
    request_log_filters,
    errors_latency_and_activity
);

fn trace(id: &str, at: DateTime<Utc>, account: &str, params: serde_json::Value) -> Trace {
    Trace {
        request_id: id.into(),
        created_at: DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap(),
        account_id: Some(account.into()),
        key_prefix: Some("aaaaaaaaaaaa".into()),
        endpoint: "amazon.product".into(),
        params,
        status: 200,
        error_code: None,
        credits_charged: Credits(5),
        latency_ms: 100,
        attempts: json!([]),
        extractor: json!(null),
    }
}

fn failed(mut t: Trace, status: u16, code: &str) -> Trace {
    t.status = status;
    t.error_code = Some(code.into());
    t.credits_charged = Credits(0);
    t
}

async fn sessions_open_expire_follow_a_key_and_end(b: &Backend) {
    let s = &b.store;
    let acc = account(b, 0).await;
    let (key, _) = s.create_key(&acc, KeyKind::Live).await.unwrap();
    let (session, token) = s
        .create_session(Some(&acc), Some(&key.id), Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(token.len(), 64);
    assert_ne!(
        session.id, token,
        "the store keeps the token's hash, not the token"
    );
    assert_eq!(session.csrf.len(), 64);
    assert_ne!(session.csrf, token);
    assert!(!session.is_operator());
    let found = s.session(&token).await.unwrap().unwrap();
    assert_eq!(found, session);
    assert!(
        s.session(&session.id).await.unwrap().is_none(),
        "the hash opens nothing"
    );
    assert!(s.session("nope").await.unwrap().is_none());

    let (rotated, _) = s.rotate_key(&key.id, None).await.unwrap();
    s.set_session_key(&session.id, &rotated.id).await.unwrap();
    assert_eq!(
        s.session(&token).await.unwrap().unwrap().key_id.as_deref(),
        Some(rotated.id.as_str())
    );

    let (operator, op_token) = s
        .create_session(None, None, Duration::from_secs(60))
        .await
        .unwrap();
    assert!(operator.is_operator());
    b.clock.advance(ChronoDuration::seconds(61));
    assert!(s.session(&op_token).await.unwrap().is_none(), "expired");
    assert!(s.session(&token).await.unwrap().is_some());
    assert_eq!(s.sweep_sessions(b.clock.now()).await.unwrap(), 1);

    s.delete_session(&session.id).await.unwrap();
    assert!(s.session(&token).await.unwrap().is_none(), "signed out");
}

async fn request_log_filters(b: &Backend) {
    let s = &b.store;
    let acc = account(b, 0).await;
    let other = account(b, 0).await;
    let now = b.clock.now();
    let ago = |m| now - ChronoDuration::minutes(m);
    let mut search = trace(
        "req_l00000000003",
        ago(3),
        &acc,
        json!({"query": "USB-C 100%_cable", "domain": "de"}),
    );
    search.endpoint = "amazon.search".into();
    s.insert_traces(&[
        trace(
            "req_l00000000001",
            ago(5),
            &acc,
            json!({"query": "B0ABCDEF01"}),
        ),
        failed(
            trace(
                "req_l00000000002",
                ago(4),
                &acc,
                json!({"query": "b0zzzzzz02", "domain": "co.uk"}),
            ),
            422,
            "blocked_by_amazon",
        ),
        search,
        trace(
            "req_l00000000004",
            ago(2),
            &acc,
            json!({"query": "B0ABCDEF01", "domain": "com"}),
        ),
        trace(
            "req_l00000000005",
            ago(1),
            &other,
            json!({"query": "B0ABCDEF01"}),
        ),
    ])
    .await
    .unwrap();
    let ids = |v: Vec<Trace>| v.into_iter().map(|t| t.request_id).collect::<Vec<_>>();
    let mine = TraceFilter {
        account_id: Some(acc.clone()),
        ..TraceFilter::default()
    };
    let with = |f: TraceFilter| async move { ids(s.traces(&f).await.unwrap()) };
    assert_eq!(
        with(TraceFilter {
            text: Some("b0abcdef01".into()),
            ..mine.clone()
        })
        .await,
        ["req_l00000000004", "req_l00000000001"],
        "text ignores case and stays in the account"
    );
    assert_eq!(
        with(TraceFilter {
            text: Some("100%_".into()),
            ..mine.clone()
        })
        .await,
        ["req_l00000000003"],
        "% and _ are matched literally"
    );
    assert!(with(TraceFilter {
        text: Some("0%c".into()),
        ..mine.clone()
    })
    .await
    .is_empty());
    assert_eq!(
        with(TraceFilter {
            outcome: Some(Outcome::Error),
            ..mine.clone()
        })
        .await,
        ["req_l00000000002"]
    );
    assert_eq!(
        with(TraceFilter {
            outcome: Some(Outcome::Ok),
            endpoint: Some("amazon.product".into()),
            ..mine.clone()
        })
        .await,
        ["req_l00000000004", "req_l00000000001"]
    );
    assert_eq!(
        with(TraceFilter {
            domain: Some("com".into()),
            ..mine.clone()
        })
        .await,
        ["req_l00000000004", "req_l00000000001"],
        "com is also the default"
    );
    assert_eq!(
        with(TraceFilter {
            domain: Some("co.uk".into()),
            ..mine.clone()
        })
        .await,
        ["req_l00000000002"]
    );
    assert_eq!(
        with(TraceFilter {
            before: Some(ago(3)),
            limit: 1,
            ..mine.clone()
        })
        .await,
        ["req_l00000000002"],
        "the next page starts strictly before the cursor"
    );
}

async fn errors_latency_and_activity(b: &Backend) {
    let s = &b.store;
    let acc = account(b, 0).await;
    let other = account(b, 0).await;
    let now = b.clock.now();
    let mut batch = Vec::new();
    for i in 0..20 {
        let mut t = trace(
            &RequestId::from(format!("req_s{i:011}")),
            now - ChronoDuration::seconds(i),
            &acc,
            json!({}),
        );
        t.latency_ms = 10 * (i + 1);
        if i % 5 == 0 {
            t = failed(t, 422, "blocked_by_amazon");
        }
        batch.push(t);
    }
    batch.push(failed(
        trace(
            "req_s99999999999",
            now - ChronoDuration::days(1),
            &acc,
            json!({}),
        ),
        502,
        "extraction_failed",
    ));
    batch.push(failed(
        trace("req_t00000000001", now, &other, json!({})),
        408,
        "upstream_timeout",
    ));
    s.insert_traces(&batch).await.unwrap();

    let errors = s.errors_by_day(Some(&acc), 30).await.unwrap();
    let today = now.date_naive();
    let yesterday = (now - ChronoDuration::days(1)).date_naive();
    let got: Vec<_> = errors
        .iter()
        .map(|c| (c.date, c.code.as_deref().unwrap_or(""), c.requests))
        .collect();
    assert_eq!(
        got,
        [
            (yesterday, "extraction_failed", 1),
            (today, "blocked_by_amazon", 4)
        ]
    );
    assert_eq!(s.errors_by_day(Some(&acc), 1).await.unwrap().len(), 1);
    let everyone = s.errors_by_day(None, 1).await.unwrap();
    assert!(everyone
        .iter()
        .any(|c| c.code.as_deref() == Some("upstream_timeout")));

    let summary = s
        .latency_summary(Some(&acc), now - ChronoDuration::hours(1))
        .await
        .unwrap();
    assert_eq!((summary.requests, summary.ok), (20, 16));
    assert_eq!(
        (summary.p50_ms, summary.p90_ms, summary.p99_ms),
        (100, 180, 200)
    );

    let activity = s.activity(now - ChronoDuration::days(2)).await.unwrap();
    let mine = activity
        .iter()
        .find(|a| a.account_id.as_deref() == Some(acc.as_str()))
        .unwrap();
    assert_eq!(
        (mine.requests, mine.errors, mine.credits),
        (21, 5, Credits(80))
    );
    let theirs = activity
        .iter()
        .find(|a| a.account_id.as_deref() == Some(other.as_str()))
        .unwrap();
    assert_eq!(
        (theirs.requests, theirs.errors, theirs.credits),
        (1, 1, Credits(0))
    );
}
