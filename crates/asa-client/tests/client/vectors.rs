//! The shared retry vectors (`sdk/retry-vectors.json`): the Rust client's decisions must
//! match them, and they must cover every code of the catalog as the catalog says.

use asa_client::retry::{parse_retry_after, Answer, Decision, Progress};
use asa_client::{ErrorCode, RetryPolicy, Stop};
use serde_json::Value;
use std::time::Duration;

fn vectors() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../sdk/retry-vectors.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn ms(v: &Value) -> Option<Duration> {
    v.as_u64().map(Duration::from_millis)
}

fn stop_name(s: Stop) -> &'static str {
    match s {
        Stop::NotRetryable => "not_retryable",
        Stop::AttemptsExhausted => "attempts_exhausted",
        Stop::Deadline => "deadline",
        Stop::DelayTooLong => "delay_too_long",
        Stop::RetriesOff => "retries_off",
    }
}

#[test]
fn the_client_decides_as_the_vectors_say() {
    let doc = vectors();
    let defaults = &doc["default_policy"];
    let now = chrono::Utc::now();
    let vs = doc["vectors"].as_array().unwrap();
    assert!(vs.len() >= 40);
    for v in vs {
        let name = v["name"].as_str().unwrap();
        let merged = |k: &str| {
            let o = &v["policy"][k];
            if o.is_null() {
                defaults[k].clone()
            } else {
                o.clone()
            }
        };
        let mut policy = RetryPolicy {
            enabled: merged("enabled").as_bool().unwrap(),
            max_attempts: merged("max_attempts").as_u64().unwrap() as u32,
            max_delay: ms(&merged("max_delay_ms")),
            ..RetryPolicy::default()
        };
        policy.transport.base = ms(&defaults["transport_backoff_base_ms"]).unwrap();
        policy.transport.cap = ms(&defaults["transport_backoff_cap_ms"]).unwrap();
        let res = &v["response"];
        let retry_after = res["headers"]["Retry-After"]
            .as_str()
            .and_then(|h| parse_retry_after(h, now));
        let answer = if v["transport_error"] == true {
            Answer::Transport
        } else if let Some(code) = res["body"]["error"].as_str() {
            Answer::Envelope {
                code,
                retryable: res["body"]["retryable"].as_bool().unwrap(),
                retry_after,
            }
        } else {
            Answer::Bare {
                status: res["status"].as_u64().unwrap() as u16,
                retry_after,
            }
        };
        let progress = Progress {
            attempt: v["attempt"].as_u64().unwrap() as u32,
            same_code_before: v["same_code_before"].as_u64().unwrap() as u32,
            remaining: ms(&merged("deadline_remaining_ms")),
        };
        let expect = &v["expect"];
        for unit in [0.0, 0.25, 0.5, 0.999, 1.0] {
            let d = policy.decide(answer, progress, unit);
            if expect["retry"] == true {
                let lo = ms(&expect["delay_min_ms"]).unwrap();
                let hi = ms(&expect["delay_max_ms"]).unwrap();
                match d {
                    Decision::Retry(delay) => assert!(
                        delay >= lo && delay <= hi,
                        "{name}: {delay:?} outside {lo:?}..={hi:?} (unit {unit})"
                    ),
                    Decision::Stop(s) => panic!("{name}: stopped ({s}) but should retry"),
                }
            } else {
                assert_eq!(
                    d,
                    Decision::Stop(match expect["stop"].as_str().unwrap() {
                        "not_retryable" => Stop::NotRetryable,
                        "attempts_exhausted" => Stop::AttemptsExhausted,
                        "deadline" => Stop::Deadline,
                        "delay_too_long" => Stop::DelayTooLong,
                        "retries_off" => Stop::RetriesOff,
                        other => panic!("{name}: unknown stop {other}"),
                    }),
                    "{name}"
                );
                if let Decision::Stop(s) = d {
                    assert_eq!(stop_name(s), expect["stop"], "{name}");
                }
            }
        }
    }
}

#[test]
fn the_vectors_cover_every_catalog_code_as_the_catalog_says() {
    let doc = vectors();
    for code in ErrorCode::ALL {
        let first = doc["vectors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["response"]["body"]["error"] == code.as_str() && v["attempt"] == 1)
            .unwrap_or_else(|| panic!("no vector for {code}"));
        assert_eq!(first["response"]["status"], code.status(), "{code}");
        assert_eq!(
            first["response"]["body"]["retryable"],
            code.retryable(),
            "{code}"
        );
        assert_eq!(first["expect"]["retry"], code.retryable(), "{code}");
    }
}
