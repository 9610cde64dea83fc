//! The values of a generated search result page.

use super::{derived_asin, product_truth, slug};
use crate::detrand::{hash_parts, Stream};
use crate::i18n::{fill, labels};
use crate::money::format_count;
use asa_model::{Marketplace, SortBy};
use serde::Serialize;

/// Everything a generated search result page states.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchTruth {
    pub query: String,
    pub page: u32,
    pub sort_by: SortBy,
    pub marketplace: Marketplace,
    pub language: String,
    pub no_results: bool,
    pub total_pages: u32,
    /// Cards in page order, sponsored ones included.
    pub results: Vec<SearchResultTruth>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResultTruth {
    pub asin: String,
    pub title: String,
    pub url: String,
    pub image: String,
    pub price: Option<f64>,
    pub price_text: Option<String>,
    pub price_strikethrough: Option<f64>,
    pub currency: String,
    pub rating: Option<f64>,
    pub reviews_count: Option<u64>,
    /// The "1K+ bought in past month" text, if shown.
    pub sales_volume: Option<String>,
    pub is_prime: bool,
    pub is_amazons_choice: bool,
    pub is_sponsored: bool,
    pub best_seller: bool,
    /// 1-based position among the organic results of this page.
    pub organic_position: Option<u32>,
    /// 1-based position among sponsored results of this page.
    pub sponsored_position: Option<u32>,
    pub page: u32,
}

/// Result pages a query has; later pages are "no results".
pub const SEARCH_PAGES: u32 = 20;
/// Organic results per page.
pub const ORGANIC_PER_PAGE: u32 = 16;

fn normalize_query(query: &str) -> String {
    query
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The search result page for `query` on `m`, result page `page` (1-based).
pub fn search_truth(
    m: Marketplace,
    query: &str,
    page: u32,
    sort_by: SortBy,
    language: &str,
) -> SearchTruth {
    let q = normalize_query(query);
    let no_results = q.is_empty() || q.starts_with("sim-empty") || page == 0 || page > SEARCH_PAGES;
    let mut truth = SearchTruth {
        query: query.to_string(),
        page,
        sort_by,
        marketplace: m,
        language: language.to_string(),
        no_results,
        total_pages: if no_results { 0 } else { SEARCH_PAGES },
        results: Vec::new(),
    };
    if no_results {
        return truth;
    }
    let l = labels(language);
    let page_s = page.to_string();
    let mut s = Stream::new(hash_parts(&[
        "search",
        m.domain(),
        &q,
        &page_s,
        sort_by.as_str(),
    ]));
    let card = |asin: String, sponsored: bool, s: &mut Stream| {
        let p = product_truth(m, &asin, language);
        let sales = s.chance(0.3).then(|| {
            let n = *s.pick(&[50u64, 100, 200, 300, 500, 1000, 2000, 5000, 10000]);
            let shown = if n >= 1000 && l.code == "en" {
                format!("{}K", n / 1000)
            } else {
                format_count(n, language)
            };
            fill(l.bought, &[("n", &shown)])
        });
        SearchResultTruth {
            url: format!("/{}/dp/{}", slug(&p.title), p.asin),
            image: p.images[0].replace("_AC_SL1500_", "_AC_UL320_"),
            asin: p.asin,
            title: p.title,
            price: p.price,
            price_text: p.price_text,
            price_strikethrough: p.price_strikethrough,
            currency: p.currency,
            rating: p.rating,
            reviews_count: p.reviews_count,
            sales_volume: sales,
            is_prime: p.is_prime,
            is_amazons_choice: false,
            is_sponsored: sponsored,
            best_seller: !sponsored && s.chance(0.08),
            organic_position: None,
            sponsored_position: None,
            page,
        }
    };
    let mut organic: Vec<SearchResultTruth> = (0..ORGANIC_PER_PAGE)
        .map(|i| {
            card(
                derived_asin(&["result", m.domain(), &q, &page_s, &i.to_string()]),
                false,
                &mut s,
            )
        })
        .collect();
    match sort_by {
        SortBy::PriceAsc => organic.sort_by(|a, b| {
            a.price
                .unwrap_or(f64::MAX)
                .total_cmp(&b.price.unwrap_or(f64::MAX))
        }),
        SortBy::PriceDesc => {
            organic.sort_by(|a, b| b.price.unwrap_or(-1.0).total_cmp(&a.price.unwrap_or(-1.0)))
        }
        SortBy::AvgCustomerReview => {
            organic.sort_by(|a, b| b.rating.unwrap_or(0.0).total_cmp(&a.rating.unwrap_or(0.0)))
        }
        SortBy::BestMatch | SortBy::Newest => {}
    }
    for (i, r) in organic.iter_mut().enumerate() {
        r.organic_position = Some(i as u32 + 1);
    }
    if let Some(choice) = organic
        .iter_mut()
        .take(6)
        .find(|r| r.rating.is_some() && !r.best_seller)
    {
        choice.is_amazons_choice = s.chance(0.7);
    }
    let mut sponsored: Vec<SearchResultTruth> = (0..4)
        .map(|i| {
            card(
                derived_asin(&["sponsored", m.domain(), &q, &page_s, &i.to_string()]),
                true,
                &mut s,
            )
        })
        .collect();
    for (i, r) in sponsored.iter_mut().enumerate() {
        r.sponsored_position = Some(i as u32 + 1);
    }
    // Amazon's usual mix: two ads on top, two after the first organic rows.
    let mut it = sponsored.into_iter();
    let mut results = Vec::with_capacity(20);
    results.extend(it.by_ref().take(2));
    for (i, r) in organic.into_iter().enumerate() {
        if i == 8 {
            results.extend(it.by_ref().take(2));
        }
        results.push(r);
    }
    truth.results = results;
    truth
}
