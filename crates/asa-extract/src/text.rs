//! Text clean-up shared by the extractors: HTML entities, whitespace, and small scanners
//! over raw page bytes. The search extractor may call these too.

use memchr::memmem;

/// Collapses every run of whitespace (including no-break and zero-width marks Amazon puts
/// around labels) into one space and trims the ends.
pub fn squash(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if c.is_whitespace() || is_invisible(c) {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    out
}

/// Direction marks and zero-width characters Amazon sprinkles into labels ("Brand ‏ : ‎").
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}' | '\u{feff}' | '\u{a0}'
    )
}

/// Decodes HTML character references (`&amp;`, `&#39;`, `&ecirc;`, the whole HTML5
/// table). lol_html hands text and attributes over as written, entities included.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    html_escape::decode_html_entities(s).into_owned()
}

/// Entity-decoded, whitespace-squashed text; `None` when nothing is left.
pub fn clean(s: &str) -> Option<String> {
    let out = squash(&decode_entities(s));
    (!out.is_empty()).then_some(out)
}

/// True when `s` looks like an ASIN or ISBN-10: ten upper-case letters or digits.
pub fn is_asin(s: &str) -> bool {
    s.len() == 10
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// The ASIN in a product URL (`/dp/X`, `/gp/product/X`, `/gp/aw/d/X`, `/gp/offer-listing/X`,
/// `/product-reviews/X`).
pub fn asin_in_url(url: &str) -> Option<String> {
    for marker in [
        "/dp/",
        "/gp/product/",
        "/gp/aw/d/",
        "/gp/offer-listing/",
        "/product-reviews/",
        "/d/",
    ] {
        if let Some(i) = url.find(marker) {
            let rest = &url[i + marker.len()..];
            let id: String = rest.chars().take(10).collect();
            let id = id.to_ascii_uppercase();
            if is_asin(&id)
                && !rest[id.len().min(rest.len())..]
                    .starts_with(|c: char| c.is_ascii_alphanumeric())
            {
                return Some(id);
            }
        }
    }
    None
}

/// The value of query parameter `name` in `url` (raw, not percent-decoded).
pub fn query_param<'a>(url: &'a str, name: &str) -> Option<&'a str> {
    let query = url.split_once('?')?.1;
    query
        .split(['&', ';'])
        .map(|kv| kv.strip_prefix("amp;").unwrap_or(kv))
        .find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k == name).then_some(v)
        })
        .filter(|v| !v.is_empty())
}

/// Finds `needle` in `hay` from `from`; the absolute offset.
pub fn find_from(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)
        .and_then(|h| memmem::find(h, needle))
        .map(|i| i + from)
}

/// The JSON value (object, array or string) starting at the first `{`, `[` or `"` at or
/// after `from`, cut out with bracket matching that respects strings. `limit` bounds the
/// scan so a broken page cannot make it run away.
pub fn json_value_at(hay: &[u8], from: usize, limit: usize) -> Option<&[u8]> {
    let start = from
        + hay
            .get(from..)?
            .iter()
            .take(64)
            .position(|b| matches!(b, b'{' | b'[' | b'"'))?;
    let end_bound = hay.len().min(start.saturating_add(limit));
    let mut depth = 0usize;
    let mut in_str = false;
    let mut escaped = false;
    for (i, &b) in hay[start..end_bound].iter().enumerate() {
        if in_str {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_str = false;
                if depth == 0 {
                    return Some(&hay[start..start + i + 1]);
                }
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(&hay[start..start + i + 1]);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squashes_and_decodes() {
        assert_eq!(squash("  a \n\t b\u{a0} c "), "a b c");
        assert_eq!(squash("Brand \u{200f}:\u{200e} X"), "Brand : X");
        assert_eq!(
            decode_entities("Tom &amp; Jerry&#39;s &#x27;x&#x27; &bogus; &"),
            "Tom & Jerry's 'x' &bogus; &"
        );
        assert_eq!(decode_entities("Portugu&ecirc;s"), "Português");
        assert_eq!(clean("  &nbsp; "), None);
    }

    #[test]
    fn urls() {
        assert_eq!(
            asin_in_url("https://www.amazon.com/X-Y/dp/B0057OC5O8/ref=x").as_deref(),
            Some("B0057OC5O8")
        );
        assert_eq!(
            asin_in_url("/gp/aw/d/0596516177"),
            Some("0596516177".into())
        );
        assert_eq!(asin_in_url("/dp/B0057OC5O8X"), None);
        assert_eq!(
            asin_in_url("http://amazon.in/gp/offer-listing/B01NCE2FHK").as_deref(),
            Some("B01NCE2FHK")
        );
        assert_eq!(
            query_param("/gp/x?ie=UTF8&amp;seller=A1CJB5SYI9X4XC&asin=1", "seller"),
            Some("A1CJB5SYI9X4XC")
        );
    }

    #[test]
    fn json_cut() {
        let s = br#"x = {"a": "}[", "b": [1, {"c": 2}]} tail"#;
        assert_eq!(
            json_value_at(s, 0, 1000),
            Some(&br#"{"a": "}[", "b": [1, {"c": 2}]}"#[..])
        );
        assert_eq!(json_value_at(b"{\"a\": 1", 0, 1000), None);
        assert_eq!(json_value_at(b"]]]", 0, 1000), None);
    }
}
