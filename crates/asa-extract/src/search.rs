//! Search result pages: every result card, organic and sponsored told apart.
//!
//! Layouts known: the 2020+ `s-search-result` / `puis-card-container` cards, the 2018-19
//! `li.s-result-item` list (.de) and its 2015 ancestor, the 2013 `div[id^=result_]` grid,
//! and fragments of any of them (one card, or just `#resultsCol`).
//!
//! # Layout
//! - `stream`: the single lol_html pass and its state; `stream::handlers`, the selectors
//!   that find cards and their pieces.
//! - `card`: a card's pieces turned into a [`SearchProduct`].
//! - `labels`: the words of the badges and labels, per language.

mod card;
mod labels;
mod stream;

use asa_model::{Marketplace, SearchProduct};

/// What one search result page holds.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct SearchResults {
    pub products: Vec<SearchProduct>,
    /// A genuine "no results for ..." page.
    pub no_results: bool,
}

/// Extracts the result cards of a search page already known not to be a block page.
/// `None` means the page is not a search layout we know.
pub fn extract_search(html: &[u8], marketplace: Marketplace, page: u32) -> Option<SearchResults> {
    let scan = stream::scan(html, marketplace);
    // Bare cards count only when the page is a fragment; on a no-results page they are
    // the "you may also like" shelf, not results.
    let drafts = if !scan.cards.is_empty() || scan.no_results_text {
        scan.cards
    } else {
        scan.loose_cards
    };
    let mut products: Vec<SearchProduct> = drafts
        .into_iter()
        .filter_map(|d| d.finish(marketplace, page))
        .collect();
    if products.is_empty() {
        return scan.no_results_text.then_some(SearchResults {
            products,
            no_results: true,
        });
    }
    number_positions(&mut products);
    Some(SearchResults {
        products,
        no_results: false,
    })
}

/// 1-based positions within the page, counted separately for organic and sponsored cards.
fn number_positions(products: &mut [SearchProduct]) {
    let (mut organic, mut sponsored) = (0u32, 0u32);
    for p in products {
        if p.is_sponsored {
            sponsored += 1;
            p.sponsored_position = Some(sponsored);
        } else {
            organic += 1;
            p.organic_position = Some(organic);
        }
    }
}
