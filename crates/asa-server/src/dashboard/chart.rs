//! The usage chart: one stacked bar per UTC day (2xx answers, then errors by code), drawn
//! as inline SVG on the server, so it needs no script and reads the same everywhere.

use asa_store::{CodeCount, UsageTotals};
use chrono::NaiveDate;
use maud::{html, Markup};
use std::collections::BTreeMap;

/// One day of the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Day {
    pub date: NaiveDate,
    pub requests: i64,
    pub billed: i64,
    /// Error answers by code ("other" for an error stored without one).
    pub errors: BTreeMap<String, i64>,
}

impl Day {
    fn error_total(&self) -> i64 {
        self.errors.values().sum()
    }

    /// Each code's count and the height it stacks on, above `ok` 2xx answers.
    fn segments(&self, ok: i64) -> Vec<(&str, i64, i64)> {
        let mut below = ok;
        self.errors
            .iter()
            .map(|(code, n)| {
                let segment = (code.as_str(), *n, below);
                below += n;
                segment
            })
            .collect()
    }
}

/// Every day from `since` to `today`, filled from the usage and error figures.
pub fn days(
    since: NaiveDate,
    today: NaiveDate,
    usage: &[(NaiveDate, UsageTotals)],
    errors: &[CodeCount],
) -> Vec<Day> {
    since
        .iter_days()
        .take_while(|d| *d <= today)
        .map(|date| {
            let totals = usage
                .iter()
                .find(|(d, _)| *d == date)
                .map(|(_, t)| *t)
                .unwrap_or_default();
            let errors = errors
                .iter()
                .filter(|c| c.date == date)
                .map(|c| (c.code.clone().unwrap_or_else(|| "other".into()), c.requests))
                .collect();
            Day {
                date,
                requests: totals.requests,
                billed: totals.billed_requests,
                errors,
            }
        })
        .collect()
}

/// A fixed colour per error code, so a code looks the same on every day and page.
pub fn color(code: &str) -> &'static str {
    const PALETTE: [&str; 8] = [
        "#d9480f", "#c2255c", "#7048e8", "#e67700", "#1c7ed6", "#862e9c", "#a61e4d", "#5c940d",
    ];
    let h = code
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b.into()));
    PALETTE[(h as usize) % PALETTE.len()]
}

const OK_COLOR: &str = "#2f9e44";
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 180.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 20.0;

pub fn svg(days: &[Day]) -> Markup {
    let max = days.iter().map(|d| d.requests).max().unwrap_or(0).max(1) as f64;
    let slot = WIDTH / days.len().max(1) as f64;
    let plot = HEIGHT - TOP - BOTTOM;
    let y = |n: f64| HEIGHT - BOTTOM - n / max * plot;
    html! {
        svg.chart viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img" data-testid="usage-chart"
            aria-label="Requests per day: 2xx answers and errors by code" {
            line x1="0" y1=(HEIGHT - BOTTOM) x2=(WIDTH) y2=(HEIGHT - BOTTOM) stroke="#adb5bd" {}
            text x="2" y="11" font-size="11" fill="#495057" { (max as i64) " requests" }
            @for (i, d) in days.iter().enumerate() {
                @let x = i as f64 * slot + slot * 0.15;
                @let w = slot * 0.7;
                @let ok = (d.requests - d.error_total()).max(0) as f64;
                g {
                    title { (d.date) ": " (d.requests) " requests, " (d.billed) " billed, "
                        (d.error_total()) " errors" }
                    @if ok > 0.0 {
                        rect x=(x) y=(y(ok)) width=(w) height=(HEIGHT - BOTTOM - y(ok)) fill=(OK_COLOR) {}
                    }
                    @for (code, n, below) in d.segments(ok as i64) {
                        @let (bottom, top) = (below as f64, (below + n) as f64);
                        rect x=(x) y=(y(top)) width=(w) height=(y(bottom) - y(top)) fill=(color(code)) {
                            title { (d.date) ": " (n) " " (code) }
                        }
                    }
                }
                @if (i % 7 == 0 && i + 4 < days.len()) || i + 1 == days.len() {
                    text x=(x) y=(HEIGHT - 5.0) font-size="10" fill="#495057" { (d.date.format("%m-%d")) }
                }
            }
        }
    }
}

/// A colour square (an SVG: the page's CSP allows no inline style).
fn swatch(fill: &str) -> Markup {
    html! { svg.swatch width="10" height="10" aria-hidden="true" { rect width="10" height="10" fill=(fill) {} } }
}

pub fn legend<'a>(codes: impl Iterator<Item = &'a String>) -> Markup {
    html! {
        ul.legend {
            li { (swatch(OK_COLOR)) "2xx" }
            @for code in codes { li { (swatch(color(code))) (code) } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use asa_model::Credits;

    #[test]
    fn every_day_gets_a_bar_and_errors_stack_by_code() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let usage = vec![(
            d("2026-12-02"),
            UsageTotals {
                requests: 10,
                billed_requests: 7,
                credits: Credits(35),
            },
        )];
        let errors = vec![
            CodeCount {
                date: d("2026-12-02"),
                code: Some("blocked_by_amazon".into()),
                requests: 2,
            },
            CodeCount {
                date: d("2026-12-02"),
                code: None,
                requests: 1,
            },
        ];
        let days = days(d("2026-12-01"), d("2026-12-03"), &usage, &errors);
        assert_eq!(days.len(), 3);
        assert_eq!(days[0].requests, 0);
        assert_eq!(days[1].error_total(), 3);
        assert_eq!(days[1].errors["other"], 1);
        let svg = svg(&days).into_string();
        assert_eq!(svg.matches("<rect").count(), 3, "{svg}");
        assert!(svg.contains(color("blocked_by_amazon")));
        assert_eq!(color("x"), color("x"));
    }
}
