//! A reservation held for one page fetch, settled exactly once: charged when the page is
//! delivered as a 2xx, released otherwise. If the request ends without settling (client
//! gone, panic), the guard releases it from a spawned task; a node that dies leaves it to
//! expire and be released by the sweeper.
//!
//! A client that disconnects makes the server drop the handler's future at its next await.
//! So that this never cuts a store write in half (a reservation committed but never owned
//! by a guard, held until it expires), reserve, charge and release each run to completion in
//! a task of their own; a guard whose handler is gone is dropped, and so released, when
//! its reservation comes back. The contract this gives: a request whose client vanished
//! before the server began charging is released, never charged; the one window left is a
//! client that vanishes after the charge began and before it read the answer, which is
//! charged for an answer it never read (the charge is the last step before the write).

use crate::error::ApiError;
use asa_model::{AccountId, Credits, ErrorCode, RequestId};
use asa_store::{ChargeOutcome, Reservation, ReserveError, Store};
use std::sync::Arc;
use std::time::Duration;

pub struct ReservationGuard {
    store: Arc<dyn Store>,
    reservation: Option<Reservation>,
}

impl ReservationGuard {
    pub async fn reserve(
        store: &Arc<dyn Store>,
        account_id: &AccountId,
        request_id: &RequestId,
        cost: Credits,
        ttl: Duration,
    ) -> Result<ReservationGuard, ApiError> {
        let (store, account_id, request_id) =
            (store.clone(), account_id.clone(), request_id.clone());
        let reserving = tokio::spawn(async move {
            let taken = store.reserve(&account_id, &request_id, cost, ttl).await;
            // Owned by a guard inside the task: if the handler is gone, dropping the task's
            // output releases it.
            taken.map(|r| ReservationGuard {
                store,
                reservation: Some(r),
            })
        });
        let taken = reserving
            .await
            .map_err(|e| ApiError::internal(format!("reserving credits: {e}")))?;
        match taken {
            Ok(guard) => Ok(guard),
            Err(ReserveError::Insufficient { balance, cost }) => Err(ApiError::new(
                ErrorCode::InsufficientCredits,
                format!("Your balance is {balance} credits and this call costs {cost}; top up or turn on auto-top-up."),
            )),
            Err(ReserveError::Store(e)) => Err(ApiError::internal(format!("reserving credits: {e}"))),
        }
    }

    /// Charges the reservation; the caller delivers its 2xx only if this succeeds.
    pub async fn charge(mut self) -> Result<Credits, ApiError> {
        let Some(r) = self.reservation.take() else {
            return Ok(Credits::ZERO);
        };
        let store = self.store.clone();
        let charging = tokio::spawn(async move {
            let outcome = store.charge(&r).await;
            if outcome.is_err() {
                let _ = store.release(&r).await;
            }
            (r, outcome)
        });
        let (r, outcome) = charging
            .await
            .map_err(|e| ApiError::internal(format!("charging: {e}")))?;
        match outcome {
            Ok(ChargeOutcome::Charged { .. }) => Ok(r.cost),
            // A replay of the same request id: it was charged once already.
            Ok(ChargeOutcome::AlreadyCharged) => Ok(r.cost),
            Ok(ChargeOutcome::Refused(why)) => Err(ApiError::internal(format!(
                "charge refused for {}: {why:?}",
                r.request_id
            ))),
            Err(e) => Err(ApiError::internal(format!(
                "charging {}: {e}",
                r.request_id
            ))),
        }
    }

    /// The credits this reservation holds.
    pub fn cost(&self) -> Credits {
        self.reservation.as_ref().map_or(Credits::ZERO, |r| r.cost)
    }

    /// Hands the reservation over to a caller that settles it itself (a batch item charges
    /// it with its stored result); the guard no longer releases it.
    pub fn into_reservation(mut self) -> Option<Reservation> {
        self.reservation.take()
    }

    pub async fn release(mut self) {
        if let Some(r) = self.reservation.take() {
            let store = self.store.clone();
            let releasing = tokio::spawn(async move {
                if let Err(e) = store.release(&r).await {
                    tracing::error!(request_id = %r.request_id, error = %e, "release failed; the reservation will expire");
                }
            });
            let _ = releasing.await;
        }
    }
}

impl Drop for ReservationGuard {
    fn drop(&mut self) {
        if let Some(r) = self.reservation.take() {
            let store = self.store.clone();
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                handle.spawn(async move {
                    if let Err(e) = store.release(&r).await {
                        tracing::error!(request_id = %r.request_id, error = %e, "release after an unfinished request failed; it will expire");
                    }
                });
            }
        }
    }
}

/// How a fetched page's reservation is settled: at once, before a sync answer is written;
/// or with the result it pays for, when a batch worker stores an item (so that the charge
/// and the result commit together).
pub enum Settlement {
    Now,
    WithResult(std::sync::Mutex<Vec<Reservation>>),
}

impl Settlement {
    pub fn with_result() -> Settlement {
        Settlement::WithResult(std::sync::Mutex::new(Vec::new()))
    }

    /// Charges a delivered page (now, or by keeping its reservation for the result) and
    /// releases anything else; returns the credits the page costs.
    pub async fn settle(
        &self,
        reservation: Option<ReservationGuard>,
        delivered: bool,
    ) -> Result<Credits, ApiError> {
        match (reservation, delivered) {
            (None, _) => Ok(Credits::ZERO),
            (Some(r), false) => {
                r.release().await;
                Ok(Credits::ZERO)
            }
            (Some(r), true) => match self {
                Settlement::Now => r.charge().await,
                Settlement::WithResult(kept) => {
                    let cost = r.cost();
                    if let Some(r) = r.into_reservation() {
                        kept.lock().unwrap_or_else(|e| e.into_inner()).push(r);
                    }
                    Ok(cost)
                }
            },
        }
    }

    /// The reservations kept for the result.
    pub fn kept(self) -> Vec<Reservation> {
        match self {
            Settlement::Now => Vec::new(),
            Settlement::WithResult(kept) => kept.into_inner().unwrap_or_else(|e| e.into_inner()),
        }
    }
}
