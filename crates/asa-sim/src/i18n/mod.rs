//! Interface labels of generated pages, per interface language. Languages without a table
//! here fall back to English, as Amazon does for partially translated storefronts.

/// Labels and vocabulary of one interface language. Templates use `{n}`, `{r}`, `{p}`,
/// `{brand}`, `{noun}`, `{rank}`, `{cat}` placeholders.
#[derive(Debug)]
pub struct Labels {
    /// Two-letter language code.
    pub code: &'static str,
    pub in_stock: &'static str,
    pub only_left: &'static str,
    pub unavailable: &'static str,
    pub visit_store: &'static str,
    pub stars: &'static str,
    pub ratings: &'static str,
    pub about: &'static str,
    pub list_price: &'static str,
    pub list_short: &'static str,
    pub description: &'static str,
    pub tech_details: &'static str,
    pub bsr: &'static str,
    pub rank_in: &'static str,
    pub sold_by: &'static str,
    pub ships_from: &'static str,
    pub free_delivery: &'static str,
    pub delivery_day: &'static str,
    pub quantity: &'static str,
    pub add_to_cart: &'static str,
    pub sponsored: &'static str,
    pub bought: &'static str,
    pub amazons_choice: &'static str,
    pub best_seller: &'static str,
    pub no_results: &'static str,
    pub results: &'static str,
    pub n_star: &'static str,
    pub pct_reviews: &'static str,
    pub customer_reviews: &'static str,
    pub brand: &'static str,
    pub manufacturer: &'static str,
    pub model: &'static str,
    pub colour: &'static str,
    pub weight: &'static str,
    pub first_available: &'static str,
    pub first_available_value: &'static str,
    pub nouns: &'static [&'static str],
    pub adjectives: &'static [&'static str],
    pub colours: &'static [&'static str],
    pub bullets: &'static [&'static str],
    pub categories: &'static [&'static str],
}

/// The labels for an interface language such as `de_DE` (English when not translated).
pub fn labels(language: &str) -> &'static Labels {
    let code = language.get(..2).unwrap_or("en").to_ascii_lowercase();
    ALL.iter().copied().find(|l| l.code == code).unwrap_or(&EN)
}

/// The interface languages that have their own labels.
pub fn translated() -> impl Iterator<Item = &'static str> {
    ALL.iter().map(|l| l.code)
}

/// Fills `{key}` placeholders of a template.
pub fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

mod west;
mod world;
use west::{DE, EN, ES, FR, IT, NL};
use world::{AR, JA, PL, PT, SV, TR};

static ALL: [&Labels; 12] = [&EN, &DE, &FR, &IT, &ES, &NL, &PL, &SV, &PT, &JA, &TR, &AR];

#[cfg(test)]
mod tests {
    use super::*;
    use asa_model::Marketplace;

    #[test]
    fn every_marketplace_default_language_is_translated() {
        for m in Marketplace::ALL {
            let l = labels(m.default_language());
            assert_eq!(l.code, &m.default_language()[..2], "{m}");
        }
        assert_eq!(labels("cs_CZ").code, "en");
        assert_eq!(labels("").code, "en");
    }

    #[test]
    fn tables_are_complete() {
        for l in ALL {
            assert_eq!(l.nouns.len(), 10, "{}", l.code);
            assert_eq!(l.bullets.len(), 5, "{}", l.code);
            assert_eq!(l.colours.len(), 6, "{}", l.code);
            assert_eq!(l.categories.len(), 4, "{}", l.code);
            assert!(
                l.stars.contains("{r}") && l.ratings.contains("{n}"),
                "{}",
                l.code
            );
        }
        assert_eq!(fill("{n} of {n}", &[("n", "3")]), "3 of 3");
    }
}
