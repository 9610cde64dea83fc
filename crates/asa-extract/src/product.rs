//! Product detail pages.

use crate::{Extraction, Page};
use asa_model::Marketplace;

pub fn extract_product(html: &[u8], marketplace: Marketplace, asin: &str) -> Extraction {
    let _ = (html, marketplace, asin);
    Extraction {
        page: Page::Unknown {
            reason: "product extraction not written yet".into(),
        },
        page_asin: None,
        fields_found: vec![],
        fields_missing: vec![],
    }
}
