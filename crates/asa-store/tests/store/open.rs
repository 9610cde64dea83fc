//! Opening SQLite stores: URL forms, WAL, migrations that are safe to run again.

use asa_model::Credits;
use asa_model::KeyKind;
use asa_store::{open, KeyStatus, NewAccount, StoreError};
use sqlx::AnyPool;

fn new() -> NewAccount {
    NewAccount {
        plan: "free".into(),
        name: None,
        credits: Credits(10),
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
    assert_eq!(
        again.account(&acc.id).await.unwrap().unwrap().balance,
        Credits(10)
    );
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
        assert_eq!(
            store.add_credits(&acc.id, Credits(1), "").await.unwrap(),
            Credits(expected)
        );
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

/// Commits never checkpoint the WAL (that would happen while they hold SQLite's one writer,
/// with every reservation and charge queued behind them); the store's own checkpointer
/// copies the WAL into the database file beside the writer, and lets it start over. Without
/// the checkpointer the file would stay at its first pages; with one that never reaches the
/// WAL's end the WAL would never start over, and grow by everything written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_is_checkpointed_beside_the_writer_and_starts_over() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wal.db");
    let wal = dir.path().join("wal.db-wal");
    let store = open(path.to_str().unwrap()).await.unwrap();
    let padding = "x".repeat(1000);
    // A trace of about 1 KB.
    let padded = |id: String| {
        let mut t = crate::traces::trace(&id, chrono::Utc::now(), None, "k", 200, None);
        t.params = serde_json::json!({ "query": "B000000001", "padding": padding });
        t
    };
    let size = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let mb = 1u64 << 20;

    // 10 MB at once, then the checkpointer (every 250 ms) copies it into the file.
    for r in 0..20 {
        let round: Vec<_> = (0..500)
            .map(|i| padded(format!("req_{r:04}{i:08}")))
            .collect();
        store.insert_traces(&round).await.unwrap();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while size(&path) < 8 * mb && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        size(&path) >= 8 * mb,
        "the database file holds {} bytes after 10 MB of traces: the WAL was not checkpointed",
        size(&path)
    );

    // Then 3 s of writes back to back, one trace a commit, as a node under load writes:
    // the WAL starts over from its beginning again and again rather than growing by them.
    // A checkpoint beside the writers alone never reaches the WAL's end while they append
    // (the WAL then grew by 170 MB here). Each start-over writes a new WAL header whose
    // first salt (bytes 16..20) is the last one plus one: counting those is exact however
    // many commits the machine manages, where the WAL's size depends on it. (The checkpoint
    // sequence number beside it is counted per connection, so it undercounts.)
    let starts = || {
        use std::io::Read;
        let mut header = [0u8; 20];
        std::fs::File::open(&wal)
            .and_then(|mut f| f.read_exact(&mut header))
            .map_or(0, |()| {
                u32::from_be_bytes([header[16], header[17], header[18], header[19]])
            })
    };
    let before = starts();
    let until = std::time::Instant::now() + std::time::Duration::from_secs(3);
    let mut commits = 0usize;
    while std::time::Instant::now() < until {
        store
            .insert_traces(&[padded(format!("req_b{commits:010}"))])
            .await
            .unwrap();
        commits += 1;
    }
    let after = starts();
    assert!(
        after.wrapping_sub(before) >= 2,
        "the WAL started over {} times in {commits} commits over 3 s (salt {before} -> \
         {after}); the checkpointer runs every 250 ms",
        after.wrapping_sub(before)
    );
    drop(store);
}
