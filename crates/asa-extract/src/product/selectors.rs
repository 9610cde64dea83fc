//! Which elements feed which text field: the slot list and its selectors, for every
//! layout generation, and the other pass-two selectors. Pass two (`pass.rs`) applies
//! them to the regions pass one (`scan.rs`) copies out: every alternative's first
//! compound names an id, a class or `select[name=quantity]`, and [`pass_two_roots`]
//! tells pass one which.

/// Text fields captured from the first element (with text) matching their selectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Title,
    EbookTitle,
    AsinTitle,
    AsinTitleBinding,
    MobileTitle,
    Byline,
    BrandLink,
    LegacyAuthor,
    PriceCore,
    PriceApex,
    PriceTotalWw,
    PriceDeal,
    PriceSale,
    PriceOur,
    PriceBuybox,
    PriceKindle,
    PriceBuyNew,
    PriceLegacy,
    PriceMobile,
    PriceSwatch,
    StrikeBasis,
    StrikeList,
    AvailabilitySpan,
    Availability,
    OutOfStock,
    AvailLegacy,
    RatingText,
    ReviewsText,
    MobileReviews,
    Questions,
    Description,
    BookDescription,
    MerchantInfo,
    SellerName,
    ShipsFrom,
    Returns,
    Delivery,
    OfferCount,
    SalesRankLegacy,
}

pub const SLOT_COUNT: usize = Slot::SalesRankLegacy as usize + 1;

/// Selector lists per slot. Order inside a list does not matter: the first element in
/// the page that matches any of them and holds text wins.
pub const SLOT_SELECTORS: &[(Slot, &str)] = &[
    (Slot::Title, "span#productTitle, div#title_feature_div #title, h1#product-title, #ebooksTitle"),
    (Slot::EbookTitle, "span#ebooksProductTitle"),
    (Slot::AsinTitle, "span#btAsinTitle"),
    (Slot::AsinTitleBinding, "span#btAsinTitle > span"),
    (Slot::MobileTitle, "div#udp h1, div#title-section h1, #item_name"),
    (Slot::Byline, "#bylineInfo, #byline, #by-line, a.contributorNameID"),
    (Slot::BrandLink, "a#brand, #brand"),
    (Slot::LegacyAuthor, "div.buying > span > a[href*=\"field-author\"]"),
    (
        Slot::PriceCore,
        "div#corePrice_feature_div .a-price .a-offscreen, div#corePriceDisplay_desktop_feature_div .priceToPay .a-offscreen, div#corePrice_desktop .a-price .a-offscreen",
    ),
    (Slot::PriceApex, "div#apex_desktop .apexPriceToPay .a-offscreen, div#apex_offerDisplay_desktop .apexPriceToPay .a-offscreen"),
    (Slot::PriceTotalWw, "span#tp_price_block_total_price_ww .a-offscreen"),
    (Slot::PriceDeal, "span#priceblock_dealprice"),
    (Slot::PriceSale, "span#priceblock_saleprice"),
    (Slot::PriceOur, "span#priceblock_ourprice, span#priceblock_pospromoprice"),
    (Slot::PriceBuybox, "#price_inside_buybox, #newBuyBoxPrice"),
    (Slot::PriceKindle, "span#kindle-price, td.kindle-price .a-color-price, div.kindle-price .a-color-price, span.kindle-price .a-color-price"),
    (Slot::PriceBuyNew, "div#buyNewSection .offer-price, div#buyNewSection .a-color-price"),
    (Slot::PriceLegacy, "#actualPriceValue"),
    (Slot::PriceMobile, "div#price-block #price, #newPitchPrice"),
    (Slot::PriceSwatch, "div#tmmSwatches .a-button-selected .a-color-price, div#tmmSwatches .a-button-selected .slot-price"),
    (
        Slot::StrikeBasis,
        "div#corePriceDisplay_desktop_feature_div .basisPrice .a-offscreen, div#corePrice_desktop .a-text-price .a-offscreen, div#corePrice_feature_div .a-text-price .a-offscreen, div#apex_desktop .basisPrice .a-offscreen",
    ),
    (
        Slot::StrikeList,
        "#priceblock_listprice, #listPrice, #listPriceValue, span.priceBlockStrikePriceString, #list-price, div#buyBoxInner .a-text-strike",
    ),
    (Slot::AvailabilitySpan, "div#availability > span, div#availability > .a-section > span"),
    (Slot::Availability, "#availability, div#availability_feature_div .a-color-success"),
    (Slot::OutOfStock, "div#outOfStock .a-color-price, #outOfStock"),
    (Slot::AvailLegacy, "span.availGreen, span.availRed, span.availOrange, p#scarcity"),
    (Slot::RatingText, "div#averageCustomerReviews .a-icon-alt, #acrPopover .a-icon-alt, #acr-average-stars-rating-text, div#averageCustomerReviews_feature_div .a-icon-alt, a#acrCustomerReviewLink .a-icon-alt"),
    (Slot::ReviewsText, "span#acrCustomerReviewText"),
    (Slot::MobileReviews, "div#rating-stars .review-count, #acrCount, a#acrCustomerReviewLink .a-size-base"),
    (Slot::Questions, "a#askATFLink"),
    (Slot::Description, "#productDescription, #description-and-details-content, a#description-link span"),
    (Slot::BookDescription, "div#bookDescription_feature_div .a-expander-content, #bookDescription_feature_div"),
    (Slot::MerchantInfo, "#merchant-info, #ships-from"),
    (Slot::SellerName, "a#sellerProfileTriggerId"),
    (
        Slot::ShipsFrom,
        "div#fulfillerInfoFeature_feature_div .offer-display-feature-text-message, div#tabular-buybox .tabular-buybox-text[tabular-attribute-name=\"Ships from\"]",
    ),
    (
        Slot::Returns,
        "div#returnsInfoFeature_feature_div .offer-display-feature-text-message, #productSupportAndReturnPolicy-return-policy-popover-celWidget",
    ),
    (
        Slot::Delivery,
        "#mir-layout-DELIVERY_BLOCK-slot-PRIMARY_DELIVERY_MESSAGE_LARGE, #deliveryBlockMessage, #ddmDeliveryMessage, #delivery-message",
    ),
    (Slot::OfferCount, "#olp_feature_div, #olp-upd-new, #olp-new, #olpLinkWidget_feature_div, div#new-used-offers h2, #mbc-upd-olp-link"),
    (Slot::SalesRankLegacy, "li#SalesRank, tr#SalesRank"),
];

pub const CURRENCY_CLASS: &str = "#priceblock_ourprice span[class^=currency], #priceblock_saleprice span[class^=currency], #priceblock_dealprice span[class^=currency]";
pub const MOBILE_STARS: &str = "div#rating-stars span[title], .crAvgStars span[title]";
pub const SELLER_LINK: &str = "a#sellerProfileTriggerId, div#merchant-info a[href*=\"seller=\"], div#merchantInfoFeature_feature_div a[href*=\"seller=\"]";
pub const AUTHORS: &str = "#bylineInfo .author > a, div#byline .author > a, #bylineInfo .author .contributorNameID, div#byline .author .contributorNameID";
pub const BULLETS: &str =
    "div#feature-bullets li:not(.aok-hidden):not(#replacementPartsFitmentBullet)";
/// Detail tables of every generation: tech specs, additional information, overview.
pub const TABLE_ROWS: &str = "div#prodDetails tr, div#productOverview_feature_div tr, table#technicalSpecifications_section_1 tr, div#tech-specs-desktop tr, table#productDetails_techSpec_section_1 tr, table#productDetails_detailBullets_sections1 tr";
pub const TABLE_CELLS: &str = "div#prodDetails th, div#prodDetails td, div#productOverview_feature_div td, table#technicalSpecifications_section_1 th, table#technicalSpecifications_section_1 td, div#tech-specs-desktop th, div#tech-specs-desktop td, table#productDetails_techSpec_section_1 th, table#productDetails_techSpec_section_1 td, table#productDetails_detailBullets_sections1 th, table#productDetails_detailBullets_sections1 td";
pub const DETAIL_BULLETS: &str = "div#detailBullets_feature_div li, div#detailBulletsWrapper_feature_div li, div#detail-bullets .content li, div#detail_bullets_id .content li, table#productDetailsTable .content li";
pub const BREADCRUMBS: &str =
    "div#wayfinding-breadcrumbs_feature_div a, div#wayfinding-breadcrumbs_container a";
pub const HISTOGRAM: &str = "table#histogramTable tr, ul#histogramTable li";
pub const QUANTITY: &str = "select#quantity option, select[name=quantity] option";

/// Every pass-two selector.
pub fn pass_two_selectors() -> impl Iterator<Item = &'static str> {
    SLOT_SELECTORS.iter().map(|(_, s)| *s).chain([
        CURRENCY_CLASS,
        MOBILE_STARS,
        SELLER_LINK,
        AUTHORS,
        BULLETS,
        TABLE_ROWS,
        TABLE_CELLS,
        DETAIL_BULLETS,
        BREADCRUMBS,
        HISTOGRAM,
        QUANTITY,
    ])
}

/// The first compound of a selector alternative, as pass one can find it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    Id(&'static str),
    Class(&'static str),
    /// `select[name=quantity]`.
    QuantitySelect,
}

/// The root of one alternative (`div#a .b` is `Id("a")`, `span.x` is `Class("x")`).
pub fn root_of(alt: &'static str) -> Option<Root> {
    let first = alt.trim().split([' ', '>']).next()?;
    let name = |s: &'static str| {
        let end = s
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or(s.len());
        (end > 0).then(|| &s[..end])
    };
    if let Some((_, rest)) = first.split_once('#') {
        return name(rest).map(Root::Id);
    }
    if let Some((_, rest)) = first.split_once('.') {
        return name(rest).map(Root::Class);
    }
    (first == "select[name=quantity]").then_some(Root::QuantitySelect)
}

/// The ids and classes that root pass-two selectors.
pub struct Roots {
    pub ids: Vec<&'static str>,
    pub classes: Vec<&'static str>,
}

pub fn pass_two_roots() -> Roots {
    let mut roots = Roots {
        ids: Vec::new(),
        classes: Vec::new(),
    };
    for alt in pass_two_selectors().flat_map(|s| s.split(',')) {
        match root_of(alt) {
            Some(Root::Id(id)) if !roots.ids.contains(&id) => roots.ids.push(id),
            Some(Root::Class(c)) if !roots.classes.contains(&c) => roots.classes.push(c),
            _ => {}
        }
    }
    roots
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pass_two_alternative_has_a_root_pass_one_finds() {
        for alt in pass_two_selectors().flat_map(|s| s.split(',')) {
            assert!(root_of(alt).is_some(), "{alt}");
        }
        assert_eq!(
            root_of("div#corePrice_feature_div .a-price"),
            Some(Root::Id("corePrice_feature_div"))
        );
        assert_eq!(
            root_of(" td.kindle-price .a-color-price"),
            Some(Root::Class("kindle-price"))
        );
        assert_eq!(
            root_of("#btAsinTitle > span"),
            Some(Root::Id("btAsinTitle"))
        );
        assert_eq!(root_of("head > title"), None);
        let roots = pass_two_roots();
        assert!(roots.ids.contains(&"productTitle"));
        assert!(roots.classes.contains(&"contributorNameID"));
    }
}
