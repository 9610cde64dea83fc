//! Search result pages: every result card, organic and sponsored told apart.

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
    let _ = (html, marketplace, page);
    None
}
