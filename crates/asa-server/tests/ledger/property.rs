//! The ledger property on one node, on each store backend.

use crate::harness::*;
use crate::mixed;

async fn one_node(backend: Backend, seed: u64) {
    let mut config = config(&backend, &[(mixed::PLAN, mixed::ledger_plan())]);
    // Below the two accounts' ceilings together, so the storm meets `503 capacity` too.
    config.capacity = 24;
    let node = spawn(config, mixed::fault_rates()).await;
    mixed::run(std::slice::from_ref(&node.base), &node.store, 360, seed).await;
    backend.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ledger_property_holds_on_sqlite() {
    let _one_at_a_time = EXCLUSIVE.lock().await;
    one_node(Backend::sqlite(), 11).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ledger_property_holds_on_postgres() {
    let _one_at_a_time = EXCLUSIVE.lock().await;
    let Some(backend) = Backend::postgres("ledger_property_holds_on_postgres") else {
        return;
    };
    one_node(backend, 12).await;
}
