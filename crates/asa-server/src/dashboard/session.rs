//! Who a dashboard page is for: the session cookie, the signed-in account (or operator),
//! and the CSRF check every form goes through.
//!
//! The browser holds only a random session token in an `HttpOnly`, `SameSite=Strict`
//! cookie (`Secure` behind https); the API key it signed in with is never stored in the
//! browser or the database. A session ends at sign-out, at its expiry, or as soon as the
//! key it signed in with stops authenticating (revoked, or rotated out elsewhere).

use crate::auth::Caller;
use crate::state::AppState;
use asa_store::{DashboardSession, KeyState};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use subtle::ConstantTimeEq;

/// The cookie of an account session, sent only to `/dashboard`.
pub const ACCOUNT_COOKIE: &str = "asa_session";
/// The cookie of an operator session, sent only to `/operator` (on the admin listener).
pub const OPERATOR_COOKIE: &str = "asa_operator";

/// A signed-in account holder: the session, and the caller its key makes.
pub struct AccountSession {
    pub session: DashboardSession,
    pub caller: Caller,
}

impl AccountSession {
    /// The header's "signed in as" and the sign-out form's token.
    pub fn viewer(&self) -> super::page::Viewer<'_> {
        let a = &self.caller.account;
        super::page::Viewer {
            label: a.name.as_deref().unwrap_or(&a.id),
            csrf: &self.session.csrf,
        }
    }
}

/// A signed-in operator (admin token).
pub struct OperatorSession {
    pub session: DashboardSession,
}

/// Not signed in (or no longer): back to the sign-in page, saying why.
pub struct SignInFirst(&'static str, &'static str);

impl IntoResponse for SignInFirst {
    fn into_response(self) -> Response {
        Redirect::to(&format!("{}/login?why={}", self.0, self.1)).into_response()
    }
}

/// The value of cookie `name` in the request, if any.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Whether the browser reached us over https (directly configured, or through a proxy
/// that says so).
fn over_https(state: &AppState, headers: &HeaderMap) -> bool {
    state.config.dashboard.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

/// `Set-Cookie` for a new session token, or to clear the cookie with `None`.
pub fn set_cookie(
    state: &AppState,
    headers: &HeaderMap,
    name: &str,
    path: &str,
    token: Option<&str>,
) -> HeaderValue {
    let secure = if over_https(state, headers) {
        "; Secure"
    } else {
        ""
    };
    let (value, age) = match token {
        Some(t) => (t, state.config.dashboard.session_ttl.as_secs()),
        None => ("", 0),
    };
    let cookie =
        format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict; Max-Age={age}{secure}");
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Whether a form's token is the session's, compared in constant time.
pub fn csrf_ok(session: &DashboardSession, presented: &str) -> bool {
    !presented.is_empty() && bool::from(session.csrf.as_bytes().ct_eq(presented.as_bytes()))
}

/// A sign-in form has no session yet: it must at least come from a page of ours. Browsers
/// send `Origin` on every POST; a form posted from another site names that site.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(origin);
    host.is_some_and(|h| h.eq_ignore_ascii_case(origin_host))
}

impl FromRequestParts<AppState> for AccountSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let base = "/dashboard";
        let token = cookie(&parts.headers, ACCOUNT_COOKIE)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| SignInFirst(base, "signed_out").into_response())?;
        let session = match state.store.session(token).await {
            Ok(Some(s)) if !s.is_operator() => s,
            Ok(_) => return Err(SignInFirst(base, "expired").into_response()),
            Err(e) => return Err(super::page::store_failed(e)),
        };
        let Some(key_id) = session.key_id.clone() else {
            return Err(SignInFirst(base, "expired").into_response());
        };
        let key = match state.store.key(&key_id).await {
            Ok(Some(k)) if k.state == KeyState::Active => k,
            Ok(_) => {
                // The key it signed in with was revoked: so is the session.
                let _ = state.store.delete_session(&session.id).await;
                return Err(SignInFirst(base, "revoked").into_response());
            }
            Err(e) => return Err(super::page::store_failed(e)),
        };
        let caller = crate::auth::caller_for(state, key)
            .await
            .map_err(|e| super::page::failed(&e.message))?;
        Ok(AccountSession { session, caller })
    }
}

impl FromRequestParts<AppState> for OperatorSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let base = "/operator";
        let token = cookie(&parts.headers, OPERATOR_COOKIE)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| SignInFirst(base, "signed_out").into_response())?;
        match state.store.session(token).await {
            Ok(Some(session)) if session.is_operator() => Ok(OperatorSession { session }),
            Ok(_) => Err(SignInFirst(base, "expired").into_response()),
            Err(e) => Err(super::page::store_failed(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, "a=1; asa_session=tok; b=2".parse().unwrap());
        assert_eq!(cookie(&h, ACCOUNT_COOKIE), Some("tok"));
        assert_eq!(cookie(&h, OPERATOR_COOKIE), None);
        h.append(header::COOKIE, "asa_operator=op".parse().unwrap());
        assert_eq!(cookie(&h, OPERATOR_COOKIE), Some("op"));
    }

    #[test]
    fn origin_must_be_our_host() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
        assert!(same_origin(&h), "no Origin: a same-site navigation");
        h.insert(header::ORIGIN, "http://127.0.0.1:8080".parse().unwrap());
        assert!(same_origin(&h));
        h.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        assert!(!same_origin(&h));
        h.insert(header::ORIGIN, "null".parse().unwrap());
        assert!(!same_origin(&h));
    }
}
