//! `GET /api/v1/amazon/product`: one product page, fetched, extracted and billed once.

use super::Ctx;
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
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let mut ctx = Ctx::default();
    let result = async {
        let (caller, q) = ctx.authenticate(&state, &headers, &uri).await?;
        let params = ProductParams::parse(&q)?;
        gate::region(&caller, &params.locale)?;
        let admission = gate::admit(&state, &caller, &mut ctx).await?;
        let (_admission, _permit) = gate::capacity_for(&state, admission).await?;
        let reservation = gate::reserve(&state, &caller, &id.0).await?;
        let page = fetch::product(&state, &caller, &id.0, &params).await;
        ctx.observe(&page);
        let settled = settle(reservation, &page).await;
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
        product.request_id = id.0.clone();
        let mut body = serde_json::to_value(&*product).map_err(ApiError::internal)?;
        if params.locale.add_html {
            body["html"] =
                serde_json::Value::String(String::from_utf8_lossy(&page.body).into_owned());
        }
        Ok((StatusCode::OK, body))
    }
    .await;
    ctx.finish(result)
}

/// Charges a delivered page, releases anything else.
pub async fn settle(
    reservation: Option<crate::billing::ReservationGuard>,
    page: &fetch::Fetched,
) -> Result<i64, ApiError> {
    match (reservation, page.result.is_ok()) {
        (None, _) => Ok(0),
        (Some(r), true) => r.charge().await,
        (Some(r), false) => {
            r.release().await;
            Ok(0)
        }
    }
}
