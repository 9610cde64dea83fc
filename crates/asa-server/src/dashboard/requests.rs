//! The request log (time, endpoint, ASIN or query, marketplace, status, code, cost,
//! latency), filterable, and one request's trace: every upstream attempt and what the
//! extractor found, so a user can see why a request failed without asking support.

use super::page::{self, int, json_block, status_badge, time, Area};
use super::session::AccountSession;
use crate::state::AppState;
use asa_model::{AccountId, ErrorCode, RequestId};
use asa_store::{Outcome, Trace, TraceFilter};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use maud::{html, Markup};
use serde::Deserialize;

/// Rows per page of the log.
const PAGE_ROWS: u32 = 50;

/// The log's filters, as the form sends them (empty fields mean "any").
#[derive(Debug, Default, Deserialize)]
pub struct LogQuery {
    #[serde(default)]
    endpoint: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    domain: String,
    /// RFC 3339: rows strictly older than this (the next page).
    #[serde(default)]
    before: String,
}

fn some(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

impl LogQuery {
    fn filter(&self, account_id: Option<AccountId>) -> TraceFilter {
        TraceFilter {
            account_id,
            key_prefix: some(&self.key),
            before: DateTime::parse_from_rfc3339(self.before.trim())
                .ok()
                .map(|t| t.with_timezone(&Utc)),
            code: some(&self.code),
            endpoint: some(&self.endpoint),
            outcome: match self.outcome.as_str() {
                "ok" => Some(Outcome::Ok),
                "error" => Some(Outcome::Error),
                _ => None,
            },
            text: some(&self.q),
            domain: some(&self.domain),
            limit: PAGE_ROWS,
            ..TraceFilter::default()
        }
    }

    /// This query's link with `before` set to `t`.
    fn next_page(&self, base: &str, t: DateTime<Utc>) -> String {
        let pairs = [
            ("endpoint", self.endpoint.as_str()),
            ("outcome", &self.outcome),
            ("code", &self.code),
            ("key", &self.key),
            ("q", &self.q),
            ("domain", &self.domain),
        ];
        let mut url = url::Url::parse("http://x/").expect("a constant URL");
        {
            let mut qs = url.query_pairs_mut();
            for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
                qs.append_pair(k, v);
            }
            qs.append_pair(
                "before",
                &t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            );
        }
        format!("{base}?{}", url.query().unwrap_or_default())
    }
}

/// What the request asked for: the ASIN or search query, and the marketplace.
pub fn asked(t: &Trace) -> (String, String) {
    let p = &t.params;
    let text = |k: &str| p.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let what = text("query")
        .or_else(|| text("request_id"))
        .unwrap_or_default();
    let domain = text("domain").unwrap_or_else(|| {
        if t.endpoint.starts_with("amazon.") && t.endpoint != "amazon.batch" {
            "com".into()
        } else {
            String::new()
        }
    });
    (what, domain)
}

/// The log table, for the account pages and the operator's.
pub fn log_table(traces: &[Trace], link_base: &str) -> Markup {
    html! {
        div.scroll { table #requests {
            thead { tr {
                th { "time" } th { "endpoint" } th { "ASIN / query" } th { "market" }
                th { "status" } th { "code" } th.num { "cost" } th.num { "ms" }
            } }
            tbody {
                @for t in traces {
                    @let (what, domain) = asked(t);
                    tr data-request=(t.request_id) {
                        td { a href={ (link_base) "/" (t.request_id) } { (time(t.created_at)) } }
                        td { (t.endpoint) }
                        td.clip { (what) }
                        td { (domain) }
                        td { (status_badge(t.status)) }
                        td { @if let Some(c) = &t.error_code { code { (c) } } }
                        td.num { (t.credits_charged) }
                        td.num { (int(t.latency_ms)) }
                    }
                }
                @if traces.is_empty() { tr { td colspan="8" .muted { "No requests match." } } }
            }
        } }
    }
}

fn filters(q: &LogQuery) -> Markup {
    let select = |name: &str, current: &str, options: &[(&str, &str)]| {
        html! {
            select name=(name) id=(name) {
                @for (value, label) in options {
                    option value=(value) selected[*value == current] { (label) }
                }
            }
        }
    };
    let codes: Vec<(&str, &str)> = std::iter::once(("", "any code"))
        .chain(ErrorCode::ALL.iter().map(|c| (c.as_str(), c.as_str())))
        .collect();
    html! {
        form.filters method="get" action="/dashboard/requests" {
            label { "endpoint " (select("endpoint", &q.endpoint, &[("", "any"), ("amazon.product", "product"), ("amazon.search", "search"), ("amazon.batch", "batch"), ("account", "account"), ("requests", "requests")])) }
            label { "outcome " (select("outcome", &q.outcome, &[("", "any"), ("ok", "2xx"), ("error", "errors")])) }
            label { "code " (select("code", &q.code, &codes)) }
            label { "ASIN / query " input name="q" value=(q.q) size="14"; }
            label { "market " input name="domain" value=(q.domain) size="6" placeholder="de"; }
            label { "key " input name="key" value=(q.key) size="12" placeholder="short prefix"; }
            button type="submit" { "Filter" }
            a href="/dashboard/requests" { "clear" }
        }
    }
}

pub async fn list(
    State(state): State<AppState>,
    s: AccountSession,
    Query(q): Query<LogQuery>,
) -> Response {
    // The log should show the request the user just made.
    state.traces.flush().await;
    let traces = match state
        .store
        .traces(&q.filter(Some(s.caller.account.id.clone())))
        .await
    {
        Ok(t) => t,
        Err(e) => return page::store_failed(e),
    };
    let more = (traces.len() as u32 == PAGE_ROWS)
        .then(|| {
            traces
                .last()
                .map(|t| q.next_page("/dashboard/requests", t.created_at))
        })
        .flatten();
    let body = html! {
        h1 { "Requests" }
        section.card {
            (filters(&q))
            (log_table(&traces, "/dashboard/requests"))
            @if let Some(next) = more { p { a href=(next) { "Older →" } } }
            p.hint { "Traces are kept " (state.config.trace_retention_days) " days." }
        }
    };
    let viewer = s.viewer();
    page::respond(
        StatusCode::OK,
        page::page(Area::Account, "Requests", "requests", Some(viewer), body),
    )
}

/// One trace: summary, why it failed, attempts, extractor, parameters.
pub fn trace_view(t: &Trace, docs_base: &str) -> Markup {
    let (what, domain) = asked(t);
    let code = t.error_code.as_deref().and_then(ErrorCode::parse);
    let attempts = t.attempts.as_array().cloned().unwrap_or_default();
    let field = |a: &serde_json::Value, k: &str| -> String {
        match a.get(k) {
            None | Some(serde_json::Value::Null) => "—".into(),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
        }
    };
    html! {
        h1 { "Request " code { (t.request_id) } }
        section.card {
            dl.facts {
                dt { "time" } dd { (time(t.created_at)) }
                dt { "endpoint" } dd { (t.endpoint) }
                dt { "asked" } dd { (what) @if !domain.is_empty() { " on amazon." (domain) } }
                dt { "key" } dd { code { (t.key_prefix.as_deref().unwrap_or("—")) "…" } }
                dt { "status" } dd data-testid="trace-status" { (status_badge(t.status)) }
                dt { "credits" } dd { (t.credits_charged) }
                dt { "latency" } dd { (int(t.latency_ms)) " ms" }
            }
            @if let Some(c) = code {
                div.why data-testid="trace-why" {
                    h2 { "Why it failed: " code { (c.as_str()) } }
                    p { (c.default_message()) }
                    p { @if c.retryable() { "Retrying can succeed (the SDKs do it for you)." } @else { "Retrying the same request will fail the same way." } }
                    p { a href={ (docs_base) "/docs/guides/errors#" (c.as_str()) } { "What " code { (c.as_str()) } " means and what to do" } }
                }
            }
        }
        section.card {
            h2 { "Upstream attempts (" (attempts.len()) ")" }
            div.scroll { table #attempts {
                thead { tr { th { "#" } th { "exit" } th { "proxy" } th { "outcome" } th { "status" } th.num { "bytes" } th.num { "ms" } th { "url" } th { "error" } } }
                tbody {
                    @for a in &attempts {
                        tr {
                            td { (field(a, "n")) } td { (field(a, "exit_country")) } td { (field(a, "proxy_id")) }
                            td { code { (field(a, "outcome")) } } td { (field(a, "status")) }
                            td.num { (field(a, "bytes")) } td.num { (field(a, "latency_ms")) }
                            td.clip { (if a.get("final_url").is_some_and(|v| !v.is_null()) { field(a, "final_url") } else { field(a, "url") }) }
                            td { (field(a, "error")) }
                        }
                    }
                    @if attempts.is_empty() { tr { td colspan="9" .muted { "No upstream attempt: the request was answered before any fetch." } } }
                }
            } }
        }
        section.card {
            h2 { "Extractor" }
            (json_block(&t.extractor))
            h2 { "Parameters" }
            (json_block(&t.params))
        }
    }
}

pub async fn show(
    State(state): State<AppState>,
    s: AccountSession,
    Path(id): Path<RequestId>,
) -> Response {
    state.traces.flush().await;
    let trace = match state.store.trace(&id, Some(&s.caller.account.id)).await {
        Ok(Some(t)) => t,
        Ok(None) => return page::not_found(Area::Account, "such request"),
        Err(e) => return page::store_failed(e),
    };
    let viewer = s.viewer();
    page::respond(
        StatusCode::OK,
        page::page(
            Area::Account,
            &trace.request_id,
            "requests",
            Some(viewer),
            trace_view(&trace, &state.docs_base()),
        ),
    )
}
