//! Content encodings the simulator offers, as Amazon does: brotli when accepted, else
//! gzip, so a fetcher's decoding is exercised.

use bytes::Bytes;
use std::io::Write;

/// `br` when accepted, else `gzip`, else identity (q=0 excludes).
pub fn negotiate(accept: Option<&str>) -> Option<&'static str> {
    let accept = accept?;
    let accepted = |name: &str| {
        accept.split(',').any(|item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            coding.eq_ignore_ascii_case(name) && q > 0.0
        })
    };
    if accepted("br") {
        Some("br")
    } else if accepted("gzip") {
        Some("gzip")
    } else {
        None
    }
}

pub fn encode(body: &[u8], encoding: &str) -> Bytes {
    let mut out = Vec::with_capacity(body.len() / 5);
    let ok = match encoding {
        "br" => {
            let params = brotli::enc::BrotliEncoderParams {
                quality: 5,
                lgwin: 22,
                ..Default::default()
            };
            brotli::BrotliCompress(&mut &body[..], &mut out, &params).is_ok()
        }
        _ => {
            let mut enc = flate2::write::GzEncoder::new(&mut out, flate2::Compression::new(5));
            enc.write_all(body)
                .and_then(|_| enc.finish().map(|_| ()))
                .is_ok()
        }
    };
    if !ok {
        tracing::error!(encoding, "encoding a simulated page failed");
    }
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn encoding_negotiation() {
        assert_eq!(negotiate(Some("gzip, deflate, br")), Some("br"));
        assert_eq!(negotiate(Some("gzip, br;q=0")), Some("gzip"));
        assert_eq!(negotiate(Some("identity")), None);
        assert_eq!(negotiate(None), None);
    }

    #[test]
    fn encodings_round_trip() {
        let page = "<html>".repeat(5000);
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&encode(page.as_bytes(), "gzip")[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, page.as_bytes());
        out.clear();
        brotli::Decompressor::new(&encode(page.as_bytes(), "br")[..], 4096)
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, page.as_bytes());
    }
}
