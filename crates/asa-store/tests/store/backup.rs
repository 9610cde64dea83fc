//! `Store::backup`: a SQLite store copies itself while writes go on; the copy is the
//! database as of one commit and opens as a store of its own. PostgreSQL refuses (pg_dump).

use crate::backend::Backend;
use asa_model::{Credits, KeyKind};
use asa_store::{open, KeyStatus, NewAccount, StoreError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_under_writes_is_one_commit_of_the_database() {
    let b = Backend::sqlite(None).await;
    let store = b.store.clone();
    let busy = store
        .create_account(NewAccount {
            plan: "pro".into(),
            name: Some("busy".into()),
            credits: Credits(0),
        })
        .await
        .unwrap();
    let idle = store
        .create_account(NewAccount {
            plan: "free".into(),
            name: Some("idle".into()),
            credits: Credits(1234),
        })
        .await
        .unwrap();
    let (_, key) = store.create_key(&idle.id, KeyKind::Live).await.unwrap();

    // Writers keep adding one credit at a time while the backup runs.
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|_| {
            let (store, stop, id) = (store.clone(), stop.clone(), busy.id.clone());
            tokio::spawn(async move {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    store.add_credits(&id, Credits(1), "tick").await.unwrap();
                    n += 1;
                }
                n
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("backup.db");
    store.backup(&out).await.unwrap();
    let during: u64 = {
        // Writes went on after the backup too: it held nothing up for good.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        stop.store(true, Ordering::Relaxed);
        let mut total = 0;
        for w in writers {
            total += w.await.unwrap();
        }
        total
    };
    let now = store.account(&busy.id).await.unwrap().unwrap().balance;
    assert_eq!(now.get() as u64, during);
    assert!(!dir.path().join("backup.db.partial").exists());

    let copy = open(out.to_str().unwrap()).await.unwrap();
    let copied = copy.account(&busy.id).await.unwrap().unwrap();
    assert!(
        copied.balance > Credits(0) && copied.balance < now,
        "the copy is taken mid-way: {} of {now}",
        copied.balance
    );
    // One commit: the balance is exactly what its own ledger adds up to.
    let ledger = copy.ledger(&busy.id, u32::MAX).await.unwrap();
    assert_eq!(
        ledger.iter().map(|e| e.amount).sum::<Credits>(),
        copied.balance
    );
    assert_eq!(
        copy.account(&idle.id).await.unwrap().unwrap().balance,
        Credits(1234)
    );
    assert!(matches!(
        copy.authenticate(&key).await.unwrap(),
        KeyStatus::Active(_)
    ));

    // The name is never overwritten: a second backup to it is refused, the first kept.
    let before = std::fs::metadata(&out).unwrap().len();
    let err = store.backup(&out).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::InvalidArgument(m) if m.contains("exists")),
        "{err}"
    );
    assert_eq!(std::fs::metadata(&out).unwrap().len(), before);
    b.finish().await;
}

#[tokio::test]
async fn postgresql_is_backed_up_with_pg_dump() {
    let Some(b) = Backend::postgres(None).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("backup.db");
    let err = b.store.backup(&out).await.unwrap_err();
    assert!(matches!(err, StoreError::NoOnlineBackup), "{err}");
    assert!(err.to_string().contains("pg_dump"));
    assert!(!out.exists());
    b.finish().await;
}
