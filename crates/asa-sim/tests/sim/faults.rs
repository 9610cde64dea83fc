//! Every magic ASIN and query produces its fault, and configured rates are honoured.

use crate::support::{client, get, sim, small, url};
use asa_sim::{FaultRates, Latency, SimConfig};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn magic_asins_produce_their_page() {
    let s = sim(small()).await;
    let (status, body) = get(&s, "/amazon.com/dp/B0CAPTCHA1").await;
    assert_eq!(status, 200);
    assert!(
        body.contains("/errors/validateCaptcha")
            && body.contains("Type the characters you see in this image")
    );
    assert!(!body.contains("productTitle"));

    let (status, body) = get(&s, "/amazon.com/dp/B0WAFCHAL1").await;
    assert_eq!(status, 202);
    assert!(body.contains("awswaf.com") && body.contains("gokuProps"));

    let (status, body) = get(&s, "/amazon.de/dp/B0ERR50301").await;
    assert_eq!(status, 503);
    assert!(body.contains("Sorry! Something went wrong!"));

    let (status, body) = get(&s, "/amazon.de/dp/B0NOTFND01").await;
    assert_eq!(status, 404);
    assert!(body.contains("Sorry! We couldn't find that page") && body.contains("dogsofamazon"));

    let (status, body) = get(&s, "/amazon.fr/dp/B0GALLERY1").await;
    assert_eq!(status, 200);
    assert!(body.contains("id=\"gallery-shelf\"") && !body.contains("productTitle"));

    let (status, body) = get(&s, "/amazon.com/dp/B0UNKNOWN1").await;
    assert_eq!(status, 200);
    assert!(
        body.contains("pdp-next-name")
            && !body.contains("productTitle")
            && !body.contains("id=\"ASIN\"")
    );

    let r = client()
        .get(url(&s, "/amazon.de/dp/B0REDIRCT1?th=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 301);
    assert_eq!(r.headers()["location"], "/amazon.de/dp/B0MOVEDTO1");
    let (status, body) = get(&s, "/amazon.de/dp/B0MOVEDTO1").await;
    assert_eq!(status, 200);
    assert!(body.contains("value=\"B0MOVEDTO1\""));

    let (status, body) = get(&s, "/amazon.com/dp/B0HUGE0001").await;
    assert_eq!(status, 200);
    assert!(body.len() >= 20 * 1024 * 1024 && body.contains("productTitle"));

    let started = Instant::now();
    let (status, _) = get(&s, "/amazon.com/dp/B0SLOW0040").await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(400));

    let faults: Vec<Option<String>> = s.requests().into_iter().map(|r| r.fault).collect();
    for f in [
        "captcha",
        "waf_challenge",
        "error_503",
        "not_found",
        "gallery",
        "unknown_layout",
        "redirect",
        "huge",
        "slow",
    ] {
        assert!(
            faults.contains(&Some(f.to_string())),
            "{f} not recorded: {faults:?}"
        );
    }
    s.shutdown().await;
}

#[tokio::test]
async fn reset_and_truncation_happen_at_the_socket() {
    let s = sim(small()).await;
    let err = client()
        .get(url(&s, "/amazon.com/dp/B0RESET001"))
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_status(), "{err}");
    let r = client()
        .get(url(&s, "/amazon.com/dp/B0TRUNC001"))
        .send()
        .await
        .unwrap();
    let declared = r.content_length().unwrap();
    assert!(
        r.bytes().await.is_err(),
        "a truncated body must fail to read ({declared} declared)"
    );

    // On the wire: the reset sends nothing; the truncation sends fewer bytes than promised.
    let mut raw = tokio::net::TcpStream::connect(s.addr()).await.unwrap();
    raw.write_all(b"GET /amazon.com/dp/B0RESET002 HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let read = raw.read_to_end(&mut buf).await;
    assert!(read.is_err() || buf.is_empty(), "{read:?} {}", buf.len());

    let records = s.requests();
    let reset = records
        .iter()
        .find(|r| r.asin.as_deref() == Some("B0RESET001"))
        .unwrap();
    assert_eq!(
        (reset.fault.as_deref(), reset.status),
        (Some("reset"), None)
    );
    let trunc = records
        .iter()
        .find(|r| r.asin.as_deref() == Some("B0TRUNC001"))
        .unwrap();
    assert_eq!(
        (trunc.fault.as_deref(), trunc.status),
        (Some("truncate"), Some(200))
    );
    s.shutdown().await;
}

#[tokio::test]
async fn flaky_asins_recover_after_n_captchas_per_instance() {
    let s = sim(small()).await;
    for _ in 0..2 {
        let (_, body) = get(&s, "/amazon.com/dp/B0FLAKY2AB").await;
        assert!(body.contains("validateCaptcha"));
    }
    let (_, body) = get(&s, "/amazon.com/dp/B0FLAKY2AB").await;
    assert!(body.contains("productTitle"));
    // Another ASIN has its own count; clear() starts over.
    let (_, body) = get(&s, "/amazon.com/dp/B0FLAKY1CD").await;
    assert!(body.contains("validateCaptcha"));
    s.clear();
    let (_, body) = get(&s, "/amazon.com/dp/B0FLAKY2AB").await;
    assert!(body.contains("validateCaptcha"));
    s.shutdown().await;
}

#[tokio::test]
async fn magic_queries_produce_their_page() {
    let s = sim(small()).await;
    let (status, body) = get(&s, "/amazon.com/s?k=sim-captcha").await;
    assert_eq!(status, 200);
    assert!(body.contains("validateCaptcha"));
    let (status, _) = get(&s, "/amazon.com/s?k=sim-503").await;
    assert_eq!(status, 503);
    let (status, body) = get(&s, "/amazon.de/s?k=sim-empty+things").await;
    assert_eq!(status, 200);
    assert!(
        body.contains("Keine Ergebnisse für")
            && !body.contains("data-component-type=\"s-search-result\"")
    );
    let (status, body) = get(&s, "/amazon.com/s?k=sim-unknown").await;
    assert_eq!(status, 200);
    assert!(body.contains("search-next-tile") && !body.contains("s-search-result"));
    for page in 1..=3 {
        let (status, body) = get(&s, &format!("/amazon.com/s?k=sim-fail-page-2&page={page}")).await;
        if page == 2 {
            assert_eq!(status, 503);
        } else {
            assert_eq!(status, 200);
            assert!(body.contains("s-search-result"));
        }
    }
    let started = Instant::now();
    let (status, _) = get(&s, "/amazon.com/s?k=sim-slow-300").await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    s.shutdown().await;
}

async fn outcomes(seed: u64, n: usize) -> Vec<(u16, Option<String>)> {
    let cfg = SimConfig {
        seed,
        page_bytes: 20_000,
        faults: FaultRates {
            captcha_rate: 0.2,
            error503_rate: 0.1,
            ..FaultRates::default()
        },
        ..SimConfig::default()
    };
    let s = sim(cfg).await;
    let c = client();
    for i in 0..n {
        let r = c
            .get(url(&s, &format!("/amazon.com/dp/B0RATE{i:04}")))
            .send()
            .await
            .unwrap();
        r.bytes().await.unwrap();
    }
    let v = s
        .requests()
        .into_iter()
        .map(|r| (r.status.unwrap_or(0), r.fault))
        .collect();
    s.shutdown().await;
    v
}

#[tokio::test]
async fn rates_are_roughly_honoured_and_reproducible() {
    let a = outcomes(7, 400).await;
    let captcha = a
        .iter()
        .filter(|(_, f)| f.as_deref() == Some("captcha"))
        .count();
    let e503 = a.iter().filter(|(s, _)| *s == 503).count();
    assert!((50..=110).contains(&captcha), "captcha {captcha}/400");
    assert!((20..=65).contains(&e503), "503 {e503}/400");
    assert_eq!(a, outcomes(7, 400).await);
    assert_ne!(a, outcomes(8, 400).await);
}

#[tokio::test]
async fn base_latency_applies_to_every_request_and_many_wait_at_once() {
    let cfg = SimConfig {
        page_bytes: 20_000,
        latency: Latency::Fixed(Duration::from_millis(500)),
        ..SimConfig::default()
    };
    let s = sim(cfg).await;
    let c = client();
    let started = Instant::now();
    let tasks: Vec<_> = (0..400)
        .map(|i| {
            let (c, u) = (
                c.clone(),
                url(&s, &format!("/amazon.com/dp/B0WAIT{:04}", i % 20)),
            );
            tokio::spawn(async move { c.get(u).send().await.map(|r| r.status().as_u16()) })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), 200);
    }
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(500));
    assert!(
        elapsed < Duration::from_secs(10),
        "{elapsed:?}: waits must overlap"
    );
    assert_eq!(s.requests().len(), 400);
    s.shutdown().await;
}
