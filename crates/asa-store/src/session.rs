//! Dashboard sessions: who a browser is signed in as, and the form token it must send back.

use asa_model::{AccountId, KeyId};
use chrono::{DateTime, Utc};

/// One signed-in browser. The browser holds a random token; the store keeps only its hash
/// (`id`), so neither the key nor a usable token sits in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardSession {
    /// SHA-256 of the token, hex: safe to log.
    pub id: String,
    /// `None` for an operator session (signed in with the admin token).
    pub account_id: Option<AccountId>,
    /// The key the account session signed in with; the session ends when it stops
    /// authenticating, unless the user rotated it from the dashboard (the session follows).
    pub key_id: Option<KeyId>,
    /// The token every form of this session must carry (CSRF).
    pub csrf: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl DashboardSession {
    pub fn is_operator(&self) -> bool {
        self.account_id.is_none()
    }
}
