//! Reading Amazon's fixed phrases: the byline ("Visit the X Store", "Brand: X", book
//! contributors), availability texts, the seller line and the offer count.

use crate::price::{normalize_digits, parse_count};
use asa_model::Marketplace;

/// "Visit the X Store" and its translations: (prefix, suffix) around the brand.
const STORE_PHRASES: &[(&str, &str)] = &[
    ("Visit the ", " Store"),
    ("Besuche den ", "-Store"),
    ("Besuchen Sie den ", "-Store"),
    ("Visita la tienda de ", ""),
    ("Visite a loja ", ""),
    ("Visite a Loja ", ""),
    ("Visiter la boutique ", ""),
    ("Visita lo Store di ", ""),
    ("Bezoek de ", "-winkel"),
    ("Odwiedź sklep ", ""),
    ("Besök ", "-butiken"),
    ("", " Store'u ziyaret edin"),
    ("", " Mağazasını ziyaret edin"),
    ("", "のストアを表示"),
    ("", "ストアを表示"),
    ("قم بزيارة متجر ", ""),
    ("زيارة متجر ", ""),
    ("Visitar la tienda de ", ""),
];

const BRAND_LABELS: &[&str] = &[
    "Brand:",
    "Marke:",
    "Marca:",
    "Marque :",
    "Marque:",
    "Merk:",
    "Marka:",
    "Märke:",
    "Varumärke:",
    "ブランド:",
    "العلامة التجارية:",
];

/// The brand (or, on books, the contributors) a byline names.
pub fn brand_from_byline(byline: &str) -> Option<String> {
    let b = byline.trim();
    for label in BRAND_LABELS {
        if let Some(rest) = b.strip_prefix(label) {
            return non_empty(rest.trim());
        }
    }
    for (pre, post) in STORE_PHRASES {
        if let Some(rest) = b.strip_prefix(pre) {
            if let Some(name) = rest.strip_suffix(post) {
                let name = name.trim();
                let name = ["de ", "da ", "do "]
                    .iter()
                    .find_map(|p| name.strip_prefix(p))
                    .unwrap_or(name);
                return non_empty(name);
            }
        }
    }
    // Books: "David Baldacci (Author) Format: Kindle Edition" → "David Baldacci".
    let people = ["Format:", "Formato:", "Format :", "Formaat:"]
        .iter()
        .find_map(|f| b.split_once(f).map(|(a, _)| a))
        .unwrap_or(b);
    let mut names = Vec::new();
    let mut rest = people;
    while !rest.is_empty() {
        let (part, tail) = match rest.find('(') {
            Some(open) => {
                let close = rest[open..]
                    .find(')')
                    .map(|c| open + c + 1)
                    .unwrap_or(rest.len());
                (&rest[..open], &rest[close..])
            }
            None => (rest, ""),
        };
        for name in part.split(',').map(|n| n.trim()).filter(|n| !n.is_empty()) {
            let name = name.strip_prefix("and ").unwrap_or(name).trim();
            if !name.is_empty() && name != "and" {
                names.push(name.to_string());
            }
        }
        rest = tail;
    }
    non_empty(&names.join(", "))
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// Availability as shown, cut to its first sentence when it goes on explaining
/// ("Currently unavailable. We don't know when…" → "Currently unavailable.").
pub fn normalize_stock(text: &str) -> Option<String> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    if t.eq_ignore_ascii_case("in stock.") || t.eq_ignore_ascii_case("in stock") {
        return Some("In Stock".to_string());
    }
    let first = match t.find(". ") {
        Some(i) if i + 1 < t.len() => &t[..=i],
        _ => t,
    };
    Some(first.trim().to_string())
}

/// The seller a merchant line names: "Ships from and sold by Amazon.com." → "Amazon.com",
/// "Sold by X and Fulfilled by Amazon." → "X".
pub fn seller_from_merchant_line(line: &str) -> Option<String> {
    for marker in [
        "sold by ",
        "Sold by ",
        "vendido por ",
        "Verkauf durch ",
        "Vendu par ",
        "Venduto da ",
        "Vendido por ",
    ] {
        if let Some(i) = line.find(marker) {
            let rest = &line[i + marker.len()..];
            let end = [" and ", " y ", " e ", " und ", " et ", " (", ". ", " |"]
                .iter()
                .filter_map(|e| rest.find(e))
                .min()
                .unwrap_or(rest.len());
            let name = rest[..end].trim().trim_end_matches('.').trim();
            return non_empty(name);
        }
    }
    None
}

/// Whether a merchant / ships-from line says Amazon fulfils the order.
pub fn amazon_fulfilled(line: &str) -> bool {
    let l = line.to_lowercase();
    l.contains("fulfilled by amazon")
        || l.contains("ships from and sold by amazon")
        || l.contains("versand durch amazon")
        || l.contains("enviado por amazon")
        || l.contains("expédié par amazon")
        || l.trim() == "amazon"
        || l.trim() == "amazon.com"
}

/// The number of offers in "New (12) from $5", "2 New from $8.99", "New & Used Offers (71)".
pub fn offer_count(text: &str, m: Marketplace) -> Option<u32> {
    let t = normalize_digits(text);
    if let Some(open) = t.find('(') {
        let inner = &t[open + 1..];
        let inner = &inner[..inner.find(')').unwrap_or(inner.len())];
        if inner
            .trim()
            .chars()
            .all(|c| c.is_ascii_digit() || c == ',' || c == '.')
        {
            if let Some(n) = parse_count(inner, m) {
                return u32::try_from(n).ok();
            }
        }
    }
    let t = t.trim_start();
    if t.starts_with(|c: char| c.is_ascii_digit()) {
        let head: String = t.chars().take_while(|c| c.is_ascii_digit()).collect();
        return head.parse().ok();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bylines() {
        assert_eq!(
            brand_from_byline("Visit the SainSmart Store").as_deref(),
            Some("SainSmart")
        );
        assert_eq!(
            brand_from_byline("Visita la tienda de Cecotec").as_deref(),
            Some("Cecotec")
        );
        assert_eq!(
            brand_from_byline("Besuche den Gastroback-Store").as_deref(),
            Some("Gastroback")
        );
        assert_eq!(brand_from_byline("Marke: Bosch").as_deref(), Some("Bosch"));
        assert_eq!(
            brand_from_byline("Philips Mağazasını ziyaret edin").as_deref(),
            Some("Philips")
        );
        assert_eq!(
            brand_from_byline("Yarrow & Co Mağazasını ziyaret edin").as_deref(),
            Some("Yarrow & Co")
        );
        assert_eq!(
            brand_from_byline("サーモスのストアを表示").as_deref(),
            Some("サーモス")
        );
        assert_eq!(brand_from_byline("Brand: Anker").as_deref(), Some("Anker"));
        assert_eq!(
            brand_from_byline("David Baldacci (Author) Format: Kindle Edition").as_deref(),
            Some("David Baldacci")
        );
        assert_eq!(
            brand_from_byline("David Flanagan, Yukihiro Matsumoto").as_deref(),
            Some("David Flanagan, Yukihiro Matsumoto")
        );
        assert_eq!(
            brand_from_byline("Mat Follas (Author)").as_deref(),
            Some("Mat Follas")
        );
        assert_eq!(brand_from_byline("  "), None);
    }

    #[test]
    fn stock_and_sellers() {
        assert_eq!(normalize_stock("In Stock.").as_deref(), Some("In Stock"));
        assert_eq!(
            normalize_stock(
                "Currently unavailable. We don't know when or if this item will be back in stock."
            )
            .as_deref(),
            Some("Currently unavailable.")
        );
        assert_eq!(
            normalize_stock("Only 3 left in stock - order soon.").as_deref(),
            Some("Only 3 left in stock - order soon.")
        );
        assert_eq!(
            seller_from_merchant_line("Ships from and sold by Amazon.com.").as_deref(),
            Some("Amazon.com")
        );
        assert_eq!(
            seller_from_merchant_line(
                "Sold by e9accessories (4.7 out of 5 | 2,194 ratings) and Fulfilled by Amazon."
            )
            .as_deref(),
            Some("e9accessories")
        );
        assert!(amazon_fulfilled("Sold by X and Fulfilled by Amazon."));
        assert!(!amazon_fulfilled("Ships from and sold by Acme."));
    }

    #[test]
    fn offers() {
        assert_eq!(
            offer_count("New (12) from $5.00", Marketplace::Us),
            Some(12)
        );
        assert_eq!(offer_count("2 New from $8.99", Marketplace::Us), Some(2));
        assert_eq!(
            offer_count("New & Used Offers (71)", Marketplace::Us),
            Some(71)
        );
        assert_eq!(offer_count("See all buying options", Marketplace::Us), None);
    }
}
