//! `GET /api/v1/account`: plan, limits, credits, auto-top-up and usage.

use super::{authenticate, finish};
use crate::error::ApiError;
use crate::pipeline::Ctx;
use crate::state::AppState;
use asa_model::RequestId;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::Extension;
use serde_json::json;

/// Days of usage shown.
const USAGE_DAYS: u32 = 30;

#[utoipa::path(
    get,
    path = "/account",
    operation_id = "get_account",
    tag = "account",
    responses((status = 200, description = "Plan, limits, credits, auto-top-up and usage of the caller's account", body = serde_json::Value))
)]
pub async fn show(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let mut ctx = Ctx::default();
    let result = async {
        let (caller, _) = authenticate(&mut ctx, &state, &headers, &uri).await?;
        let usage = state.store.usage(&caller.account.id, USAGE_DAYS).await.map_err(ApiError::internal)?;
        let a = &caller.account;
        let by_day: Vec<_> = usage
            .by_day()
            .into_iter()
            .map(|(date, t)| json!({"date": date, "requests": t.requests, "billed_requests": t.billed_requests, "credits": t.credits}))
            .collect();
        let by_key: Vec<_> = usage
            .by_key()
            .into_iter()
            .map(|(key, t)| json!({"key_prefix": key, "requests": t.requests, "billed_requests": t.billed_requests, "credits": t.credits}))
            .collect();
        let body = json!({
            "account_id": a.id,
            "name": a.name,
            "plan": a.plan,
            "limits": {
                "concurrency": caller.plan.concurrency,
                "rps": caller.plan.rps,
                "burst": caller.plan.burst,
                "countries": caller.plan.countries,
            },
            "credits": {"balance": a.balance, "reserved": a.reserved, "cost_per_page": crate::COST_PER_PAGE},
            "auto_topup": a.auto_topup.map(|t| json!({
                "threshold": t.threshold, "amount": t.amount, "monthly_cap": t.monthly_cap,
            })),
            "key": {"id": caller.key.id, "short_prefix": caller.key.short_prefix, "kind": caller.key.kind},
            "usage": {
                "days": USAGE_DAYS,
                "since": usage.since,
                "total": usage.total,
                "by_day": by_day,
                "by_key": by_key,
                "rows": usage.rows,
            },
            "request_id": id,
        });
        Ok((StatusCode::OK, body))
    }
    .await;
    finish(ctx, result)
}
