//! A product call: one product page, fetched, extracted and billed once.

use super::billing::Settlement;
use super::fetch::{self, PageResult};
use super::gate;
use super::Ctx;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::params::ProductParams;
use crate::state::AppState;
use asa_model::RequestId;
use axum::http::StatusCode;

/// Everything after the key and the parameters: region, limits, capacity, credits, the
/// fetch, the charge and the body. A batch item runs exactly this.
pub async fn serve(
    state: &AppState,
    caller: &Caller,
    request_id: &RequestId,
    params: &ProductParams,
    ctx: &mut Ctx,
    settlement: &Settlement,
) -> Result<(StatusCode, serde_json::Value), ApiError> {
    gate::region(caller, &params.locale)?;
    let admission = gate::admit(state, caller, ctx).await?;
    let (_admission, _permit) = gate::capacity_for(state, admission).await?;
    let reservation = gate::reserve(state, caller, request_id).await?;
    let page = fetch::product(state, caller, request_id, params).await;
    ctx.observe(&page);
    let settling = std::time::Instant::now();
    let settled = settlement.settle(reservation, page.result.is_ok()).await;
    state.metrics.stage("ledger", settling);
    let mut product = match (page.result, settled) {
        (Err(e), _) | (Ok(_), Err(e)) => return Err(e),
        (Ok(PageResult::Product(p)), Ok(cost)) => {
            ctx.meta.cost = cost;
            p
        }
        (Ok(_), Ok(_)) => {
            return Err(ApiError::internal(
                "a product fetch delivered another page kind",
            ))
        }
    };
    product.marketplace = Some(params.locale.marketplace);
    product.language = Some(params.locale.language.clone());
    product.request_id = request_id.to_string();
    let mut body = serde_json::to_value(&*product).map_err(ApiError::internal)?;
    if params.locale.add_html {
        body["html"] = serde_json::Value::String(String::from_utf8_lossy(&page.body).into_owned());
    }
    Ok((StatusCode::OK, body))
}
