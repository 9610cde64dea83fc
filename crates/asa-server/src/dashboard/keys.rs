//! Keys: the account's keys (short prefix, kind, created, last used, state), and forms to
//! create, rotate (with an optional grace period) and revoke them. A new key is shown in
//! full once, on the page that answers its form, and never again.

use super::page::{self, notice, opt_time, time, Area};
use super::session::{csrf_ok, AccountSession};
use crate::state::AppState;
use asa_model::{ApiKey, KeyId, KeyKind};
use asa_store::{KeyRecord, KeyState, StoreError};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{DateTime, Utc};
use maud::{html, Markup};
use serde::Deserialize;
use std::time::Duration;

/// The longest grace period a rotation may give the old key.
const MAX_GRACE_MINUTES: u64 = 7 * 24 * 60;

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
}

#[derive(Deserialize)]
pub struct RotateForm {
    #[serde(default)]
    csrf: String,
    /// Minutes the old key keeps working; empty or 0 revokes it now.
    #[serde(default)]
    grace_minutes: String,
}

#[derive(Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    csrf: String,
}

/// "active", "revoked", or "active until …" during a grace period.
pub fn state_label(k: &KeyRecord, now: DateTime<Utc>) -> &'static str {
    match (k.state, k.expires_at) {
        (KeyState::Revoked, _) => "revoked",
        (KeyState::Active, Some(end)) if end > now => "grace period",
        (KeyState::Active, _) => "active",
    }
}

/// What a form did, shown above the list.
enum Outcome {
    None,
    /// A key's secret, shown this once.
    NewKey {
        key: ApiKey,
        what: &'static str,
    },
    Message(&'static str, String),
}

async fn render(
    state: &AppState,
    s: &AccountSession,
    status: StatusCode,
    outcome: Outcome,
) -> Response {
    let keys = match state.store.keys(&s.caller.account.id).await {
        Ok(k) => k,
        Err(e) => return page::store_failed(e),
    };
    let now = Utc::now();
    let csrf = &s.session.csrf;
    let body = html! {
        h1 { "API keys" }
        @match &outcome {
            Outcome::NewKey { key, what } => {
                section.card.secret data-testid="new-key" {
                    h2 { (what) }
                    p { "Copy it now: it is shown only this once, and asa keeps only its hash." }
                    div.copyrow {
                        input #new-key-value readonly value=(key.expose()) aria-label="The new key";
                        button type="button" data-copy="#new-key-value" { "Copy" }
                    }
                }
            }
            Outcome::Message(kind, text) => { (notice(kind, text)) }
            Outcome::None => {}
        }
        section.card {
            div.scroll { table #keys {
                thead { tr { th { "key" } th { "kind" } th { "created" } th { "last used" } th { "state" } th { "" } } }
                tbody {
                    @for k in &keys {
                        tr data-key=(k.short_prefix) {
                            td { code { (k.kind.prefix()) (k.short_prefix) "…" } @if Some(&k.id) == s.session.key_id.as_ref() { " " span.badge { "this session" } } }
                            td { (k.kind.as_str()) }
                            td { (time(k.created_at)) }
                            td { (opt_time(k.last_used_at)) }
                            td.state {
                                (state_label(k, now))
                                @if let (KeyState::Active, Some(end)) = (k.state, k.expires_at) { " until " (time(end)) }
                            }
                            td.actions { @if k.state == KeyState::Active && k.replaced_by.is_none() { (actions(k, csrf)) } }
                        }
                    }
                }
            } }
        }
        section.card {
            h2 { "New key" }
            form.inline method="post" action="/dashboard/keys" {
                input type="hidden" name="csrf" value=(csrf);
                label for="kind" { "Kind" }
                select #kind name="kind" {
                    option value="live" { "live (asa_live_, billed)" }
                    option value="test" { "sandbox (asa_test_, simulated, free)" }
                }
                button type="submit" { "Create key" }
            }
            p.hint { "An account holds at most " (asa_store::MAX_ACTIVE_KEYS) " active keys." }
        }
    };
    let viewer = s.viewer();
    page::respond(
        status,
        page::page(Area::Account, "API keys", "keys", Some(viewer), body),
    )
}

fn actions(k: &KeyRecord, csrf: &str) -> Markup {
    html! {
        form.inline method="post" action={ "/dashboard/keys/" (k.id) "/rotate" } {
            input type="hidden" name="csrf" value=(csrf);
            label { "grace "
                input type="number" name="grace_minutes" min="0" max=(MAX_GRACE_MINUTES) step="1" value="0" aria-label="Grace period in minutes";
                " min" }
            button type="submit" { "Rotate" }
        }
        form.inline method="post" action={ "/dashboard/keys/" (k.id) "/revoke" } data-confirm="Revoke this key now? Requests with it will answer 401 revoked." {
            input type="hidden" name="csrf" value=(csrf);
            button.danger type="submit" { "Revoke" }
        }
    }
}

/// The keys page after a form: its outcome above the list, or the error page.
async fn answer(
    state: &AppState,
    s: &AccountSession,
    outcome: Result<Outcome, StoreError>,
) -> Response {
    match outcome {
        Ok(o) => render(state, s, StatusCode::OK, o).await,
        Err(e) => page::store_failed(e),
    }
}

pub async fn list(State(state): State<AppState>, s: AccountSession) -> Response {
    render(&state, &s, StatusCode::OK, Outcome::None).await
}

/// The key `id`, when the form came from this session and the key belongs to its
/// account; another account's key is not found.
async fn own_key(
    state: &AppState,
    s: &AccountSession,
    csrf: &str,
    id: &str,
) -> Result<KeyRecord, Response> {
    if !csrf_ok(&s.session, csrf) {
        return Err(page::forbidden(Area::Account));
    }
    match state.store.key(&KeyId::from(id)).await {
        Ok(Some(k)) if k.account_id == s.caller.account.id => Ok(k),
        Ok(_) => Err(page::not_found(Area::Account, "such key")),
        Err(e) => Err(page::store_failed(e)),
    }
}

/// A refusal the user can act on, as a message; anything else stays an error.
fn refused(e: StoreError) -> Result<Outcome, StoreError> {
    match e {
        StoreError::TooManyKeys { limit, .. } => Ok(Outcome::Message(
            "error",
            format!("This account already has {limit} active keys: revoke one first."),
        )),
        StoreError::KeyRevoked { .. } => Ok(Outcome::Message(
            "error",
            "That key was already revoked or rotated.".into(),
        )),
        other => Err(other),
    }
}

pub async fn create(
    State(state): State<AppState>,
    s: AccountSession,
    Form(f): Form<CreateForm>,
) -> Response {
    if !csrf_ok(&s.session, &f.csrf) {
        return page::forbidden(Area::Account);
    }
    let kind = match f.kind.as_str() {
        "live" => KeyKind::Live,
        "test" => KeyKind::Test,
        _ => {
            let msg = Outcome::Message("error", "Kind must be live or test.".into());
            return render(&state, &s, StatusCode::BAD_REQUEST, msg).await;
        }
    };
    let outcome = match state.store.create_key(&s.caller.account.id, kind).await {
        Ok((_, key)) => Ok(Outcome::NewKey {
            key,
            what: "Your new key",
        }),
        Err(e) => refused(e),
    };
    answer(&state, &s, outcome).await
}

pub async fn rotate(
    State(state): State<AppState>,
    mut s: AccountSession,
    Path(id): Path<String>,
    Form(f): Form<RotateForm>,
) -> Response {
    let key = match own_key(&state, &s, &f.csrf, &id).await {
        Ok(k) => k,
        Err(res) => return res,
    };
    let minutes = match f.grace_minutes.trim() {
        "" => 0,
        text => {
            match text.parse::<u64>() {
                Ok(m) if m <= MAX_GRACE_MINUTES => m,
                _ => {
                    let msg = Outcome::Message(
                    "error",
                    format!("The grace period is a whole number of minutes, 0 to {MAX_GRACE_MINUTES}."),
                );
                    return render(&state, &s, StatusCode::BAD_REQUEST, msg).await;
                }
            }
        }
    };
    let grace = (minutes > 0).then(|| Duration::from_secs(minutes * 60));
    let outcome = match state.store.rotate_key(&key.id, grace).await {
        Ok((new, secret)) => {
            // Rotating the key this browser signed in with moves the session to its successor.
            if s.session.key_id.as_deref() == Some(key.id.as_str()) {
                if let Err(e) = state.store.set_session_key(&s.session.id, &new.id).await {
                    return page::store_failed(e);
                }
                s.session.key_id = Some(new.id.clone());
            }
            Ok(Outcome::NewKey {
                key: secret,
                what: if grace.is_some() {
                    "Rotated: the old key keeps working until its grace period ends"
                } else {
                    "Rotated: the old key no longer works"
                },
            })
        }
        Err(e) => refused(e),
    };
    answer(&state, &s, outcome).await
}

pub async fn revoke(
    State(state): State<AppState>,
    s: AccountSession,
    Path(id): Path<String>,
    Form(f): Form<RevokeForm>,
) -> Response {
    let key = match own_key(&state, &s, &f.csrf, &id).await {
        Ok(k) => k,
        Err(res) => return res,
    };
    match state.store.revoke_key(&key.id).await {
        Ok(_) if s.session.key_id.as_deref() == Some(key.id.as_str()) => {
            // This browser signed in with it: the session goes with the key.
            let _ = state.store.delete_session(&s.session.id).await;
            Redirect::to("/dashboard/login?why=revoked").into_response()
        }
        Ok(k) => {
            let msg = Outcome::Message("ok", format!("Key {}… revoked.", k.short_prefix));
            render(&state, &s, StatusCode::OK, msg).await
        }
        Err(e) => match refused(e) {
            Ok(o) => render(&state, &s, StatusCode::CONFLICT, o).await,
            Err(e) => page::store_failed(e),
        },
    }
}
