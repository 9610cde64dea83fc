use crate::backend::Backend;
use asa_model::{AccountId, Credits, KeyId};
use asa_model::{ApiKey, KeyKind};
use asa_store::{Clock, KeyState, KeyStatus, NewAccount, StoreError, MAX_ACTIVE_KEYS};
use chrono::Duration as ChronoDuration;
use std::time::Duration;

crate::suite!(
    keys_are_hashed_at_rest,
    key_limit,
    rotate_without_grace,
    rotate_with_grace,
    revoke_and_unknown,
    last_used_is_touched_at_most_once_a_minute,
);

async fn account(b: &Backend) -> AccountId {
    b.store
        .create_account(NewAccount {
            plan: "free".into(),
            name: None,
            credits: Credits(0),
        })
        .await
        .unwrap()
        .id
}

fn status_name(s: &KeyStatus) -> &'static str {
    match s {
        KeyStatus::Active(_) => "active",
        KeyStatus::Revoked => "revoked",
        KeyStatus::Unknown => "unknown",
    }
}

async fn keys_are_hashed_at_rest(b: &Backend) {
    let acc = account(b).await;
    let (record, key) = b.store.create_key(&acc, KeyKind::Live).await.unwrap();
    let secret = key.expose().to_string();
    assert!(secret.starts_with("asa_live_"));
    assert!(record.id.starts_with("key_") && record.id.len() == 20);
    assert_eq!(record.short_prefix, key.short_prefix());
    assert_eq!(
        (record.state, record.kind),
        (KeyState::Active, KeyKind::Live)
    );

    let stored = b.keys_table_text().await;
    assert!(
        stored.contains(key.short_prefix()),
        "the short prefix is stored"
    );
    assert!(
        !stored.contains(&secret[9..]),
        "{}: the secret is not stored",
        b.name
    );
    if let Some(bytes) = b.sqlite_bytes() {
        let needle = &secret.as_bytes()[9..];
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "not in the file"
        );
    }
    assert!(
        !format!("{record:?} {key:?}").contains(&secret[21..]),
        "Debug hides it"
    );

    match b.store.authenticate(&key).await.unwrap() {
        KeyStatus::Active(r) => assert_eq!((r.id, r.account_id), (record.id.clone(), acc.clone())),
        other => panic!("expected active, got {}", status_name(&other)),
    }
    let (test_record, test_key) = b.store.create_key(&acc, KeyKind::Test).await.unwrap();
    assert_eq!(test_record.kind, KeyKind::Test);
    assert!(
        matches!(b.store.authenticate(&test_key).await.unwrap(), KeyStatus::Active(r) if r.kind == KeyKind::Test)
    );
    assert_eq!(b.store.keys(&acc).await.unwrap().len(), 2);
}

async fn key_limit(b: &Backend) {
    let acc = account(b).await;
    let mut ids = Vec::new();
    for _ in 0..MAX_ACTIVE_KEYS {
        ids.push(b.store.create_key(&acc, KeyKind::Live).await.unwrap().0.id);
    }
    let err = b.store.create_key(&acc, KeyKind::Live).await.unwrap_err();
    assert!(
        matches!(err, StoreError::TooManyKeys { limit: 20, .. }),
        "{err}"
    );
    assert!(!err.to_string().contains("asa_live_"));
    // Rotation replaces a key, so it works at the limit; the old key in grace is on its way out.
    let (rotated, _) = b
        .store
        .rotate_key(&ids[0], Some(Duration::from_secs(3600)))
        .await
        .unwrap();
    assert!(matches!(
        b.store.create_key(&acc, KeyKind::Live).await.unwrap_err(),
        StoreError::TooManyKeys { .. }
    ));
    b.store.revoke_key(&rotated.id).await.unwrap();
    b.store.create_key(&acc, KeyKind::Test).await.unwrap();
    assert!(matches!(
        b.store.create_key(&acc, KeyKind::Live).await.unwrap_err(),
        StoreError::TooManyKeys { .. }
    ));
    let other = account(b).await;
    b.store.create_key(&other, KeyKind::Live).await.unwrap();
    assert!(matches!(
        b.store
            .create_key(&AccountId::from("acc_ffffffffffffffff"), KeyKind::Live)
            .await
            .unwrap_err(),
        StoreError::NotFound { .. }
    ));
}

async fn rotate_without_grace(b: &Backend) {
    let acc = account(b).await;
    let (old, old_key) = b.store.create_key(&acc, KeyKind::Live).await.unwrap();
    let (new, new_key) = b.store.rotate_key(&old.id, None).await.unwrap();
    assert_ne!(old_key, new_key);
    assert_eq!(
        (new.account_id.as_str(), new.kind),
        (acc.as_str(), KeyKind::Live)
    );
    assert_eq!(
        b.store.authenticate(&old_key).await.unwrap(),
        KeyStatus::Revoked
    );
    assert!(
        matches!(b.store.authenticate(&new_key).await.unwrap(), KeyStatus::Active(r) if r.id == new.id)
    );
    let old = b.store.key(&old.id).await.unwrap().unwrap();
    assert_eq!(old.state, KeyState::Revoked);
    assert_eq!(old.replaced_by.as_deref(), Some(new.id.as_str()));
    assert!(old.revoked_at.is_some() && old.expires_at == old.revoked_at);
    let err = b.store.rotate_key(&old.id, None).await.unwrap_err();
    assert!(matches!(err, StoreError::KeyRevoked { .. }), "{err}");
    assert!(matches!(
        b.store
            .rotate_key(&KeyId::from("key_ffffffffffffffff"), None)
            .await
            .unwrap_err(),
        StoreError::NotFound { .. }
    ));
}

async fn rotate_with_grace(b: &Backend) {
    let acc = account(b).await;
    let (old, old_key) = b.store.create_key(&acc, KeyKind::Live).await.unwrap();
    let grace = Duration::from_secs(600);
    let (_, new_key) = b.store.rotate_key(&old.id, Some(grace)).await.unwrap();
    match b.store.authenticate(&old_key).await.unwrap() {
        KeyStatus::Active(r) => {
            let expires = r.expires_at.expect("grace end is known");
            assert_eq!(
                expires - r.revoked_at.unwrap(),
                ChronoDuration::seconds(600)
            );
        }
        other => panic!("in grace the old key works, got {}", status_name(&other)),
    }
    assert!(matches!(
        b.store.rotate_key(&old.id, None).await,
        Err(StoreError::KeyRevoked { .. })
    ));
    b.clock.advance(ChronoDuration::seconds(599));
    assert!(matches!(
        b.store.authenticate(&old_key).await.unwrap(),
        KeyStatus::Active(_)
    ));
    b.clock.advance(ChronoDuration::seconds(1));
    assert_eq!(
        b.store.authenticate(&old_key).await.unwrap(),
        KeyStatus::Revoked
    );
    assert!(matches!(
        b.store.authenticate(&new_key).await.unwrap(),
        KeyStatus::Active(_)
    ));

    // Revoking a key in grace ends the grace at once.
    let (k2, k2_key) = b.store.create_key(&acc, KeyKind::Live).await.unwrap();
    b.store.rotate_key(&k2.id, Some(grace)).await.unwrap();
    assert_eq!(
        b.store.revoke_key(&k2.id).await.unwrap().state,
        KeyState::Revoked
    );
    assert_eq!(
        b.store.authenticate(&k2_key).await.unwrap(),
        KeyStatus::Revoked
    );
}

async fn revoke_and_unknown(b: &Backend) {
    let acc = account(b).await;
    let (rec, key) = b.store.create_key(&acc, KeyKind::Live).await.unwrap();
    let revoked = b.store.revoke_key(&rec.id).await.unwrap();
    assert_eq!(revoked.state, KeyState::Revoked);
    assert_eq!(
        b.store.authenticate(&key).await.unwrap(),
        KeyStatus::Revoked
    );
    let again = b.store.revoke_key(&rec.id).await.unwrap();
    assert_eq!(
        again.revoked_at, revoked.revoked_at,
        "revoking twice changes nothing"
    );
    assert!(matches!(
        b.store
            .revoke_key(&KeyId::from("key_ffffffffffffffff"))
            .await
            .unwrap_err(),
        StoreError::NotFound { .. }
    ));

    // Well-formed but never issued: unknown, also when it shares the short prefix of a real key.
    let never = ApiKey::parse("asa_live_abcdefghijklmnopqrstuvwxyz012345").unwrap();
    assert_eq!(
        b.store.authenticate(&never).await.unwrap(),
        KeyStatus::Unknown
    );
    let (_, live) = b.store.create_key(&acc, KeyKind::Live).await.unwrap();
    let forged = ApiKey::parse(&format!("{}{}", &live.expose()[..21], "0".repeat(20))).unwrap();
    assert_eq!(forged.short_prefix(), live.short_prefix());
    assert_eq!(
        b.store.authenticate(&forged).await.unwrap(),
        KeyStatus::Unknown
    );
}

async fn last_used_is_touched_at_most_once_a_minute(b: &Backend) {
    let acc = account(b).await;
    let (rec, key) = b.store.create_key(&acc, KeyKind::Live).await.unwrap();
    assert_eq!(rec.last_used_at, None);
    let t0 = b.clock.now();
    b.store.authenticate(&key).await.unwrap();
    let first = b.store.key(&rec.id).await.unwrap().unwrap().last_used_at;
    assert_eq!(
        first.map(|t| t.timestamp_millis()),
        Some(t0.timestamp_millis())
    );
    b.clock.advance(ChronoDuration::seconds(30));
    b.store.authenticate(&key).await.unwrap();
    assert_eq!(
        b.store.key(&rec.id).await.unwrap().unwrap().last_used_at,
        first
    );
    b.clock.advance(ChronoDuration::seconds(61));
    b.store.authenticate(&key).await.unwrap();
    let later = b
        .store
        .key(&rec.id)
        .await
        .unwrap()
        .unwrap()
        .last_used_at
        .unwrap();
    assert_eq!(
        later.timestamp_millis(),
        (t0 + ChronoDuration::seconds(91)).timestamp_millis()
    );
}
