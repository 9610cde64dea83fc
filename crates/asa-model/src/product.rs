//! The product and search bodies of the API. Field names are the contract; a value the
//! page does not hold is `null`, never a guess.

use crate::{Marketplace, SortBy};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// A product page, extracted. `marketplace`, `language` and `request_id` are set by the
/// server; the extractor fills the rest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Product {
    pub asin: String,
    pub parent_asin: Option<String>,
    pub url: Option<String>,
    pub title: Option<String>,
    pub brand: Option<String>,
    pub manufacturer: Option<String>,
    /// The price a buyer pays now (the buy box, else the lowest offer shown).
    pub price: Option<f64>,
    pub price_buybox: Option<f64>,
    /// The list / "was" price shown struck through.
    pub price_strikethrough: Option<f64>,
    /// ISO 4217 code.
    pub currency: Option<String>,
    /// The price text as the page shows it.
    pub price_raw: Option<String>,
    /// Availability text ("In Stock", "Only 3 left in stock", "Currently unavailable.").
    pub stock: Option<String>,
    pub is_prime: Option<bool>,
    pub rating: Option<f64>,
    pub reviews_count: Option<u64>,
    pub rating_stars_distribution: Option<Vec<StarShare>>,
    pub answered_questions_count: Option<u64>,
    pub images: Vec<String>,
    pub has_videos: Option<bool>,
    /// Newline-joined bullet points.
    pub bullet_points: Option<String>,
    pub description: Option<String>,
    pub product_details: IndexMap<String, String>,
    pub product_dimensions: Option<String>,
    pub category: Vec<CategoryLadder>,
    pub sales_rank: Vec<SalesRank>,
    pub buybox: Vec<BuyboxOffer>,
    pub featured_merchant: Option<FeaturedMerchant>,
    pub variations: Vec<Variation>,
    pub delivery: Option<String>,
    pub max_quantity: Option<u32>,
    /// How many offers the page says exist ("New (12) from ...").
    pub pricing_count: Option<u32>,
    pub marketplace: Option<Marketplace>,
    pub language: Option<String>,
    #[serde(default)]
    pub request_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StarShare {
    /// 1..=5 stars.
    pub rating: u8,
    /// Share of ratings with this many stars, in percent.
    pub percentage: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryLadder {
    pub ladder: Vec<CategoryStep>,
    pub rank: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryStep {
    pub name: String,
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SalesRank {
    pub category: String,
    pub rank: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BuyboxOffer {
    pub price: Option<f64>,
    pub seller_name: Option<String>,
    pub seller_id: Option<String>,
    pub stock: Option<String>,
    pub returns: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeaturedMerchant {
    pub name: Option<String>,
    pub seller_id: Option<String>,
    pub is_amazon_fulfilled: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Variation {
    pub asin: String,
    /// Dimension name to value, e.g. {"Color": "Black", "Size": "L"}.
    pub dimensions: IndexMap<String, String>,
    pub selected: bool,
}

/// One result card of a search page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchProduct {
    pub asin: String,
    pub title: Option<String>,
    pub url: Option<String>,
    pub image: Option<String>,
    pub price: Option<f64>,
    pub price_strikethrough: Option<f64>,
    /// The upper end when the card shows a price range.
    pub highest_price: Option<f64>,
    pub currency: Option<String>,
    pub rating: Option<f64>,
    pub reviews_count: Option<u64>,
    /// "1K+ bought in past month", as shown.
    pub sales_volume: Option<String>,
    pub is_prime: bool,
    pub is_amazons_choice: bool,
    pub is_sponsored: bool,
    pub best_seller: bool,
    /// 1-based position among organic results across the pages fetched.
    pub organic_position: Option<u32>,
    /// 1-based position among sponsored results across the pages fetched.
    pub sponsored_position: Option<u32>,
    /// The result page this card came from.
    pub page: u32,
}

/// A result page that could not be delivered within a search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FailedPage {
    pub page: u32,
    pub error: crate::ErrorCode,
    pub message: String,
}

/// The search body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchBody {
    pub query: String,
    pub domain: Marketplace,
    pub sort_by: SortBy,
    pub start_page: u32,
    pub pages: u32,
    pub no_results: bool,
    pub products: Vec<SearchProduct>,
    /// Pages of the range that failed; the others are delivered and billed.
    #[serde(default)]
    pub failed_pages: Vec<FailedPage>,
    #[serde(default)]
    pub request_id: String,
}
