//! The operator's view, served only on the admin listener (loopback by default) behind the
//! admin token: every account with its balance and error rate, errors by code, exit proxy
//! health, extraction failures waiting for the extractor's maintainers, and any trace.

use super::page::{self, int, percent, time, Area, Viewer};
use super::requests::trace_view;
use super::session::OperatorSession;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use maud::html;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Failures listed (the newest).
const FAILURES_SHOWN: usize = 50;

#[derive(Deserialize, Default)]
pub struct Lookup {
    #[serde(default)]
    request_id: String,
}

pub async fn show(
    State(state): State<AppState>,
    s: OperatorSession,
    Query(lookup): Query<Lookup>,
) -> Response {
    if !lookup.request_id.trim().is_empty() {
        let to = format!("/operator/requests/{}", lookup.request_id.trim());
        return axum::response::IntoResponse::into_response(axum::response::Redirect::to(&to));
    }
    state.traces.flush().await;
    let since = Utc::now() - chrono::Duration::hours(24);
    let store = &state.store;
    let (accounts, activity, errors, latency) = match tokio::try_join!(
        store.list_accounts(),
        store.activity(since),
        store.errors_by_day(None, 1),
        store.latency_summary(None, since),
    ) {
        Ok(all) => all,
        Err(e) => return page::store_failed(e),
    };
    let by_code = errors
        .iter()
        .fold(BTreeMap::<String, i64>::new(), |mut m, c| {
            *m.entry(c.code.clone().unwrap_or_else(|| "other".into()))
                .or_default() += c.requests;
            m
        });
    let proxies = state.upstream.proxy_health();
    // Reading the failure folder is blocking file I/O: off the async workers.
    let failures = state.failures.clone();
    let failures = tokio::task::spawn_blocking(move || failures.list())
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| e.to_string()));
    let anonymous = activity.iter().find(|a| a.account_id.is_none());
    let body = html! {
        h1 { "Operator" }
        div.grid {
            section.card.stat {
                h2 { "Last 24 hours" }
                p.big { (int(latency.requests)) }
                p.muted { (percent(latency.success_rate())) " 2xx · p50 " (latency.p50_ms) " ms · p99 " (latency.p99_ms) " ms" }
                @if let Some(a) = anonymous { p.muted { (int(a.requests)) " refused before a key was recognised" } }
            }
            section.card.stat {
                h2 { "Look up a request" }
                form method="get" action="/operator" {
                    input name="request_id" placeholder="req_…" aria-label="Request id";
                    button type="submit" { "Open trace" }
                }
            }
        }
        section.card {
            h2 { "Accounts (" (accounts.len()) ")" }
            div.scroll { table #accounts {
                thead { tr { th { "account" } th { "name" } th { "plan" } th.num { "balance" } th.num { "reserved" } th.num { "requests 24 h" } th.num { "error rate" } th.num { "credits 24 h" } } }
                tbody {
                    @for a in &accounts {
                        @let act = activity.iter().find(|x| x.account_id.as_deref() == Some(a.id.as_str()));
                        tr data-account=(a.id) {
                            td { code { (a.id) } } td { (a.name.as_deref().unwrap_or("")) } td { (a.plan) }
                            td.num { (int(a.balance)) } td.num { (int(a.reserved)) }
                            td.num { (int(act.map_or(0, |x| x.requests))) }
                            td.num { (percent(act.filter(|x| x.requests > 0).map(|x| x.errors as f64 / x.requests as f64))) }
                            td.num { (int(act.map_or(asa_model::Credits::ZERO, |x| x.credits))) }
                        }
                    }
                }
            } }
        }
        section.card {
            h2 { "Errors by code, today (UTC)" }
            table #errors {
                thead { tr { th { "code" } th.num { "requests" } } }
                tbody {
                    @for (code, n) in &by_code { tr { td { code { (code) } } td.num { (int(*n)) } } }
                    @if by_code.is_empty() { tr { td colspan="2" .muted { "No errors today." } } }
                }
            }
        }
        section.card {
            h2 { "Exit proxies (" (proxies.len()) ")" }
            div.scroll { table #proxies {
                thead { tr { th { "id" } th { "pool" } th { "address" } th { "state" } th.num { "attempts" } th.num { "failures" } th.num { "in a row" } th.num { "benched for" } } }
                tbody {
                    @for p in &proxies {
                        tr {
                            td { (p.id) } td { (p.pool) } td { code { (p.address) } }
                            td { (serde_json::to_value(p.state).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()) }
                            td.num { (int(p.attempts as i64)) } td.num { (int(p.failures as i64)) } td.num { (p.consecutive_failures) }
                            td.num { (p.benched_for_ms.map(|ms| format!("{} s", ms / 1000)).unwrap_or_default()) }
                        }
                    }
                    @if proxies.is_empty() { tr { td colspan="8" .muted { "No exit proxies configured: fetches go out directly." } } }
                }
            } }
        }
        section.card {
            h2 { "Extraction failures waiting" }
            @match &failures {
                Ok(list) => {
                    p.muted { (list.len()) " kept in " code { (state.failures.dir().display()) } "; " code { "asa admin failures" } " exports them." }
                    div.scroll { table #failures {
                        thead { tr { th { "when" } th { "request" } th { "market" } th { "asked" } th { "reason" } th.num { "bytes" } } }
                        tbody { @for f in list.iter().take(FAILURES_SHOWN) {
                            tr {
                                td { (time(f.created_at)) }
                                td { a href={ "/operator/requests/" (f.request_id) } { code { (f.request_id) } } }
                                td { (f.marketplace) } td.clip { (f.asked) } td { (f.reason) } td.num { (int(f.bytes as i64)) }
                            }
                        } }
                    } }
                }
                Err(e) => p.notice.error { "Cannot read the failures folder: " (e) },
            }
        }
    };
    let viewer = Viewer {
        label: "operator",
        csrf: &s.session.csrf,
    };
    page::respond(
        StatusCode::OK,
        page::page(Area::Operator, "Operator", "operator", Some(viewer), body),
    )
}

pub async fn trace(
    State(state): State<AppState>,
    s: OperatorSession,
    Path(id): Path<asa_model::RequestId>,
) -> Response {
    state.traces.flush().await;
    let trace = match state.store.trace(&id, None).await {
        Ok(Some(t)) => t,
        Ok(None) => return page::not_found(Area::Operator, "such request"),
        Err(e) => return page::store_failed(e),
    };
    let viewer = Viewer {
        label: "operator",
        csrf: &s.session.csrf,
    };
    let body = html! {
        p { "Account " code { (trace.account_id.as_deref().unwrap_or("none")) } }
        (trace_view(&trace, &state.docs_base()))
    };
    page::respond(
        StatusCode::OK,
        page::page(
            Area::Operator,
            &trace.request_id,
            "operator",
            Some(viewer),
            body,
        ),
    )
}
