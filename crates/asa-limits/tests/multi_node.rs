//! Three limiter instances sharing one Redis stand for three `asa serve` nodes. Real time on
//! loopback (Redis `TIME` is the clock); runs when `REDIS_URL` is set.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use asa_limits::{LimitSpec, Limiter, Refusal};

const NODES: usize = 3;

async fn nodes(global_capacity: u32) -> Option<Vec<Arc<dyn Limiter>>> {
    let Ok(url) = std::env::var("REDIS_URL") else {
        eprintln!("REDIS_URL is not set: skipping the multi-node test");
        return None;
    };
    let prefix = format!("asa-test:{:016x}", rand::random::<u64>());
    let mut nodes = Vec::new();
    for _ in 0..NODES {
        let node = asa_limits::redis(&url, global_capacity, &prefix)
            .await
            .expect("REDIS_URL answers");
        nodes.push(node);
    }
    Some(nodes)
}

/// 5x the plan's sustained rate, spread over three nodes for 6 s: the accepted count stays
/// within 5% of rps x duration + burst.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_hold_the_rate_under_5x_overload() {
    let Some(nodes) = nodes(1_000).await else {
        return;
    };
    let spec = LimitSpec::new(1_000, 25.0, 60); // the pro plan's rate and burst
    let run_for = Duration::from_secs(6);
    let per_node_rps = spec.rps * 5.0 / NODES as f64;
    let accepted = Arc::new(AtomicU32::new(0));
    let offered = Arc::new(AtomicU32::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = nodes
        .into_iter()
        .map(|node| {
            let (accepted, offered) = (accepted.clone(), offered.clone());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / per_node_rps));
                while started.elapsed() < run_for {
                    tick.tick().await;
                    offered.fetch_add(1, Ordering::Relaxed);
                    match node.admit("acct", spec).await {
                        Ok(admission) => {
                            accepted.fetch_add(1, Ordering::Relaxed);
                            drop(admission);
                        }
                        Err(refusal) => {
                            assert!(matches!(refusal, Refusal::Rate { .. }), "{refusal:?}")
                        }
                    }
                }
            })
        })
        .collect();
    for task in futures::future::join_all(tasks).await {
        task.expect("node ran");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let accepted = f64::from(accepted.load(Ordering::Relaxed));
    let offered = f64::from(offered.load(Ordering::Relaxed));
    let expected = spec.rps * elapsed + f64::from(spec.burst);
    eprintln!(
        "3 nodes, {elapsed:.2} s: offered {offered}, accepted {accepted}, rps x duration + burst = {expected:.1}"
    );
    assert!(
        offered >= 4.5 * spec.rps * elapsed,
        "offered {offered}: not the 5x overload intended"
    );
    assert!(
        (accepted - expected).abs() <= 0.05 * expected,
        "accepted {accepted}, expected {expected:.1} within 5%"
    );
}

/// Requests arriving at once on three nodes: exactly the ceiling of them hold a slot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_share_one_concurrency_ceiling_and_capacity() {
    let Some(nodes) = nodes(4).await else {
        return;
    };
    const PER_NODE: usize = 12;
    let spec = LimitSpec::new(7, 1e6, 1_000_000);
    let barrier = Arc::new(tokio::sync::Barrier::new(NODES * PER_NODE));
    let (admitted, permitted) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
    let mut tasks = Vec::new();
    for node in &nodes {
        for _ in 0..PER_NODE {
            let (node, barrier) = (Arc::clone(node), Arc::clone(&barrier));
            let (admitted, permitted) = (Arc::clone(&admitted), Arc::clone(&permitted));
            tasks.push(tokio::spawn(async move {
                let admission = node.admit("acct", spec).await;
                if admission.is_ok() {
                    admitted.fetch_add(1, Ordering::SeqCst);
                }
                let permit = node.capacity().await;
                if permit.is_ok() {
                    permitted.fetch_add(1, Ordering::SeqCst);
                }
                // Everyone has tried while the winners still hold their slots.
                barrier.wait().await;
                if let Ok(admission) = admission {
                    admission.release().await;
                }
                if let Ok(permit) = permit {
                    permit.release().await;
                }
            }));
        }
    }
    for task in futures::future::join_all(tasks).await {
        task.expect("request ran");
    }
    assert_eq!(admitted.load(Ordering::SeqCst), 7);
    assert_eq!(permitted.load(Ordering::SeqCst), 4);
    for node in &nodes {
        assert_eq!(node.usage("acct", spec).await.unwrap().in_flight, 0);
    }
}
