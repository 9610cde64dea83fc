//! The mixed load of the ledger property: every outcome a product request can have, on one
//! or several nodes sharing a store, then the ledger checked against what the client saw.
//!
//! Disconnects: the client drops a request for a page the simulator answers after 1.5 s,
//! 300 ms after sending it, so the server is always still waiting for the upstream when the
//! client goes. The contract tested: such a request is released, never charged. (The server
//! charges just before it writes the answer, so a client that vanishes in the microseconds
//! between the charge and the write is charged for an answer it never read; that window is
//! not reachable by this test's disconnects, and it is what `billing.rs` documents.)

use crate::harness::*;
use asa_model::{AccountId, Credits};
use asa_store::{AutoTopup, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The plan of the property's accounts: a concurrency ceiling, and a rate the storm exceeds
/// by half (it sends 30 requests a second per account).
pub const PLAN: &str = "ledger";

pub fn ledger_plan() -> asa_server::config::PlanConfig {
    plan(16, 20.0, 15)
}

/// Simulator fault rates applied to every non-magic page.
pub fn fault_rates() -> asa_sim::FaultRates {
    asa_sim::FaultRates {
        captcha_rate: 0.03,
        error503_rate: 0.02,
        reset_rate: 0.02,
        truncate_rate: 0.02,
        ..Default::default()
    }
}

/// One request of the mix.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Asin(&'static str),
    /// A fresh ordinary ASIN.
    Fresh,
    /// `B0FLAKY1` + a fresh suffix: a captcha, then the page.
    Flaky,
    BadParams,
    BadKey,
    ForbiddenRegion,
    NotImplemented,
    /// `B0SLOW0150`, dropped by the client after 300 ms.
    Disconnect,
}

/// Each kind once, with the answer it must get while the account has credits and room.
const PRELUDE: &[(Kind, u16, &str)] = &[
    (Kind::Fresh, 200, "ok"),
    (Kind::Flaky, 200, "ok"),
    (Kind::Asin("B0CAPTCHA1"), 422, "blocked_by_amazon"),
    (Kind::Asin("B0ERR50301"), 422, "blocked_by_amazon"),
    (Kind::Asin("B0NOTFND01"), 404, "product_not_found"),
    // Only the status: whether the shelf is told apart from an unknown layout is the
    // extractor's business, held by its own tests and the API suite.
    (Kind::Asin("B0GALLERY1"), 502, ""),
    (Kind::Asin("B0REDIRCT1"), 502, "asin_mismatch"),
    (Kind::Asin("B0UNKNOWN1"), 502, "extraction_failed"),
    (Kind::Asin("B0RESET001"), 502, "target_unreachable"),
    (Kind::Asin("B0SLOW0500"), 408, "upstream_timeout"),
    (Kind::BadParams, 400, "invalid_params"),
    (Kind::BadKey, 401, "unauthorized"),
    (Kind::ForbiddenRegion, 403, "forbidden_region"),
    (Kind::NotImplemented, 501, "not_implemented"),
];

fn pick(rng: &mut StdRng) -> Kind {
    let table: &[(u32, Kind)] = &[
        (36, Kind::Fresh),
        (5, Kind::Flaky),
        (4, Kind::Asin("B0CAPTCHA2")),
        (3, Kind::Asin("B0ERR50302")),
        (4, Kind::Asin("B0NOTFND02")),
        (3, Kind::Asin("B0GALLERY2")),
        (3, Kind::Asin("B0REDIRCT2")),
        (3, Kind::Asin("B0UNKNOWN2")),
        (3, Kind::Asin("B0RESET002")),
        (3, Kind::Asin("B0TRUNC002")),
        (3, Kind::Asin("B0SLOW0080")),
        (1, Kind::Asin("B0SLOW0500")),
        (2, Kind::BadParams),
        (2, Kind::BadKey),
        (2, Kind::ForbiddenRegion),
        (1, Kind::NotImplemented),
        (5, Kind::Disconnect),
    ];
    let total: u32 = table.iter().map(|(w, _)| w).sum();
    let mut x = rng.gen_range(0..total);
    for (w, k) in table {
        if x < *w {
            return *k;
        }
        x -= w;
    }
    unreachable!("the draw is below the total weight")
}

fn fresh_asin(rng: &mut StdRng, prefix: &str) -> String {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut s = prefix.to_string();
    while s.len() < 10 {
        s.push(ALNUM[rng.gen_range(0..ALNUM.len())] as char);
    }
    s
}

/// What became of one request.
#[derive(Debug, Clone)]
pub enum Outcome {
    Answered(Seen),
    /// The client dropped it before any answer.
    Disconnected,
}

async fn send(
    client: reqwest::Client,
    base: String,
    key: String,
    kind: Kind,
    asin: String,
) -> Outcome {
    let key = if matches!(kind, Kind::BadKey) {
        format!("asa_live_{}", "0".repeat(32))
    } else {
        key
    };
    let url = match kind {
        Kind::BadParams => format!("{base}/api/v1/amazon/product?query=not-an-asin"),
        Kind::ForbiddenRegion => format!("{}&country=DE", product_url(&base, &asin)),
        Kind::NotImplemented => format!("{}&render_js=true", product_url(&base, &asin)),
        _ => product_url(&base, &asin),
    };
    if !matches!(kind, Kind::Disconnect) {
        return Outcome::Answered(get(&client, &url, &key).await);
    }
    let mut task = tokio::spawn(async move { get(&client, &url, &key).await });
    tokio::select! {
        done = &mut task => Outcome::Answered(done.unwrap()),
        _ = tokio::time::sleep(Duration::from_millis(300)) => {
            task.abort();
            match task.await {
                Ok(seen) => Outcome::Answered(seen),
                Err(e) if e.is_cancelled() => Outcome::Disconnected,
                Err(e) => panic!("request task failed: {e}"),
            }
        }
    }
}

fn asin_for(kind: Kind, rng: &mut StdRng) -> String {
    match kind {
        Kind::Asin(a) => a.to_string(),
        Kind::Flaky => fresh_asin(rng, "B0FLAKY1"),
        Kind::Disconnect => "B0SLOW0150".to_string(),
        _ => fresh_asin(rng, "B0LG"),
    }
}

/// The accounts of one run: `a` (prepaid, topped up by hand mid-run) and `b` (auto-top-up
/// with a monthly cap), both on [`PLAN`].
pub struct Accounts {
    pub a: Holder,
    pub b: Holder,
}

pub async fn accounts(store: &Arc<dyn Store>) -> Accounts {
    let a = account(store, PLAN, 100).await;
    let b = account(store, PLAN, 40).await;
    let auto = AutoTopup {
        threshold: Credits(10),
        amount: Credits(40),
        monthly_cap: Credits(80),
    };
    store
        .set_auto_topup(&AccountId::from(b.account_id.clone()), Some(auto))
        .await
        .unwrap();
    Accounts { a, b }
}

/// Runs the prelude (each kind once, answers checked) and a storm of `n` random requests
/// sent at 60 a second (half to each account), spread over `bases` round-robin; then
/// checks the ledger.
pub async fn run(bases: &[String], store: &Arc<dyn Store>, n: usize, seed: u64) {
    let accts = accounts(store).await;
    let client = reqwest::Client::new();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut results: Vec<(usize, Outcome)> = Vec::new();

    // The prelude: every kind at once, on account a, well under its limits.
    let mut prelude = Vec::new();
    for (i, (kind, _, _)) in PRELUDE.iter().enumerate() {
        let asin = asin_for(*kind, &mut rng);
        let base = bases[i % bases.len()].clone();
        prelude.push(tokio::spawn(send(
            client.clone(),
            base,
            accts.a.key.clone(),
            *kind,
            asin,
        )));
    }
    let disconnect = tokio::spawn(send(
        client.clone(),
        bases[0].clone(),
        accts.a.key.clone(),
        Kind::Disconnect,
        asin_for(Kind::Disconnect, &mut rng),
    ));
    for ((kind, status, code), task) in PRELUDE.iter().zip(prelude) {
        let out = task.await.unwrap();
        let Outcome::Answered(seen) = &out else {
            panic!("{kind:?} was not answered");
        };
        assert_eq!(seen.status, *status, "{kind:?}: {seen:?}");
        assert!(code.is_empty() || seen.code == *code, "{kind:?}: {seen:?}");
        results.push((0, out));
    }
    let out = disconnect.await.unwrap();
    assert!(matches!(out, Outcome::Disconnected), "{out:?}");
    results.push((0, out));

    // The storm, paced so that the rate limit, the concurrency ceiling, the capacity and
    // the balances all bind at some point, rather than one refusal cycling fastest. It goes
    // on past `n` (up to 3n) until both balances ran out, however slow the machine is.
    let broke = Arc::new([AtomicBool::new(false), AtomicBool::new(false)]);
    let mut pace = tokio::time::interval(Duration::from_micros(1_000_000 / 60));
    let mut tasks = Vec::new();
    let mut i = 0;
    while i < n || (i < 3 * n && !broke.iter().all(|b| b.load(Ordering::Relaxed))) {
        if i == n / 2 {
            store
                .add_credits(
                    &AccountId::from(accts.a.account_id.clone()),
                    Credits(60),
                    "mid-run top-up",
                )
                .await
                .unwrap();
        }
        pace.tick().await;
        let kind = pick(&mut rng);
        let asin = asin_for(kind, &mut rng);
        let who = rng.gen_range(0..2usize);
        let key = if who == 0 { &accts.a.key } else { &accts.b.key };
        let fut = send(
            client.clone(),
            bases[i % bases.len()].clone(),
            key.clone(),
            kind,
            asin,
        );
        let broke = broke.clone();
        tasks.push(tokio::spawn(async move {
            let out = fut.await;
            if matches!(&out, Outcome::Answered(s) if s.status == 402) {
                broke[who].store(true, Ordering::Relaxed);
            }
            (who, out)
        }));
        i += 1;
    }
    for t in tasks {
        results.push(t.await.unwrap());
    }

    // What the client saw: cost headers, per-account deliveries, counts.
    let mut delivered: [Vec<String>; 2] = [Vec::new(), Vec::new()];
    let mut counts: [HashMap<String, usize>; 2] = [HashMap::new(), HashMap::new()];
    let mut disconnected = 0;
    for (who, out) in &results {
        match out {
            Outcome::Disconnected => disconnected += 1,
            Outcome::Answered(seen) => {
                let rid = seen
                    .request_id
                    .clone()
                    .expect("every answer has a request id");
                let ok = (200..300).contains(&seen.status);
                assert_eq!(seen.cost, Some(if ok { COST } else { 0 }), "{seen:?}");
                if ok {
                    delivered[*who].push(rid);
                }
                *counts[*who].entry(seen.code.clone()).or_default() += 1;
            }
        }
    }
    let seen: Vec<Seen> = results
        .iter()
        .filter_map(|(_, o)| match o {
            Outcome::Answered(s) => Some(s.clone()),
            Outcome::Disconnected => None,
        })
        .collect();
    eprintln!(
        "ledger mix over {} node(s): {:?}; {disconnected} disconnected",
        bases.len(),
        tally(&seen)
    );
    for c in &counts {
        assert!(c.contains_key("ok"), "{c:?}");
        assert!(
            c.contains_key("insufficient_credits"),
            "the balance never ran out: {c:?}"
        );
        assert!(
            c.contains_key("rate_limited"),
            "the storm never hit the limits: {c:?}"
        );
    }
    assert!(disconnected > 1, "only {disconnected} disconnects");

    // Every request settled by the server itself: nothing left for the expiry sweep.
    for h in [&accts.a, &accts.b] {
        let left = settle_reserved(store, &h.account_id, Duration::from_secs(10)).await;
        assert_eq!(left, 0, "credits still reserved for {}", h.account_id);
    }
    let far = chrono::Utc::now() + chrono::Duration::hours(1);
    assert_eq!(store.expire_reservations(far).await.unwrap(), 0);
    let book_a = assert_ledger(store, &accts.a.account_id, &delivered[0]).await;
    let book_b = assert_ledger(store, &accts.b.account_id, &delivered[1]).await;
    eprintln!("ledger a: {book_a:?}; b: {book_b:?}");
    assert_eq!(book_a.auto_top_ups, 0);
    // b's 402s mean its monthly cap was spent: exactly two top-ups of 40 fit under 80.
    assert_eq!(book_b.auto_top_ups, 2, "{book_b:?}");
    assert!(
        book_a.releases + book_b.releases >= disconnected,
        "{book_a:?} {book_b:?}"
    );
}
