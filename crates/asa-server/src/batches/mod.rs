//! Asynchronous batches in the server: the creation body's checks, the JSON a batch is
//! shown as, the node's worker that runs items like their sync calls, and the webhook
//! deliverer with its target checks. The queue and the schedule live in `asa-store`.

pub mod body;
pub mod create;
pub mod target;
pub mod webhook;
pub mod worker;
