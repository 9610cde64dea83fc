//! Three nodes in one process sharing one PostgreSQL schema and one Redis key prefix, as
//! three `asa serve` processes would: the ledger property over all of them, and the limits
//! property of `limits.rs` across them. Runs when both `DATABASE_URL` and `REDIS_URL` are set.

use crate::harness::*;
use crate::limits;
use crate::mixed;
use rand::RngCore;

const NODES: usize = 3;

/// The backend, the Redis URL and a fresh key prefix, or `None` with a skip line.
fn shared(test: &str) -> Option<(Backend, String, String)> {
    let backend = Backend::postgres(test)?;
    let redis = redis_url(test)?;
    let prefix = format!("asa_test_{:016x}", rand::thread_rng().next_u64());
    Some((backend, redis, prefix))
}

async fn three_nodes(
    backend: &Backend,
    redis: &str,
    prefix: &str,
    faults: asa_sim::FaultRates,
    plans: &[(&str, asa_server::config::PlanConfig)],
) -> Vec<Node> {
    let node_config = || {
        let mut c = config(backend, plans);
        c.redis_url = Some(redis.to_string());
        c.redis_prefix = prefix.to_string();
        c
    };
    // The first node starts the simulator; the others fetch from it too.
    let mut nodes = vec![spawn(node_config(), faults).await];
    for _ in 1..NODES {
        let node = spawn_beside(node_config(), &nodes[0]).await;
        nodes.push(node);
    }
    nodes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ledger_property_holds_on_three_nodes_sharing_postgres_and_redis() {
    let _one_at_a_time = EXCLUSIVE.lock().await;
    let test = "ledger_property_holds_on_three_nodes_sharing_postgres_and_redis";
    let Some((backend, redis, prefix)) = shared(test) else {
        return;
    };
    let plans = [(mixed::PLAN, mixed::ledger_plan())];
    let nodes = three_nodes(&backend, &redis, &prefix, mixed::fault_rates(), &plans).await;
    let bases: Vec<String> = nodes.iter().map(|n| n.base.clone()).collect();
    mixed::run(&bases, &nodes[0].store, 360, 21).await;
    backend.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn limits_hold_across_three_nodes_sharing_redis() {
    let _one_at_a_time = EXCLUSIVE.lock().await;
    let Some((backend, redis, prefix)) = shared("limits_hold_across_three_nodes_sharing_redis")
    else {
        return;
    };
    let nodes = three_nodes(
        &backend,
        &redis,
        &prefix,
        Default::default(),
        &limits::plans(),
    )
    .await;
    limits::property(&nodes, nodes[0].sim()).await;
    backend.finish().await;
}
