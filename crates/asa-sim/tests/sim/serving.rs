//! Serving: encodings, proxy exits, the request log, saved pages, 404s, CONNECT, shutdown.

use crate::support::{client, get, sim, small, url};
use asa_model::Marketplace;
use asa_sim::{render_product_page, SimConfig};
use std::io::Read;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn raw_body(s: &asa_sim::SimHandle, path: &str, accept: &str) -> (Option<String>, Vec<u8>) {
    let r = client()
        .get(url(s, path))
        .header("Accept-Encoding", accept)
        .send()
        .await
        .unwrap();
    let enc = r
        .headers()
        .get("content-encoding")
        .map(|v| v.to_str().unwrap().to_string());
    (enc, r.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn gzip_and_brotli_bodies_decode_to_the_same_page() {
    let s = sim(SimConfig::default()).await;
    let path = "/amazon.de/dp/B000LQXC2Q";
    let (enc, plain) = raw_body(&s, path, "identity").await;
    assert_eq!(enc, None);
    let (enc, gz) = raw_body(&s, path, "gzip").await;
    assert_eq!(enc.as_deref(), Some("gzip"));
    let mut gunzipped = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut gunzipped)
        .unwrap();
    assert_eq!(gunzipped, plain);
    let (enc, br) = raw_body(&s, path, "gzip, deflate, br").await;
    assert_eq!(enc.as_deref(), Some("br"));
    let mut unbrotlied = Vec::new();
    brotli::Decompressor::new(&br[..], 4096)
        .read_to_end(&mut unbrotlied)
        .unwrap();
    assert_eq!(unbrotlied, plain);
    assert!(br.len() < plain.len() / 3 && gz.len() < plain.len() / 3);
    // Block pages are encoded too.
    let (enc, _) = raw_body(&s, "/amazon.de/dp/B0ERR50301", "gzip").await;
    assert_eq!(enc.as_deref(), Some("gzip"));
    s.shutdown().await;

    let off = sim(SimConfig {
        compress: false,
        ..small()
    })
    .await;
    let (enc, body) = raw_body(&off, path, "gzip, br").await;
    assert_eq!(enc, None);
    assert_eq!(
        String::from_utf8(body).unwrap(),
        render_product_page(Marketplace::De, "B000LQXC2Q", "de_DE", 60_000)
    );
    off.shutdown().await;
}

#[tokio::test]
async fn proxy_exits_are_recorded_for_absolute_form_requests() {
    let listeners = vec![
        (
            "exit-1".to_string(),
            tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        ),
        (
            "exit-2".to_string(),
            tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        ),
    ];
    let s = asa_sim::start(small(), listeners).await.unwrap();
    assert_eq!(s.addrs().len(), 2);
    let via = |exit: &str| {
        let proxy = format!("http://{}", s.exit_addr(exit).unwrap());
        reqwest::Client::builder()
            .proxy(reqwest::Proxy::http(proxy).unwrap())
            .no_gzip()
            .no_brotli()
            .build()
            .unwrap()
    };
    let r = via("exit-2")
        .get("http://www.amazon.fr/dp/B0057OC5O8")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body = r.text().await.unwrap();
    assert_eq!(
        body,
        render_product_page(Marketplace::Fr, "B0057OC5O8", "fr_FR", 60_000)
    );
    via("exit-1")
        .get("http://www.amazon.co.jp/s?k=mug")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    // A redirect through the proxy points at the same storefront.
    let r = reqwest::Client::builder()
        .proxy(reqwest::Proxy::http(format!("http://{}", s.exit_addr("exit-1").unwrap())).unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get("http://www.amazon.de/dp/B0REDIRCT9")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["location"],
        "http://www.amazon.de/dp/B0MOVEDTO1"
    );

    let log = s.requests();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0].exit, "exit-2");
    assert!(log[0].proxied);
    assert_eq!(log[0].url, "http://www.amazon.fr/dp/B0057OC5O8");
    assert_eq!(log[0].marketplace.as_deref(), Some("fr"));
    assert_eq!(log[0].asin.as_deref(), Some("B0057OC5O8"));
    assert_eq!(log[1].exit, "exit-1");
    assert_eq!(
        (
            log[1].marketplace.as_deref(),
            log[1].query.as_deref(),
            log[1].page
        ),
        (Some("co.jp"), Some("mug"), Some(1))
    );

    // The same log over HTTP, then cleared.
    let json: serde_json::Value = client()
        .get(url(&s, "/__sim/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json.as_array().unwrap().len(), 3);
    assert_eq!(json[0]["exit"], "exit-2");
    assert_eq!(json[2]["fault"], "redirect");
    let r = client()
        .delete(url(&s, "/__sim/requests"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    assert!(s.requests().is_empty());
    s.shutdown().await;
}

#[tokio::test]
async fn host_header_selects_the_marketplace() {
    let s = sim(small()).await;
    let r = client()
        .get(url(&s, "/dp/B0057OC5O8"))
        .header("Host", "www.amazon.co.uk")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.text().await.unwrap(),
        render_product_page(Marketplace::Uk, "B0057OC5O8", "en_GB", 60_000)
    );
    assert_eq!(s.requests()[0].marketplace.as_deref(), Some("co.uk"));
    s.shutdown().await;
}

#[tokio::test]
async fn saved_pages_are_served_verbatim_in_their_marketplace() {
    let dir = tempfile::tempdir().unwrap();
    // Written by this test: a tiny page with a raw HTTP header block, as some captures have.
    std::fs::write(
        dir.path().join("de_B0SAVED001_written_by_test.html"),
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html><body><span id=\"productTitle\">Gespeichert</span></body></html>",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("com_search_desk_lamp_written_by_test.html"),
        "<html>saved search</html>",
    )
    .unwrap();
    let s = sim(SimConfig {
        pages_dir: Some(dir.path().to_path_buf()),
        ..small()
    })
    .await;
    let (status, body) = get(&s, "/amazon.de/dp/B0SAVED001").await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        "<html><body><span id=\"productTitle\">Gespeichert</span></body></html>"
    );
    assert_eq!(s.requests()[0].source.as_deref(), Some("saved"));
    // Another marketplace has no saved page for it: generated.
    let (_, body) = get(&s, "/amazon.com/dp/B0SAVED001").await;
    assert_eq!(
        body,
        render_product_page(Marketplace::Us, "B0SAVED001", "en_US", 60_000)
    );
    let (_, body) = get(&s, "/amazon.com/s?k=Desk+Lamp").await;
    assert_eq!(body, "<html>saved search</html>");
    let (_, body) = get(&s, "/amazon.com/s?k=Desk+Lamp&page=2").await;
    assert!(body.contains("s-search-result"));
    // Faults still win over saved pages.
    let (status, _) = get(&s, "/amazon.de/dp/B0ERR503AA").await;
    assert_eq!(status, 503);
    s.shutdown().await;

    let missing = asa_sim::start_local(SimConfig {
        pages_dir: Some(dir.path().join("nope")),
        ..small()
    })
    .await;
    assert!(matches!(missing, Err(asa_sim::SimError::PagesDir { .. })));
}

#[tokio::test]
async fn other_paths_get_the_404_page_and_connect_is_refused() {
    let s = sim(small()).await;
    for path in [
        "/amazon.de/gp/cart/view.html",
        "/amazon.com/dp/TOOSHORT",
        "/",
        "/amazon.com/gp/help/customer/display.html",
    ] {
        let (status, body) = get(&s, path).await;
        assert_eq!(status, 404, "{path}");
        assert!(body.contains("Page Not Found"), "{path}");
    }
    let mut raw = tokio::net::TcpStream::connect(s.addr()).await.unwrap();
    raw.write_all(b"CONNECT www.amazon.de:443 HTTP/1.1\r\nHost: www.amazon.de:443\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 64];
    let n = raw.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 501"));
    let r = client()
        .post(url(&s, "/amazon.com/dp/B0057OC5O8"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 405);
    let r = client()
        .head(url(&s, "/amazon.com/dp/B0057OC5O8"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let declared: usize = r.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(declared > 10_000, "{declared}");
    assert!(r.bytes().await.unwrap().is_empty());
    s.shutdown().await;
}

#[tokio::test]
async fn keep_alive_serves_many_requests_on_one_connection_and_shutdown_stops_listening() {
    let s = sim(small()).await;
    let addr = s.addr();
    let c = client();
    for i in 0..20 {
        let r = c
            .get(url(&s, &format!("/amazon.com/dp/B0KEEP{i:04}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        r.bytes().await.unwrap();
    }
    s.shutdown().await;
    let after = reqwest::Client::new()
        .get(format!("http://{addr}/amazon.com/dp/B0057OC5O8"))
        .send()
        .await;
    assert!(after.is_err());
}

#[tokio::test]
async fn an_exit_can_be_burned_paused_and_restored() {
    let listeners = vec![
        (
            "exit-1".to_string(),
            tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        ),
        (
            "exit-2".to_string(),
            tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        ),
    ];
    let mut s = asa_sim::start(small(), listeners).await.unwrap();
    let via = |addr: std::net::SocketAddr| {
        reqwest::Client::builder()
            .proxy(reqwest::Proxy::http(format!("http://{addr}")).unwrap())
            .pool_max_idle_per_host(0)
            .build()
            .unwrap()
    };
    let (one, two) = (
        s.exit_addr("exit-1").unwrap(),
        s.exit_addr("exit-2").unwrap(),
    );

    // A burned exit: Amazon answers every request through it with a captcha.
    s.set_exit_fault("exit-1", Some(asa_sim::Fault::Captcha))
        .unwrap();
    let body = via(one)
        .get("http://www.amazon.com/dp/B0057OC5O8")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("validateCaptcha"));
    let body = via(two)
        .get("http://www.amazon.com/dp/B0057OC5O8")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("productTitle"));
    s.set_exit_fault("exit-1", None).unwrap();
    let body = via(one)
        .get("http://www.amazon.com/s?k=lamp")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("s-search-result"));
    assert!(s.set_exit_fault("exit-9", None).is_err());

    // A paused exit refuses connections; resumed, it answers on the same address.
    s.pause_exit("exit-2").await.unwrap();
    let err = via(two)
        .get("http://www.amazon.com/dp/B0057OC5O8")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err}");
    let ok = via(one)
        .get("http://www.amazon.com/dp/B0057OC5O8")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    s.resume_exit("exit-2").await.unwrap();
    assert_eq!(s.exit_addr("exit-2"), Some(two));
    let ok = via(two)
        .get("http://www.amazon.com/dp/B0057OC5O8")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    let exits: Vec<String> = s.requests().into_iter().map(|r| r.exit).collect();
    assert_eq!(exits, ["exit-1", "exit-2", "exit-1", "exit-1", "exit-2"]);
    s.shutdown().await;
}
