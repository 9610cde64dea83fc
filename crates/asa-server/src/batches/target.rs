//! Where a webhook may go. A user's `webhook_url` makes this server send requests, so it
//! is held to https and public addresses (no loopback, private, link-local, shared or
//! reserved ranges), checked when the batch is created and again at every delivery, and the
//! delivery connects to exactly the addresses that were checked (no second DNS answer).
//! The operator can allow private targets (over http too) for tests and self-hosting.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Longest accepted webhook URL.
pub const MAX_URL_LEN: usize = 2048;

/// A webhook URL that passed the checks, with the addresses it resolved to.
#[derive(Debug, Clone)]
pub struct CheckedTarget {
    pub url: url::Url,
    pub host: String,
    pub addrs: Vec<SocketAddr>,
}

/// Checks the URL's form: absolute, https (or http when private targets are allowed), a
/// host, no credentials.
pub fn parse(raw: &str, allow_private: bool) -> Result<url::Url, String> {
    if raw.len() > MAX_URL_LEN {
        return Err(format!("must be at most {MAX_URL_LEN} characters"));
    }
    let url = url::Url::parse(raw).map_err(|e| format!("must be an absolute URL ({e})"))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        _ => return Err("must be an https URL".into()),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("must name a host".into());
    }
    Ok(url)
}

/// Resolves the URL's host and checks every address it resolves to.
pub async fn resolve(raw: &str, allow_private: bool) -> Result<CheckedTarget, String> {
    let url = parse(raw, allow_private)?;
    let host = url.host_str().unwrap_or_default().to_string();
    let port = url
        .port_or_known_default()
        .ok_or_else(|| "has no port".to_string())?;
    let bare = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let addrs: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((bare.as_str(), port))
            .await
            .map_err(|e| format!("host {host} does not resolve ({e})"))?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(format!("host {host} does not resolve"));
    }
    if url.scheme() == "http" && addrs.iter().any(|a| is_public(a.ip())) {
        return Err("must be an https URL (http is accepted only for private targets)".into());
    }
    if !allow_private {
        if let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
            return Err(format!(
                "must point to a public address; {host} resolves to {}",
                bad.ip()
            ));
        }
    }
    Ok(CheckedTarget {
        url,
        host: bare,
        addrs,
    })
}

/// Whether an address is on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            is_public_v6(v6)
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        // Shared address space (carrier-grade NAT).
        || (a == 100 && (64..128).contains(&b))
        // IETF protocol assignments.
        || (a == 192 && b == 0 && c == 0)
        // Benchmarking.
        || (a == 198 && (b == 18 || b == 19))
        // Reserved for future use.
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        // Unique local fc00::/7.
        || (s[0] & 0xfe00) == 0xfc00
        // Link-local fe80::/10.
        || (s[0] & 0xffc0) == 0xfe80
        // Documentation 2001:db8::/32.
        || (s[0] == 0x2001 && s[1] == 0x0db8)
        // IPv4-compatible and NAT64 forms point into IPv4 space: judged as not public.
        || (s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0 && s[4] == 0)
        || (s[0] == 0x64 && s[1] == 0xff9b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(s: &str) -> bool {
        is_public(s.parse().unwrap())
    }

    #[test]
    fn address_classes() {
        for p in ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "93.184.216.34"] {
            assert!(public(p), "{p}");
        }
        for p in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "240.0.0.1",
            "192.0.2.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2001:db8::1",
        ] {
            assert!(!public(p), "{p}");
        }
    }

    #[test]
    fn url_forms() {
        assert!(parse("https://hooks.example.com/x", false).is_ok());
        assert!(parse("http://hooks.example.com/x", false).is_err());
        assert!(parse("http://127.0.0.1:9/x", true).is_ok());
        assert!(parse("ftp://example.com/", true).is_err());
        assert!(parse("https://user:pw@example.com/", false).is_err());
        assert!(parse("not a url", false).is_err());
        assert!(parse(&format!("https://e.com/{}", "a".repeat(3000)), false).is_err());
    }

    #[tokio::test]
    async fn private_targets_are_refused_unless_allowed() {
        for url in [
            "https://127.0.0.1/hook",
            "https://[::1]/hook",
            "https://10.0.0.8/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://localhost/hook",
        ] {
            let e = resolve(url, false).await.unwrap_err();
            assert!(e.contains("public address"), "{url}: {e}");
        }
        let ok = resolve("http://127.0.0.1:8080/hook", true).await.unwrap();
        assert_eq!(ok.addrs, vec!["127.0.0.1:8080".parse().unwrap()]);
        // http to a public address stays refused even when private targets are allowed.
        let e = resolve("http://8.8.8.8/hook", true).await.unwrap_err();
        assert!(e.contains("https"), "{e}");
    }
}
