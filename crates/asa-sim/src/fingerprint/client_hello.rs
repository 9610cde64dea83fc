//! The TLS ClientHello as a bot manager reads it: parsed from the raw handshake bytes,
//! because JA3 needs what TLS libraries do not hand out (extension order, GREASE values).

/// The fields of a ClientHello that JA3 and JA4 are built from, in wire order, GREASE
/// values included (the fingerprints drop them, a bot manager may still look).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientHello {
    /// `legacy_version` of the hello (0x0303 for TLS 1.2 and 1.3 clients).
    pub version: u16,
    pub ciphers: Vec<u16>,
    pub extensions: Vec<u16>,
    /// The host name of the SNI extension, when there is one.
    pub server_name: Option<String>,
    pub groups: Vec<u16>,
    pub point_formats: Vec<u8>,
    pub signature_algorithms: Vec<u16>,
    /// ALPN protocols offered, in order.
    pub alpn: Vec<Vec<u8>>,
    pub supported_versions: Vec<u16>,
}

/// GREASE values (RFC 8701): `0x?a?a` with both bytes equal.
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

/// How much of the stream is needed before the hello can be parsed.
#[derive(Debug, PartialEq, Eq)]
pub enum Need {
    /// The handshake message is complete; parse it.
    Complete(Vec<u8>),
    /// Read more bytes.
    More,
    /// Not a TLS handshake.
    NotTls,
}

/// Collects the first handshake message from the TLS records at the start of `buf`; a
/// ClientHello may span several records.
pub fn handshake_message(buf: &[u8]) -> Need {
    let mut msg = Vec::new();
    let mut at = 0;
    loop {
        if buf.len() < at + 5 {
            return Need::More;
        }
        if buf[at] != 0x16 || buf[at + 1] != 0x03 {
            return Need::NotTls;
        }
        let len = usize::from(u16::from_be_bytes([buf[at + 3], buf[at + 4]]));
        if buf.len() < at + 5 + len {
            return Need::More;
        }
        msg.extend_from_slice(&buf[at + 5..at + 5 + len]);
        at += 5 + len;
        if msg.len() >= 4 {
            let body =
                (usize::from(msg[1]) << 16) | (usize::from(msg[2]) << 8) | usize::from(msg[3]);
            if msg.len() >= 4 + body {
                msg.truncate(4 + body);
                return Need::Complete(msg);
            }
        }
    }
}

/// A cursor over big-endian fields; every read fails cleanly past the end.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
    fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }
    fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }
}

fn u16s(bytes: &[u8]) -> Vec<u16> {
    bytes
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect()
}

impl ClientHello {
    /// Parses a handshake message (type, 24-bit length, body). `None` if it is not a
    /// well-formed ClientHello.
    pub fn parse(msg: &[u8]) -> Option<ClientHello> {
        let mut r = Reader(msg);
        if r.u8()? != 1 {
            return None;
        }
        r.take(3)?;
        let mut hello = ClientHello {
            version: r.u16()?,
            ..ClientHello::default()
        };
        r.take(32)?;
        r.vec8()?;
        hello.ciphers = u16s(r.vec16()?);
        r.vec8()?;
        if r.0.is_empty() {
            return Some(hello);
        }
        let mut exts = Reader(r.vec16()?);
        while !exts.0.is_empty() {
            let kind = exts.u16()?;
            let data = exts.vec16()?;
            hello.extensions.push(kind);
            let mut d = Reader(data);
            match kind {
                0x0000 => {
                    let mut list = Reader(d.vec16()?);
                    if list.u8()? == 0 {
                        let name = list.vec16()?;
                        hello.server_name = Some(String::from_utf8_lossy(name).into_owned());
                    }
                }
                0x000a => hello.groups = u16s(d.vec16()?),
                0x000b => hello.point_formats = d.vec8()?.to_vec(),
                0x000d => hello.signature_algorithms = u16s(d.vec16()?),
                0x0010 => {
                    let mut list = Reader(d.vec16()?);
                    while !list.0.is_empty() {
                        hello.alpn.push(list.vec8()?.to_vec());
                    }
                }
                0x002b => hello.supported_versions = u16s(d.vec8()?),
                _ => {}
            }
        }
        Some(hello)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A hand-built hello: GREASE cipher, SNI, ALPN, groups, formats, sigalgs, versions.
    pub(crate) fn sample_hello() -> Vec<u8> {
        let mut ext = Vec::new();
        let mut push = |kind: u16, data: &[u8]| {
            ext.extend_from_slice(&kind.to_be_bytes());
            ext.extend_from_slice(&(data.len() as u16).to_be_bytes());
            ext.extend_from_slice(data);
        };
        push(0x1a1a, &[]);
        let host = b"www.amazon.de";
        let mut sni = vec![0, (host.len() + 3) as u8, 0, 0, host.len() as u8];
        sni.extend_from_slice(host);
        push(0x0000, &sni);
        push(0x000a, &[0, 4, 0x00, 0x1d, 0x00, 0x17]);
        push(0x000b, &[1, 0]);
        push(0x000d, &[0, 4, 0x04, 0x03, 0x08, 0x04]);
        push(
            0x0010,
            &[
                0, 12, 2, b'h', b'2', 8, b'h', b't', b't', b'p', b'/', b'1', b'.', b'1',
            ],
        );
        push(0x002b, &[4, 0x03, 0x04, 0x03, 0x03]);
        let mut body = vec![0x03, 0x03];
        body.extend_from_slice(&[7u8; 32]);
        body.push(0);
        body.extend_from_slice(&[0, 6, 0x2a, 0x2a, 0x13, 0x01, 0xc0, 0x2b]);
        body.extend_from_slice(&[1, 0]);
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(&ext);
        let mut msg = vec![1, 0, (body.len() >> 8) as u8, body.len() as u8];
        msg.extend_from_slice(&body);
        msg
    }

    #[test]
    fn parses_every_field_in_wire_order() {
        let h = ClientHello::parse(&sample_hello()).unwrap();
        assert_eq!(h.version, 0x0303);
        assert_eq!(h.ciphers, vec![0x2a2a, 0x1301, 0xc02b]);
        assert_eq!(
            h.extensions,
            vec![0x1a1a, 0x0000, 0x000a, 0x000b, 0x000d, 0x0010, 0x002b]
        );
        assert_eq!(h.server_name.as_deref(), Some("www.amazon.de"));
        assert_eq!(h.groups, vec![0x001d, 0x0017]);
        assert_eq!(h.point_formats, vec![0]);
        assert_eq!(h.signature_algorithms, vec![0x0403, 0x0804]);
        assert_eq!(h.alpn, vec![b"h2".to_vec(), b"http/1.1".to_vec()]);
        assert_eq!(h.supported_versions, vec![0x0304, 0x0303]);
    }

    #[test]
    fn a_hello_split_over_two_records_is_reassembled() {
        let msg = sample_hello();
        let (a, b) = msg.split_at(20);
        let mut wire = vec![0x16, 0x03, 0x01, 0, a.len() as u8];
        wire.extend_from_slice(a);
        assert_eq!(handshake_message(&wire), Need::More);
        wire.extend_from_slice(&[0x16, 0x03, 0x01, 0, b.len() as u8]);
        wire.extend_from_slice(b);
        assert_eq!(handshake_message(&wire), Need::Complete(msg));
        assert_eq!(handshake_message(b"GET / HTTP/1.1\r\n"), Need::NotTls);
    }

    #[test]
    fn truncated_or_foreign_bytes_are_refused_not_panicked_on() {
        let msg = sample_hello();
        for cut in 0..msg.len() {
            let _ = ClientHello::parse(&msg[..cut]);
        }
        assert!(ClientHello::parse(&[2, 0, 0, 0]).is_none());
        assert!(is_grease(0x2a2a) && is_grease(0xfafa) && !is_grease(0x1301));
    }
}
