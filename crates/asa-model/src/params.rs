//! Request parameter types shared by the server, the upstream and the clients.

use serde::{Deserialize, Serialize};

/// Search order, with the values Amazon's own `s=` parameter takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SortBy {
    #[default]
    BestMatch,
    PriceAsc,
    PriceDesc,
    AvgCustomerReview,
    Newest,
}

impl SortBy {
    pub const ALL: [SortBy; 5] = [
        SortBy::BestMatch,
        SortBy::PriceAsc,
        SortBy::PriceDesc,
        SortBy::AvgCustomerReview,
        SortBy::Newest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SortBy::BestMatch => "best_match",
            SortBy::PriceAsc => "price_asc",
            SortBy::PriceDesc => "price_desc",
            SortBy::AvgCustomerReview => "avg_customer_review",
            SortBy::Newest => "newest",
        }
    }

    /// Strict: any other value is refused.
    pub fn parse(s: &str) -> Option<SortBy> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Amazon's `s=` value; `None` for its default relevance order.
    pub fn amazon_value(self) -> Option<&'static str> {
        match self {
            SortBy::BestMatch => None,
            SortBy::PriceAsc => Some("price-asc-rank"),
            SortBy::PriceDesc => Some("price-desc-rank"),
            SortBy::AvgCustomerReview => Some("review-rank"),
            SortBy::Newest => Some("date-desc-rank"),
        }
    }
}

/// An ISO 3166-1 alpha-2 country code, upper case (an exit country for a fetch).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Country(String);

impl Country {
    pub fn parse(s: &str) -> Option<Country> {
        let s = s.trim();
        (s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic()))
            .then(|| Country(s.to_ascii_uppercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Country {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Country::parse(&s).ok_or_else(|| format!("not an ISO 3166-1 alpha-2 country code: {s}"))
    }
}

impl From<Country> for String {
    fn from(c: Country) -> String {
        c.0
    }
}

impl std::fmt::Display for Country {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_is_strict() {
        assert_eq!(SortBy::parse("price_asc"), Some(SortBy::PriceAsc));
        assert_eq!(SortBy::parse("PRICE_ASC"), None);
        assert_eq!(SortBy::parse("relevance"), None);
    }

    #[test]
    fn countries() {
        assert_eq!(Country::parse("de").unwrap().as_str(), "DE");
        assert!(Country::parse("DEU").is_none());
        assert!(Country::parse("1A").is_none());
    }
}
