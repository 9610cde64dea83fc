//! Opening SQLite stores: URL forms, WAL, migrations that are safe to run again.

use asa_model::KeyKind;
use asa_store::{open, KeyStatus, NewAccount, StoreError};
use sqlx::AnyPool;

fn new() -> NewAccount {
    NewAccount {
        plan: "free".into(),
        name: None,
        credits: 10,
    }
}

#[tokio::test]
async fn a_bare_path_is_created_and_reopened_with_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh.db");
    let path = path.to_str().unwrap();
    let store = open(path).await.unwrap();
    let acc = store.create_account(new()).await.unwrap();
    let (_, key) = store.create_key(&acc.id, KeyKind::Live).await.unwrap();
    drop(store);

    let again = open(&format!("sqlite://{path}")).await.unwrap();
    assert_eq!(again.account(&acc.id).await.unwrap().unwrap().balance, 10);
    assert!(matches!(
        again.authenticate(&key).await.unwrap(),
        KeyStatus::Active(_)
    ));

    sqlx::any::install_default_drivers();
    let raw = AnyPool::connect(&format!("sqlite://{path}")).await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&raw)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn memory_store_keeps_its_data_across_calls() {
    let store = open("sqlite::memory:").await.unwrap();
    let acc = store.create_account(new()).await.unwrap();
    for expected in 11..=13 {
        assert_eq!(store.add_credits(&acc.id, 1, "").await.unwrap(), expected);
    }
    assert_eq!(store.list_accounts().await.unwrap().len(), 1);
}

#[tokio::test]
async fn other_databases_are_refused() {
    let err = open("mysql://localhost/asa").await.err().expect("refused");
    assert!(
        matches!(err, StoreError::UnsupportedUrl(ref s) if s == "mysql"),
        "{err}"
    );
}
