use crate::backend::Backend;
use asa_model::{AccountId, Credits, RequestId};
use asa_store::{
    AutoTopup, ChargeOutcome, Clock, LedgerKind, NewAccount, PaymentError, PaymentReceipt,
    PaymentRequest, Payments, Refusal, ReserveError, StoreError,
};
use async_trait::async_trait;
use chrono::Duration as ChronoDuration;
use std::sync::Arc;
use std::time::Duration;

crate::suite!(
    reserve_charge_release,
    reservations_expire,
    late_charge_after_expiry,
    auto_topup_respects_monthly_cap,
    auto_topup_cap_below_its_amount_is_refused,
    concurrent_reservations_top_up_once,
);

const TTL: Duration = Duration::from_secs(120);

pub async fn account(b: &Backend, credits: i64) -> AccountId {
    b.store
        .create_account(NewAccount {
            plan: "free".into(),
            name: None,
            credits: Credits(credits),
        })
        .await
        .unwrap()
        .id
}

async fn credits(b: &Backend, id: &AccountId) -> (Credits, Credits) {
    let a = b.store.account(id).await.unwrap().unwrap();
    (a.balance, a.reserved)
}

async fn reserve_charge_release(b: &Backend) {
    let s = &b.store;
    let acc = account(b, 12).await;
    let r1 = s
        .reserve(&acc, &RequestId::from("req_000000000001"), Credits(5), TTL)
        .await
        .unwrap();
    assert_eq!((r1.cost, r1.balance_after), (Credits(5), Credits(7)));
    assert_eq!(credits(b, &acc).await, (Credits(7), Credits(5)));
    let dup = s
        .reserve(&acc, &RequestId::from("req_000000000001"), Credits(5), TTL)
        .await
        .unwrap_err();
    assert!(
        matches!(
            dup,
            ReserveError::Store(StoreError::DuplicateRequest { .. })
        ),
        "{dup}"
    );
    assert_eq!(
        credits(b, &acc).await,
        (Credits(7), Credits(5)),
        "a refused duplicate changes nothing"
    );

    assert_eq!(
        s.charge(&r1).await.unwrap(),
        ChargeOutcome::Charged {
            balance: Credits(7),
            late: false
        }
    );
    assert_eq!(credits(b, &acc).await, (Credits(7), Credits(0)));
    assert_eq!(s.charge(&r1).await.unwrap(), ChargeOutcome::AlreadyCharged);
    assert!(
        !s.release(&r1).await.unwrap(),
        "release after charge is a no-op"
    );
    assert_eq!(credits(b, &acc).await, (Credits(7), Credits(0)));

    let r2 = s
        .reserve(&acc, &RequestId::from("req_000000000002"), Credits(5), TTL)
        .await
        .unwrap();
    let short = s
        .reserve(&acc, &RequestId::from("req_000000000003"), Credits(5), TTL)
        .await
        .unwrap_err();
    assert!(
        matches!(
            short,
            ReserveError::Insufficient {
                balance: Credits(2),
                cost: Credits(5)
            }
        ),
        "{short}"
    );
    assert!(s.release(&r2).await.unwrap());
    assert!(!s.release(&r2).await.unwrap());
    assert_eq!(credits(b, &acc).await, (Credits(7), Credits(0)));
    assert_eq!(
        s.charge(&r2).await.unwrap(),
        ChargeOutcome::Refused(Refusal::Released)
    );
    assert_eq!(credits(b, &acc).await, (Credits(7), Credits(0)));

    let kinds: Vec<_> = s
        .ledger(&acc, 100)
        .await
        .unwrap()
        .iter()
        .rev()
        .map(|e| e.kind)
        .collect();
    use LedgerKind::*;
    assert_eq!(kinds, [TopUp, Reserve, Charge, Reserve, Release]);
    let missing = s
        .reserve(
            &AccountId::from("acc_ffffffffffffffff"),
            &RequestId::from("req_000000000009"),
            Credits(5),
            TTL,
        )
        .await;
    assert!(matches!(
        missing,
        Err(ReserveError::Store(StoreError::NotFound { .. }))
    ));
    assert!(matches!(
        s.reserve(&acc, &RequestId::from("req_00000000000a"), Credits(0), TTL)
            .await,
        Err(ReserveError::Store(StoreError::InvalidArgument(_)))
    ));
    let mut ghost = r2.clone();
    ghost.request_id = "req_0000000000ff".into();
    assert!(matches!(
        s.charge(&ghost).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn reservations_expire(b: &Backend) {
    let s = &b.store;
    let acc = account(b, 20).await;
    let short = s
        .reserve(
            &acc,
            &RequestId::from("req_e00000000001"),
            Credits(5),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    let long = s
        .reserve(
            &acc,
            &RequestId::from("req_e00000000002"),
            Credits(5),
            Duration::from_secs(300),
        )
        .await
        .unwrap();
    assert_eq!(s.expire_reservations(b.clock.now()).await.unwrap(), 0);
    b.clock.advance(ChronoDuration::seconds(31));
    assert_eq!(s.expire_reservations(b.clock.now()).await.unwrap(), 1);
    assert_eq!(credits(b, &acc).await, (Credits(15), Credits(5)));
    assert!(
        !s.release(&short).await.unwrap(),
        "already given back by expiry"
    );
    assert_eq!(
        s.charge(&long).await.unwrap(),
        ChargeOutcome::Charged {
            balance: Credits(15),
            late: false
        }
    );
    b.clock.advance(ChronoDuration::seconds(600));
    assert_eq!(
        s.expire_reservations(b.clock.now()).await.unwrap(),
        0,
        "settled ones stay"
    );
    let last = &s.ledger(&acc, 10).await.unwrap()[1];
    assert_eq!(
        (last.kind, last.request_id.as_deref()),
        (LedgerKind::Expire, Some("req_e00000000001"))
    );

    // More than one expiry batch.
    let many = account(b, 5 * 450).await;
    for i in 0..450 {
        s.reserve(
            &many,
            &RequestId::from(format!("req_m{i:011}")),
            Credits(5),
            Duration::from_secs(1),
        )
        .await
        .unwrap();
    }
    b.clock.advance(ChronoDuration::seconds(2));
    assert_eq!(s.expire_reservations(b.clock.now()).await.unwrap(), 450);
    assert_eq!(credits(b, &many).await, (Credits(2250), Credits(0)));
}

async fn late_charge_after_expiry(b: &Backend) {
    let s = &b.store;
    let acc = account(b, 10).await;
    let r1 = s
        .reserve(
            &acc,
            &RequestId::from("req_l00000000001"),
            Credits(5),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    let r2 = s
        .reserve(
            &acc,
            &RequestId::from("req_l00000000002"),
            Credits(5),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    b.clock.advance(ChronoDuration::seconds(11));
    assert_eq!(s.expire_reservations(b.clock.now()).await.unwrap(), 2);
    assert_eq!(
        s.charge(&r1).await.unwrap(),
        ChargeOutcome::Charged {
            balance: Credits(5),
            late: true
        }
    );
    assert_eq!(s.charge(&r1).await.unwrap(), ChargeOutcome::AlreadyCharged);
    // The freed credits went to another request; the late one cannot be paid for.
    let r3 = s
        .reserve(&acc, &RequestId::from("req_l00000000003"), Credits(5), TTL)
        .await
        .unwrap();
    assert_eq!(
        s.charge(&r2).await.unwrap(),
        ChargeOutcome::Refused(Refusal::ExpiredInsufficient {
            balance: Credits(0),
            cost: Credits(5)
        })
    );
    assert_eq!(
        s.charge(&r3).await.unwrap(),
        ChargeOutcome::Charged {
            balance: Credits(0),
            late: false
        }
    );
    assert_eq!(credits(b, &acc).await, (Credits(0), Credits(0)));
    let charges = s
        .ledger(&acc, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == LedgerKind::Charge)
        .count();
    assert_eq!(charges, 2);
}

/// A monthly cap below the amount would leave auto-top-up on while it can never add a
/// credit (every top-up is the whole amount): the setting is refused, as `asa admin` always
/// refused it, and the account keeps what it had.
async fn auto_topup_cap_below_its_amount_is_refused(b: &Backend) {
    let s = &b.store;
    let acc = account(b, 0).await;
    let never_fires = AutoTopup {
        threshold: Credits(10),
        amount: Credits(50),
        monthly_cap: Credits(40),
    };
    assert!(matches!(
        s.set_auto_topup(&acc, Some(never_fires)).await,
        Err(StoreError::InvalidArgument(_))
    ));
    assert_eq!(s.account(&acc).await.unwrap().unwrap().auto_topup, None);
    let one_a_month = AutoTopup {
        monthly_cap: Credits(50),
        ..never_fires
    };
    s.set_auto_topup(&acc, Some(one_a_month)).await.unwrap();
    assert_eq!(
        s.account(&acc).await.unwrap().unwrap().auto_topup,
        Some(one_a_month)
    );
}

async fn auto_topup_respects_monthly_cap(b: &Backend) {
    let s = &b.store;
    let acc = account(b, 0).await;
    let cfg = AutoTopup {
        threshold: Credits(10),
        amount: Credits(20),
        monthly_cap: Credits(40),
    };
    s.set_auto_topup(&acc, Some(cfg)).await.unwrap();
    assert_eq!(
        s.account(&acc).await.unwrap().unwrap().auto_topup,
        Some(cfg)
    );
    let mut balances = Vec::new();
    let mut refused = None;
    for i in 0..10 {
        match s
            .reserve(
                &acc,
                &RequestId::from(format!("req_t{i:011}")),
                Credits(5),
                TTL,
            )
            .await
        {
            Ok(r) => balances.push(r.balance_after),
            Err(e) => {
                refused = Some((i, e));
                break;
            }
        }
    }
    // Short at 0: top up 20, reserve -> 15; 10 is not below the threshold; 5 is: top up -> 25.
    assert_eq!(balances, [15, 10, 25, 20, 15, 10, 5, 0].map(Credits));
    assert!(matches!(
        refused,
        Some((
            8,
            ReserveError::Insufficient {
                balance: Credits(0),
                cost: Credits(5)
            }
        ))
    ));
    assert_eq!(s.auto_topup_this_month(&acc).await.unwrap(), Credits(40));
    assert_eq!(
        b.invoice_lines(&acc).await,
        [("paid".into(), 20), ("paid".into(), 20)]
    );
    let topups: Vec<_> = s
        .ledger(&acc, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == LedgerKind::AutoTopUp)
        .collect();
    assert_eq!(topups.len(), 2);
    assert!(topups
        .iter()
        .all(|e| e.request_id.is_some()
            && e.note.as_deref().unwrap_or("").starts_with("invoice inv_")));

    // A new month opens the cap again.
    b.clock.advance(ChronoDuration::days(32));
    assert_eq!(s.auto_topup_this_month(&acc).await.unwrap(), Credits(0));
    assert_eq!(
        s.reserve(&acc, &RequestId::from("req_t00000000100"), Credits(5), TTL)
            .await
            .unwrap()
            .balance_after,
        Credits(15)
    );
    s.set_auto_topup(&acc, None).await.unwrap();
    assert_eq!(s.account(&acc).await.unwrap().unwrap().auto_topup, None);
    let bad = AutoTopup {
        threshold: Credits(10),
        amount: Credits(0),
        monthly_cap: Credits(40),
    };
    assert!(matches!(
        s.set_auto_topup(&acc, Some(bad)).await,
        Err(StoreError::InvalidArgument(_))
    ));
}

async fn concurrent_reservations_top_up_once(b: &Backend) {
    let acc = account(b, 0).await;
    let cfg = AutoTopup {
        threshold: Credits(0),
        amount: Credits(50),
        monthly_cap: Credits(50),
    };
    b.store.set_auto_topup(&acc, Some(cfg)).await.unwrap();
    let tasks: Vec<_> = (0..30)
        .map(|i| {
            let store = b.store.clone();
            let acc = acc.clone();
            tokio::spawn(async move {
                store
                    .reserve(
                        &acc,
                        &RequestId::from(format!("req_c{i:011}")),
                        Credits(5),
                        TTL,
                    )
                    .await
            })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(ReserveError::Insufficient { .. }) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(ok, 10, "one top-up of 50 pays for exactly 10 reservations");
    assert_eq!(credits(b, &acc).await, (Credits(0), Credits(50)));
    assert_eq!(b.invoice_lines(&acc).await.len(), 1);
}

/// A payment provider that declines everything.
struct Declining;

#[async_trait]
impl Payments for Declining {
    async fn collect(&self, _: &PaymentRequest<'_>) -> Result<PaymentReceipt, PaymentError> {
        Err(PaymentError("card declined".into()))
    }
}

async fn failing_payment_is_insufficient(b: &Backend) {
    let s = &b.store;
    let acc = account(b, 7).await;
    s.set_auto_topup(
        &acc,
        Some(AutoTopup {
            threshold: Credits(5),
            amount: Credits(100),
            monthly_cap: Credits(1000),
        }),
    )
    .await
    .unwrap();
    // Below the threshold after reserving: the declined top-up does not undo the reservation.
    let r = s
        .reserve(&acc, &RequestId::from("req_d00000000001"), Credits(5), TTL)
        .await
        .unwrap();
    assert_eq!(r.balance_after, Credits(2));
    let err = s
        .reserve(&acc, &RequestId::from("req_d00000000002"), Credits(5), TTL)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ReserveError::Insufficient {
                balance: Credits(2),
                cost: Credits(5)
            }
        ),
        "{err}"
    );
    assert_eq!(credits(b, &acc).await, (Credits(2), Credits(5)));
    assert_eq!(s.auto_topup_this_month(&acc).await.unwrap(), Credits(0));
    assert_eq!(
        b.invoice_lines(&acc).await,
        [("failed".into(), 100), ("failed".into(), 100)]
    );
}

#[tokio::test]
async fn failing_payment_is_insufficient_sqlite() {
    let b = Backend::sqlite(Some(Arc::new(Declining))).await;
    failing_payment_is_insufficient(&b).await;
    b.finish().await;
}

#[tokio::test]
async fn failing_payment_is_insufficient_postgres() {
    if let Some(b) = Backend::postgres(Some(Arc::new(Declining))).await {
        failing_payment_is_insufficient(&b).await;
        b.finish().await;
    }
}
