//! Limits before authentication (`conn_limit`): connections per client IP are capped at
//! accept time, and a connection that does not deliver its first header section in time
//! is closed.

use crate::helpers::TestApp;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const REQUEST: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: asa\r\n\r\n";

fn addr(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_string()
}

/// Reads one response's head (and whatever of its body came with it).
async fn read_head(stream: &mut TcpStream) -> std::io::Result<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    Ok(String::from_utf8_lossy(&got).into_owned())
}

/// A kept-alive connection that has been answered once: the server holds it open.
async fn served_connection(addr: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(REQUEST).await.unwrap();
    let head = tokio::time::timeout(Duration::from_secs(10), read_head(&mut s))
        .await
        .expect("answered in time")
        .unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    s
}

/// What a new connection gets: `Some(head)` if served, `None` if closed without an answer.
async fn try_connection(addr: &str) -> Option<String> {
    let mut s = TcpStream::connect(addr).await.ok()?;
    // The write may already meet the reset.
    if s.write_all(REQUEST).await.is_err() {
        return None;
    }
    match tokio::time::timeout(Duration::from_secs(10), read_head(&mut s)).await {
        Ok(Ok(head)) if head.starts_with("HTTP/") => Some(head),
        Ok(_) => None,
        Err(_) => panic!("a connection was neither served nor closed within 10 s"),
    }
}

#[tokio::test]
async fn a_connection_past_the_per_ip_cap_is_closed_and_a_freed_slot_serves_again() {
    let cap = 4;
    let app = TestApp::spawn_with(|c| c.max_connections_per_ip = cap).await;
    let addr = addr(&app);
    let mut held = Vec::new();
    for _ in 0..cap {
        held.push(served_connection(&addr).await);
    }
    // The next one, and any number after it, is closed without a byte of HTTP.
    for _ in 0..3 {
        assert_eq!(try_connection(&addr).await, None, "served past the cap");
    }
    // Through an HTTP client too: the request fails, it is not answered.
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    assert!(fresh
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .is_err());

    // Close two: their slots come back once the server has seen them go.
    held.truncate(cap as usize - 2);
    let deadline = Instant::now() + Duration::from_secs(5);
    let served = loop {
        if let Some(head) = try_connection(&addr).await {
            break head;
        }
        assert!(
            Instant::now() < deadline,
            "no slot came back after closing two"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(served.starts_with("HTTP/1.1 200"), "{served}");
    // Two free slots: two new connections are served and held at once...
    let mut again = vec![
        served_connection(&addr).await,
        served_connection(&addr).await,
    ];
    // ...which fills the cap again.
    assert_eq!(try_connection(&addr).await, None, "served past the cap");
    // The connections held all along still answer.
    for s in held.iter_mut().chain(again.iter_mut()) {
        s.write_all(REQUEST).await.unwrap();
        let head = read_head(s).await.unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    }
    // And the API proper still answers in its envelope over a normal client.
    drop(again);
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Ok(res) = fresh
            .get(format!("{}/api/v1/account", app.base))
            .send()
            .await
        {
            assert_eq!(res.status().as_u16(), 401);
            break;
        }
        assert!(Instant::now() < deadline, "no slot came back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn no_cap_when_set_to_zero() {
    let app = TestApp::spawn_with(|c| c.max_connections_per_ip = 0).await;
    let addr = addr(&app);
    let mut held = Vec::new();
    for _ in 0..300 {
        held.push(served_connection(&addr).await);
    }
    assert!(try_connection(&addr).await.is_some());
}

#[tokio::test]
async fn a_header_section_not_in_by_the_deadline_closes_the_connection_and_frees_its_slot() {
    let app = TestApp::spawn_with(|c| {
        c.max_connections_per_ip = 1;
        c.header_read_timeout = Duration::from_millis(500);
    })
    .await;
    let addr = addr(&app);
    // A slow client: the request line and one header, then nothing.
    let mut slow = TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: asa\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(10), slow.read(&mut buf))
        .await
        .expect("closed within 10 s");
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "the slow connection got an answer: {read:?}"
    );
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(400),
        "closed too early: {took:?}"
    );
    // Its slot is free again (the cap is 1), and a prompt client is served.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut s = loop {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        if s.write_all(REQUEST).await.is_ok() {
            if let Ok(head) = read_head(&mut s).await {
                if head.starts_with("HTTP/1.1 200") {
                    break s;
                }
            }
        }
        assert!(Instant::now() < deadline, "the slot did not come back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // Past the first request the deadline no longer applies: a kept-alive connection
    // idle for longer than it still answers.
    tokio::time::sleep(Duration::from_millis(900)).await;
    s.write_all(REQUEST).await.unwrap();
    let head = read_head(&mut s).await.unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
}

#[test]
fn the_limits_read_from_the_environment_and_default_to_256_and_30_s() {
    let d = asa_server::Config::default();
    assert_eq!(
        (d.max_connections_per_ip, d.header_read_timeout),
        (256, Duration::from_secs(30))
    );
    let env = [
        ("ASA_MAX_CONNECTIONS_PER_IP", "7"),
        ("ASA_HEADER_READ_TIMEOUT", "2s"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    let c = asa_server::Config::load(None, env).unwrap();
    assert_eq!(c.max_connections_per_ip, 7);
    assert_eq!(c.header_read_timeout, Duration::from_secs(2));
}

/// How long after `idle` a connection with nothing to do is closed (`None`: still open
/// after `idle` + 5 s).
async fn closed_after(mut s: TcpStream) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(Duration::from_secs(8), s.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
            // HTTP/2: the server's SETTINGS and their acknowledgement; nothing else.
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_idle_timeout_http1_and_http2() {
    let idle = Duration::from_millis(1200);
    let app = TestApp::spawn_with(|c| {
        c.idle_timeout = idle;
        c.max_connections_per_ip = 1;
    })
    .await;
    let addr = addr(&app);
    // HTTP/1.1: answered, then left alone.
    let s = served_connection(&addr).await;
    let took = closed_after(s)
        .await
        .expect("an idle HTTP/1.1 connection is closed");
    assert!(
        took >= idle - Duration::from_millis(200) && took < idle + Duration::from_secs(3),
        "closed after {took:?}, idle_timeout {idle:?}"
    );
    // Its slot came back (the cap is 1): a new connection is served.
    let deadline = Instant::now() + Duration::from_secs(5);
    while try_connection(&addr).await.is_none() {
        assert!(Instant::now() < deadline, "the slot did not come back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // HTTP/2 with prior knowledge: the preface and an empty SETTINGS frame, then nothing.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut h2 = loop {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        if s.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
            .await
            .is_ok()
        {
            let mut frame = [0u8; 9];
            if s.read_exact(&mut frame).await.is_ok() {
                assert_eq!(frame[3], 4, "the server opens with SETTINGS");
                break s;
            }
        }
        assert!(Instant::now() < deadline, "no HTTP/2 connection was served");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    let took = loop {
        match tokio::time::timeout(Duration::from_secs(8), h2.read(&mut buf)).await {
            Err(_) => panic!("an idle HTTP/2 connection stayed open"),
            Ok(Ok(0)) | Ok(Err(_)) => break started.elapsed(),
            Ok(Ok(_)) => continue,
        }
    };
    assert!(
        took >= idle - Duration::from_millis(300) && took < idle + Duration::from_secs(3),
        "HTTP/2 closed after {took:?}, idle_timeout {idle:?}"
    );
}

#[tokio::test]
async fn a_request_in_flight_longer_than_the_idle_timeout_is_answered() {
    // The simulator takes 1.5 s to answer; the connection is idle-timed at 0.3 s.
    let sim = asa_sim::SimConfig {
        latency: asa_sim::Latency::Fixed(Duration::from_millis(1500)),
        ..Default::default()
    };
    let s = crate::helpers::SimApp::spawn_custom(sim, |c| {
        c.idle_timeout = Duration::from_millis(300);
        c.upstream.timeout = Duration::from_secs(20);
        c.upstream.attempt_timeout = Duration::from_secs(15);
    })
    .await;
    let h = s.app.account("pro", 1000, asa_model::KeyKind::Live).await;
    let a = s
        .app
        .get_as(&h.key, "/api/v1/amazon/product?query=B000LQXC2Q")
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
}

#[tokio::test]
async fn a_trusted_proxy_is_not_held_to_the_per_ip_cap() {
    let app = TestApp::spawn_with(|c| {
        c.max_connections_per_ip = 2;
        c.trusted_proxies = vec!["127.0.0.0/8".into()];
    })
    .await;
    let addr = addr(&app);
    let mut held = Vec::new();
    for _ in 0..6 {
        held.push(served_connection(&addr).await);
    }
    assert!(try_connection(&addr).await.is_some());
}

#[test]
fn the_idle_timeout_reads_from_the_environment_and_defaults_to_75_s() {
    assert_eq!(
        asa_server::Config::default().idle_timeout,
        Duration::from_secs(75)
    );
    let env = [
        ("ASA_IDLE_TIMEOUT", "5s"),
        ("ASA_TRUSTED_PROXIES", "10.0.0.0/8, ::1"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    let c = asa_server::Config::load(None, env).unwrap();
    assert_eq!(c.idle_timeout, Duration::from_secs(5));
    assert_eq!(c.trusted_proxies, vec!["10.0.0.0/8", "::1"]);
    let bad = [("ASA_TRUSTED_PROXIES", "10.0.0.0/99")].map(|(k, v)| (k.to_string(), v.to_string()));
    let e = asa_server::Config::load(None, bad).unwrap_err();
    assert!(e.to_string().contains("trusted_proxies"), "{e}");
}
