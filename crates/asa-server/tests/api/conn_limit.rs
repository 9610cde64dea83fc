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
