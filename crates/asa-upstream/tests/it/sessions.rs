//! Sticky sessions against the simulator's bot manager: one exit, one cookie jar and one
//! profile for up to `session_requests` pages; a challenged session is dropped and its
//! exit cooled down.

use crate::simtls::{config, judge, product_requests, sim};
use crate::support::product;
use asa_model::Marketplace;
use asa_sim::{BotManager, Fault};
use asa_upstream::{Engine, Outcome, ProxyState, Upstream, UpstreamConfig};
use std::time::Duration;

/// Challenges only a session that changed exit or fingerprint, whatever the engine.
fn session_watcher() -> BotManager {
    BotManager {
        non_browser_rate: 0.0,
        ..BotManager::default()
    }
}

fn sticky(cfg: UpstreamConfig) -> UpstreamConfig {
    UpstreamConfig {
        session_requests: 3,
        challenge_cooldown: Duration::from_secs(600),
        ..cfg
    }
}

#[tokio::test]
async fn a_session_keeps_its_exit_cookies_and_profile_for_n_requests() {
    let sim = sim(2, Some(session_watcher())).await;
    let up = Upstream::new(sticky(config(&sim, Engine::Standard, true))).unwrap();
    let mut attempts = Vec::new();
    for i in 0..6 {
        let fetched = up
            .fetch(&product(Marketplace::De, &format!("B00000001{i}")), judge())
            .await;
        assert!(fetched.result.is_ok(), "{:?}", fetched.attempts);
        assert_eq!(fetched.attempts.len(), 1);
        attempts.push(fetched.attempts[0].clone());
    }
    let seen = product_requests(&sim);
    assert_eq!(seen.len(), 6);
    assert!(seen.iter().all(|r| r.bot.is_none()), "{seen:?}");
    for block in [0..3, 3..6] {
        let (a, s) = (&attempts[block.clone()], &seen[block.clone()]);
        let label = a[0].session.clone().unwrap();
        let id = label.split('#').next().unwrap();
        for (n, at) in a.iter().enumerate() {
            assert_eq!(
                at.session.as_deref(),
                Some(format!("{id}#{}", n + 1).as_str())
            );
            assert_eq!((&at.proxy_id, &at.profile), (&a[0].proxy_id, &a[0].profile));
        }
        // Amazon sees one visitor: one session cookie, one exit, throughout.
        assert!(s
            .iter()
            .all(|r| r.session == s[0].session && r.exit == s[0].exit));
        assert_eq!(Some(s[0].exit.clone()), a[0].proxy_id);
    }
    assert_ne!(attempts[0].session, attempts[3].session);
    assert_ne!(
        seen[0].session, seen[3].session,
        "a retired session's cookies go with it"
    );
}

#[tokio::test]
async fn a_challenged_session_is_dropped_and_its_exit_cooled_down() {
    let sim = sim(2, Some(session_watcher())).await;
    let up = Upstream::new(sticky(config(&sim, Engine::Standard, true))).unwrap();
    let first = up
        .fetch(&product(Marketplace::De, "B000000021"), judge())
        .await;
    assert!(first.result.is_ok());
    let burned = first.attempts[0].proxy_id.clone().unwrap();
    let session = first.attempts[0].session.clone().unwrap();

    // Amazon burns the session's exit: its next page is a challenge.
    sim.set_exit_fault(&burned, Some(Fault::Captcha)).unwrap();
    let second = up
        .fetch(&product(Marketplace::De, "B000000022"), judge())
        .await;
    assert!(second.result.is_ok(), "{:?}", second.attempts);
    let [challenged, retried] = &second.attempts[..] else {
        panic!("two attempts expected: {:?}", second.attempts)
    };
    assert_eq!(challenged.outcome, Outcome::Captcha);
    assert_eq!(challenged.proxy_id.as_deref(), Some(burned.as_str()));
    assert_eq!(
        challenged.session.as_deref().map(|s| s.split('#').next()),
        Some(session.split('#').next())
    );
    assert_ne!(retried.proxy_id.as_deref(), Some(burned.as_str()));
    assert!(
        retried.session.as_deref().unwrap().ends_with("#1"),
        "a new session"
    );
    let health = up.proxy_health();
    let cooled = health.iter().find(|h| h.id == burned).unwrap();
    assert_eq!(cooled.state, ProxyState::Benched);

    // Lifted or not, the burned exit sits out; the new session carries on.
    sim.set_exit_fault(&burned, None).unwrap();
    let third = up
        .fetch(&product(Marketplace::De, "B000000023"), judge())
        .await;
    let a = &third.attempts[..];
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].proxy_id, retried.proxy_id);
    assert!(a[0].session.as_deref().unwrap().ends_with("#2"));
}

#[tokio::test]
async fn rotating_exits_under_one_cookie_is_what_the_bot_manager_catches() {
    // The behaviour sticky sessions avoid, shown against the same bot manager: a client
    // that keeps Amazon's session cookie but changes exit.
    let sim = sim(2, Some(session_watcher())).await;
    let client = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(sim.tls_certificate_pem().unwrap().as_bytes()).unwrap(),
        )
        .build()
        .unwrap();
    let url = |asin: &str| {
        format!(
            "https://localhost:{}/amazon.de/dp/{asin}",
            sim.addr().port()
        )
    };
    let first = client.get(url("B000000031")).send().await.unwrap();
    let cookie = first.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let other = sim.exit_addr("exit-2").unwrap();
    let moved = client
        .get(format!(
            "https://localhost:{}/amazon.de/dp/B000000032",
            other.port()
        ))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 200);
    let seen = product_requests(&sim);
    assert_eq!(seen[1].bot.as_deref(), Some("session_ip_changed"));
}
