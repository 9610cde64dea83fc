//! API keys: stored as SHA-256 of the full key next to the public short prefix; found by
//! prefix and confirmed by a constant-time hash comparison.

use super::{duration_ms, from_ms, get, opt_from_ms, to_ms, SqlStore};
use crate::error::StoreError;
use crate::secret::{generate_key, hashes_match, key_hash, new_id};
use crate::types::{KeyRecord, KeyState, KeyStatus};
use crate::MAX_ACTIVE_KEYS;
use asa_model::{AccountId, KeyId};
use asa_model::{ApiKey, KeyKind};
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use std::time::Duration;

const KEY_COLUMNS: &str = "id, account_id, kind, short_prefix, created_at, last_used_at, \
     revoked_at, expires_at, replaced_by";

/// `last_used_at` is refreshed at most this often, so authentication is mostly a read.
const LAST_USED_RESOLUTION_MS: i64 = 60_000;

fn key_from_row(row: &AnyRow, now: DateTime<Utc>) -> Result<KeyRecord, StoreError> {
    let kind: String = get(row, "kind")?;
    let expires_at = opt_from_ms(get(row, "expires_at")?)?;
    Ok(KeyRecord {
        id: get(row, "id")?,
        account_id: get(row, "account_id")?,
        kind: KeyKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("key kind {kind:?}")))?,
        short_prefix: get(row, "short_prefix")?,
        state: match expires_at {
            Some(end) if end <= now => KeyState::Revoked,
            _ => KeyState::Active,
        },
        revoked_at: opt_from_ms(get(row, "revoked_at")?)?,
        expires_at,
        replaced_by: get(row, "replaced_by")?,
        created_at: from_ms(get(row, "created_at")?)?,
        last_used_at: opt_from_ms(get(row, "last_used_at")?)?,
    })
}

impl SqlStore {
    async fn insert_key(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        account_id: &AccountId,
        kind: KeyKind,
        now: DateTime<Utc>,
    ) -> Result<(KeyRecord, ApiKey), StoreError> {
        let key = generate_key(kind);
        let row = sqlx::query(&format!(
            "INSERT INTO api_keys (id, account_id, kind, short_prefix, key_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {KEY_COLUMNS}"
        ))
        .bind(new_id("key_"))
        .bind(account_id)
        .bind(kind.as_str())
        .bind(key.short_prefix())
        .bind(key_hash(&key))
        .bind(to_ms(now))
        .fetch_one(&mut **tx)
        .await?;
        Ok((key_from_row(&row, now)?, key))
    }

    pub(crate) async fn create_key_impl(
        &self,
        account_id: &AccountId,
        kind: KeyKind,
    ) -> Result<(KeyRecord, ApiKey), StoreError> {
        let now = self.now();
        let mut w = self.begin_write().await?;
        // Locking the account serialises key creation per account, so the count holds.
        let exists = sqlx::query(&format!(
            "SELECT id FROM accounts WHERE id = $1{}",
            self.dialect.for_update()
        ))
        .bind(account_id)
        .fetch_optional(&mut *w.tx)
        .await?;
        if exists.is_none() {
            return Err(StoreError::not_found("account", account_id.as_str()));
        }
        let active: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM api_keys WHERE account_id = $1 AND expires_at IS NULL",
        )
        .bind(account_id)
        .fetch_one(&mut *w.tx)
        .await?;
        if active >= MAX_ACTIVE_KEYS as i64 {
            return Err(StoreError::TooManyKeys {
                account_id: account_id.clone(),
                limit: MAX_ACTIVE_KEYS,
            });
        }
        let (record, key) = self.insert_key(&mut w.tx, account_id, kind, now).await?;
        w.commit().await?;
        tracing::info!(account_id = %account_id, key_id = %record.id, prefix = %record.short_prefix, "key created");
        Ok((record, key))
    }

    pub(crate) async fn authenticate_impl(&self, key: &ApiKey) -> Result<KeyStatus, StoreError> {
        let presented = key_hash(key);
        let rows = sqlx::query(&format!(
            "SELECT {KEY_COLUMNS}, key_hash FROM api_keys WHERE short_prefix = $1"
        ))
        .bind(key.short_prefix())
        .fetch_all(&self.pool)
        .await?;
        let mut found = None;
        for row in &rows {
            let stored: String = get(row, "key_hash")?;
            if hashes_match(&stored, &presented) {
                found = Some(row);
            }
        }
        let Some(row) = found else {
            return Ok(KeyStatus::Unknown);
        };
        let now = self.now();
        let mut record = key_from_row(row, now)?;
        if record.state == KeyState::Revoked {
            return Ok(KeyStatus::Revoked);
        }
        let now_ms = to_ms(now);
        let fresh = matches!(record.last_used_at,
            Some(t) if to_ms(t) >= now_ms - LAST_USED_RESOLUTION_MS);
        if !fresh {
            let touched = sqlx::query(
                "UPDATE api_keys SET last_used_at = $1 WHERE id = $2 \
                 AND (last_used_at IS NULL OR last_used_at < $3)",
            )
            .bind(now_ms)
            .bind(&record.id)
            .bind(now_ms - LAST_USED_RESOLUTION_MS)
            .execute(&self.pool)
            .await;
            // Bookkeeping only: a failed touch must not turn a valid key away.
            match touched {
                Ok(_) => record.last_used_at = Some(now),
                Err(e) => {
                    tracing::warn!(key_id = %record.id, error = %e, "last_used_at not updated")
                }
            }
        }
        Ok(KeyStatus::Active(record))
    }

    pub(crate) async fn rotate_key_impl(
        &self,
        key_id: &KeyId,
        grace: Option<Duration>,
    ) -> Result<(KeyRecord, ApiKey), StoreError> {
        let now = self.now();
        let mut w = self.begin_write().await?;
        let old = sqlx::query(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1{}",
            self.dialect.for_update()
        ))
        .bind(key_id)
        .fetch_optional(&mut *w.tx)
        .await?
        .ok_or_else(|| StoreError::not_found("key", key_id.as_str()))?;
        let old = key_from_row(&old, now)?;
        if old.expires_at.is_some() {
            return Err(StoreError::KeyRevoked {
                key_id: key_id.clone(),
            });
        }
        let (new_record, new_key) = self
            .insert_key(&mut w.tx, &old.account_id, old.kind, now)
            .await?;
        let expires = to_ms(now) + grace.map(duration_ms).unwrap_or(0);
        sqlx::query(
            "UPDATE api_keys SET revoked_at = $1, expires_at = $2, replaced_by = $3 WHERE id = $4",
        )
        .bind(to_ms(now))
        .bind(expires)
        .bind(&new_record.id)
        .bind(key_id)
        .execute(&mut *w.tx)
        .await?;
        w.commit().await?;
        tracing::info!(old_key_id = %key_id, new_key_id = %new_record.id, grace_ms = expires - to_ms(now), "key rotated");
        Ok((new_record, new_key))
    }

    pub(crate) async fn revoke_key_impl(&self, key_id: &KeyId) -> Result<KeyRecord, StoreError> {
        let now = self.now();
        let now_ms = to_ms(now);
        let revoked = sqlx::query(&format!(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1), expires_at = $1 \
             WHERE id = $2 AND (expires_at IS NULL OR expires_at > $1) RETURNING {KEY_COLUMNS}"
        ))
        .bind(now_ms)
        .bind(key_id)
        .fetch_optional(&self.pool)
        .await?;
        match revoked {
            Some(row) => {
                tracing::info!(key_id = %key_id, "key revoked");
                key_from_row(&row, now)
            }
            // Revoking twice is harmless: answer with the key as it stands.
            None => self
                .key_impl(key_id)
                .await?
                .ok_or_else(|| StoreError::not_found("key", key_id.as_str())),
        }
    }

    pub(crate) async fn key_impl(&self, key_id: &KeyId) -> Result<Option<KeyRecord>, StoreError> {
        let now = self.now();
        sqlx::query(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1"))
            .bind(key_id)
            .fetch_optional(&self.pool)
            .await?
            .map(|row| key_from_row(&row, now))
            .transpose()
    }

    pub(crate) async fn keys_impl(
        &self,
        account_id: &AccountId,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        let now = self.now();
        sqlx::query(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE account_id = $1 ORDER BY created_at, id"
        ))
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| key_from_row(row, now))
        .collect()
    }
}
