//! Wire types shared by every asa crate: marketplaces, ASINs, request parameters,
//! the product and search bodies, and the error catalog.
//!
//! # Layout
//! - [`marketplace`]: the 20 Amazon marketplaces with host, country, currency, number
//!   locale and interface languages.
//! - [`asin`]: `Asin`, parsed from a bare ASIN/ISBN-10 or a product URL.
//! - [`params`]: `SortBy`, `Country`, and other request parameter types.
//! - [`product`]: the product and search bodies of the API.
//! - [`key`]: the API key format and its short prefix.
//! - [`ids`]: `AccountId`, `KeyId`, `RequestId` and `Credits`, so one is never passed for
//!   another.
//! - [`error`]: the error catalog, the single source of truth for codes, statuses and
//!   retry advice.
//! - [`webhook`]: the webhook signature the server signs with and the SDKs verify.
//!
//! This crate must not do I/O: it is pure data and parsing. The `openapi` feature (the
//! server turns it on) derives the OpenAPI schemas, so SDK users never build utoipa.

pub mod asin;
pub mod error;
pub mod ids;
pub mod key;
pub mod marketplace;
pub mod params;
pub mod product;
pub mod webhook;

pub use asin::{Asin, AsinError, ProductQuery};
pub use error::{ErrorCode, RetryAdvice};
pub use ids::{AccountId, Credits, KeyId, RequestId};
pub use key::{ApiKey, KeyKind};
pub use marketplace::{Marketplace, NumberLocale};
pub use params::{Country, SortBy};
pub use product::*;
