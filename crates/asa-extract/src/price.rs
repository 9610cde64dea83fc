//! Locale-aware number reading: prices ("1.299,00 €", "￥1,280", "‏٣٬٤٩٩٫٠٠ ‏ر.س"), price
//! ranges ("$12.99 - $24.99"), counts ("1.234 Bewertungen") and ratings ("4,5 von 5").

use asa_model::Marketplace;

/// A price as the page shows it, and the number read from it.
#[derive(Debug, Clone, PartialEq)]
pub struct Price {
    pub value: f64,
    /// The upper end of a range ("$12.99 - $24.99"), if any.
    pub high: Option<f64>,
    pub raw: String,
}

/// Maps Arabic-Indic (U+0660..) and Extended Arabic-Indic (U+06F0..) digits, the Arabic
/// decimal and thousands separators, and full-width digits to ASCII.
pub fn normalize_digits(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{0660}'..='\u{0669}' => char::from(b'0' + (c as u32 - 0x0660) as u8),
            '\u{06F0}'..='\u{06F9}' => char::from(b'0' + (c as u32 - 0x06F0) as u8),
            '\u{FF10}'..='\u{FF19}' => char::from(b'0' + (c as u32 - 0xFF10) as u8),
            '\u{066B}' => '.', // Arabic decimal separator
            '\u{066C}' => ',', // Arabic thousands separator
            '\u{FF0C}' => ',',
            '\u{FF0E}' => '.',
            _ => c,
        })
        .collect()
}

fn is_space(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{a0}' | '\u{202f}' | '\u{2009}' | '\'')
}

/// Reads the first number in `s` the way `m` writes numbers. `decimals_allowed` is false
/// for counts, where every separator groups thousands.
fn read_number(s: &str, m: Marketplace, decimals_allowed: bool) -> Option<f64> {
    let s = normalize_digits(s);
    let loc = m.locale();
    // Take the first run made of digits and separators.
    let start = s.find(|c: char| c.is_ascii_digit())?;
    let run: String = s[start..]
        .chars()
        .take_while(|&c| c.is_ascii_digit() || c == '.' || c == ',' || is_space(c))
        .collect();
    let run = run.trim_end_matches(|c: char| !c.is_ascii_digit());
    // Spaces inside a number group thousands ("1 299,00"); but "12 99" is not a number we
    // can trust, so only keep spaces followed by exactly three digits.
    let mut cleaned = String::with_capacity(run.len());
    let chars: Vec<char> = run.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if is_space(c) {
            let next3 = chars[i + 1..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            if next3 == 3 {
                i += 1;
                continue;
            }
            break;
        }
        cleaned.push(c);
        i += 1;
    }
    let last_sep = cleaned.rfind(['.', ',']);
    let number = match last_sep {
        None => cleaned.clone(),
        Some(pos) => {
            let sep = cleaned[pos..].chars().next()?;
            let tail = cleaned.len() - pos - 1;
            let is_decimal = decimals_allowed
                && loc.currency_decimals > 0
                && tail != 3
                && (sep == loc.decimal || (tail <= 2 && cleaned.matches(sep).count() == 1));
            // A separator followed by exactly three digits is a thousands group, unless it
            // is the locale's decimal mark and the number has no other separator of it
            // ("0,500" does not occur as a price); keep Amazon's conventions simple.
            if is_decimal {
                let int: String = cleaned[..pos]
                    .chars()
                    .filter(|c| c.is_ascii_digit())
                    .collect();
                format!(
                    "{}.{}",
                    if int.is_empty() { "0" } else { &int },
                    &cleaned[pos + 1..]
                )
            } else {
                cleaned.chars().filter(|c| c.is_ascii_digit()).collect()
            }
        }
    };
    number.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Parses a price in `m`'s locale. Returns `None` when the text holds no number.
pub fn parse_price(text: &str, m: Marketplace) -> Option<Price> {
    let raw = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if raw.is_empty() {
        return None;
    }
    let normalized = normalize_digits(&raw);
    // Ranges: "$12.99 - $24.99", "12,99 € – 24,99 €".
    let (low_text, high_text) = match normalized.find([' ', '\u{a0}']).and_then(|_| {
        ["\u{2013}", " - ", "\u{2014}", " ~ ", "～"]
            .iter()
            .find_map(|d| normalized.split_once(d))
    }) {
        Some((a, b)) => (a.to_string(), Some(b.to_string())),
        None => (normalized.clone(), None),
    };
    let value = read_number(&low_text, m, true)?;
    let high = high_text.and_then(|h| read_number(&h, m, true));
    Some(Price { value, high, raw })
}

/// Parses a count ("1,234 ratings", "1.234 Bewertungen", "12 345 évaluations").
pub fn parse_count(text: &str, m: Marketplace) -> Option<u64> {
    read_number(text, m, false).map(|v| v as u64)
}

/// Parses a star rating ("4.5 out of 5 stars", "4,5 von 5 Sternen", "5つ星のうち4.3").
pub fn parse_rating(text: &str) -> Option<f64> {
    let s = normalize_digits(text);
    // Japanese and Turkish put the scale first: "5つ星のうち4.3", "5 yıldız üzerinden 4,2".
    let s = match ["のうち", "üzerinden"]
        .iter()
        .find_map(|m| s.find(m).map(|i| i + m.len()))
    {
        Some(i) => s[i..].to_string(),
        None => s,
    };
    let start = s.find(|c: char| c.is_ascii_digit())?;
    let num: String = s[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ',')
        .map(|c| if c == ',' { '.' } else { c })
        .collect();
    let v: f64 = num.trim_end_matches('.').parse().ok()?;
    (0.0..=5.0).contains(&v).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Marketplace::*;

    fn p(s: &str, m: Marketplace) -> Option<f64> {
        parse_price(s, m).map(|p| p.value)
    }

    #[test]
    fn locales() {
        assert_eq!(p("$1,299.99", Us), Some(1299.99));
        assert_eq!(p("1.299,00 €", De), Some(1299.0));
        assert_eq!(p("1 299,00 €", Fr), Some(1299.0));
        assert_eq!(p("1\u{202f}299,00\u{a0}€", Fr), Some(1299.0));
        assert_eq!(p("12,99 €", Es), Some(12.99));
        assert_eq!(p("￥1,280", Jp), Some(1280.0));
        assert_eq!(p("¥ 12,800", Jp), Some(12800.0));
        assert_eq!(p("R$ 2.499,90", Br), Some(2499.9));
        assert_eq!(p("₹1,09,999.00", In), Some(109999.0));
        assert_eq!(p("AED 1,234.50", Ae), Some(1234.5));
        assert_eq!(p("٣٬٤٩٩٫٠٠ ر.س", Sa), Some(3499.0));
        assert_eq!(p("1.234 TL", Tr), Some(1234.0));
        assert_eq!(p("499,00 zł", Pl), Some(499.0));
        assert_eq!(p("1 499 kr", Se), Some(1499.0));
        assert_eq!(p("£7.99", Uk), Some(7.99));
        assert_eq!(p("$5", Us), Some(5.0));
        assert_eq!(p("no price", Us), None);
    }

    #[test]
    fn ranges() {
        let r = parse_price("$12.99 - $24.99", Us).unwrap();
        assert_eq!((r.value, r.high), (12.99, Some(24.99)));
        let r = parse_price("12,99 € – 24,99 €", De).unwrap();
        assert_eq!((r.value, r.high), (12.99, Some(24.99)));
    }

    #[test]
    fn counts_and_ratings() {
        assert_eq!(parse_count("1,234 ratings", Us), Some(1234));
        assert_eq!(parse_count("1.234 Bewertungen", De), Some(1234));
        assert_eq!(parse_count("12 345 évaluations", Fr), Some(12345));
        assert_eq!(parse_count("(87)", Us), Some(87));
        // Plain spaces group thousands too ("5 000 betyg", "1 234 567 ocen").
        assert_eq!(parse_count("5 000 betyg", Se), Some(5000));
        assert_eq!(parse_count("1 234 567 ocen", Pl), Some(1234567));
        assert_eq!(parse_count("5\u{a0}000 ocen", Pl), Some(5000));
        assert_eq!(parse_count("12 34 avis", Fr), Some(12));
        assert_eq!(parse_rating("5 yıldız üzerinden 4,4"), Some(4.4));
        assert_eq!(parse_rating("5つ星のうち3.9"), Some(3.9));
        assert_eq!(parse_rating("4.5 out of 5 stars"), Some(4.5));
        assert_eq!(parse_rating("4,5 von 5 Sternen"), Some(4.5));
        assert_eq!(parse_rating("5つ星のうち4.3"), Some(4.3));
        assert_eq!(parse_rating("5 yıldız üzerinden 4,2"), Some(4.2));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,80}", mi in 0usize..20) {
            let m = Marketplace::ALL[mi];
            let _ = parse_price(&s, m);
            let _ = parse_count(&s, m);
            let _ = parse_rating(&s);
        }
    }
}
