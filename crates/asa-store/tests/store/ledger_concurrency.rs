//! The ledger property: under concurrent requests with a random mix of outcomes, every
//! delivered 2xx is charged exactly once, no balance goes negative, and credits are
//! conserved.

use crate::backend::Backend;
use crate::ledger::account;
use asa_model::{Credits, RequestId};
use asa_store::{ChargeOutcome, Clock, LedgerKind, ReserveError};
use chrono::Duration as ChronoDuration;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashSet;
use std::time::Duration;

crate::suite!(ledger_property_under_concurrency);

/// Each line's balance and reserved follow from the line before it by its kind and amount:
/// the ledger is a true account of the balances, whichever operations shared a commit.
fn assert_chained(ledger: &[asa_store::LedgerEntry], backend: &str) {
    let mut lines: Vec<_> = ledger.iter().collect();
    lines.sort_by_key(|e| e.id);
    let (mut balance, mut reserved) = (Credits::ZERO, Credits::ZERO);
    for e in lines {
        let a = e.amount;
        match e.kind {
            LedgerKind::TopUp | LedgerKind::AutoTopUp => balance += a,
            LedgerKind::Reserve => (balance, reserved) = (balance - a, reserved + a),
            LedgerKind::Charge if e.note.as_deref().is_some_and(|n| n.starts_with("late")) => {
                balance -= a
            }
            LedgerKind::Charge => reserved -= a,
            LedgerKind::Release | LedgerKind::Expire => {
                (balance, reserved) = (balance + a, reserved - a)
            }
        }
        assert_eq!(
            (e.balance_after, e.reserved_after),
            (balance, reserved),
            "{backend}: ledger line {} ({:?} {a} for {:?})",
            e.id,
            e.kind,
            e.request_id
        );
    }
}

const COST: i64 = 5;
const TASKS: u64 = 200;
const INITIAL: i64 = 300;
const TOP_UPS: i64 = 5;
const TOP_UP: i64 = 25;

#[derive(Debug, PartialEq)]
enum Outcome {
    /// A 2xx was delivered for this request id.
    Delivered(RequestId),
    NotBilled,
    Refused,
}

async fn ledger_property_under_concurrency(b: &Backend) {
    let acc = account(b, INITIAL).await;
    let mut tasks = Vec::new();
    for i in 0..TASKS {
        let store = b.store.clone();
        let acc = acc.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(i);
            let request_id = RequestId::from(format!("req_{i:012x}"));
            let kind = rng.gen_range(0..6);
            // Kinds 4 and 5 reserve with no time to live: the expirer races their settlement.
            let ttl = if kind >= 4 {
                Duration::ZERO
            } else {
                Duration::from_secs(3600)
            };
            let r = match store.reserve(&acc, &request_id, Credits(COST), ttl).await {
                Ok(r) => r,
                Err(ReserveError::Insufficient { .. }) => return Outcome::Refused,
                Err(e) => panic!("reserve: {e}"),
            };
            tokio::task::yield_now().await;
            match kind {
                // Success, and sometimes a replayed settlement of the same request.
                0 | 1 | 5 => match store.charge(&r).await.unwrap() {
                    ChargeOutcome::Charged { .. } => {
                        if rng.gen_bool(0.5) {
                            assert_eq!(
                                store.charge(&r).await.unwrap(),
                                ChargeOutcome::AlreadyCharged
                            );
                        }
                        Outcome::Delivered(request_id)
                    }
                    ChargeOutcome::AlreadyCharged => panic!("first charge of {request_id}"),
                    ChargeOutcome::Refused(_) => Outcome::NotBilled,
                },
                // An upstream error: released.
                2 => {
                    store.release(&r).await.unwrap();
                    Outcome::NotBilled
                }
                // A success whose handler also runs the error path: release must not undo it.
                3 => {
                    assert!(matches!(
                        store.charge(&r).await.unwrap(),
                        ChargeOutcome::Charged { .. }
                    ));
                    assert!(!store.release(&r).await.unwrap());
                    Outcome::Delivered(request_id)
                }
                // The client went away or the node died: nobody settles it.
                _ => Outcome::NotBilled,
            }
        }));
    }
    for _ in 0..TOP_UPS {
        let store = b.store.clone();
        let acc = acc.clone();
        tasks.push(tokio::spawn(async move {
            store
                .add_credits(&acc, Credits(TOP_UP), "concurrent top-up")
                .await
                .unwrap();
            Outcome::NotBilled
        }));
    }
    let expirer = {
        let store = b.store.clone();
        let now = b.clock.now();
        tokio::spawn(async move {
            for _ in 0..20 {
                store.expire_reservations(now).await.unwrap();
                tokio::task::yield_now().await;
            }
        })
    };
    let mut delivered = HashSet::new();
    let mut refused = 0;
    for t in tasks {
        match t.await.unwrap() {
            Outcome::Delivered(id) => assert!(delivered.insert(id)),
            Outcome::Refused => refused += 1,
            Outcome::NotBilled => {}
        }
    }
    expirer.await.unwrap();
    b.clock.advance(ChronoDuration::hours(2));
    b.store.expire_reservations(b.clock.now()).await.unwrap();

    let ledger = b.store.ledger(&acc, 1_000_000).await.unwrap();
    let charges: Vec<_> = ledger
        .iter()
        .filter(|e| e.kind == LedgerKind::Charge)
        .collect();
    let charged: HashSet<RequestId> = charges
        .iter()
        .map(|e| e.request_id.clone().unwrap())
        .collect();
    assert_eq!(
        charged.len(),
        charges.len(),
        "{}: no request id charged twice",
        b.name
    );
    assert_eq!(
        charged, delivered,
        "{}: exactly the delivered requests are charged",
        b.name
    );
    let charged_sum: Credits = charges.iter().map(|e| e.amount).sum();
    assert_eq!(charged_sum, Credits(COST * delivered.len() as i64));
    assert!(ledger
        .iter()
        .all(|e| e.balance_after >= Credits(0) && e.reserved_after >= Credits(0)));
    assert_chained(&ledger, b.name);
    let topped: Credits = ledger
        .iter()
        .filter(|e| matches!(e.kind, LedgerKind::TopUp | LedgerKind::AutoTopUp))
        .map(|e| e.amount)
        .sum();
    assert_eq!(topped, Credits(INITIAL + TOP_UPS * TOP_UP));
    let a = b.store.account(&acc).await.unwrap().unwrap();
    assert_eq!(
        a.reserved,
        Credits(0),
        "every reservation is settled or expired"
    );
    assert_eq!(
        a.balance + a.reserved + charged_sum,
        topped,
        "credits are conserved"
    );
    assert!(
        refused > 0 && a.balance < Credits(INITIAL),
        "the balance ran out: {refused} refused"
    );
}
