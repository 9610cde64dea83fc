//! The HTTP/2 fingerprint in Akamai's format (Shuster & Segal, Black Hat EU 2017), as
//! most fingerprinting pages print it: `SETTINGS|WINDOW_UPDATE|PRIORITY|PSEUDO_HEADERS`,
//! e.g. Chrome's `1:65536;2:0;4:6291456;6:262144|15663105|0|m,a,s,p`.
//!
//! Built from the bytes the client sent first: the connection preface, the frames before
//! the first HEADERS, and that HEADERS block's pseudo-header order (HPACK indices are
//! enough for that: browsers name pseudo-headers from the static table).

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The Akamai fingerprint of a connection's first bytes, once they hold the first
/// HEADERS block; `None` before that or for bytes that are not HTTP/2.
pub fn akamai(bytes: &[u8]) -> Option<String> {
    let mut rest = bytes.strip_prefix(PREFACE)?;
    let mut settings: Option<String> = None;
    let mut window: Option<u32> = None;
    let mut priorities: Vec<String> = Vec::new();
    let mut block: Vec<u8> = Vec::new();
    let mut in_headers = false;
    loop {
        if rest.len() < 9 {
            return None;
        }
        let len = (usize::from(rest[0]) << 16) | (usize::from(rest[1]) << 8) | usize::from(rest[2]);
        let (kind, flags) = (rest[3], rest[4]);
        let stream = u32::from_be_bytes([rest[5], rest[6], rest[7], rest[8]]) & 0x7fff_ffff;
        let payload = rest.get(9..9 + len)?;
        rest = &rest[9 + len..];
        match kind {
            4 if flags & 1 == 0 && settings.is_none() => {
                settings = Some(
                    payload
                        .chunks_exact(6)
                        .map(|c| {
                            let id = u16::from_be_bytes([c[0], c[1]]);
                            let v = u32::from_be_bytes([c[2], c[3], c[4], c[5]]);
                            format!("{id}:{v}")
                        })
                        .collect::<Vec<_>>()
                        .join(";"),
                );
            }
            8 if stream == 0 && window.is_none() && payload.len() == 4 => {
                window = Some(
                    u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]])
                        & 0x7fff_ffff,
                );
            }
            2 if payload.len() == 5 && !in_headers => {
                let dep = u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]);
                priorities.push(format!(
                    "{stream}:{}:{}:{}",
                    dep >> 31,
                    dep & 0x7fff_ffff,
                    u16::from(payload[4]) + 1
                ));
            }
            1 => {
                let mut p = payload;
                if flags & 0x8 != 0 {
                    let pad = usize::from(*p.first()?);
                    p = p.get(1..p.len().checked_sub(pad)?)?;
                }
                if flags & 0x20 != 0 {
                    p = p.get(5..)?;
                }
                block.extend_from_slice(p);
                in_headers = true;
                if flags & 0x4 != 0 {
                    break;
                }
            }
            9 if in_headers => {
                block.extend_from_slice(payload);
                if flags & 0x4 != 0 {
                    break;
                }
            }
            _ => {}
        }
    }
    let pseudo = pseudo_order(&block)?;
    Some(format!(
        "{}|{}|{}|{}",
        settings.unwrap_or_default(),
        window.map_or("00".to_string(), |w| w.to_string()),
        if priorities.is_empty() {
            "0".to_string()
        } else {
            priorities.join(",")
        },
        pseudo.join(","),
    ))
}

/// HPACK static table names of the pseudo-headers (RFC 7541 appendix A).
fn static_name(index: usize) -> Option<&'static str> {
    match index {
        1 => Some(":authority"),
        2 | 3 => Some(":method"),
        4 | 5 => Some(":path"),
        6 | 7 => Some(":scheme"),
        8..=14 => Some(":status"),
        15..=61 => Some("regular"),
        _ => None,
    }
}

/// An HPACK integer with an `n`-bit prefix.
fn integer(p: &mut &[u8], n: u8) -> Option<usize> {
    let mask = (1usize << n) - 1;
    let mut v = usize::from(*p.first()?) & mask;
    *p = &p[1..];
    if v < mask {
        return Some(v);
    }
    let mut shift = 0;
    loop {
        let b = *p.first()?;
        *p = &p[1..];
        v += usize::from(b & 0x7f) << shift;
        shift += 7;
        if b & 0x80 == 0 || shift > 28 {
            return Some(v);
        }
    }
}

/// A string literal: its bytes when not Huffman-coded, `None` for the name otherwise.
fn string<'a>(p: &mut &'a [u8]) -> Option<Option<&'a [u8]>> {
    let huffman = *p.first()? & 0x80 != 0;
    let len = integer(p, 7)?;
    let s = p.get(..len)?;
    *p = &p[len..];
    Some((!huffman).then_some(s))
}

/// The first letters of the pseudo-headers, in the order of the block. Names added to the
/// dynamic table by this block are followed, so a later reference still resolves.
fn pseudo_order(mut p: &[u8]) -> Option<Vec<String>> {
    let mut dynamic: Vec<String> = Vec::new();
    let mut order = Vec::new();
    let name_at = |i: usize, dynamic: &[String]| -> Option<String> {
        static_name(i)
            .map(str::to_string)
            .or_else(|| dynamic.get(i.checked_sub(62)?).cloned())
    };
    while !p.is_empty() {
        let b = p[0];
        let name = if b & 0x80 != 0 {
            let i = integer(&mut p, 7)?;
            name_at(i, &dynamic)?
        } else if b & 0xe0 == 0x20 {
            integer(&mut p, 5)?;
            continue;
        } else {
            let indexing = b & 0xc0 == 0x40;
            let i = integer(&mut p, if indexing { 6 } else { 4 })?;
            let name = if i == 0 {
                match string(&mut p)? {
                    Some(raw) => String::from_utf8_lossy(raw).into_owned(),
                    None => "regular".to_string(),
                }
            } else {
                name_at(i, &dynamic)?
            };
            string(&mut p)?;
            if indexing {
                dynamic.insert(0, name.clone());
            }
            name
        };
        match name.strip_prefix(':') {
            Some(rest) => order.push(rest.chars().next().unwrap_or('?').to_string()),
            // Pseudo-headers come first: the first regular header ends them.
            None => break,
        }
    }
    Some(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![
            (payload.len() >> 16) as u8,
            (payload.len() >> 8) as u8,
            payload.len() as u8,
            kind,
            flags,
        ];
        f.extend_from_slice(&stream.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn chrome_like_preface() {
        let mut b = PREFACE.to_vec();
        let mut s = Vec::new();
        for (id, v) in [(1u16, 65536u32), (2, 0), (4, 6291456), (6, 262144)] {
            s.extend_from_slice(&id.to_be_bytes());
            s.extend_from_slice(&v.to_be_bytes());
        }
        b.extend(frame(4, 0, 0, &s));
        b.extend(frame(8, 0, 0, &15663105u32.to_be_bytes()));
        assert_eq!(akamai(&b), None, "no HEADERS yet");
        // :method GET (2), :authority literal with indexing (name 1), :scheme https (7),
        // :path literal without indexing (name 4), then a regular header (user-agent, 58).
        let mut block = vec![0x82, 0x41, 3, b'a', b'.', b'b', 0x87, 0x04, 1, b'/'];
        block.extend_from_slice(&[0x40 | 58, 1, b'x']);
        let mut headers = vec![0x80, 0, 0, 0, 255];
        headers.extend_from_slice(&block);
        b.extend(frame(1, 0x4 | 0x1 | 0x20, 1, &headers));
        assert_eq!(
            akamai(&b).as_deref(),
            Some("1:65536;2:0;4:6291456;6:262144|15663105|0|m,a,s,p")
        );
    }

    #[test]
    fn priority_frames_and_split_blocks() {
        let mut b = PREFACE.to_vec();
        b.extend(frame(4, 0, 0, &[0, 1, 0, 0, 0x10, 0]));
        b.extend(frame(4, 1, 0, &[]));
        b.extend(frame(2, 0, 3, &[0, 0, 0, 0, 200]));
        b.extend(frame(1, 0, 1, &[0x82, 0x84]));
        b.extend(frame(9, 0x4, 1, &[0x87, 0x81]));
        assert_eq!(akamai(&b).as_deref(), Some("1:4096|00|3:0:0:201|m,p,s,a"));
        assert_eq!(akamai(b"GET / HTTP/1.1\r\n\r\n"), None);
    }
}
