//! What each engine looks like to a bot manager: the simulator's TLS listener computes
//! the JA4 and HTTP/2 fingerprints of every client, and they must be what the attempt
//! says it presented.

use crate::simtls::{config, judge, product_requests, sim};
use crate::support::product;
use asa_model::Marketplace;
use asa_upstream::{Engine, Upstream};

/// Published fingerprints of current desktop browsers (JA4 per FoxIO's JA4 spec, HTTP/2
/// in Akamai's format), as public TLS fingerprinting pages list them for these
/// releases. The Chromium pair is also the one checked from raw lists in asa-sim's JA4
/// unit test.
const CHROMIUM_JA4: &str = "t13d1516h2_8daaf6152771_d8a2da3f94cd";
#[cfg(feature = "browser")]
const CHROMIUM_H2: &str = "1:65536;2:0;4:6291456;6:262144|15663105|0|m,a,s,p";

#[tokio::test]
async fn the_standard_engine_is_fingerprinted_and_is_no_browser() {
    let sim = sim(1, None).await;
    let up = Upstream::new(config(&sim, Engine::Standard, false)).unwrap();
    let fetched = up
        .fetch(&product(Marketplace::De, "B000000001"), judge())
        .await;
    assert!(fetched.result.is_ok(), "{:?}", fetched.attempts);
    let a = &fetched.attempts[0];
    assert_eq!(a.engine.as_deref(), Some("standard"));
    assert!(a.profile.is_some());
    // It cannot claim a fingerprint it does not control.
    assert_eq!((a.ja4.as_deref(), a.http2.as_deref()), (None, None));

    let seen = &product_requests(&sim)[0];
    let ja4 = seen.ja4.as_deref().expect("the TLS listener saw a hello");
    assert!(ja4.starts_with("t13d"), "{ja4}");
    assert_ne!(ja4, CHROMIUM_JA4);
    assert_eq!(seen.alpn.as_deref(), Some("http/1.1"));
    assert_eq!(
        seen.http2, None,
        "rustls + HTTP/1.1 has no HTTP/2 fingerprint"
    );
    eprintln!("standard engine: ja4 {ja4} ja3 {:?}", seen.ja3);
}

#[cfg(feature = "browser")]
#[tokio::test]
async fn the_browser_engine_presents_exactly_its_profiles_published_fingerprints() {
    // Published values per profile, see above; Firefox likewise. For Safari only the
    // JA4 prefix and cipher hash are checked: the emulation's extension hash is not one
    // we could match to a publication, and its profile does not claim it.
    let published = |profile: &str| -> (&str, &str) {
        match profile.split('_').next().unwrap() {
            "chrome" => (CHROMIUM_JA4, CHROMIUM_H2),
            // Chromium 120-132's published value: wreq-util builds Edge 134 on Chrome 131.
            "edge" => ("t13d1516h2_8daaf6152771_02713d6af862", CHROMIUM_H2),
            "firefox" => (
                "t13d1717h2_5b57614c22b0_3cbfd9057e0d",
                "1:65536;2:0;4:131072;5:16384|12517377|0|m,p,a,s",
            ),
            "safari" => (
                "t13d2014h2_a09f3c656075_",
                "2:0;3:100;4:2097152;9:1|10420225|0|m,s,a,p",
            ),
            other => panic!("unknown profile family {other}"),
        }
    };
    let sim = sim(1, None).await;
    let up = Upstream::new(config(&sim, Engine::Browser, false)).unwrap();
    // One session per request: the marketplace's rotation walks the whole pool.
    let mut profiles = Vec::new();
    for i in 0..6 {
        let asin = format!("B00000000{i}");
        let fetched = up.fetch(&product(Marketplace::De, &asin), judge()).await;
        assert!(fetched.result.is_ok(), "{:?}", fetched.attempts);
        let a = fetched.attempts[0].clone();
        let seen = product_requests(&sim).pop().unwrap();
        assert_eq!(seen.asin.as_deref(), Some(asin.as_str()));
        let profile = a.profile.clone().unwrap();
        eprintln!("{profile}: ja4 {:?} http2 {:?}", seen.ja4, seen.http2);
        let (ja4, h2) = published(&profile);
        let seen_ja4 = seen.ja4.clone().unwrap();
        if ja4.ends_with('_') {
            assert!(seen_ja4.starts_with(ja4), "{profile}: {seen_ja4}");
            assert_eq!(a.ja4, None, "{profile} claims no JA4");
        } else {
            assert_eq!(seen_ja4, ja4, "{profile}");
            // The trace says exactly what the listener saw.
            assert_eq!(a.ja4.as_deref(), Some(seen_ja4.as_str()), "{profile}");
        }
        assert_eq!(seen.http2.as_deref(), Some(h2), "{profile}");
        assert_eq!(a.http2, seen.http2, "{profile}");
        assert_eq!(seen.alpn.as_deref(), Some("h2"), "{profile}");
        assert_eq!(a.engine.as_deref(), Some("browser"));
        profiles.push(profile);
    }
    profiles.sort();
    profiles.dedup();
    assert_eq!(profiles.len(), 6, "{profiles:?}");
}

#[cfg(feature = "browser")]
#[tokio::test]
async fn the_two_engines_look_different() {
    let sim = sim(1, None).await;
    for engine in [Engine::Standard, Engine::Browser] {
        let up = Upstream::new(config(&sim, engine, false)).unwrap();
        let fetched = up
            .fetch(&product(Marketplace::Fr, "B000000041"), judge())
            .await;
        assert!(fetched.result.is_ok(), "{engine}: {:?}", fetched.attempts);
    }
    let seen = product_requests(&sim);
    assert_eq!(seen.len(), 2);
    assert_ne!(seen[0].ja4, seen[1].ja4);
    assert_ne!(seen[0].ja3, seen[1].ja3);
    assert_ne!(seen[0].http2, seen[1].http2);
}
