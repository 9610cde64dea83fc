//! How auto-top-up gets paid. The store records an invoice line for every attempt, paid or
//! failed; a [`Payments`] implementation only collects the money.

use asa_model::{AccountId, Credits, RequestId};
use async_trait::async_trait;

/// One auto-top-up to collect.
#[derive(Debug, Clone)]
pub struct PaymentRequest<'a> {
    pub account_id: &'a AccountId,
    /// Credits to add once the payment succeeds.
    pub amount: Credits,
    /// The invoice line's id: an idempotency key for the payment provider.
    pub invoice_id: &'a str,
    /// The request whose reservation triggered the top-up.
    pub request_id: &'a RequestId,
}

/// Proof of a collected payment, stored on the invoice line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentReceipt {
    pub reference: String,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("payment declined: {0}")]
pub struct PaymentError(pub String);

/// Collects auto-top-up payments. It is called while the account is locked for writing, so
/// concurrent reservations trigger one top-up, not several: it must be quick and must not
/// call back into the store.
#[async_trait]
pub trait Payments: Send + Sync {
    async fn collect(&self, request: &PaymentRequest<'_>) -> Result<PaymentReceipt, PaymentError>;
}

/// The default: collects nothing itself; the invoice line the store records is the bill the
/// operator settles outside asa.
#[derive(Debug, Default, Clone, Copy)]
pub struct InvoiceOnly;

#[async_trait]
impl Payments for InvoiceOnly {
    async fn collect(&self, request: &PaymentRequest<'_>) -> Result<PaymentReceipt, PaymentError> {
        Ok(PaymentReceipt {
            reference: format!("invoice:{}", request.invoice_id),
        })
    }
}
