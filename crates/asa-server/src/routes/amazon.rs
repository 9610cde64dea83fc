//! The fetching endpoints: product and search. Each handler authenticates, parses its
//! parameters and runs the call through the pipeline, settled before the answer is written.

use super::{authenticate, finish};
use crate::pipeline::{self, billing::Settlement, Call, Ctx};
use crate::state::AppState;
use asa_model::RequestId;
use asa_store::batch::BatchEndpoint;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use axum::Extension;

#[utoipa::path(
    get,
    path = "/amazon/product",
    operation_id = "get_product",
    tag = "amazon",
    params(
        ("query" = String, Query, description = "A 10-character ASIN / ISBN-10, or a product URL on a supported Amazon host (the host sets the marketplace)"),
        crate::params::LocaleQuery,
    ),
    responses((status = 200, description = "The product, extracted; billed 5 credits", body = asa_model::Product))
)]
pub async fn product(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    call(state, id, headers, uri, BatchEndpoint::Product).await
}

#[utoipa::path(
    get,
    path = "/amazon/search",
    operation_id = "search",
    tag = "amazon",
    params(
        ("query" = String, Query, description = "Search keywords, 1..=500 characters"),
        ("sort_by" = Option<String>, Query, description = "best_match (default), price_asc, price_desc, avg_customer_review, newest"),
        ("start_page" = Option<u32>, Query, description = "First result page, 1..=10 (default 1)"),
        ("pages" = Option<u32>, Query, description = "Result pages to fetch, 1..=10 (default 1); each delivered page is billed 5 credits"),
        crate::params::LocaleQuery,
    ),
    responses((status = 200, description = "The result cards of the pages delivered; failed pages are listed and free", body = asa_model::SearchBody))
)]
pub async fn search(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    call(state, id, headers, uri, BatchEndpoint::Search).await
}

/// The one shell of every fetching endpoint.
async fn call(
    state: AppState,
    id: RequestId,
    headers: HeaderMap,
    uri: Uri,
    endpoint: BatchEndpoint,
) -> Response {
    let mut ctx = Ctx::default();
    let answer = async {
        let (caller, q) = authenticate(&mut ctx, &state, &headers, &uri).await?;
        let call = Call::parse(endpoint, &q)?;
        pipeline::run(&state, &caller, &id, &call, &mut ctx, &Settlement::Now).await
    }
    .await;
    finish(ctx, answer)
}
