//! Dashboard sessions: created with a fresh token whose hash is the row's id, found by
//! that hash while unexpired, moved to a rotated key, deleted at sign-out or expiry.

use super::{from_ms, get, to_ms, SqlStore};
use crate::error::StoreError;
use crate::secret::{session_token, token_hash};
use crate::session::DashboardSession;
use asa_model::{AccountId, KeyId};
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use std::time::Duration;

const SESSION_COLUMNS: &str = "id, account_id, key_id, csrf, created_at, expires_at";

fn session_from_row(row: &AnyRow) -> Result<DashboardSession, StoreError> {
    Ok(DashboardSession {
        id: get(row, "id")?,
        account_id: get(row, "account_id")?,
        key_id: get(row, "key_id")?,
        csrf: get(row, "csrf")?,
        created_at: from_ms(get(row, "created_at")?)?,
        expires_at: from_ms(get(row, "expires_at")?)?,
    })
}

impl SqlStore {
    pub(crate) async fn create_session_impl(
        &self,
        account_id: Option<&AccountId>,
        key_id: Option<&KeyId>,
        ttl: Duration,
    ) -> Result<(DashboardSession, String), StoreError> {
        let now = self.now();
        let expires = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(1));
        let token = session_token();
        let mut w = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "INSERT INTO dashboard_sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) \
             RETURNING {SESSION_COLUMNS}"
        ))
        .bind(token_hash(&token))
        .bind(account_id)
        .bind(key_id)
        .bind(session_token())
        .bind(to_ms(now))
        .bind(to_ms(expires))
        .fetch_one(&mut *w.tx)
        .await?;
        w.commit().await?;
        Ok((session_from_row(&row)?, token))
    }

    pub(crate) async fn session_impl(
        &self,
        token: &str,
    ) -> Result<Option<DashboardSession>, StoreError> {
        sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM dashboard_sessions WHERE id = $1 AND expires_at > $2"
        ))
        .bind(token_hash(token))
        .bind(to_ms(self.now()))
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(session_from_row)
        .transpose()
    }

    pub(crate) async fn set_session_key_impl(
        &self,
        session_id: &str,
        key_id: &KeyId,
    ) -> Result<(), StoreError> {
        let mut w = self.begin_write().await?;
        sqlx::query("UPDATE dashboard_sessions SET key_id = $1 WHERE id = $2")
            .bind(key_id)
            .bind(session_id)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await
    }

    pub(crate) async fn delete_session_impl(&self, session_id: &str) -> Result<(), StoreError> {
        let mut w = self.begin_write().await?;
        sqlx::query("DELETE FROM dashboard_sessions WHERE id = $1")
            .bind(session_id)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await
    }

    pub(crate) async fn sweep_sessions_impl(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut w = self.begin_write().await?;
        let n = sqlx::query("DELETE FROM dashboard_sessions WHERE expires_at <= $1")
            .bind(to_ms(now))
            .execute(&mut *w.tx)
            .await?
            .rows_affected();
        w.commit().await?;
        Ok(n)
    }
}
