//! One page through the upstream and the extractor, mapped to a deliverable result or to
//! the catalog's error for what went wrong.

use super::judge::{Asked, Judged, PageJudge};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::failures::FailureRecord;
use crate::params::{Locale, ProductParams};
use crate::state::AppState;
use asa_extract::text::asin_in_url;
use asa_extract::{Page, SearchResults, EXTRACTOR_VERSION};
use asa_model::RequestId;
use asa_model::{ErrorCode, Product, SortBy};
use asa_upstream::{FetchError, FetchRequest, FetchTarget};
use bytes::Bytes;
use serde_json::json;
use std::sync::Arc;

pub enum PageResult {
    Product(Box<Product>),
    Search(SearchResults),
}

/// A page fetched (or not), with what its trace and headers need.
pub struct Fetched {
    pub result: Result<PageResult, ApiError>,
    pub attempts: Vec<asa_upstream::Attempt>,
    pub source_status: Option<u16>,
    pub resolved_url: Option<String>,
    pub extractor: serde_json::Value,
    /// The page as fetched, kept only when `add_html` asks for it (empty otherwise).
    pub body: Bytes,
}

pub async fn product(
    state: &AppState,
    caller: &Caller,
    request_id: &RequestId,
    params: &ProductParams,
) -> Fetched {
    let target = FetchTarget::Product {
        asin: params.asin.clone(),
    };
    let asked = Asked::Product(params.asin.clone());
    run(state, caller, request_id, &params.locale, target, asked).await
}

pub async fn search_page(
    state: &AppState,
    caller: &Caller,
    request_id: &RequestId,
    locale: &Locale,
    query: &str,
    page: u32,
    sort: SortBy,
) -> Fetched {
    let target = FetchTarget::Search {
        query: query.to_string(),
        page,
        sort,
    };
    let asked = Asked::Search {
        query: query.to_string(),
        page,
    };
    run(state, caller, request_id, locale, target, asked).await
}

async fn run(
    state: &AppState,
    caller: &Caller,
    request_id: &RequestId,
    locale: &Locale,
    target: FetchTarget,
    asked: Asked,
) -> Fetched {
    let req = FetchRequest {
        request_id: request_id.to_string(),
        marketplace: locale.marketplace,
        target,
        language: locale.language.clone(),
        country: locale.country.as_str().to_string(),
    };
    let upstream = match (caller.is_sandbox(), &state.sandbox) {
        (true, Some(sandbox)) => &sandbox.upstream,
        (true, None) => {
            return failed(ApiError::new(
                ErrorCode::Unauthorized,
                "Sandbox keys are disabled on this server.",
            ));
        }
        (false, _) => &state.upstream,
    };
    let judge = Arc::new(PageJudge {
        marketplace: locale.marketplace,
        asked: asked.clone(),
    });
    let started = std::time::Instant::now();
    let fetched = upstream.fetch(&req, judge).await;
    let m = &state.metrics;
    m.observe("asa_upstream_duration_seconds", vec![], started.elapsed());
    for a in &fetched.attempts {
        let country = a.exit_country.clone().unwrap_or_else(|| "direct".into());
        m.count(
            "asa_upstream_attempts_total",
            vec![
                ("outcome", a.outcome.as_str().to_string()),
                ("exit_country", country),
            ],
            1,
        );
    }
    let source_status = fetched.last_status();
    let attempts = fetched.attempts;
    match fetched.result {
        Ok(delivered) => {
            let Judged {
                extraction,
                final_url,
                took,
            } = delivered.value;
            m.observe("asa_extraction_duration_seconds", vec![], took);
            let extractor = extractor_report(&extraction);
            let reason = match &extraction.page {
                Page::Unknown { reason } => Some(reason.clone()),
                _ => None,
            };
            let result = deliverable(extraction, &asked, &final_url);
            if let (Some(reason), Err(e)) = (reason, &result) {
                if e.code == ErrorCode::ExtractionFailed {
                    let record = FailureRecord {
                        request_id: request_id.to_string(),
                        created_at: chrono::Utc::now(),
                        marketplace: locale.marketplace.domain().to_string(),
                        asked: match &asked {
                            Asked::Product(a) => a.to_string(),
                            Asked::Search { query, page } => format!("{query} (page {page})"),
                        },
                        url: final_url.clone(),
                        reason,
                        extractor_version: EXTRACTOR_VERSION.to_string(),
                        bytes: delivered.body.len() as u64,
                    };
                    state
                        .failures
                        .keep_in_background(record, delivered.body.clone());
                }
            }
            Fetched {
                result,
                attempts,
                source_status,
                resolved_url: Some(final_url),
                extractor,
                // Only `add_html` answers need the page from here on; letting it go now
                // keeps a request's memory small while it is settled and traced.
                body: if locale.add_html {
                    delivered.body
                } else {
                    Bytes::new()
                },
            }
        }
        Err(e) => {
            let code = e.code();
            let (extractor, message) = match &e {
                FetchError::Blocked { last: Some(j) } => (
                    extractor_report(&j.extraction),
                    format!(
                        "Amazon answered {} attempt(s) with a {} page; retry in 60 s or more.",
                        attempts.len(),
                        j.extraction.page.kind()
                    ),
                ),
                FetchError::Overloaded { retry_after } => (
                    json!({"version": EXTRACTOR_VERSION}),
                    format!(
                        "This server has more pages queued than it can fetch and extract within the upstream budget ({} attempt(s) made); retry after {} s.",
                        attempts.len(),
                        retry_after_secs(*retry_after)
                    ),
                ),
                _ => (
                    json!({"version": EXTRACTOR_VERSION}),
                    format!(
                        "{} ({} attempt(s)).",
                        code.default_message(),
                        attempts.len()
                    ),
                ),
            };
            let mut error = ApiError::new(code, message);
            if let FetchError::Overloaded { retry_after } = &e {
                m.count("asa_upstream_shed_total", vec![], 1);
                error = error.with_retry_after(retry_after_secs(*retry_after));
            }
            let resolved_url = attempts.last().map(|a| a.url.clone());
            Fetched {
                result: Err(error),
                attempts,
                source_status,
                resolved_url,
                extractor,
                body: Bytes::new(),
            }
        }
    }
}

/// Whole seconds for `Retry-After`, rounded up: never sooner than the estimate.
fn retry_after_secs(d: std::time::Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

fn failed(e: ApiError) -> Fetched {
    Fetched {
        result: Err(e),
        attempts: vec![],
        source_status: None,
        resolved_url: None,
        extractor: serde_json::Value::Null,
        body: Bytes::new(),
    }
}

/// What the trace keeps of the extractor's work.
fn extractor_report(x: &asa_extract::Extraction) -> serde_json::Value {
    let reason = match &x.page {
        Page::Unknown { reason } => Some(reason.clone()),
        _ => None,
    };
    json!({
        "version": EXTRACTOR_VERSION,
        "page_kind": x.page.kind(),
        "page_asin": x.page_asin,
        "fields_found": x.fields_found,
        "fields_missing": x.fields_missing,
        "reason": reason,
    })
}

/// The catalog's answer for an accepted page.
fn deliverable(
    x: asa_extract::Extraction,
    asked: &Asked,
    final_url: &str,
) -> Result<PageResult, ApiError> {
    if let Asked::Product(asin) = asked {
        let redirected = asin_in_url(final_url).filter(|a| a != asin.as_str());
        if let Some(other) = redirected.or_else(|| x.asin_mismatch(asin.as_str())) {
            return Err(ApiError::new(
                ErrorCode::AsinMismatch,
                format!("You asked for {asin}; Amazon answered with {other} (usually a new-edition swap). Update your ASIN."),
            ));
        }
    }
    match x.page {
        Page::Product(p) => Ok(PageResult::Product(p)),
        Page::Search(s) => Ok(PageResult::Search(s)),
        Page::NotFound => Err(ApiError::new(
            ErrorCode::ProductNotFound,
            match asked {
                Asked::Product(asin) => format!("Amazon answered 404 for {asin} on this marketplace."),
                Asked::Search { .. } => "Amazon answered 404 for this search page.".to_string(),
            },
        )),
        Page::Gallery => Err(ApiError::of(ErrorCode::GenericGalleryPage)),
        Page::Unknown { reason } => Err(ApiError::new(
            ErrorCode::ExtractionFailed,
            format!("Amazon served a page the extractor could not read ({reason}); it has been kept for the maintainers."),
        )),
        Page::Captcha(_) | Page::AmazonError => Err(ApiError::of(ErrorCode::BlockedByAmazon)),
    }
}
