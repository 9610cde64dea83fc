use crate::backend::Backend;
use asa_model::{AccountId, Credits};
use asa_store::{LedgerKind, NewAccount, PlanOverrides, StoreError, StoreOptions};

crate::suite!(
    accounts_round_trip,
    plan_changes,
    opening_credits_are_a_top_up
);

/// A store told the configured plans (as `asa serve` and `asa admin` open it).
fn free_and_pro(options: &mut StoreOptions) {
    options.plans = Some(["free", "pro"].map(String::from).into());
}

#[tokio::test]
async fn only_configured_plans_on_sqlite() {
    let b = Backend::sqlite_with(free_and_pro).await;
    only_configured_plans(&b).await;
    b.finish().await;
}

#[tokio::test]
async fn only_configured_plans_on_postgres() {
    let Some(b) = Backend::postgres_with(free_and_pro).await else {
        return;
    };
    only_configured_plans(&b).await;
    b.finish().await;
}

/// An account on a plan the configuration does not have could never be served (its
/// limits are unknown): the store refuses it, for `asa admin` and every other caller.
async fn only_configured_plans(b: &Backend) {
    let s = &b.store;
    let err = s.create_account(new("gold", 0)).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::InvalidArgument(m) if m.contains("free, pro")),
        "{err}"
    );
    assert!(s.list_accounts().await.unwrap().is_empty());
    let a = s.create_account(new("free", 0)).await.unwrap();
    let err = s
        .set_plan(&a.id, "gold", PlanOverrides::default())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidArgument(_)), "{err}");
    s.set_plan(&a.id, "pro", PlanOverrides::default())
        .await
        .unwrap();
    assert_eq!(s.account(&a.id).await.unwrap().unwrap().plan, "pro");
}

fn new(plan: &str, credits: i64) -> NewAccount {
    NewAccount {
        plan: plan.into(),
        name: Some("Acme".into()),
        credits: Credits(credits),
    }
}

async fn accounts_round_trip(b: &Backend) {
    let s = &b.store;
    let a = s.create_account(new("free", 100)).await.unwrap();
    assert!(a.id.starts_with("acc_") && a.id.len() == 20, "{}", a.id);
    assert_eq!(
        (a.balance, a.reserved, a.plan.as_str()),
        (Credits(100), Credits(0), "free")
    );
    assert_eq!(a.name.as_deref(), Some("Acme"));
    assert_eq!(a.auto_topup, None);
    assert_eq!(s.account(&a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(
        s.account(&AccountId::from("acc_0000000000000000"))
            .await
            .unwrap(),
        None
    );

    let other = s.create_account(new("pro", 0)).await.unwrap();
    let all = s.list_accounts().await.unwrap();
    assert!(
        all.contains(&a) && all.contains(&other),
        "{} lists both",
        b.name
    );

    let err = s.create_account(new("free", -1)).await.unwrap_err();
    assert!(matches!(err, StoreError::InvalidArgument(_)), "{err}");
    let err = s.create_account(new(" ", 0)).await.unwrap_err();
    assert!(matches!(err, StoreError::InvalidArgument(_)), "{err}");
}

async fn plan_changes(b: &Backend) {
    let s = &b.store;
    let a = s.create_account(new("free", 0)).await.unwrap();
    let overrides = PlanOverrides {
        concurrency: Some(120),
        rps: Some(40),
    };
    s.set_plan(&a.id, "custom", overrides).await.unwrap();
    let a2 = s.account(&a.id).await.unwrap().unwrap();
    assert_eq!((a2.plan.as_str(), a2.overrides), ("custom", overrides));
    s.set_plan(&a.id, "vibe", PlanOverrides::default())
        .await
        .unwrap();
    let a3 = s.account(&a.id).await.unwrap().unwrap();
    assert_eq!(
        (a3.plan.as_str(), a3.overrides),
        ("vibe", PlanOverrides::default())
    );
    let err = s
        .set_plan(
            &AccountId::from("acc_ffffffffffffffff"),
            "pro",
            PlanOverrides::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::NotFound {
                what: "account",
                ..
            }
        ),
        "{err}"
    );
}

async fn opening_credits_are_a_top_up(b: &Backend) {
    let s = &b.store;
    let a = s.create_account(new("free", 250)).await.unwrap();
    let ledger = s.ledger(&a.id, 10).await.unwrap();
    assert_eq!(ledger.len(), 1);
    assert_eq!(
        (ledger[0].kind, ledger[0].amount, ledger[0].balance_after),
        (LedgerKind::TopUp, Credits(250), Credits(250))
    );
    assert_eq!(
        s.add_credits(&a.id, Credits(50), "manual").await.unwrap(),
        Credits(300)
    );
    let ledger = s.ledger(&a.id, 10).await.unwrap();
    assert_eq!(ledger[0].note.as_deref(), Some("manual"), "newest first");
    assert!(matches!(
        s.add_credits(&a.id, Credits(0), "").await.unwrap_err(),
        StoreError::InvalidArgument(_)
    ));
    assert!(matches!(
        s.add_credits(&AccountId::from("acc_ffffffffffffffff"), Credits(5), "")
            .await
            .unwrap_err(),
        StoreError::NotFound { .. }
    ));
    let empty = s.create_account(new("free", 0)).await.unwrap();
    assert!(s.ledger(&empty.id, 10).await.unwrap().is_empty());
}
