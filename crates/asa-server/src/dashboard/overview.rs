//! The overview: balance, reserved credits, plan and limits, auto-top-up; the last 30
//! days as a chart (requests, billed, errors by code) and per key; success rate and
//! latency percentiles.

use super::chart;
use super::page::{self, int, percent, Area};
use super::session::AccountSession;
use crate::state::AppState;
use asa_store::LatencySummary;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use maud::{html, Markup};
use std::collections::BTreeMap;

/// Days the chart and the usage tables cover.
pub const DAYS: u32 = 30;

pub async fn show(State(state): State<AppState>, s: AccountSession) -> Response {
    let account = &s.caller.account;
    let store = &state.store;
    // The figures should count the request the user just made.
    state.traces.flush().await;
    let now = Utc::now();
    let (usage, errors, day, month, keys, topped_up) = match tokio::try_join!(
        store.usage(&account.id, DAYS),
        store.errors_by_day(Some(&account.id), DAYS),
        store.latency_summary(Some(&account.id), now - chrono::Duration::hours(24)),
        store.latency_summary(Some(&account.id), now - chrono::Duration::days(DAYS.into())),
        store.keys(&account.id),
        store.auto_topup_this_month(&account.id),
    ) {
        Ok(all) => all,
        Err(e) => return page::store_failed(e),
    };
    let days = chart::days(usage.since, now.date_naive(), &usage.by_day(), &errors);
    let codes: BTreeMap<String, i64> = errors.iter().fold(BTreeMap::new(), |mut m, c| {
        *m.entry(c.code.clone().unwrap_or_else(|| "other".into()))
            .or_default() += c.requests;
        m
    });
    let plan = &s.caller.plan;
    let body = html! {
        h1 { "Overview" }
        div.grid {
            section.card.stat #balance {
                h2 { "Credits" }
                p.big data-testid="balance" { (int(account.balance)) }
                p.muted { (int(account.reserved)) " reserved by requests in flight · "
                    (crate::COST_PER_PAGE) " credits per page" }
            }
            section.card.stat {
                h2 { "Plan" }
                p.big data-testid="plan" { (account.plan) }
                p.muted {
                    (plan.concurrency) " at once · " (plan.rps) " requests/s sustained · burst " (plan.burst)
                }
                p.muted { "Exit countries: " (countries(&plan.countries)) }
            }
            section.card.stat {
                h2 { "Auto-top-up" }
                @match &account.auto_topup {
                    Some(t) => {
                        p.big { "on" }
                        p.muted { "adds " (int(t.amount)) " when the balance would fall below " (int(t.threshold))
                            "; " (int(topped_up)) " of " (int(t.monthly_cap)) " added this month" }
                    }
                    None => { p.big { "off" } p.muted { "A request with too few credits answers 402." } }
                }
            }
            section.card.stat #success {
                h2 { "Success" }
                (latency(&day, "last 24 hours"))
                (latency(&month, "last 30 days"))
            }
        }
        section.card {
            h2 { "Last " (DAYS) " days" }
            p.muted {
                (int(usage.total.requests)) " requests · " (int(usage.total.billed_requests)) " billed · "
                (int(usage.total.credits)) " credits"
            }
            (chart::svg(&days))
            (chart::legend(codes.keys()))
            @if !codes.is_empty() {
                h3 { "Errors by code" }
                table {
                    thead { tr { th { "code" } th.num { "requests" } } }
                    tbody { @for (code, n) in &codes {
                        tr { td { a href={ "/dashboard/requests?code=" (code) } { code { (code) } } } td.num { (int(*n)) } }
                    } }
                }
            }
        }
        section.card {
            h2 { "By key" }
            div.scroll { table {
                thead { tr { th { "key" } th { "state" } th.num { "requests" } th.num { "billed" } th.num { "credits" } } }
                tbody {
                    @for (prefix, t) in usage.by_key() {
                        @let key = keys.iter().find(|k| Some(&k.short_prefix) == prefix.as_ref());
                        tr {
                            td { code { (prefix.as_deref().unwrap_or("—")) "…" } }
                            td { (key.map_or("—", |k| super::keys::state_label(k, now))) }
                            td.num { (int(t.requests)) } td.num { (int(t.billed_requests)) } td.num { (int(t.credits)) }
                        }
                    }
                    @if usage.rows.is_empty() { tr { td colspan="5" .muted { "No requests in the last " (DAYS) " days." } } }
                }
            } }
        }
    };
    let viewer = s.viewer();
    page::respond(
        StatusCode::OK,
        page::page(Area::Account, "Overview", "overview", Some(viewer), body),
    )
}

fn countries(c: &crate::config::Countries) -> String {
    serde_json::to_value(c)
        .ok()
        .map(|v| match v {
            serde_json::Value::String(s) => s,
            serde_json::Value::Array(list) => list
                .iter()
                .filter_map(|x| x.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            other => other.to_string(),
        })
        .unwrap_or_default()
}

fn latency(s: &LatencySummary, window: &str) -> Markup {
    html! {
        p { strong data-testid="success-rate" { (percent(s.success_rate())) } " 2xx of " (int(s.requests)) ", " (window) }
        @if s.requests > 0 {
            p.muted { "latency p50 " (int(s.p50_ms)) " ms · p90 " (int(s.p90_ms)) " ms · p99 " (int(s.p99_ms)) " ms" }
        }
    }
}
