//! The page shell every dashboard page shares (head, navigation, assets), the headers that
//! keep pages private and unframeable, error pages, and small formatting helpers.

use chrono::{DateTime, Utc};
use maud::{html, Markup, DOCTYPE};

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Scripts and styles come only from our own files; forms post only to us; no framing.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub const CSS: &str = include_str!("assets/app.css");
pub const JS: &str = include_str!("assets/app.js");

/// Which part of the site a page belongs to: sets the links and the navigation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Area {
    Account,
    Operator,
}

impl Area {
    pub fn base(self) -> &'static str {
        match self {
            Area::Account => "/dashboard",
            Area::Operator => "/operator",
        }
    }

    fn nav(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Area::Account => &[
                ("overview", ""),
                ("keys", "/keys"),
                ("requests", "/requests"),
                ("batches", "/batches"),
                ("playground", "/playground"),
            ],
            Area::Operator => &[("operator", "")],
        }
    }
}

/// Who a signed-in page is for, shown in the header with the sign-out form.
pub struct Viewer<'a> {
    pub label: &'a str,
    pub csrf: &'a str,
}

/// A full page: head, header with navigation (when signed in), main.
pub fn page(
    area: Area,
    title: &str,
    active: &str,
    viewer: Option<Viewer<'_>>,
    main: Markup,
) -> Markup {
    let base = area.base();
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · asa" }
                link rel="stylesheet" href={ (base) "/assets/app.css" };
                script src={ (base) "/assets/app.js" } defer {}
            }
            body {
                header.top {
                    a.brand href=(base) { "asa" }
                    @if let Some(v) = &viewer {
                        nav {
                            @for (name, path) in area.nav() {
                                a href={ (base) (path) } class=[(*name == active).then_some("active")] { (name) }
                            }
                        }
                        form.signout method="post" action={ (base) "/logout" } {
                            input type="hidden" name="csrf" value=(v.csrf);
                            span.who { (v.label) }
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main { (main) }
            }
        }
    }
}

/// An HTML answer with the headers every dashboard page carries.
pub fn respond(status: StatusCode, markup: Markup) -> Response {
    let mut res = (status, markup.into_string()).into_response();
    private(&mut res, "text/html; charset=utf-8");
    res
}

/// No caching, no framing, no sniffing, no referrer beyond our own pages (`same-origin`:
/// with `no-referrer` browsers send `Origin: null` on our own forms), our CSP.
pub fn private(res: &mut Response, content_type: &'static str) {
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
}

/// A static asset: cacheable for an hour.
pub fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

fn message_page(area: Area, status: StatusCode, title: &str, text: &str) -> Response {
    respond(
        status,
        page(
            area,
            title,
            "",
            None,
            html! { section.card { h1 { (title) } p { (text) } } },
        ),
    )
}

/// Something on our side failed; the details go to the log, not the page. (Its page is
/// the account area's: on the admin listener it shows unstyled.)
pub fn failed(detail: &str) -> Response {
    tracing::error!(detail, "dashboard page failed");
    message_page(
        Area::Account,
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "The page could not be built. The error is in the server's log.",
    )
}

pub fn store_failed(e: asa_store::StoreError) -> Response {
    failed(&e.to_string())
}

pub fn not_found(area: Area, what: &str) -> Response {
    message_page(
        area,
        StatusCode::NOT_FOUND,
        "Not found",
        &format!("No {what} here in your account."),
    )
}

/// A form was posted without its session's token (or from another site).
pub fn forbidden(area: Area) -> Response {
    message_page(
        area,
        StatusCode::FORBIDDEN,
        "Form expired",
        "This form was not sent from the current session. Reload the page and try again.",
    )
}

/// A form value outside its rule: the form again, with the message.
pub fn notice(kind: &str, text: &str) -> Markup {
    html! { p class={ "notice " (kind) } role="status" { (text) } }
}

pub fn time(t: DateTime<Utc>) -> Markup {
    html! { time datetime=(t.to_rfc3339()) { (t.format("%Y-%m-%d %H:%M:%S UTC")) } }
}

pub fn opt_time(t: Option<DateTime<Utc>>) -> Markup {
    match t {
        Some(t) => time(t),
        None => html! { span.muted { "—" } },
    }
}

/// 1234567 as `1,234,567`.
pub fn int(n: impl Into<i64>) -> String {
    let n: i64 = n.into();
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn percent(share: Option<f64>) -> String {
    match share {
        Some(s) => format!("{:.1}%", s * 100.0),
        None => "—".into(),
    }
}

/// Pretty JSON inside `<pre>`, escaped.
pub fn json_block(value: &serde_json::Value) -> Markup {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    html! { pre.json { code { (text) } } }
}

/// A status code as a coloured badge.
pub fn status_badge(status: u16) -> Markup {
    let class = match status {
        200..=299 => "badge ok",
        400..=499 => "badge warn",
        _ => "badge bad",
    };
    html! { span class=(class) { (status) } }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ints_have_thousands_separators() {
        assert_eq!(super::int(0), "0");
        assert_eq!(super::int(999), "999");
        assert_eq!(super::int(1000), "1,000");
        assert_eq!(super::int(-1234567), "-1,234,567");
    }
}
