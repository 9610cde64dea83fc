//! A search call: one or more result pages, fetched concurrently; each page
//! delivered is billed as one request, failed pages are listed and free.

use super::billing::Settlement;
use super::fetch::{self, PageResult};
use super::gate;
use super::Ctx;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::params::SearchParams;
use crate::state::AppState;
use asa_model::{Credits, RequestId};
use asa_model::{ErrorCode, FailedPage, SearchBody, SearchProduct};
use axum::http::StatusCode;

/// Everything after the key and the parameters. A batch item runs exactly this.
pub async fn serve(
    state: &AppState,
    caller: &Caller,
    request_id: &RequestId,
    params: &SearchParams,
    ctx: &mut Ctx,
    settlement: &Settlement,
) -> Result<(StatusCode, serde_json::Value), ApiError> {
    {
        gate::region(caller, &params.locale)?;
        let admission = gate::admit(state, caller, ctx).await?;
        let numbers: Vec<u32> = (params.start_page..params.start_page + params.pages).collect();
        let runs = numbers
            .iter()
            .map(|&n| fetch_page(state, caller, request_id, params, n, settlement));
        let outcomes = futures::future::join_all(runs).await;
        let never_ran = outcomes
            .iter()
            .all(|o| matches!(o, Err(e) if e.code == ErrorCode::Capacity));
        if never_ran {
            // No page got a capacity slot: the 503 gives the rate token back.
            admission.refund().await;
        } else {
            // Every page is fetched and settled: the concurrency slot frees now.
            drop(admission);
        }

        let mut products: Vec<SearchProduct> = Vec::new();
        let mut failed: Vec<(u32, ApiError)> = Vec::new();
        let mut delivered_pages = 0u32;
        let mut all_empty = true;
        let mut cost = Credits::ZERO;
        // With add_html: each delivered page's raw HTML, by page number.
        let mut html = serde_json::Map::new();
        for (n, outcome) in numbers.iter().zip(outcomes) {
            let (page, charged) = match outcome {
                Ok(pair) => pair,
                Err(e) => {
                    failed.push((*n, e));
                    continue;
                }
            };
            ctx.observe(&page);
            match (page.result, charged) {
                (Ok(PageResult::Search(results)), Ok(c)) => {
                    if params.locale.add_html {
                        let text = String::from_utf8_lossy(&page.body).into_owned();
                        html.insert(n.to_string(), serde_json::Value::String(text));
                    }
                    cost += c;
                    delivered_pages += 1;
                    all_empty &= results.no_results && results.products.is_empty();
                    products.extend(results.products.into_iter().map(|mut p| {
                        p.page = *n;
                        p
                    }));
                }
                (Err(e), _) | (Ok(_), Err(e)) => failed.push((*n, e)),
                (Ok(_), Ok(_)) => failed.push((
                    *n,
                    ApiError::internal("a search fetch delivered another page kind"),
                )),
            }
        }
        if delivered_pages == 0 {
            // Nothing delivered: the first page's error is the answer, and it is free.
            let (_, e) = failed
                .into_iter()
                .next()
                .ok_or_else(|| ApiError::internal("a search without pages"))?;
            return Err(e);
        }
        number_positions(&mut products);
        ctx.meta.cost = cost;
        let body = SearchBody {
            query: params.query.clone(),
            domain: params.locale.marketplace,
            sort_by: params.sort_by,
            start_page: params.start_page,
            pages: params.pages,
            no_results: all_empty,
            products,
            failed_pages: failed
                .into_iter()
                .map(|(page, e)| FailedPage {
                    page,
                    error: e.code,
                    message: e.message,
                })
                .collect(),
            request_id: request_id.to_string(),
        };
        let mut body = serde_json::to_value(body).map_err(ApiError::internal)?;
        if params.locale.add_html {
            body["html"] = serde_json::Value::Object(html);
        }
        Ok((StatusCode::OK, body))
    }
}

/// One result page: its own capacity slot and its own reservation, settled on its own.
async fn fetch_page(
    state: &AppState,
    caller: &Caller,
    request_id: &RequestId,
    params: &SearchParams,
    n: u32,
    settlement: &Settlement,
) -> Result<(fetch::Fetched, Result<Credits, ApiError>), ApiError> {
    let _permit = gate::capacity(state).await?;
    // Each page is its own billable unit, keyed by the request id and the page number.
    // Each page of a multi-page search holds a reservation of its own, under the
    // request's id and the page's number.
    let page_request_id = if params.pages == 1 {
        request_id.clone()
    } else {
        RequestId::new(format!("{request_id}.p{n}"))
    };
    let reservation = gate::reserve(state, caller, &page_request_id).await?;
    let page = fetch::search_page(
        state,
        caller,
        request_id,
        &params.locale,
        &params.query,
        n,
        params.sort_by,
    )
    .await;
    let settling = std::time::Instant::now();
    let charged = settlement.settle(reservation, page.result.is_ok()).await;
    state.metrics.stage("ledger", settling);
    Ok((page, charged))
}

/// Organic and sponsored positions run across all pages delivered, in page order.
fn number_positions(products: &mut [SearchProduct]) {
    let (mut organic, mut sponsored) = (0u32, 0u32);
    for p in products.iter_mut() {
        if p.is_sponsored {
            sponsored += 1;
            p.sponsored_position = Some(sponsored);
            p.organic_position = None;
        } else {
            organic += 1;
            p.organic_position = Some(organic);
            p.sponsored_position = None;
        }
    }
}
