//! Batches: the account's recent batches with their progress, and one batch's items
//! (each linked to its request's trace) and webhook delivery state.

use super::page::{self, int, json_block, opt_time, status_badge, time, Area};
use super::session::AccountSession;
use crate::state::AppState;
use asa_store::batch::{Batch, BatchItem};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

/// Batches listed, newest first.
const LIST: u32 = 100;
/// Items per page of a batch.
const ITEMS: u32 = 100;

#[derive(Deserialize, Default)]
pub struct ItemsQuery {
    #[serde(default)]
    offset: u32,
}

fn progress(b: &Batch) -> Markup {
    html! {
        progress max=(b.total_count.max(1)) value=(b.processed_count) { (b.processed_count) "/" (b.total_count) }
        " " (b.processed_count) "/" (b.total_count)
    }
}

fn webhook_state(b: &Batch) -> String {
    match &b.webhook_status {
        None => "none".into(),
        Some(s) => format!("{} ({} attempts)", s.as_str(), b.webhook_attempts),
    }
}

pub async fn list(State(state): State<AppState>, s: AccountSession) -> Response {
    let batches = match state.store.batches(&s.caller.account.id, LIST).await {
        Ok(b) => b,
        Err(e) => return page::store_failed(e),
    };
    let body = html! {
        h1 { "Batches" }
        section.card {
            div.scroll { table #batches {
                thead { tr { th { "batch" } th { "endpoint" } th { "status" } th { "progress" } th.num { "ok" } th.num { "failed" } th.num { "credits" } th { "created" } th { "webhook" } } }
                tbody {
                    @for b in &batches {
                        tr data-batch=(b.id) {
                            td { a href={ "/dashboard/batches/" (b.id) } { code { (b.id) } } }
                            td { (b.endpoint.as_str()) }
                            td { (b.status.as_str()) }
                            td { (progress(b)) }
                            td.num { (b.success_count) } td.num { (b.failure_count) } td.num { (int(b.credits_charged)) }
                            td { (time(b.created_at)) }
                            td { (webhook_state(b)) }
                        }
                    }
                    @if batches.is_empty() { tr { td colspan="9" .muted { "No batches yet: POST /api/v1/amazon/batch creates one." } } }
                }
            } }
        }
    };
    page::respond(
        StatusCode::OK,
        page::page(Area::Account, "Batches", "batches", Some(s.viewer()), body),
    )
}

fn item_row(i: &BatchItem) -> Markup {
    let code = i
        .error
        .as_ref()
        .and_then(|e| e.get("error"))
        .and_then(|c| c.as_str());
    html! {
        tr data-index=(i.index) {
            td.num { (i.index) }
            td.clip { code { (i.input) } }
            td { (i.state.as_str()) }
            td { @if let Some(st) = i.http_status { (status_badge(st)) } }
            td { @if let Some(c) = code { code { (c) } } }
            td.num { (i.duration_ms.map(|d| d.to_string()).unwrap_or_default()) }
            td.num { (i.credits_charged) }
            td { @if let Some(r) = &i.request_id { a href={ "/dashboard/requests/" (r) } { code { (r) } } } }
        }
    }
}

pub async fn show(
    State(state): State<AppState>,
    s: AccountSession,
    Path(id): Path<String>,
    Query(q): Query<ItemsQuery>,
) -> Response {
    let batch = match state.store.batch(&id, Some(&s.caller.account.id)).await {
        Ok(Some(b)) => b,
        Ok(None) => return page::not_found(Area::Account, "such batch"),
        Err(e) => return page::store_failed(e),
    };
    let items = match state.store.batch_items(&batch.id, q.offset, ITEMS).await {
        Ok(i) => i,
        Err(e) => return page::store_failed(e),
    };
    let next = q.offset.saturating_add(ITEMS);
    let body = html! {
        h1 { "Batch " code { (batch.id) } }
        section.card {
            dl.facts {
                dt { "endpoint" } dd { (batch.endpoint.as_str()) }
                dt { "status" } dd data-testid="batch-status" { (batch.status.as_str()) }
                dt { "progress" } dd { (progress(&batch)) }
                dt { "ok / failed" } dd { (batch.success_count) " / " (batch.failure_count) }
                dt { "credits" } dd { (int(batch.credits_charged)) }
                dt { "created" } dd { (time(batch.created_at)) }
                dt { "started" } dd { (opt_time(batch.started_at)) }
                dt { "completed" } dd { (opt_time(batch.completed_at)) }
                dt { "created by" } dd { a href={ "/dashboard/requests/" (batch.request_id) } { code { (batch.request_id) } } }
            }
        }
        section.card #webhook {
            h2 { "Webhook" }
            @match &batch.webhook_url {
                None => p.muted { "This batch has no webhook." },
                Some(url) => dl.facts {
                    dt { "url" } dd.clip { (url) }
                    dt { "delivery" } dd data-testid="webhook-status" { (webhook_state(&batch)) }
                    dt { "next try" } dd { (opt_time(batch.webhook_next_at)) }
                    dt { "delivered" } dd { (opt_time(batch.webhook_delivered_at)) }
                    dt { "last error" } dd { (batch.webhook_last_error.as_deref().unwrap_or("—")) }
                },
            }
        }
        section.card {
            h2 { "Items " (q.offset) "–" (q.offset as usize + items.len()) " of " (batch.total_count) }
            div.scroll { table #items {
                thead { tr { th.num { "#" } th { "input" } th { "state" } th { "status" } th { "code" } th.num { "ms" } th.num { "credits" } th { "request" } } }
                tbody { @for i in &items { (item_row(i)) } }
            } }
            p {
                @if q.offset > 0 { a href={ "?offset=" (q.offset.saturating_sub(ITEMS)) } { "← Previous" } " " }
                @if next < batch.total_count { a href={ "?offset=" (next) } { "Next →" } }
            }
            @if let Some(first) = items.iter().find(|i| i.data.is_some() || i.error.is_some()) {
                details {
                    summary { "Result of item " (first.index) }
                    (json_block(first.data.as_ref().or(first.error.as_ref()).unwrap_or(&serde_json::Value::Null)))
                }
            }
        }
    };
    page::respond(
        StatusCode::OK,
        page::page(Area::Account, &batch.id, "batches", Some(s.viewer()), body),
    )
}
