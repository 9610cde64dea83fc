//! Signing in and out: an account holder with one of the account's API keys, an operator
//! with the admin token. The key is checked once, here, and never stored in the browser.

use super::page::{self, notice, Area};
use super::session::{cookie, csrf_ok, same_origin, set_cookie, ACCOUNT_COOKIE, OPERATOR_COOKIE};
use crate::state::AppState;
use asa_model::{AccountId, ApiKey, KeyId};
use asa_store::KeyStatus;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::html;
use serde::Deserialize;
use subtle::ConstantTimeEq;

#[derive(Deserialize, Default)]
pub struct Why {
    #[serde(default)]
    why: String,
}

#[derive(Deserialize)]
pub struct SignIn {
    #[serde(default)]
    key: String,
}

#[derive(Deserialize)]
pub struct SignOut {
    #[serde(default)]
    csrf: String,
}

fn why_text(why: &str) -> Option<&'static str> {
    match why {
        "expired" => Some("Your session ended; sign in again."),
        "revoked" => {
            Some("The key this session signed in with was revoked; sign in with a current key.")
        }
        "signed_out" | "" => None,
        "bye" => Some("Signed out."),
        _ => None,
    }
}

fn form(area: Area, status: StatusCode, message: Option<(&str, &str)>) -> Response {
    let (title, label, name, hint) = match area {
        Area::Account => (
            "Sign in",
            "API key",
            "key",
            "Any active key of your account (asa_live_… or asa_test_…). It is checked once and never kept in the browser.",
        ),
        Area::Operator => (
            "Operator sign-in",
            "Admin token",
            "key",
            "The server's admin token (admin.token).",
        ),
    };
    let body = html! {
        section.card.narrow {
            h1 { (title) }
            @if let Some((kind, text)) = message { (notice(kind, text)) }
            form method="post" action={ (area.base()) "/login" } {
                label for="key" { (label) }
                input id="key" name=(name) type="password" autocomplete="off" spellcheck="false" required autofocus;
                p.hint { (hint) }
                button type="submit" { "Sign in" }
            }
        }
    };
    page::respond(status, page::page(area, title, "", None, body))
}

pub async fn account_form(Query(q): Query<Why>) -> Response {
    form(
        Area::Account,
        StatusCode::OK,
        why_text(&q.why).map(|t| ("info", t)),
    )
}

pub async fn operator_form(Query(q): Query<Why>) -> Response {
    form(
        Area::Operator,
        StatusCode::OK,
        why_text(&q.why).map(|t| ("info", t)),
    )
}

fn cookie_name(area: Area) -> &'static str {
    match area {
        Area::Account => ACCOUNT_COOKIE,
        Area::Operator => OPERATOR_COOKIE,
    }
}

/// Opens a session (an account's with its key, or the operator's with neither), sets its
/// cookie and goes to the area's first page.
async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
    area: Area,
    account_id: Option<&AccountId>,
    key_id: Option<&KeyId>,
) -> Response {
    let ttl = state.config.dashboard.session_ttl;
    let token = match state.store.create_session(account_id, key_id, ttl).await {
        Ok((_, token)) => token,
        Err(e) => return page::store_failed(e),
    };
    redirect_setting_cookie(state, headers, area, area.base(), Some(&token))
}

/// A redirect to `to` that sets the area's session cookie (`None` clears it).
fn redirect_setting_cookie(
    state: &AppState,
    headers: &HeaderMap,
    area: Area,
    to: &str,
    token: Option<&str>,
) -> Response {
    let mut res = Redirect::to(to).into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(state, headers, cookie_name(area), area.base(), token),
    );
    res
}

pub async fn account_sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<SignIn>,
) -> Response {
    if !same_origin(&headers) {
        return page::forbidden(Area::Account);
    }
    let refused = |text| {
        form(
            Area::Account,
            StatusCode::UNAUTHORIZED,
            Some(("error", text)),
        )
    };
    let Some(key) = ApiKey::parse(f.key.trim()) else {
        return refused("That is not an API key: expected asa_live_ or asa_test_ followed by 32 letters and digits.");
    };
    let record = match state.store.authenticate(&key).await {
        Ok(KeyStatus::Active(record)) => record,
        Ok(KeyStatus::Revoked) => return refused("This key was revoked or rotated out."),
        Ok(KeyStatus::Unknown) => return refused("Unknown API key."),
        Err(e) => return page::store_failed(e),
    };
    let account = Some(&record.account_id);
    signed_in(&state, &headers, Area::Account, account, Some(&record.id)).await
}

pub async fn operator_sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<SignIn>,
) -> Response {
    if !same_origin(&headers) {
        return page::forbidden(Area::Operator);
    }
    let expected = state.config.admin.token.as_bytes();
    let given = f.key.trim().as_bytes();
    if expected.is_empty() || !bool::from(expected.ct_eq(given)) {
        return form(
            Area::Operator,
            StatusCode::UNAUTHORIZED,
            Some(("error", "Wrong admin token.")),
        );
    }
    signed_in(&state, &headers, Area::Operator, None, None).await
}

async fn sign_out(state: &AppState, headers: &HeaderMap, area: Area, csrf: &str) -> Response {
    if let Some(token) = cookie(headers, cookie_name(area)) {
        match state.store.session(token).await {
            Ok(Some(session)) => {
                if !csrf_ok(&session, csrf) {
                    return page::forbidden(area);
                }
                if let Err(e) = state.store.delete_session(&session.id).await {
                    return page::store_failed(e);
                }
            }
            Ok(None) => {}
            Err(e) => return page::store_failed(e),
        }
    }
    let to = format!("{}/login?why=bye", area.base());
    redirect_setting_cookie(state, headers, area, &to, None)
}

pub async fn account_sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<SignOut>,
) -> Response {
    sign_out(&state, &headers, Area::Account, &f.csrf).await
}

pub async fn operator_sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<SignOut>,
) -> Response {
    sign_out(&state, &headers, Area::Operator, &f.csrf).await
}
