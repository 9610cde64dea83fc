//! The page bytes as saved: an optional raw HTTP header block in front, and a charset
//! declared in that header or in a `<meta>` tag (2013 pages are iso-8859-1).

use encoding_rs::Encoding;
use memchr::memmem;

/// How far into the page a charset declaration is looked for.
const CHARSET_WINDOW: usize = 4096;

/// The HTML body and the encoding it declares (UTF-8 when it declares none).
pub fn body_and_encoding(page: &[u8]) -> (&[u8], &'static Encoding) {
    let (header, body) = split_http_header(page);
    let declared = header
        .and_then(charset_in)
        .or_else(|| charset_in(&body[..body.len().min(CHARSET_WINDOW)]))
        .and_then(|label| Encoding::for_label(label))
        // lol_html only reads ASCII-compatible encodings; UTF-16 labels are a lie anyway
        // once the page was served as bytes we can read.
        .filter(|e| e.is_ascii_compatible())
        .unwrap_or(encoding_rs::UTF_8);
    (body, declared)
}

/// Splits a leading `HTTP/1.x 200 OK` header block from the body.
fn split_http_header(page: &[u8]) -> (Option<&[u8]>, &[u8]) {
    if !page.starts_with(b"HTTP/") {
        return (None, page);
    }
    let end = memmem::find(page, b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| memmem::find(page, b"\n\n").map(|i| i + 2));
    match end {
        Some(e) => (Some(&page[..e]), &page[e..]),
        None => (None, page),
    }
}

/// The `charset=` value in a header block or a document head.
fn charset_in(bytes: &[u8]) -> Option<&[u8]> {
    let lower: Vec<u8> = bytes.iter().map(u8::to_ascii_lowercase).collect();
    let at = memmem::find(&lower, b"charset=")? + b"charset=".len();
    let rest = &bytes[at..];
    let rest = rest
        .strip_prefix(b"\"")
        .or_else(|| rest.strip_prefix(b"'"))
        .unwrap_or(rest);
    let len = rest
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.')))
        .unwrap_or(rest.len());
    (len > 0).then(|| &rest[..len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_block_and_charsets() {
        let page = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=ISO-8859-1\r\n\r\n<html>";
        let (body, enc) = body_and_encoding(page);
        assert_eq!(body, b"<html>");
        assert_eq!(enc, encoding_rs::WINDOWS_1252);
        let (_, enc) = body_and_encoding(
            b"<meta http-equiv=\"content-type\" content=\"text/html; charset=iso-8859-1\" />",
        );
        assert_eq!(enc, encoding_rs::WINDOWS_1252);
        let (_, enc) = body_and_encoding(b"<meta charset=\"utf-8\">");
        assert_eq!(enc, encoding_rs::UTF_8);
        let (_, enc) = body_and_encoding(b"<meta charset=utf-16>");
        assert_eq!(enc, encoding_rs::UTF_8);
        let (body, enc) = body_and_encoding(b"HTTP/1.1 200 OK");
        assert_eq!((body, enc), (&b"HTTP/1.1 200 OK"[..], encoding_rs::UTF_8));
    }
}
