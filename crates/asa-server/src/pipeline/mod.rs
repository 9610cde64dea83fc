//! The request pipeline: one billable call, from an authenticated caller and parsed
//! parameters to its body and cost. Every transport runs calls through [`run`] and nothing
//! else: the HTTP routes, the batch worker, the dashboard's playground (and any later one).
//!
//! ```text
//! Call ─▶ region (403) ─▶ rate/concurrency (429) ─▶ capacity (503) ─▶ reserve (402)
//!      ─▶ upstream + extractor (judge) ─▶ settle (charge 2xx / release) ─▶ body
//! ```
//!
//! - [`gate`]: region, the account's limits, the shared capacity, the reservation.
//! - [`fetch`]: one page through the upstream and the extractor, mapped to the catalog.
//! - [`judge`]: the extractor as the upstream's judge of each fetched page.
//! - [`billing`]: the reservation guard and how a page is settled.
//! - [`product`], [`search`]: what each endpoint does between the gate and the body.
//!
//! It takes plain values and returns a result plus a [`Ctx`] (headers and trace facts); it
//! must not know about HTTP requests, routers, sessions or how its answer is written.

pub mod billing;
pub mod fetch;
pub mod gate;
pub mod judge;
pub mod product;
pub mod search;

use crate::auth::Caller;
use crate::envelope::ResponseMeta;
use crate::error::ApiError;
use crate::params::{Locale, ProductParams, RawQuery, SearchParams};
use crate::record::TraceInfo;
use crate::state::AppState;
use asa_model::RequestId;
use asa_store::batch::BatchEndpoint;
use axum::http::StatusCode;
use billing::Settlement;

/// One call of a fetching endpoint, parsed.
#[derive(Debug, Clone)]
pub enum Call {
    Product(ProductParams),
    Search(SearchParams),
}

impl Call {
    /// Parses `q` as the parameters of `endpoint`.
    pub fn parse(endpoint: BatchEndpoint, q: &RawQuery) -> Result<Call, ApiError> {
        Ok(match endpoint {
            BatchEndpoint::Product => Call::Product(ProductParams::parse(q)?),
            BatchEndpoint::Search => Call::Search(SearchParams::parse(q)?),
        })
    }

    pub fn endpoint(&self) -> BatchEndpoint {
        match self {
            Call::Product(_) => BatchEndpoint::Product,
            Call::Search(_) => BatchEndpoint::Search,
        }
    }

    pub fn locale(&self) -> &Locale {
        match self {
            Call::Product(p) => &p.locale,
            Call::Search(p) => &p.locale,
        }
    }
}

/// What a call answers: the status and JSON body of a success, or the catalog's error.
pub type Answer = Result<(StatusCode, serde_json::Value), ApiError>;

/// Runs one call as `caller` under `request_id`; `ctx` gathers its headers and trace facts
/// whatever the outcome, and `settlement` says when a delivered page is charged.
pub async fn run(
    state: &AppState,
    caller: &Caller,
    request_id: &RequestId,
    call: &Call,
    ctx: &mut Ctx,
    settlement: &Settlement,
) -> Answer {
    ctx.name(caller);
    match call {
        Call::Product(p) => product::serve(state, caller, request_id, p, ctx, settlement).await,
        Call::Search(p) => search::serve(state, caller, request_id, p, ctx, settlement).await,
    }
}

/// What a request accumulates while it works, so that its answer, success or error,
/// carries the right headers and trace.
#[derive(Default)]
pub struct Ctx {
    pub info: TraceInfo,
    pub meta: ResponseMeta,
}

impl Ctx {
    /// Names the caller in the trace.
    pub fn name(&mut self, caller: &Caller) {
        self.info.account_id = Some(caller.account.id.clone());
        self.info.key_prefix = Some(caller.key.short_prefix.clone());
    }

    /// Adds a page fetch's attempts and extractor result to the headers and the trace.
    pub fn observe(&mut self, page: &fetch::Fetched) {
        let n = page.attempts.len() as u32;
        self.meta.attempts = Some(self.meta.attempts.unwrap_or(0) + n);
        if page.source_status.is_some() {
            self.meta.source_status = page.source_status;
        }
        if page.resolved_url.is_some() {
            self.meta.resolved_url = page.resolved_url.clone();
        }
        self.meta.extractor_version = Some(asa_extract::EXTRACTOR_VERSION);
        let attempts = self
            .info
            .attempts
            .get_or_insert_with(|| serde_json::Value::Array(vec![]));
        if let (Some(list), Ok(serde_json::Value::Array(more))) = (
            attempts.as_array_mut(),
            serde_json::to_value(&page.attempts),
        ) {
            list.extend(more);
        }
        match &mut self.info.extractor {
            None => self.info.extractor = Some(page.extractor.clone()),
            Some(serde_json::Value::Array(list)) => list.push(page.extractor.clone()),
            Some(first) => {
                *first = serde_json::Value::Array(vec![first.clone(), page.extractor.clone()])
            }
        }
    }
}
