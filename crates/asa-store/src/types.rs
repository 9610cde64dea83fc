//! The store's domain records: accounts, keys, ledger entries and reservations.

use crate::error::StoreError;
use asa_model::{AccountId, Credits, KeyId, KeyKind, RequestId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A new account: its plan name and opening credits (recorded as a `top_up`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    pub plan: String,
    pub name: Option<String>,
    pub credits: Credits,
}

/// Per-account limits for plans whose numbers are set per account (`custom`); `None`
/// falls back to the plan table in the server's configuration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanOverrides {
    pub concurrency: Option<u32>,
    pub rps: Option<u32>,
}

/// Auto-top-up: when a reservation finds the balance short, or leaves it below
/// `threshold`, add `amount` credits, at most `monthly_cap` credits per calendar month (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoTopup {
    pub threshold: Credits,
    pub amount: Credits,
    pub monthly_cap: Credits,
}

impl AutoTopup {
    /// A setting that can work: a positive amount, a threshold not below zero, and a
    /// monthly cap that lets at least one top-up through (a cap below the amount would
    /// leave auto-top-up on yet never adding anything).
    pub fn check(&self) -> Result<(), StoreError> {
        if !self.amount.is_positive()
            || self.threshold < Credits::ZERO
            || self.monthly_cap < self.amount
        {
            return Err(StoreError::InvalidArgument(
                "auto-top-up needs amount > 0, threshold >= 0 and monthly cap >= amount".into(),
            ));
        }
        Ok(())
    }
}

/// An account (workspace): credits, plan and keys belong to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: AccountId,
    pub name: Option<String>,
    pub plan: String,
    pub overrides: PlanOverrides,
    /// Credits available for new reservations; never negative.
    pub balance: Credits,
    /// Credits held by reservations of requests in flight.
    pub reserved: Credits,
    pub auto_topup: Option<AutoTopup>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    Active,
    Revoked,
}

/// What the store keeps about a key: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyRecord {
    pub id: KeyId,
    pub account_id: AccountId,
    pub kind: KeyKind,
    /// The 12 characters after `asa_live_` / `asa_test_`: safe to show.
    pub short_prefix: String,
    /// As of the moment the record was read.
    pub state: KeyState,
    /// When revocation or rotation was asked for.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When the key stops authenticating: equal to `revoked_at`, or later by a grace period.
    pub expires_at: Option<DateTime<Utc>>,
    /// The key that replaced this one by rotation.
    pub replaced_by: Option<KeyId>,
    pub created_at: DateTime<Utc>,
    /// Updated at most once a minute per key, so it is accurate to about a minute.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// The result of presenting a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyStatus {
    Active(KeyRecord),
    /// Rotated out or revoked (grace over): `401 revoked`.
    Revoked,
    /// No such key: `401 unauthorized`.
    Unknown,
}

/// The kinds of ledger entries. `amount` is always positive; the kind says where it moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerKind {
    /// Credits added by an operator (and opening credits): balance += amount.
    TopUp,
    /// Credits added by auto-top-up: balance += amount.
    AutoTopUp,
    /// Balance -= amount, reserved += amount.
    Reserve,
    /// Reserved -= amount (or balance -= amount for a late charge after expiry): billed.
    Charge,
    /// Reserved -= amount, balance += amount: the request was not billed.
    Release,
    /// Like release, for a reservation whose node never settled it.
    Expire,
}

impl LedgerKind {
    pub const ALL: [LedgerKind; 6] = [
        LedgerKind::TopUp,
        LedgerKind::AutoTopUp,
        LedgerKind::Reserve,
        LedgerKind::Charge,
        LedgerKind::Release,
        LedgerKind::Expire,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LedgerKind::TopUp => "top_up",
            LedgerKind::AutoTopUp => "auto_top_up",
            LedgerKind::Reserve => "reserve",
            LedgerKind::Charge => "charge",
            LedgerKind::Release => "release",
            LedgerKind::Expire => "expire",
        }
    }

    pub fn parse(s: &str) -> Option<LedgerKind> {
        LedgerKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One change to an account's credits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerEntry {
    pub id: i64,
    pub account_id: AccountId,
    pub kind: LedgerKind,
    pub amount: Credits,
    pub balance_after: Credits,
    pub reserved_after: Credits,
    pub request_id: Option<RequestId>,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Credits held for one request until it is charged, released or expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    pub request_id: RequestId,
    pub account_id: AccountId,
    pub cost: Credits,
    pub expires_at: DateTime<Utc>,
    /// The balance right after reserving (after any auto-top-up).
    pub balance_after: Credits,
}

/// What [`crate::Store::charge`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeOutcome {
    /// Billed now. `late` is true when the reservation had expired and the cost was taken
    /// from the balance instead.
    Charged { balance: Credits, late: bool },
    /// This request id was charged before; nothing changed (a replay).
    AlreadyCharged,
    /// Not billed: the caller must not deliver a 2xx for this request.
    Refused(Refusal),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The reservation was released: the request was settled as not billed.
    Released,
    /// The reservation expired and the balance can no longer cover the cost.
    ExpiredInsufficient { balance: Credits, cost: Credits },
}
