//! asa-extract: Amazon page bytes in, a classified page with its fields out.
//!
//! # Layout
//! - [`price`]: locale-aware prices, counts and ratings.
//! - [`search`]: search result pages.
//!
//! It owns page classification (product, search, captcha, Amazon error, 404, gallery
//! shelf, unknown) and field extraction. It must not do I/O, and must not panic on any
//! input bytes.

pub mod price;
pub mod search;

pub use search::SearchResults;
