//! A reservation held for one page fetch, settled exactly once: charged when the page is
//! delivered as a 2xx, released otherwise. If the request ends without settling (client
//! gone, panic), the guard releases it from a spawned task; a node that dies leaves it to
//! expire and be released by the sweeper.

use crate::error::ApiError;
use asa_model::ErrorCode;
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
        account_id: &str,
        request_id: &str,
        cost: i64,
        ttl: Duration,
    ) -> Result<ReservationGuard, ApiError> {
        match store.reserve(account_id, request_id, cost, ttl).await {
            Ok(r) => Ok(ReservationGuard { store: store.clone(), reservation: Some(r) }),
            Err(ReserveError::Insufficient { balance, cost }) => Err(ApiError::new(
                ErrorCode::InsufficientCredits,
                format!("Your balance is {balance} credits and this call costs {cost}; top up or turn on auto-top-up."),
            )),
            Err(ReserveError::Store(e)) => Err(ApiError::internal(format!("reserving credits: {e}"))),
        }
    }

    /// Charges the reservation; the caller delivers its 2xx only if this succeeds.
    pub async fn charge(mut self) -> Result<i64, ApiError> {
        let Some(r) = self.reservation.take() else {
            return Ok(0);
        };
        match self.store.charge(&r).await {
            Ok(ChargeOutcome::Charged { .. }) => Ok(r.cost),
            // A replay of the same request id: it was charged once already.
            Ok(ChargeOutcome::AlreadyCharged) => Ok(r.cost),
            Ok(ChargeOutcome::Refused(why)) => Err(ApiError::internal(format!(
                "charge refused for {}: {why:?}",
                r.request_id
            ))),
            Err(e) => {
                let _ = self.store.release(&r).await;
                Err(ApiError::internal(format!(
                    "charging {}: {e}",
                    r.request_id
                )))
            }
        }
    }

    pub async fn release(mut self) {
        if let Some(r) = self.reservation.take() {
            if let Err(e) = self.store.release(&r).await {
                tracing::error!(request_id = %r.request_id, error = %e, "release failed; the reservation will expire");
            }
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
