//! SIGKILL while the ledger commits groups of charges: the real server binary (`asa dev`) on a
//! SQLite file (always) or on PostgreSQL + Redis (when `DATABASE_URL` and `REDIS_URL` are
//! set), kept busy by many clients asking for small pages, so its ledger writer is
//! committing group after group when it dies. Killed three times, then restarted for the
//! expiry of what the dead nodes held, the ledger holds: every 2xx a client received has
//! exactly one durable charge, nothing is charged or settled twice, at most the requests in
//! flight at a kill are charged without their answer having arrived, and credits are
//! conserved.
//!
//! A SIGKILL leaves the operating system's page cache intact, so this proves the commit
//! protocol, not the disk sync; power loss is covered by `synchronous = FULL` on SQLite
//! and PostgreSQL's own WAL flush at commit.

mod support;

use asa_model::{AccountId, Credits};
use asa_store::LedgerKind;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{credits, live_account, start_node, wait_reserved, Shared};

const COST: i64 = 5;
/// Clients asking at once: each keeps one request in flight.
const CLIENTS: usize = 48;
const ROUNDS: usize = 3;

/// One client's loop: product requests for fresh ASINs until the node stops answering.
/// Records the request id of every 2xx received.
async fn client_loop(
    client: reqwest::Client,
    base: String,
    key: String,
    tag: String,
    delivered: Arc<Mutex<Vec<String>>>,
    count: Arc<AtomicUsize>,
) {
    for i in 0.. {
        let asin = format!("B0{tag}{i:04}");
        let Ok(res) = client
            .get(format!("{base}/api/v1/amazon/product?query={asin}"))
            .bearer_auth(&key)
            .send()
            .await
        else {
            return;
        };
        let status = res.status().as_u16();
        let rid = res
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let cost = res
            .headers()
            .get("asa-cost")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        // Received means the whole body arrived.
        if res.bytes().await.is_err() {
            return;
        }
        if status == 200 {
            assert_eq!(cost.as_deref(), Some("5"));
            delivered.lock().unwrap().push(rid.expect("a request id"));
            count.fetch_add(1, Ordering::SeqCst);
        }
    }
}

async fn killed_mid_group(shared: Shared) {
    let sim = asa_sim::start_local(asa_sim::SimConfig {
        page_bytes: 20_000,
        ..Default::default()
    })
    .await
    .unwrap();
    let store = shared.store().await;
    let initial = 1_000_000;
    let (account_id, key) = live_account(&store, initial).await;
    // Limits that never bind: the point is a ledger under load.
    let limits = [
        ("ASA_PLANS_PRO_CONCURRENCY", "1000"),
        ("ASA_PLANS_PRO_RPS", "100000"),
        ("ASA_PLANS_PRO_BURST", "100000"),
    ];
    let delivered = Arc::new(Mutex::new(Vec::new()));
    for round in 0..ROUNDS {
        let node = start_node(&shared, &sim, &limits);
        let count = Arc::new(AtomicUsize::new(0));
        let client = reqwest::Client::new();
        let tasks: Vec<_> = (0..CLIENTS)
            .map(|c| {
                tokio::spawn(client_loop(
                    client.clone(),
                    node.base.clone(),
                    key.clone(),
                    format!("{round}{c:03}"),
                    delivered.clone(),
                    count.clone(),
                ))
            })
            .collect();
        // Killed once the node is well into its stride, at a different point each round.
        let at = 80 + 60 * round;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while count.load(Ordering::SeqCst) < at {
            assert!(tokio::time::Instant::now() < deadline, "the node serves");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        drop(node); // SIGKILL
        for t in tasks {
            t.await.unwrap();
        }
    }
    // A last node's sweeper expires what the dead ones held.
    let node = start_node(&shared, &sim, &limits);
    wait_reserved(&store, &account_id, 0, Duration::from_secs(30)).await;
    drop(node);

    let delivered: Vec<String> = delivered.lock().unwrap().clone();
    let delivered: HashSet<&str> = delivered.iter().map(String::as_str).collect();
    let entries = store
        .ledger(&AccountId::from(account_id.clone()), 1_000_000)
        .await
        .unwrap();
    let mut reserved = HashSet::new();
    // Settlements per request id, oldest first (the ledger lists the newest first).
    let mut settled: HashMap<&str, Vec<LedgerKind>> = HashMap::new();
    let mut charged_sum = Credits::ZERO;
    for e in entries.iter().rev() {
        assert!(
            e.balance_after >= Credits(0) && e.reserved_after >= Credits(0),
            "{e:?}"
        );
        let rid = e.request_id.as_deref();
        match e.kind {
            LedgerKind::Reserve => {
                assert_eq!(e.amount, Credits(COST), "{e:?}");
                assert!(reserved.insert(rid.unwrap()), "{e:?}")
            }
            LedgerKind::Charge | LedgerKind::Release | LedgerKind::Expire => {
                assert_eq!(e.amount, Credits(COST), "{e:?}");
                if e.kind == LedgerKind::Charge {
                    charged_sum += e.amount;
                }
                settled.entry(rid.unwrap()).or_default().push(e.kind)
            }
            LedgerKind::TopUp | LedgerKind::AutoTopUp => {}
        }
    }
    // Settled once; or expired while its request was still running (a loaded debug build
    // can take longer than the short budget + grace) and then charged late, from the
    // balance, when its page was delivered after all.
    use LedgerKind::{Charge, Expire, Release};
    let odd: Vec<_> = settled
        .iter()
        .filter(|(_, k)| {
            !matches!(
                k.as_slice(),
                [Charge] | [Release] | [Expire] | [Expire, Charge]
            )
        })
        .collect();
    assert!(odd.is_empty(), "settled twice: {odd:?}");
    assert_eq!(
        settled.keys().copied().collect::<HashSet<_>>(),
        reserved,
        "every reservation settled once, nothing settled unreserved"
    );
    let charged: HashSet<&str> = settled
        .iter()
        .filter(|(_, k)| k.last() == Some(&Charge))
        .map(|(r, _)| *r)
        .collect();
    let unpaid: Vec<_> = delivered.difference(&charged).collect();
    assert!(
        unpaid.is_empty(),
        "2xx received without a charge: {unpaid:?}"
    );
    let unread = charged.len() - delivered.len();
    assert!(
        unread <= CLIENTS * ROUNDS,
        "{unread} charged without their answer arriving: more than were in flight"
    );
    let (balance, reserved) = credits(&store, &account_id).await;
    assert_eq!(reserved, Credits(0));
    assert_eq!(
        balance + charged_sum,
        Credits(initial),
        "credits are conserved"
    );
    eprintln!(
        "{} 2xx received over {ROUNDS} kills, {} charged, {unread} of them unread at a kill",
        delivered.len(),
        charged.len()
    );
    shared.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_node_killed_while_committing_charges_keeps_every_delivered_charge() {
    killed_mid_group(Shared::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_node_killed_while_committing_charges_keeps_every_delivered_charge() {
    let Some(shared) = Shared::postgres_and_redis() else {
        return;
    };
    killed_mid_group(shared).await;
}
