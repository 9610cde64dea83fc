//! The key check: the key is taken from `Authorization: Bearer`, `X-API-Key` or the
//! `api_key` query parameter (first match wins), then looked up in the store.

use crate::config::PlanConfig;
use crate::error::ApiError;
use crate::state::AppState;
use asa_model::{ApiKey, ErrorCode, KeyKind};
use asa_store::{Account, KeyRecord, KeyStatus};
use axum::http::HeaderMap;

/// Who is calling: the account, the key it used, and the account's effective plan.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account: Account,
    pub key: KeyRecord,
    pub plan: PlanConfig,
}

impl Caller {
    pub fn is_sandbox(&self) -> bool {
        self.key.kind == KeyKind::Test
    }
}

/// Finds the key the request carries, if any, without judging it.
fn presented_key(headers: &HeaderMap, query_key: Option<&str>) -> Result<Option<String>, ApiError> {
    if let Some(auth) = headers.get("authorization") {
        let auth = auth
            .to_str()
            .map_err(|_| unauthorized("The Authorization header is not valid text."))?;
        let token = auth
            .strip_prefix("Bearer ")
            .or_else(|| auth.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                unauthorized("Malformed Authorization header: expected `Bearer <key>`.")
            })?;
        return Ok(Some(token.to_string()));
    }
    if let Some(k) = headers.get("x-api-key") {
        let k = k
            .to_str()
            .map_err(|_| unauthorized("The X-API-Key header is not valid text."))?;
        return Ok(Some(k.trim().to_string()));
    }
    Ok(query_key.map(|k| k.trim().to_string()))
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(ErrorCode::Unauthorized, message)
}

pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    query_key: Option<&str>,
) -> Result<Caller, ApiError> {
    let raw = presented_key(headers, query_key)?.ok_or_else(|| {
        unauthorized("Missing API key: send `Authorization: Bearer <key>`, `X-API-Key: <key>` or `api_key=<key>`.")
    })?;
    let key = ApiKey::parse(&raw)
        .ok_or_else(|| unauthorized("Malformed API key: expected `asa_live_` or `asa_test_` followed by 32 letters and digits."))?;
    let record = match state.store.authenticate(&key).await {
        Ok(KeyStatus::Active(record)) => record,
        Ok(KeyStatus::Revoked) => {
            return Err(ApiError::new(
                ErrorCode::Revoked,
                "This API key was revoked or rotated out; use your current key.",
            ))
        }
        Ok(KeyStatus::Unknown) => return Err(unauthorized("Unknown API key.")),
        Err(e) => return Err(ApiError::internal(format!("key lookup failed: {e}"))),
    };
    caller_for(state, record).await
}

/// The caller a recognised, active key makes: its account and the account's plan.
pub async fn caller_for(state: &AppState, record: KeyRecord) -> Result<Caller, ApiError> {
    let account = match state.store.account(&record.account_id).await {
        Ok(Some(a)) => a,
        Ok(None) => return Err(unauthorized("Unknown API key.")),
        Err(e) => return Err(ApiError::internal(format!("account lookup failed: {e}"))),
    };
    let plan = state.effective_plan(&account)?;
    Ok(Caller {
        account,
        key: record,
        plan,
    })
}
