use crate::backend::Backend;
use crate::ledger::account;
use asa_model::{AccountId, Credits, RequestId};
use asa_store::{Clock, Trace, TraceFilter};
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use serde_json::json;

crate::suite!(
    a_burst_loses_no_trace,
    traces_round_trip,
    trace_filters,
    sweep_keeps_the_young,
    usage_by_day_and_key
);

pub(crate) fn trace(
    id: &str,
    at: DateTime<Utc>,
    account: Option<&str>,
    key: &str,
    status: u16,
    code: Option<&str>,
) -> Trace {
    Trace {
        request_id: id.into(),
        created_at: DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap(),
        account_id: account.map(Into::into),
        key_prefix: Some(key.into()),
        endpoint: "amazon.product".into(),
        params: json!({"query": "B000000001", "domain": "com"}),
        status,
        error_code: code.map(Into::into),
        credits_charged: if (200..300).contains(&status) {
            Credits(5)
        } else {
            Credits(0)
        },
        latency_ms: 321,
        attempts: json!([{"exit_country": "US", "proxy_id": "px1", "upstream_status": 200, "outcome": "ok", "latency_ms": 300}]),
        extractor: json!({"version": "1.0.0", "page": "product", "missing": []}),
    }
}

async fn traces_round_trip(b: &Backend) {
    let s = &b.store;
    let (mine, theirs) = (account(b, 0).await, account(b, 0).await);
    let now = b.clock.now();
    let mut t = trace(
        "req_a00000000001",
        now,
        Some(&mine),
        "abcdefghijkl",
        200,
        None,
    );
    t.params =
        json!({"query": "B000000001", "api_key": "asa_live_abcdefghijklmnopqrstuvwxyz012345"});
    let anonymous = trace(
        "req_a00000000002",
        now,
        None,
        "zzzzzzzzzzzz",
        401,
        Some("unauthorized"),
    );
    s.insert_traces(&[t.clone(), anonymous.clone()])
        .await
        .unwrap();

    let got = s
        .trace(&t.request_id, Some(&mine))
        .await
        .unwrap()
        .expect("the owner reads it");
    assert_eq!(
        got.params,
        json!({"query": "B000000001"}),
        "api_key is never stored"
    );
    let mut expected = t.clone();
    expected.params = got.params.clone();
    assert_eq!(got, expected);
    assert_eq!(
        s.trace(&t.request_id, Some(&theirs)).await.unwrap(),
        None,
        "not another account"
    );
    assert_eq!(
        s.trace(&t.request_id, None).await.unwrap(),
        Some(expected.clone()),
        "the operator reads all"
    );
    assert_eq!(
        s.trace(&anonymous.request_id, None).await.unwrap(),
        Some(anonymous.clone())
    );
    assert_eq!(
        s.trace(&anonymous.request_id, Some(&mine)).await.unwrap(),
        None
    );
    assert_eq!(
        s.trace(&RequestId::from("req_ffffffffffff"), None)
            .await
            .unwrap(),
        None
    );

    // A replayed batch is skipped, not an error; an empty batch is fine.
    let mut changed = t.clone();
    changed.status = 500;
    s.insert_traces(&[changed]).await.unwrap();
    assert_eq!(
        s.trace(&t.request_id, None).await.unwrap().unwrap().status,
        200
    );
    s.insert_traces(&[]).await.unwrap();

    // Large batches span several statements.
    let batch: Vec<_> = (0..260)
        .map(|i| {
            trace(
                &RequestId::from(format!("req_b{i:011}")),
                now,
                Some(&theirs),
                "keykeykeykey",
                200,
                None,
            )
        })
        .collect();
    s.insert_traces(&batch).await.unwrap();
    let filter = TraceFilter {
        account_id: Some(theirs.clone()),
        ..TraceFilter::default()
    };
    assert_eq!(s.traces(&filter).await.unwrap().len(), 260);
}

async fn trace_filters(b: &Backend) {
    let s = &b.store;
    let acc = account(b, 0).await;
    let other = account(b, 0).await;
    let now = b.clock.now();
    let hours = |h| now - ChronoDuration::hours(h);
    s.insert_traces(&[
        trace(
            "req_f00000000001",
            hours(3),
            Some(&acc),
            "aaaaaaaaaaaa",
            200,
            None,
        ),
        trace(
            "req_f00000000002",
            hours(2),
            Some(&acc),
            "aaaaaaaaaaaa",
            422,
            Some("blocked_by_amazon"),
        ),
        trace(
            "req_f00000000003",
            hours(1),
            Some(&acc),
            "bbbbbbbbbbbb",
            422,
            Some("blocked_by_amazon"),
        ),
        trace(
            "req_f00000000004",
            hours(0),
            Some(&acc),
            "bbbbbbbbbbbb",
            502,
            Some("extraction_failed"),
        ),
        trace(
            "req_f00000000005",
            hours(0),
            Some(&other),
            "cccccccccccc",
            422,
            Some("blocked_by_amazon"),
        ),
    ])
    .await
    .unwrap();
    let ids = |v: Vec<Trace>| v.into_iter().map(|t| t.request_id).collect::<Vec<_>>();
    let mine = TraceFilter {
        account_id: Some(acc.clone()),
        ..TraceFilter::default()
    };
    assert_eq!(
        ids(s.traces(&mine).await.unwrap()),
        [
            "req_f00000000004",
            "req_f00000000003",
            "req_f00000000002",
            "req_f00000000001"
        ],
        "newest first"
    );
    let blocked = TraceFilter {
        code: Some("blocked_by_amazon".into()),
        ..mine.clone()
    };
    assert_eq!(
        ids(s.traces(&blocked).await.unwrap()),
        ["req_f00000000003", "req_f00000000002"]
    );
    let recent = TraceFilter {
        since: Some(hours(1) - ChronoDuration::minutes(1)),
        ..blocked.clone()
    };
    assert_eq!(ids(s.traces(&recent).await.unwrap()), ["req_f00000000003"]);
    let by_key = TraceFilter {
        key_prefix: Some("aaaaaaaaaaaa".into()),
        ..mine.clone()
    };
    assert_eq!(
        ids(s.traces(&by_key).await.unwrap()),
        ["req_f00000000002", "req_f00000000001"]
    );
    let limited = TraceFilter {
        limit: 1,
        ..mine.clone()
    };
    assert_eq!(ids(s.traces(&limited).await.unwrap()), ["req_f00000000004"]);
    let everyone = TraceFilter {
        code: Some("blocked_by_amazon".into()),
        since: Some(hours(0)),
        ..TraceFilter::default()
    };
    assert!(ids(s.traces(&everyone).await.unwrap()).contains(&RequestId::from("req_f00000000005")));
}

async fn sweep_keeps_the_young(b: &Backend) {
    let s = &b.store;
    let acc = account(b, 0).await;
    let now = b.clock.now();
    let cutoff = now - ChronoDuration::days(7);
    let old: Vec<_> = (0..23)
        .map(|i| {
            trace(
                &RequestId::from(format!("req_o{i:011}")),
                cutoff - ChronoDuration::minutes(i + 1),
                Some(&acc),
                "oooooooooooo",
                200,
                None,
            )
        })
        .collect();
    let young: Vec<_> = (0..5)
        .map(|i| {
            trace(
                &RequestId::from(format!("req_y{i:011}")),
                cutoff + ChronoDuration::minutes(i),
                Some(&acc),
                "yyyyyyyyyyyy",
                200,
                None,
            )
        })
        .collect();
    s.insert_traces(&old).await.unwrap();
    s.insert_traces(&young).await.unwrap();
    assert_eq!(s.sweep_traces(cutoff, 5).await.unwrap(), 23);
    for t in &old {
        assert_eq!(s.trace(&t.request_id, None).await.unwrap(), None);
    }
    for t in &young {
        assert!(
            s.trace(&t.request_id, None).await.unwrap().is_some(),
            "kept the one at the cutoff or after"
        );
    }
    assert_eq!(s.sweep_traces(cutoff, 5).await.unwrap(), 0);
}

async fn usage_by_day_and_key(b: &Backend) {
    let s = &b.store;
    let acc = account(b, 0).await;
    let other = account(b, 0).await;
    let now = b.clock.now();
    let yesterday = now - ChronoDuration::days(1);
    let long_ago = now - ChronoDuration::days(5);
    s.insert_traces(&[
        trace(
            "req_u00000000001",
            now,
            Some(&acc),
            "aaaaaaaaaaaa",
            200,
            None,
        ),
        trace(
            "req_u00000000002",
            now,
            Some(&acc),
            "aaaaaaaaaaaa",
            422,
            Some("blocked_by_amazon"),
        ),
        trace(
            "req_u00000000003",
            now,
            Some(&acc),
            "bbbbbbbbbbbb",
            200,
            None,
        ),
        trace(
            "req_u00000000004",
            yesterday,
            Some(&acc),
            "aaaaaaaaaaaa",
            200,
            None,
        ),
        trace(
            "req_u00000000005",
            long_ago,
            Some(&acc),
            "aaaaaaaaaaaa",
            200,
            None,
        ),
        trace(
            "req_u00000000006",
            now,
            Some(&other),
            "cccccccccccc",
            200,
            None,
        ),
    ])
    .await
    .unwrap();
    let usage = s.usage(&acc, 3).await.unwrap();
    assert_eq!(usage.since, (now - ChronoDuration::days(2)).date_naive());
    assert_eq!(
        (
            usage.total.requests,
            usage.total.billed_requests,
            usage.total.credits
        ),
        (4, 3, Credits(15))
    );
    let days: Vec<_> = usage
        .by_day()
        .into_iter()
        .map(|(d, t)| (d, t.requests, t.billed_requests, t.credits))
        .collect();
    assert_eq!(
        days,
        [
            (yesterday.date_naive(), 1, 1, Credits(5)),
            (now.date_naive(), 3, 2, Credits(10))
        ]
    );
    let keys: Vec<_> = usage
        .by_key()
        .into_iter()
        .map(|(k, t)| (k.unwrap(), t.requests, t.credits))
        .collect();
    assert_eq!(
        keys,
        [
            ("aaaaaaaaaaaa".to_string(), 3, Credits(10)),
            ("bbbbbbbbbbbb".to_string(), 1, Credits(5))
        ]
    );
    assert_eq!(usage.rows.len(), 3, "one row per day and key");
    assert_eq!(s.usage(&acc, 30).await.unwrap().total.requests, 5);
    assert_eq!(s.usage(&acc, 1).await.unwrap().total.requests, 3);
    assert_eq!(
        s.usage(&AccountId::from("acc_ffffffffffffffff"), 30)
            .await
            .unwrap()
            .total
            .requests,
        0
    );
}

async fn a_burst_loses_no_trace(b: &Backend) {
    let acc = account(b, 0).await;
    let now = b.clock.now();
    // 10 writers, as the server's trace channel would flush them: 10,000 traces in batches.
    let writers: Vec<_> = (0..10)
        .map(|w| {
            let store = b.store.clone();
            let acc = acc.clone();
            tokio::spawn(async move {
                for batch in 0..10 {
                    let traces: Vec<_> = (0..100)
                        .map(|i| {
                            let id = format!("req_{w:02x}{batch:02x}{i:08x}");
                            trace(&id, now, Some(&acc), "burstburstbu", 200, None)
                        })
                        .collect();
                    store.insert_traces(&traces).await.unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    let usage = b.store.usage(&acc, 1).await.unwrap();
    assert_eq!(
        (usage.total.requests, usage.total.credits),
        (10_000, Credits(50_000))
    );
}
