//! Credits through the server: auto-top-up up to its monthly cap then `402`, the account
//! view of balance, reserved, plan, limits and auto-top-up, and the rate token a `503
//! capacity` gives back.

use crate::harness::*;
use asa_model::{AccountId, Credits};
use asa_store::{AutoTopup, LedgerKind};
use serde_json::{json, Value};
use std::time::Duration;

async fn account_view(client: &reqwest::Client, base: &str, key: &str) -> Value {
    let res = client
        .get(format!("{base}/api/v1/account"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn wait_reserved(node: &Node, account_id: &str, want: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let a = node
            .store
            .account(&AccountId::from(account_id))
            .await
            .unwrap()
            .unwrap();
        if a.reserved == Credits(want) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "reserved stays {}, want {want}",
            a.reserved
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn auto_top_up_refills_up_to_its_monthly_cap_then_answers_402() {
    let _one_at_a_time = EXCLUSIVE.lock().await;
    let backend = Backend::sqlite();
    let node = spawn(config(&backend, &[]), Default::default()).await;
    let client = reqwest::Client::new();
    let h = account(&node.store, "vibe", 10).await;
    let auto = AutoTopup {
        threshold: Credits(10),
        amount: Credits(10),
        monthly_cap: Credits(20),
    };
    node.store
        .set_auto_topup(&AccountId::from(h.account_id.clone()), Some(auto))
        .await
        .unwrap();

    // 10 credits + two refills of 10 (the third would pass the cap of 20): six pages.
    let mut delivered = Vec::new();
    for i in 0..6 {
        let s = get(
            &client,
            &product_url(&node.base, &format!("B0TOPUP{i:03}")),
            &h.key,
        )
        .await;
        assert_eq!((s.status, s.cost), (200, Some(COST)), "page {i}: {s:?}");
        delivered.push(s.request_id.unwrap());
    }
    let s = get(&client, &product_url(&node.base, "B0TOPUP999"), &h.key).await;
    assert_eq!((s.status, s.code.as_str()), (402, "insufficient_credits"));
    assert_eq!(s.cost, Some(0));

    let book = assert_ledger(&node.store, &h.account_id, &delivered).await;
    assert_eq!(book.auto_top_ups, 2);
    let ledger = node
        .store
        .ledger(&AccountId::from(h.account_id.clone()), 100)
        .await
        .unwrap();
    let topped: Credits = ledger
        .iter()
        .filter(|e| e.kind == LedgerKind::AutoTopUp)
        .map(|e| e.amount)
        .sum();
    assert_eq!(topped, Credits(20));
    assert_eq!(
        node.store
            .auto_topup_this_month(&AccountId::from(h.account_id.clone()))
            .await
            .unwrap(),
        Credits(20)
    );

    let view = account_view(&client, &node.base, &h.key).await;
    assert_eq!(view["plan"], "vibe");
    assert_eq!(
        view["credits"],
        json!({"balance": 0, "reserved": 0, "cost_per_page": COST})
    );
    assert_eq!(
        view["auto_topup"],
        json!({"threshold": 10, "amount": 10, "monthly_cap": 20})
    );
    assert_eq!(view["limits"]["concurrency"], 30);
    assert_eq!(view["limits"]["rps"], 10.0);
    assert_eq!(view["limits"]["burst"], 40);
    backend.finish().await;
}

#[tokio::test]
async fn the_account_view_shows_credits_held_by_a_request_in_flight() {
    let _one_at_a_time = EXCLUSIVE.lock().await;
    let backend = Backend::sqlite();
    let node = spawn(config(&backend, &[]), Default::default()).await;
    let client = reqwest::Client::new();
    let h = account(&node.store, "free", 50).await;
    let view = account_view(&client, &node.base, &h.key).await;
    assert_eq!(view["auto_topup"], Value::Null);
    assert_eq!(view["limits"]["concurrency"], 10);

    let slow = tokio::spawn({
        let (client, url, key) = (
            client.clone(),
            product_url(&node.base, "B0SLOW0100"),
            h.key.clone(),
        );
        async move { get(&client, &url, &key).await }
    });
    wait_reserved(&node, &h.account_id, COST).await;
    let view = account_view(&client, &node.base, &h.key).await;
    assert_eq!(view["credits"]["balance"], 45);
    assert_eq!(view["credits"]["reserved"], COST);
    let s = slow.await.unwrap();
    assert_eq!(s.status, 200, "{s:?}");
    let view = account_view(&client, &node.base, &h.key).await;
    assert_eq!(view["credits"]["balance"], 45);
    assert_eq!(view["credits"]["reserved"], 0);

    // Without auto-top-up, a balance below one page's cost is a free 402.
    let poor = account(&node.store, "free", COST - 1).await;
    let s = get(&client, &product_url(&node.base, "B0POOR0001"), &poor.key).await;
    assert_eq!(
        (s.status, s.code.as_str(), s.cost),
        (402, "insufficient_credits", Some(0))
    );
    let a = node
        .store
        .account(&AccountId::from(poor.account_id.clone()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((a.balance, a.reserved), (Credits(COST - 1), Credits(0)));
    backend.finish().await;
}

#[tokio::test]
async fn a_capacity_refusal_gives_the_rate_token_back() {
    let _one_at_a_time = EXCLUSIVE.lock().await;
    let backend = Backend::sqlite();
    // One request a minute, no burst: a lost token would show as a 429.
    let mut c = config(&backend, &[("trickle", plan(5, 1.0 / 60.0, 1))]);
    c.capacity = 1;
    let node = spawn(c, Default::default()).await;
    let client = reqwest::Client::new();
    let holder = account(&node.store, "vibe", 100).await;
    let trickle = account(&node.store, "trickle", 100).await;

    let slow = tokio::spawn({
        let (client, url, key) = (
            client.clone(),
            product_url(&node.base, "B0SLOW0100"),
            holder.key.clone(),
        );
        async move { get(&client, &url, &key).await }
    });
    // The slow request holds the only capacity slot once its credits are reserved.
    wait_reserved(&node, &holder.account_id, COST).await;
    let s = get(
        &client,
        &product_url(&node.base, "B0TRICKLE1"),
        &trickle.key,
    )
    .await;
    assert_eq!(
        (s.status, s.code.as_str(), s.cost),
        (503, "capacity", Some(0)),
        "{s:?}"
    );
    assert!(s.retry_after.is_some_and(|r| r >= 1), "{s:?}");
    assert_eq!(slow.await.unwrap().status, 200);

    // The refused request gave its token back, so the account's one token is still there.
    let s = get(
        &client,
        &product_url(&node.base, "B0TRICKLE2"),
        &trickle.key,
    )
    .await;
    assert_eq!(s.status, 200, "{s:?}");
    // And it is now spent: the limit itself is strict.
    let s = get(
        &client,
        &product_url(&node.base, "B0TRICKLE3"),
        &trickle.key,
    )
    .await;
    assert_eq!((s.status, s.code.as_str()), (429, "rate_limited"), "{s:?}");
    assert!(s.retry_after.is_some_and(|r| r > 30), "{s:?}");
    backend.finish().await;
}
