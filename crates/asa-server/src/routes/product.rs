//! `GET /api/v1/amazon/product`: one product page, fetched, extracted and billed once.

use super::Ctx;
use crate::auth::Caller;
use crate::billing::Settlement;
use crate::envelope::RequestId;
use crate::error::ApiError;
use crate::fetch::{self, PageResult};
use crate::gate;
use crate::params::ProductParams;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::Extension;

#[utoipa::path(
    get,
    path = "/api/v1/amazon/product",
    tag = "amazon",
    params(
        ("query" = String, Query, description = "A 10-character ASIN / ISBN-10, or a product URL on a supported Amazon host (the host sets the marketplace)"),
        crate::params::LocaleQuery,
    ),
    responses((status = 200, description = "The product, extracted; billed 5 credits", body = asa_model::Product))
)]
pub async fn get(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    signed_in: Option<Extension<super::SignedIn>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let mut ctx = Ctx::default();
    let result = async {
        let signed_in = signed_in.map(|Extension(s)| s);
        let (caller, q) = ctx
            .authenticate_or_signed_in(&state, &headers, &uri, signed_in)
            .await?;
        let params = ProductParams::parse(&q)?;
        serve(&state, &caller, &id.0, &params, &mut ctx, &Settlement::Now).await
    }
    .await;
    ctx.finish(result)
}

/// Everything after the key and the parameters: region, limits, capacity, credits, the
/// fetch, the charge and the body. A batch item runs exactly this.
pub(crate) async fn serve(
    state: &AppState,
    caller: &Caller,
    request_id: &str,
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
            ctx.meta.cost = cost as u64;
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
