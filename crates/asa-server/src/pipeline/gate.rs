//! The steps between a valid request and the upstream, in the order docs/API.md fixes:
//! region (403), rate and concurrency (429), capacity (503), credits (402).

use super::billing::ReservationGuard;
use super::Ctx;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::params::Locale;
use crate::state::AppState;
use asa_limits::{Admission, CapacityPermit, LimitSpec, Refusal, Usage};
use asa_model::ErrorCode;
use asa_model::RequestId;

pub fn region(caller: &Caller, locale: &Locale) -> Result<(), ApiError> {
    let exit = locale.country.as_str();
    if caller
        .plan
        .countries
        .allows(exit, locale.marketplace.country())
    {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::ForbiddenRegion,
            format!(
                "Egress from {exit} is not available on the `{}` plan for amazon.{}; drop `country` or upgrade.",
                caller.account.plan, locale.marketplace
            ),
        ))
    }
}

pub fn spec(caller: &Caller) -> LimitSpec {
    LimitSpec::new(caller.plan.concurrency, caller.plan.rps, caller.plan.burst)
}

fn usage_headers(ctx: &mut Ctx, u: Usage) {
    ctx.meta.concurrency = Some(format!("{}/{}", u.in_flight, u.allowed_concurrency));
    ctx.meta.rps = Some(format!("{:.1}/{}", u.recent_rps, trim_float(u.allowed_rps)));
}

fn trim_float(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

pub async fn admit(
    state: &AppState,
    caller: &Caller,
    ctx: &mut Ctx,
) -> Result<Admission, ApiError> {
    let started = std::time::Instant::now();
    let spec = spec(caller);
    let decision = state.limiter.admit(&caller.account.id, spec).await;
    state.metrics.stage("limits", started);
    let result = match &decision {
        Ok(_) => "admitted",
        Err(Refusal::Rate { .. }) => "rate",
        Err(Refusal::Concurrency { .. }) => "concurrency",
        Err(Refusal::Capacity { .. }) => "capacity",
        Err(Refusal::Unavailable { .. }) => "unavailable",
    };
    state.metrics.count(
        "asa_limiter_decisions_total",
        vec![("result", result.to_string())],
        1,
    );
    match decision {
        Ok(admission) => {
            usage_headers(ctx, admission.usage());
            Ok(admission)
        }
        Err(refusal) => {
            if let Ok(u) = state.limiter.usage(&caller.account.id, spec).await {
                usage_headers(ctx, u);
            }
            Err(refused(refusal))
        }
    }
}

pub async fn capacity(state: &AppState) -> Result<CapacityPermit, ApiError> {
    let started = std::time::Instant::now();
    let decision = state.limiter.capacity().await;
    state.metrics.stage("limits", started);
    if decision.is_err() {
        state.metrics.count(
            "asa_limiter_decisions_total",
            vec![("result", "capacity".to_string())],
            1,
        );
    }
    decision.map_err(refused)
}

/// [`capacity`] for an admitted request: refused, the admission is refunded, so a request
/// that never ran (`503 capacity`) consumes no rate token of its account.
pub async fn capacity_for(
    state: &AppState,
    admission: Admission,
) -> Result<(Admission, CapacityPermit), ApiError> {
    match capacity(state).await {
        Ok(permit) => Ok((admission, permit)),
        Err(e) => {
            admission.refund().await;
            Err(e)
        }
    }
}

fn refused(r: Refusal) -> ApiError {
    let secs = r.retry_after_secs();
    let e = match r {
        Refusal::Rate { .. } => ApiError::new(
            ErrorCode::RateLimited,
            format!("Over your plan's requests per second (with burst); retry after {secs} s."),
        ),
        Refusal::Concurrency { .. } => ApiError::new(
            ErrorCode::RateLimited,
            format!("Your plan's concurrency ceiling is full; retry after {secs} s."),
        ),
        Refusal::Capacity { .. } => ApiError::new(
            ErrorCode::Capacity,
            format!("The shared upstream pool is saturated; retry after {secs} s."),
        ),
        Refusal::Unavailable { .. } => ApiError::new(
            ErrorCode::Capacity,
            format!("The limits backend is unavailable; retry after {secs} s."),
        ),
    };
    e.with_retry_after(secs)
}

/// Reserves one page's cost; sandbox keys are never billed.
pub async fn reserve(
    state: &AppState,
    caller: &Caller,
    request_id: &RequestId,
) -> Result<Option<ReservationGuard>, ApiError> {
    if caller.is_sandbox() {
        return Ok(None);
    }
    // Outlives the upstream budget so a live request never sees its reservation expire.
    let ttl = state.config.upstream.timeout + state.config.reservation_grace;
    let started = std::time::Instant::now();
    let reserved = ReservationGuard::reserve(
        &state.store,
        &caller.account.id,
        request_id,
        crate::COST_PER_PAGE,
        ttl,
    )
    .await;
    state.metrics.stage("ledger", started);
    reserved.map(Some)
}
