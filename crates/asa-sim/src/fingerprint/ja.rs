//! JA3 (Salesforce) and JA4 (FoxIO) fingerprints of a ClientHello.
//!
//! JA3: `version,ciphers,extensions,groups,point_formats` in decimal, wire order, GREASE
//! dropped, then MD5. Chrome shuffles its extensions, so its JA3 changes per connection.
//! JA4: `t` + version + SNI (`d`/`i`) + cipher and extension counts + ALPN first/last
//! character, then the truncated SHA-256 of the sorted ciphers and of the sorted
//! extensions (without SNI and ALPN) with the signature algorithms in wire order.

use super::client_hello::{is_grease, ClientHello};
use md5::{Digest as _, Md5};
use sha2::Sha256;

/// The JA3 string (before hashing).
pub fn ja3_text(h: &ClientHello) -> String {
    let join = |v: &mut dyn Iterator<Item = u16>| {
        v.filter(|x| !is_grease(*x))
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join("-")
    };
    format!(
        "{},{},{},{},{}",
        h.version,
        join(&mut h.ciphers.iter().copied()),
        join(&mut h.extensions.iter().copied()),
        join(&mut h.groups.iter().copied()),
        h.point_formats
            .iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join("-"),
    )
}

/// MD5 of the JA3 string, lower-case hex.
pub fn ja3(h: &ClientHello) -> String {
    hex(&Md5::digest(ja3_text(h).as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn version_code(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        _ => "00",
    }
}

/// The first and last character of the first ALPN value, or of its hex form when either
/// byte is not alphanumeric; `00` without ALPN.
fn alpn_code(alpn: &[Vec<u8>]) -> String {
    let Some(first) = alpn.first().filter(|a| !a.is_empty()) else {
        return "00".into();
    };
    let (a, z) = (first[0], first[first.len() - 1]);
    if a.is_ascii_alphanumeric() && z.is_ascii_alphanumeric() {
        format!("{}{}", a as char, z as char)
    } else {
        let h = hex(first);
        format!("{}{}", &h[..1], &h[h.len() - 1..])
    }
}

/// The first 12 hex characters of SHA-256, or twelve zeros for an empty list.
fn hash12(text: &str) -> String {
    if text.is_empty() {
        return "000000000000".into();
    }
    hex(&Sha256::digest(text.as_bytes()))[..12].to_string()
}

fn hex_list(v: impl Iterator<Item = u16>) -> String {
    v.map(|x| format!("{x:04x}")).collect::<Vec<_>>().join(",")
}

/// The JA4 fingerprint of a TLS-over-TCP hello.
pub fn ja4(h: &ClientHello) -> String {
    let version = h
        .supported_versions
        .iter()
        .copied()
        .filter(|v| !is_grease(*v))
        .max()
        .unwrap_or(h.version);
    let mut ciphers: Vec<u16> = h
        .ciphers
        .iter()
        .copied()
        .filter(|c| !is_grease(*c))
        .collect();
    let exts: Vec<u16> = h
        .extensions
        .iter()
        .copied()
        .filter(|e| !is_grease(*e))
        .collect();
    let a = format!(
        "t{}{}{:02}{:02}{}",
        version_code(version),
        if h.extensions.contains(&0x0000) {
            'd'
        } else {
            'i'
        },
        ciphers.len().min(99),
        exts.len().min(99),
        alpn_code(&h.alpn),
    );
    ciphers.sort_unstable();
    let mut sorted: Vec<u16> = exts
        .into_iter()
        .filter(|e| *e != 0x0000 && *e != 0x0010)
        .collect();
    sorted.sort_unstable();
    let sigalgs: Vec<u16> = h
        .signature_algorithms
        .iter()
        .copied()
        .filter(|s| !is_grease(*s))
        .collect();
    ja4_from_parts(&a, &ciphers, &sorted, &sigalgs)
}

/// JA4 from its raw (`ja4_r`) parts: sorted ciphers, sorted extensions without SNI and
/// ALPN, signature algorithms in wire order.
pub fn ja4_from_parts(a: &str, ciphers: &[u16], extensions: &[u16], sigalgs: &[u16]) -> String {
    let b = hash12(&hex_list(ciphers.iter().copied()));
    let mut c_text = hex_list(extensions.iter().copied());
    if !sigalgs.is_empty() && !c_text.is_empty() {
        c_text.push('_');
        c_text.push_str(&hex_list(sigalgs.iter().copied()));
    }
    format!("{a}_{b}_{}", hash12(&c_text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hexes(s: &str) -> Vec<u16> {
        s.split(',')
            .map(|x| u16::from_str_radix(x, 16).unwrap())
            .collect()
    }

    /// A Chrome 143 hello as published by a public TLS fingerprinting page (its `ja4_r`,
    /// `ja4`, `ja3_text` and `ja3_hash` fields): the algorithm must reproduce its hashes.
    #[test]
    fn reproduces_a_published_chrome_fingerprint() {
        let ciphers =
            hexes("002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9");
        let exts = hexes("0005,000a,000b,000d,0012,0017,001b,0023,002b,002d,0033,44cd,fe0d,ff01");
        let sigalgs = hexes("0403,0804,0401,0503,0805,0501,0806,0601");
        assert_eq!(
            ja4_from_parts("t13d1516h2", &ciphers, &exts, &sigalgs),
            "t13d1516h2_8daaf6152771_d8a2da3f94cd"
        );
        let text = "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,45-51-16-65037-23-17613-0-11-10-43-65281-35-18-5-13-27,4588-29-23-24,0";
        assert_eq!(
            hex(&Md5::digest(text.as_bytes())),
            "98487aa16281980e7d1120d399efb6a4"
        );
    }

    #[test]
    fn fingerprints_of_a_parsed_hello_drop_grease_and_sort() {
        let h = ClientHello::parse(&super::super::client_hello::tests::sample_hello()).unwrap();
        assert_eq!(ja3_text(&h), "771,4865-49195,0-10-11-13-16-43,29-23,0");
        let j = ja4(&h);
        assert!(j.starts_with("t13d0206h2_"), "{j}");
        let expected = ja4_from_parts(
            "t13d0206h2",
            &[0x1301, 0xc02b],
            &[0x000a, 0x000b, 0x000d, 0x002b],
            &[0x0403, 0x0804],
        );
        assert_eq!(j, expected);
        assert_eq!(ja3(&h).len(), 32);
    }

    #[test]
    fn alpn_codes() {
        assert_eq!(alpn_code(&[]), "00");
        assert_eq!(alpn_code(&[b"http/1.1".to_vec()]), "h1");
        assert_eq!(alpn_code(&[vec![0xab, b'x', 0x01]]), "a1");
    }
}
