//! One result card as the stream sees it, and how its pieces become a `SearchProduct`.

use asa_model::{Marketplace, SearchProduct};

use crate::price::{parse_count, parse_price, parse_rating};
use crate::text::{asin_in_url, clean, decode_entities, is_asin, query_param};

use super::labels;

/// A heading seen inside a card; the title is the first one tied to the product link.
#[derive(Debug, Default)]
pub(super) struct Heading {
    pub text: String,
    pub linked: bool,
}

/// An `.a-price` block: its screen-reader text, and whether it is struck through.
#[derive(Debug, Default)]
pub(super) struct PriceBlock {
    pub text: String,
    /// The visible digits, for the rare block without screen-reader text.
    pub hidden_text: String,
    pub text_price: bool,
    pub struck: bool,
    /// Second half of a "$12.99 - $24.99" range.
    pub range_high: bool,
}

/// The pieces of one card collected while streaming over it.
#[derive(Debug, Default)]
pub(super) struct Draft {
    pub asin: Option<String>,
    pub link_asin: Option<String>,
    pub headings: Vec<Heading>,
    /// Old layouts' title (`h3.newaps`) when no `h2` holds it.
    pub old_title: Option<String>,
    /// 2015-2019 layouts repeat the untruncated title in an attribute
    /// (`a.s-access-detail-page[title]`, `h2[data-attribute]`); the heading may end in "...".
    pub full_title: Option<String>,
    pub image: Option<String>,
    pub prices: Vec<PriceBlock>,
    /// 2013-2019 layouts: `.s-price` text, `.a-text-strike` text.
    pub old_price: Option<String>,
    pub old_strike: Option<String>,
    pub rating: Option<f64>,
    pub reviews: Option<u64>,
    pub sales_volume: Option<String>,
    pub prime: bool,
    pub choice: bool,
    pub best_seller: bool,
    pub sponsored: bool,
}

impl PriceBlock {
    fn read(&self, m: Marketplace) -> Option<crate::price::Price> {
        let text = if self.text.trim().is_empty() {
            &self.hidden_text
        } else {
            &self.text
        };
        parse_price(&decode_entities(text), m)
    }
}

impl Draft {
    pub fn with_asin(asin: Option<String>) -> Draft {
        Draft {
            asin,
            ..Draft::default()
        }
    }

    /// Notes what a link inside the card says: the product it points to, and whether it
    /// is an ad click-through.
    pub fn see_link(&mut self, href: &str) {
        let href = decode_entities(href);
        if is_ad_link(&href) {
            self.sponsored = true;
        }
        if self.link_asin.is_none() {
            self.link_asin = link_target_asin(&href);
        }
    }

    pub fn see_rating(&mut self, text: &str) {
        if self.rating.is_none() {
            self.rating = parse_rating(&decode_entities(text));
        }
    }

    pub fn see_reviews(&mut self, text: &str, m: Marketplace) {
        if self.reviews.is_some() {
            return;
        }
        let text = decode_entities(text);
        // "(12.3K)" is a rounded display; only the full number is worth reporting.
        let abbreviated = text
            .chars()
            .any(|c| matches!(c, 'K' | 'k' | 'M' | '万' | '千'))
            || text.contains("mil");
        if !abbreviated && starts_with_number(&text) {
            self.reviews = parse_count(&text, m);
        }
    }

    /// A secondary-colour text: a sales volume row or a sponsored label.
    pub fn see_secondary_text(&mut self, text: &str) {
        let Some(text) = clean(text) else { return };
        if labels::is_sponsored_label(&text) {
            self.sponsored = true;
        } else if self.sales_volume.is_none() && labels::is_sales_volume(&text) {
            self.sales_volume = Some(text);
        }
    }

    pub fn see_badge_text(&mut self, text: &str) {
        let Some(text) = clean(text) else { return };
        if labels::is_best_seller_label(&text) {
            self.best_seller = true;
        } else if labels::is_amazons_choice_label(&text) {
            self.choice = true;
        }
    }

    /// Builds the card; `None` when no ASIN can be told for it.
    pub fn finish(self, m: Marketplace, page: u32) -> Option<SearchProduct> {
        let title = self
            .full_title
            .as_deref()
            .and_then(clean)
            .or_else(|| self.heading_title());
        let (price, highest_price) = self.main_price(m);
        let asin = self.asin.clone().or(self.link_asin.clone())?;
        let price_strikethrough = self
            .prices
            .iter()
            .find(|p| p.struck)
            .and_then(|p| p.read(m))
            .or_else(|| {
                let old = self.old_strike.as_deref()?;
                parse_price(&decode_entities(old), m)
            })
            .map(|p| p.value);
        let currency =
            (price.is_some() || price_strikethrough.is_some()).then(|| m.currency().to_string());
        Some(SearchProduct {
            url: Some(format!("https://{}/dp/{}", m.host(), asin)),
            asin,
            title,
            image: self.image.map(|s| decode_entities(&s)),
            price,
            price_strikethrough,
            highest_price,
            currency,
            rating: self.rating,
            reviews_count: self.reviews,
            sales_volume: self.sales_volume,
            is_prime: self.prime,
            is_amazons_choice: self.choice,
            is_sponsored: self.sponsored,
            best_seller: self.best_seller,
            organic_position: None,
            sponsored_position: None,
            page,
        })
    }

    /// The first heading tied to the product link, else the first heading at all.
    fn heading_title(&self) -> Option<String> {
        self.headings
            .iter()
            .find(|h| h.linked && !h.text.is_empty())
            .or_else(|| self.headings.iter().find(|h| !h.text.is_empty()))
            .and_then(|h| clean(&h.text))
            .or_else(|| self.old_title.as_deref().and_then(clean))
    }

    /// The buy price and, for a range, its upper end.
    fn main_price(&self, m: Marketplace) -> (Option<f64>, Option<f64>) {
        let mut main = self.prices.iter().filter(|p| !p.text_price && !p.struck);
        if let Some(first) = main.next() {
            let low = first.read(m);
            let high = main
                .next()
                .filter(|p| p.range_high)
                .and_then(|p| p.read(m))
                .map(|p| p.value)
                .or_else(|| low.as_ref().and_then(|p| p.high));
            return (low.map(|p| p.value), high);
        }
        match self
            .old_price
            .as_deref()
            .and_then(|t| parse_price(&decode_entities(t), m))
        {
            Some(p) => (Some(p.value), p.high),
            None => (None, None),
        }
    }
}

fn starts_with_number(text: &str) -> bool {
    crate::price::normalize_digits(text)
        .trim_start_matches(|c: char| c.is_whitespace() || c == '(')
        .starts_with(|c: char| c.is_ascii_digit())
}

/// Sponsored click-through links: `/sspa/click` (2020+), `picassoRedirect` and
/// `/gp/slredirect/` (2015-2019).
fn is_ad_link(href: &str) -> bool {
    href.contains("/sspa/click")
        || href.contains("picassoRedirect")
        || href.contains("/gp/slredirect/")
}

/// The ASIN a card link points to, looking inside the `url=` of ad click-throughs.
fn link_target_asin(href: &str) -> Option<String> {
    if let Some(asin) = asin_in_url(href) {
        return Some(asin);
    }
    let inner = percent_decode(query_param(href, "url")?);
    asin_in_url(&inner).filter(|a| is_asin(a))
}

/// Decodes `%XX` escapes; malformed escapes are kept as written.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ad_links_name_their_product() {
        let href = "/sspa/click?ie=UTF8&amp;spc=MTo&amp;url=%2FCoowisty-Portable%2Fdp%2FB0FQVG4RWW%2Fref%3Dsr_1_1_sspa";
        let mut d = Draft::default();
        d.see_link(href);
        assert!(d.sponsored);
        assert_eq!(d.link_asin.as_deref(), Some("B0FQVG4RWW"));
        let mut d = Draft::default();
        d.see_link("/Lenovo-Gaming/dp/B0CG6P1P64/ref=sr_1_5?keywords=Legion");
        assert!(!d.sponsored);
        assert_eq!(d.link_asin.as_deref(), Some("B0CG6P1P64"));
    }

    #[test]
    fn percent_decoding_tolerates_broken_escapes() {
        assert_eq!(percent_decode("%2Fdp%2F"), "/dp/");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }

    #[test]
    fn abbreviated_review_counts_are_not_guessed() {
        let mut d = Draft::default();
        d.see_reviews("(12.3K)", Marketplace::Us);
        assert_eq!(d.reviews, None);
        d.see_reviews("12,345 ratings", Marketplace::Us);
        assert_eq!(d.reviews, Some(12345));
    }
}
