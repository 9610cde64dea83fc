//! Numbers as each storefront writes them: prices in the marketplace's currency and number
//! locale (`1.299,00 €`, `1 299,00 €`, `￥1,280`, `₹1,09,999.00`, Arabic-Indic digits
//! under `ar_*`), review counts and ratings in the interface language.

use asa_model::Marketplace;

/// How a price is written on one storefront in one interface language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoneyStyle {
    pub symbol: &'static str,
    /// Symbol before the number (`$12.99`) or after it (`12,99 €`).
    pub prefix: bool,
    /// What stands between the symbol and the number.
    pub gap: &'static str,
    pub decimal: &'static str,
    pub group: &'static str,
    /// Digits after the decimal separator (0 for yen and whole kronor).
    pub decimals: u32,
    /// Indian grouping (`1,09,999`).
    pub indian: bool,
    /// Arabic-Indic digits.
    pub arabic: bool,
}

const NBSP: &str = "\u{a0}";
const NNBSP: &str = "\u{202f}";

fn style(
    symbol: &'static str,
    prefix: bool,
    gap: &'static str,
    decimal: &'static str,
    group: &'static str,
) -> MoneyStyle {
    MoneyStyle {
        symbol,
        prefix,
        gap,
        decimal,
        group,
        decimals: 2,
        indian: false,
        arabic: false,
    }
}

/// The price style of marketplace `m` with interface language `language`.
pub fn money_style(m: Marketplace, language: &str) -> MoneyStyle {
    use Marketplace::*;
    let arabic = language.starts_with("ar");
    let arabic_style = |symbol| MoneyStyle {
        symbol,
        prefix: false,
        gap: NBSP,
        decimal: "\u{66b}",
        group: "\u{66c}",
        decimals: 2,
        indian: false,
        arabic: true,
    };
    match m {
        Us | Mx | Au => style("$", true, "", ".", ","),
        Uk => style("£", true, "", ".", ","),
        De | It | Es => style("€", false, NBSP, ",", "."),
        Fr => style("€", false, NBSP, ",", NNBSP),
        Nl => style("€", true, NBSP, ",", "."),
        Pl => style("zł", false, NBSP, ",", NBSP),
        Se => MoneyStyle {
            decimals: 0,
            ..style("kr", false, NBSP, ",", NBSP)
        },
        Ca if language.starts_with("fr") => style("$", false, NBSP, ",", NBSP),
        Ca => style("$", true, "", ".", ","),
        Br => style("R$", true, NBSP, ",", "."),
        Jp => MoneyStyle {
            decimals: 0,
            ..style("￥", true, "", ".", ",")
        },
        Sg => style("S$", true, "", ".", ","),
        In => MoneyStyle {
            indian: true,
            ..style("₹", true, "", ".", ",")
        },
        Tr => style("TL", false, NBSP, ",", "."),
        Ae if arabic => arabic_style("د.إ.\u{200f}"),
        Sa if arabic => arabic_style("ر.س.\u{200f}"),
        Eg if arabic => arabic_style("ج.م.\u{200f}"),
        Ae => style("AED", true, NBSP, ".", ","),
        Sa => style("SAR", true, NBSP, ".", ","),
        Eg => style("EGP", true, NBSP, ".", ","),
    }
}

/// A price in minor units (cents, or whole units when `decimals` is 0), split the way
/// `.a-price-whole` / `.a-price-fraction` show it: grouped whole part and fraction digits.
pub fn split_amount(minor: u64, s: &MoneyStyle) -> (String, String) {
    let unit = 10u64.pow(s.decimals);
    let whole = group_digits(minor / unit, s.group, s.indian);
    let fraction = if s.decimals == 0 {
        String::new()
    } else {
        format!("{:0width$}", minor % unit, width = s.decimals as usize)
    };
    (
        localize_digits(&whole, s.arabic),
        localize_digits(&fraction, s.arabic),
    )
}

/// The full price text, as in `.a-offscreen`.
pub fn format_money(minor: u64, s: &MoneyStyle) -> String {
    let (whole, fraction) = split_amount(minor, s);
    let number = if fraction.is_empty() {
        whole
    } else {
        format!("{whole}{}{fraction}", s.decimal)
    };
    if s.prefix {
        format!("{}{}{number}", s.symbol, s.gap)
    } else {
        format!("{number}{}{}", s.gap, s.symbol)
    }
}

/// The numeric value of a price in minor units.
pub fn amount_value(minor: u64, s: &MoneyStyle) -> f64 {
    minor as f64 / 10u64.pow(s.decimals) as f64
}

/// A count (reviews, units sold) grouped as the interface language writes it.
pub fn format_count(n: u64, language: &str) -> String {
    let (group, arabic) = count_style(language);
    localize_digits(&group_digits(n, group, false), arabic)
}

/// A rating such as 4.4 (given as tenths, 44) in the interface language.
pub fn format_rating(tenths: u32, language: &str) -> String {
    let (_, arabic) = count_style(language);
    let decimal = match &language.get(..2).unwrap_or("en") {
        &"en" | &"ja" | &"zh" | &"ko" | &"hi" => ".",
        &"ar" => "\u{66b}",
        _ => ",",
    };
    localize_digits(&format!("{}{decimal}{}", tenths / 10, tenths % 10), arabic)
}

fn count_style(language: &str) -> (&'static str, bool) {
    match language.get(..2).unwrap_or("en") {
        "de" | "it" | "es" | "nl" | "pt" | "tr" | "da" => (".", false),
        "fr" => (NNBSP, false),
        "pl" | "sv" | "cs" => (NBSP, false),
        "ar" => ("\u{66c}", true),
        _ => (",", false),
    }
}

fn group_digits(n: u64, group: &str, indian: bool) -> String {
    // Built right to left: first group of 3, then 3s (or 2s for Indian grouping).
    let group_rev: String = group.chars().rev().collect();
    let mut rev = String::with_capacity(24);
    let (mut run, mut size) = (0, 3);
    for c in n.to_string().chars().rev() {
        if run == size {
            rev.push_str(&group_rev);
            run = 0;
            if indian {
                size = 2;
            }
        }
        rev.push(c);
        run += 1;
    }
    rev.chars().rev().collect()
}

/// ASCII digits to Arabic-Indic digits when `arabic`.
pub fn localize_digits(s: &str, arabic: bool) -> String {
    if !arabic {
        return s.to_string();
    }
    s.chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32(0x660 + d).unwrap_or(c),
            None => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Marketplace::*;

    fn money(m: Marketplace, lang: &str, minor: u64) -> String {
        format_money(minor, &money_style(m, lang))
    }

    #[test]
    fn storefront_price_formats() {
        assert_eq!(money(De, "de_DE", 129_900), "1.299,00\u{a0}€");
        assert_eq!(money(Fr, "fr_FR", 129_900), "1\u{202f}299,00\u{a0}€");
        assert_eq!(money(Jp, "ja_JP", 1_280), "￥1,280");
        assert_eq!(money(Br, "pt_BR", 249_990), "R$\u{a0}2.499,90");
        assert_eq!(money(In, "en_IN", 10_999_900), "₹1,09,999.00");
        assert_eq!(money(Pl, "pl_PL", 49_900), "499,00\u{a0}zł");
        assert_eq!(money(Se, "sv_SE", 1_499), "1\u{a0}499\u{a0}kr");
        assert_eq!(money(Tr, "tr_TR", 123_456), "1.234,56\u{a0}TL");
        assert_eq!(money(Us, "en_US", 999), "$9.99");
        assert_eq!(money(Ae, "en_AE", 5_500), "AED\u{a0}55.00");
        assert_eq!(money(Ae, "ar_AE", 129_900), "١٬٢٩٩٫٠٠\u{a0}د.إ.\u{200f}");
        assert_eq!(money(Ca, "fr_CA", 129_900), "1\u{a0}299,00\u{a0}$");
    }

    #[test]
    fn counts_and_ratings() {
        assert_eq!(format_count(33_869, "en_US"), "33,869");
        assert_eq!(format_count(33_869, "de_DE"), "33.869");
        assert_eq!(format_count(869, "de_DE"), "869");
        assert_eq!(format_count(1_234_567, "en_IN"), "1,234,567");
        assert_eq!(format_count(12, "ar_AE"), "١٢");
        assert_eq!(format_rating(44, "en_GB"), "4.4");
        assert_eq!(format_rating(44, "de_DE"), "4,4");
        assert_eq!(format_rating(44, "ar_AE"), "٤٫٤");
    }
}
