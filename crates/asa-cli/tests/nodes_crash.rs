//! A node killed with SIGKILL while it holds reservations: the real server binary (`asa dev`) on a
//! SQLite file (always), or beside a second node on PostgreSQL + Redis (when `DATABASE_URL`
//! and `REDIS_URL` are set), its upstream an in-test simulator whose slow pages keep
//! requests in flight.
//! After a restart and the reservation expiry (a short `reservation_grace` and
//! `reservation_sweep`), the ledger holds: every delivered 2xx charged once, every
//! reservation of the dead node expired (released), nothing reserved, credits conserved.

mod support;

use asa_model::{AccountId, Credits};
use asa_store::LedgerKind;
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use support::{credits, live_account, reserved, start_node, wait_reserved, Shared};

const COST: i64 = 5;
/// Requests in flight (waiting 2 s for the simulator) when the node dies.
const IN_FLIGHT: usize = 12;

/// Status and request id of one product request; `None` when no answer came.
async fn product(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    asin: &str,
) -> Option<(u16, String)> {
    let res = client
        .get(format!("{base}/api/v1/amazon/product?query={asin}"))
        .bearer_auth(key)
        .send()
        .await
        .ok()?;
    let status = res.status().as_u16();
    let rid = res
        .headers()
        .get("x-request-id")?
        .to_str()
        .ok()?
        .to_string();
    let cost = res.headers().get("asa-cost")?.to_str().ok()?.to_string();
    res.bytes().await.ok()?;
    assert_eq!(cost, if status == 200 { "5" } else { "0" });
    Some((status, rid))
}

async fn fast_batch(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    tag: &str,
    n: usize,
) -> Vec<String> {
    let calls = (0..n).map(|i| {
        let asin = format!("B0{tag}{i:04}");
        async move { product(client, base, key, &asin).await }
    });
    futures::future::join_all(calls)
        .await
        .into_iter()
        .map(|answer| {
            let (status, rid) = answer.expect("a live node answers");
            assert_eq!(status, 200, "{rid}");
            rid
        })
        .collect()
}

/// Kills a node holding `IN_FLIGHT` reservations, then restarts it (with `survivor`, a
/// second node that keeps serving meanwhile), waits for the expiry and checks the ledger.
async fn crash(shared: Shared, survivor: bool) {
    let sim = asa_sim::start_local(asa_sim::SimConfig {
        page_bytes: 60_000,
        ..Default::default()
    })
    .await
    .unwrap();
    let store = shared.store().await;
    let initial = 1000;
    let (account_id, key) = live_account(&store, initial).await;
    let client = reqwest::Client::new();

    let other = survivor.then(|| start_node(&shared, &sim, &[]));
    let node = start_node(&shared, &sim, &[]);
    let mut delivered = fast_batch(&client, &node.base, &key, "CRSA", 10).await;

    // Requests parked on 2 s pages, each holding its reservation, when the node dies.
    let parked: Vec<_> = (0..IN_FLIGHT)
        .map(|_| {
            let (client, base, key) = (client.clone(), node.base.clone(), key.clone());
            tokio::spawn(async move { product(&client, &base, &key, "B0SLOW0200").await })
        })
        .collect();
    wait_reserved(
        &store,
        &account_id,
        COST * IN_FLIGHT as i64,
        Duration::from_secs(10),
    )
    .await;
    drop(node); // SIGKILL
    for p in parked {
        assert_eq!(p.await.unwrap(), None, "a killed node answers nothing");
    }
    assert_eq!(
        reserved(&store, &account_id).await,
        COST * IN_FLIGHT as i64,
        "the dead node's reservations are still held"
    );

    if let Some(other) = &other {
        // The other node serves on while the dead one's reservations are held.
        delivered.extend(fast_batch(&client, &other.base, &key, "CRSO", 10).await);
    }

    // Restarted on the same store: it serves, and a sweeper expires what the dead node
    // held once their time (upstream budget + grace) is over.
    let node = start_node(&shared, &sim, &[]);
    delivered.extend(fast_batch(&client, &node.base, &key, "CRSB", 10).await);
    wait_reserved(&store, &account_id, 0, Duration::from_secs(20)).await;

    let entries = store
        .ledger(&AccountId::from(account_id.clone()), 10_000)
        .await
        .unwrap();
    let mut settled: HashMap<&str, Vec<LedgerKind>> = HashMap::new();
    let mut reserved_ids = HashSet::new();
    let mut sums: HashMap<LedgerKind, Credits> = HashMap::new();
    for e in &entries {
        assert!(
            e.balance_after >= Credits(0) && e.reserved_after >= Credits(0),
            "{e:?}"
        );
        *sums.entry(e.kind).or_default() += e.amount;
        let rid = e.request_id.as_deref();
        match e.kind {
            LedgerKind::Reserve => assert!(reserved_ids.insert(rid.unwrap()), "{e:?}"),
            LedgerKind::Charge | LedgerKind::Release | LedgerKind::Expire => {
                settled.entry(rid.unwrap()).or_default().push(e.kind)
            }
            LedgerKind::TopUp | LedgerKind::AutoTopUp => {}
        }
    }
    let of = |kinds: &[LedgerKind]| -> HashSet<&str> {
        settled
            .iter()
            .filter(|(_, k)| k.len() == 1 && kinds.contains(&k[0]))
            .map(|(r, _)| *r)
            .collect()
    };
    assert!(
        settled.values().all(|k| k.len() == 1),
        "settled twice: {settled:?}"
    );
    assert_eq!(
        settled.keys().copied().collect::<HashSet<_>>(),
        reserved_ids,
        "every reservation settled, nothing settled unreserved"
    );
    let charged = of(&[LedgerKind::Charge]);
    let delivered: HashSet<&str> = delivered.iter().map(String::as_str).collect();
    assert_eq!(charged, delivered, "charged exactly the delivered 2xx");
    assert_eq!(of(&[LedgerKind::Expire]).len(), IN_FLIGHT);
    assert!(of(&[LedgerKind::Release]).is_empty());
    let sum = |k| sums.get(&k).copied().unwrap_or_default();
    assert_eq!(
        sum(LedgerKind::Charge),
        Credits(COST * delivered.len() as i64)
    );
    let (balance, reserved) = credits(&store, &account_id).await;
    assert_eq!(reserved, Credits(0));
    assert_eq!(balance + sum(LedgerKind::Charge), Credits(initial));
    drop((node, other));
    shared.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_request_on_sqlite_leaves_a_ledger_that_holds_after_expiry() {
    crash(Shared::sqlite(), false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_of_two_nodes_on_postgres_and_redis_killed_mid_request_leaves_a_ledger_that_holds() {
    let Some(shared) = Shared::postgres_and_redis() else {
        return;
    };
    crash(shared, true).await;
}
