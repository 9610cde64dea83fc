//! The operator's side of the real binary: `asa migrate` (and `--check`) on SQLite and,
//! when `DATABASE_URL` is set, on a fresh PostgreSQL schema; `log_format = "json"` and the
//! client address behind a trusted proxy, read from the node's own log.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};
use support::{start_node_logging, Shared};

/// `asa migrate ARGS` on `database_url` (in `schema`): exit code and stdout.
fn migrate(database_url: &str, schema: Option<&str>, args: &[&str]) -> (i32, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_asa"));
    command
        .arg("migrate")
        .args(args)
        .env("ASA_DATABASE_URL", database_url)
        .env_remove("ASA_DATABASE_SCHEMA");
    if let Some(schema) = schema {
        command.env("ASA_DATABASE_SCHEMA", schema);
    }
    let out = command.output().expect("asa migrate runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), format!("{stdout}{stderr}"))
}

fn check_then_apply(database_url: &str, schema: Option<&str>) {
    let (code, out) = migrate(database_url, schema, &["--check"]);
    assert_eq!(code, 1, "a fresh database has pending migrations: {out}");
    assert!(out.contains("pending: 0001 init"), "{out}");
    assert!(out.contains("0003"), "{out}");
    let (code, out) = migrate(database_url, schema, &["--check", "--json"]);
    assert_eq!(code, 1, "{out}");
    let report: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(report["current"], false);
    assert_eq!(report["pending"].as_array().unwrap().len(), 3, "{report}");

    let (code, out) = migrate(database_url, schema, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("applied 0001 init"), "{out}");
    let (code, out) = migrate(database_url, schema, &["--check"]);
    assert_eq!((code, out.trim().ends_with("current")), (0, true), "{out}");
    let (code, out) = migrate(database_url, schema, &["--json"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(out.trim()).unwrap()["applied"],
        serde_json::json!([])
    );
}

#[test]
fn migrate_check_lists_what_is_pending_and_migrate_applies_it_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("asa.db").display());
    check_then_apply(&url, None);
}

#[tokio::test]
async fn migrate_check_lists_what_is_pending_and_migrate_applies_it_postgres() {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        eprintln!("skipped: DATABASE_URL is not set (this test needs a real PostgreSQL)");
        return;
    };
    let schema = format!("asa_migrate_{:x}", support::rand_tag() & 0xffff_ffff);
    let (u, s) = (url.clone(), schema.clone());
    tokio::task::spawn_blocking(move || check_then_apply(&u, Some(&s)))
        .await
        .unwrap();
    // The tables are in that schema, and only there.
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'accounts'",
    )
    .bind(&schema)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(n, 1);
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&pool)
        .await
        .unwrap();
}

/// Waits until `log` holds a line containing `needle`, and returns the whole log.
async fn log_with(log: &std::path::Path, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.contains(needle) || Instant::now() > deadline {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_name_the_forwarded_client_only_behind_a_trusted_proxy() {
    let sim = asa_sim::start_local(asa_sim::SimConfig::default())
        .await
        .unwrap();
    let client = reqwest::Client::new();
    // A request as a proxy forwards it: the client forged the first hop, the proxy
    // appended the address it saw.
    let forwarded = "6.6.6.6, 203.0.113.7";
    for (trusted, want) in [("127.0.0.1/32", "203.0.113.7"), ("", "127.0.0.1")] {
        let shared = Shared::sqlite();
        let log = shared.dir.path().join("serve.log");
        let node = start_node_logging(
            &shared,
            &sim,
            &[("ASA_LOG_FORMAT", "json"), ("ASA_TRUSTED_PROXIES", trusted)],
            Some(&log),
        );
        let res = client
            .get(format!("{}/no/such/page", node.base))
            .header("x-forwarded-for", forwarded)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 404);
        let id = res.headers()["x-request-id"].to_str().unwrap().to_string();
        let text = log_with(&log, &id).await;
        let line = text
            .lines()
            .find(|l| l.contains(&id))
            .unwrap_or_else(|| panic!("the refusal {id} is logged: {text}"));
        let entry: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("log_format = json writes JSON lines: {e}: {line}"));
        assert_eq!(entry["span"]["client_ip"], want, "{line}");
        assert!(
            !line.contains("6.6.6.6"),
            "a forged hop is never the client: {line}"
        );
        for l in text.lines().filter(|l| !l.trim().is_empty()) {
            assert!(
                serde_json::from_str::<serde_json::Value>(l).is_ok(),
                "not JSON: {l}"
            );
        }
        drop(node);
    }
}
