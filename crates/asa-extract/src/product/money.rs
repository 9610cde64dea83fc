//! Which of the page's many price blocks is the price, the buy-box price and the
//! struck-through one, and in which currency.

use super::pass::{Collected, Slot};
use crate::price::{parse_price, Price};
use asa_model::Marketplace;

/// The prices a product page shows.
#[derive(Debug, Default, PartialEq)]
pub struct Prices {
    pub price: Option<f64>,
    pub buybox: Option<f64>,
    pub strikethrough: Option<f64>,
    pub raw: Option<String>,
    pub currency: Option<String>,
}

/// Price blocks in the order a buyer sees them win: the current core/apex block, then
/// deal and sale prices of the priceblock era, the buy box, Kindle and format swatches,
/// and the 2013 layouts.
const PRICE_ORDER: &[Slot] = &[
    Slot::PriceCore,
    Slot::PriceApex,
    Slot::PriceDeal,
    Slot::PriceSale,
    Slot::PriceOur,
    Slot::PriceBuybox,
    Slot::PriceTotalWw,
    Slot::PriceKindle,
    Slot::PriceBuyNew,
    Slot::PriceSwatch,
    Slot::PriceLegacy,
    Slot::PriceMobile,
];

fn read(c: &Collected, s: Slot, m: Marketplace) -> Option<Price> {
    let text = crate::text::clean(c.slot(s))?;
    parse_price(&text, m).filter(|p| p.value > 0.0)
}

pub fn prices(c: &Collected, m: Marketplace) -> Prices {
    let chosen = PRICE_ORDER
        .iter()
        .find_map(|&s| read(c, s, m).map(|p| (s, p)));
    let attach = c
        .attach_price
        .as_deref()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v > 0.0);
    let mut out = Prices::default();
    match chosen {
        Some((slot, p)) => {
            out.price = Some(p.value);
            out.currency = Some(currency_for(&p.raw, m, c.currency_class.as_deref()));
            out.raw = Some(p.raw);
            out.buybox = [Slot::PriceBuybox, Slot::PriceTotalWw]
                .iter()
                .find_map(|&s| read(c, s, m).map(|p| p.value))
                .or(attach)
                .or_else(|| c.buybox_seen.then_some(p.value));
            // A deal or sale price strikes the regular one through.
            let regular = matches!(slot, Slot::PriceDeal | Slot::PriceSale)
                .then(|| read(c, Slot::PriceOur, m).map(|p| p.value))
                .flatten();
            out.strikethrough = [Slot::StrikeBasis, Slot::StrikeList]
                .iter()
                .find_map(|&s| read(c, s, m).map(|p| p.value))
                .or(regular)
                .filter(|v| *v > p.value);
        }
        None => {
            // Hidden form value of the buy box (2021 pages that render the price later).
            if let Some(v) = attach {
                out.price = Some(v);
                out.buybox = Some(v);
                out.currency = Some(m.currency().to_string());
            }
        }
    }
    out
}

/// The ISO code of the currency a price is written in: the symbol or code in the text,
/// else the marketplace's own.
pub fn currency_for(raw: &str, m: Marketplace, class_hint: Option<&str>) -> String {
    if let Some(code) = class_hint.and_then(|c| {
        c.split_whitespace()
            .find_map(|w| w.strip_prefix("currency"))
    }) {
        if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
            return code.to_string();
        }
    }
    const MARKS: &[(&str, &str)] = &[
        ("US$", "USD"),
        ("CDN$", "CAD"),
        ("CA$", "CAD"),
        ("C$", "CAD"),
        ("AU$", "AUD"),
        ("A$", "AUD"),
        ("S$", "SGD"),
        ("MX$", "MXN"),
        ("R$", "BRL"),
        ("د.إ", "AED"),
        ("ر.س", "SAR"),
        ("ج.م", "EGP"),
        ("€", "EUR"),
        ("£", "GBP"),
        ("₹", "INR"),
        ("Rs.", "INR"),
        ("￥", "JPY"),
        ("¥", "JPY"),
        ("円", "JPY"),
        ("₺", "TRY"),
        ("TL", "TRY"),
        ("zł", "PLN"),
        ("kr", "SEK"),
    ];
    const CODES: &[&str] = &[
        "USD", "GBP", "EUR", "CAD", "MXN", "BRL", "AUD", "JPY", "SGD", "INR", "TRY", "AED", "SAR",
        "EGP", "PLN", "SEK",
    ];
    if let Some(code) = raw
        .split(|c: char| !c.is_ascii_uppercase())
        .find(|w| CODES.contains(w))
    {
        return code.to_string();
    }
    if let Some((_, code)) = MARKS.iter().find(|(mark, _)| raw.contains(mark)) {
        return code.to_string();
    }
    if raw.contains('$') && !matches!(m.currency(), "USD" | "CAD" | "MXN" | "AUD" | "SGD") {
        return "USD".to_string();
    }
    m.currency().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Marketplace::*;

    #[test]
    fn currencies() {
        assert_eq!(currency_for("$8.99", Us, None), "USD");
        assert_eq!(currency_for("$8.99", Mx, None), "MXN");
        assert_eq!(currency_for("US$8.99", Mx, None), "USD");
        assert_eq!(currency_for("$8.99", De, None), "USD");
        assert_eq!(currency_for("AED 12.00", Ae, None), "AED");
        assert_eq!(currency_for("12,99 €", Uk, None), "EUR");
        assert_eq!(currency_for(" 237,097.00", In, Some("currencyINR")), "INR");
        assert_eq!(currency_for("1 499 kr", Se, None), "SEK");
        assert_eq!(currency_for("R$ 2.499,90", Br, None), "BRL");
        assert_eq!(currency_for("٣٬٤٩٩٫٠٠ ر.س", Sa, None), "SAR");
        assert_eq!(currency_for("1299", Fr, None), "EUR");
    }
}
