//! asa-extract: Amazon page bytes in, a classified page with its fields out.
//!
//! It owns page classification and field extraction. It must not do I/O, and must not
//! panic on any input bytes; the work is linear in the page size.
//!
//! # Layout
//! - [`price`]: locale-aware prices, counts and ratings.
//! - [`classify`]: block pages (captcha, Amazon errors, 404, gallery shelf) told from real ones.
//! - [`product`]: product detail pages (a streaming lol_html pass over the page, a second
//!   one over the few regions holding text fields, then field rules).
//! - [`search`]: search result pages.
//! - [`text`]: entity decoding, whitespace, ASIN and URL helpers, JSON cut out of scripts.
//! - [`source`]: a saved page's HTTP header block and declared charset.
//! - `output`: the JSON shape of an [`Extraction`] and the ASIN-mismatch rule.

pub mod classify;
mod output;
pub mod price;
pub mod product;
pub mod search;
pub mod source;
pub mod text;

use asa_model::{Marketplace, Product};
use serde::Serialize;

pub use search::SearchResults;

/// Bumped whenever extraction output can change; reported in `Asa-Extractor-Version`.
pub const EXTRACTOR_VERSION: &str = "0.3.0";

/// What the caller asked for, so the extractor knows which page kind to expect.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub marketplace: Marketplace,
    pub target: Target<'a>,
}

#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    Product { asin: &'a str },
    Search { query: &'a str, page: u32 },
}

/// Which kind of challenge page Amazon served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptchaKind {
    /// "Type the characters you see in this image".
    RobotCheck,
    /// "Click the button below to continue shopping".
    ContinueShopping,
    /// AWS WAF / bot-manager JavaScript challenge.
    JsChallenge,
}

/// The page, classified.
#[derive(Debug, Clone, PartialEq)]
pub enum Page {
    Product(Box<Product>),
    Search(SearchResults),
    Captcha(CaptchaKind),
    /// Amazon's 503 "Sorry! Something went wrong" / automated-access page.
    AmazonError,
    /// Amazon's 404 page.
    NotFound,
    /// The placeholder shelf served for a delisted product.
    Gallery,
    /// A product or search page whose required fields cannot be found.
    Unknown {
        reason: String,
    },
}

impl Page {
    pub fn kind(&self) -> &'static str {
        match self {
            Page::Product(_) => "product",
            Page::Search(_) => "search",
            Page::Captcha(_) => "captcha",
            Page::AmazonError => "amazon_error",
            Page::NotFound => "not_found",
            Page::Gallery => "gallery",
            Page::Unknown { .. } => "unknown",
        }
    }
}

/// The result of one extraction.
#[derive(Debug, Clone, PartialEq)]
pub struct Extraction {
    pub page: Page,
    /// The ASIN the page itself is about (canonical link, `input#ASIN`, `data-asin`).
    pub page_asin: Option<String>,
    /// Names of the product/search fields found and missing, for traces.
    pub fields_found: Vec<&'static str>,
    pub fields_missing: Vec<&'static str>,
}

/// Classifies the page and extracts its fields.
pub fn extract(html: &[u8], req: &Request<'_>) -> Extraction {
    if let Some(block) = classify::block_page(html) {
        return Extraction {
            page: block,
            page_asin: None,
            fields_found: vec![],
            fields_missing: vec![],
        };
    }
    match req.target {
        Target::Product { asin } => product::extract_product(html, req.marketplace, asin),
        Target::Search { page, .. } => match search::extract_search(html, req.marketplace, page) {
            Some(results) => Extraction {
                page: Page::Search(results),
                page_asin: None,
                fields_found: vec![],
                fields_missing: vec![],
            },
            None => Extraction {
                page: Page::Unknown {
                    reason: "no search result layout found".into(),
                },
                page_asin: None,
                fields_found: vec![],
                fields_missing: vec![],
            },
        },
    }
}
