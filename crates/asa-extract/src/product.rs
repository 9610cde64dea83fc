//! Product detail pages: one streaming pass collects, then each field is decided from
//! what was collected, the page's scripts, and the marketplace's number locale.
//!
//! - `selectors`: which elements feed which text field, for every layout generation.
//! - `scan`: pass one over the whole page, one `*` handler reading start tags' raw bytes:
//!   element facts, and the byte ranges of the regions pass two reads.
//! - `pass`: pass two, the text selectors over those regions only (elements named by id
//!   go through one `[id]` lookup).
//! - `scripts`: gallery images, twister variations, parent ASIN, videos from inline
//!   scripts, found with memmem on the raw bytes.
//! - `money`: which price block is the price, buy-box and struck-through price; currency.
//! - `details`: detail tables and bullets, best-sellers ranks, star histogram, breadcrumbs.
//! - `labels`: Amazon's fixed phrases (bylines, availability, seller lines, offer counts).
mod details;
mod labels;
mod money;
pub(crate) mod pass;
mod scan;
mod scripts;
mod selectors;

use crate::classify;
use crate::text::{asin_in_url, clean, decode_entities, is_asin, query_param};
use crate::{Extraction, Page};
use asa_model::{BuyboxOffer, FeaturedMerchant, Marketplace, Product, Variation};
use pass::{Collected, Slot};

pub use labels::{brand_from_byline, normalize_stock};
pub use money::currency_for;

/// Extracts a product page already known not to be a block page.
pub fn extract_product(html: &[u8], marketplace: Marketplace, asin: &str) -> Extraction {
    let (body, encoding) = crate::source::body_and_encoding(html);
    let c = pass::collect(body, encoding);
    let page_asin = page_asin(&c);
    let Some(title) = title(&c) else {
        let sells = c.buybox_seen || c.see_all_options;
        let page = classify::untitled(&c.signals, sells, page_asin.is_some());
        return Extraction {
            page,
            page_asin,
            fields_found: vec![],
            fields_missing: vec!["title"],
        };
    };
    let product = build(body, &c, marketplace, asin, title, page_asin.as_deref());
    let (fields_found, fields_missing) = field_report(&product);
    Extraction {
        page: Page::Product(Box::new(product)),
        page_asin,
        fields_found,
        fields_missing,
    }
}

fn build(
    html: &[u8],
    c: &Collected,
    m: Marketplace,
    requested: &str,
    title: String,
    page_asin: Option<&str>,
) -> Product {
    let host = m.host();
    let prices = money::prices(c, m);
    let details = details::product_details(c);
    let sales_rank = details::sales_ranks(&details, c, m);
    let stock = [
        Slot::AvailabilitySpan,
        Slot::Availability,
        Slot::OutOfStock,
        Slot::AvailLegacy,
    ]
    .iter()
    .find_map(|&s| clean(c.slot(s)))
    .and_then(|s| normalize_stock(&s));
    let byline = clean(c.slot(Slot::Byline));
    let authors = authors(c);
    let brand = authors
        .or_else(|| byline.as_deref().and_then(brand_from_byline))
        .or_else(|| clean(c.slot(Slot::LegacyAuthor)))
        .or_else(|| {
            clean(c.slot(Slot::BrandLink))
                .as_deref()
                .and_then(brand_from_byline)
        })
        .or_else(|| {
            detail(
                &details,
                &[
                    "Brand", "Marke", "Marca", "Marque", "Merk", "Marka", "Märke",
                ],
            )
        });
    let merchant_line = clean(c.slot(Slot::MerchantInfo));
    let seller_name = clean(c.slot(Slot::SellerName)).or_else(|| {
        merchant_line
            .as_deref()
            .and_then(labels::seller_from_merchant_line)
    });
    let seller_href = c.seller_href.as_deref().map(decode_entities);
    let seller_id = seller_href
        .as_deref()
        .and_then(|h| query_param(h, "seller"))
        .map(str::to_string);
    let ships_from = clean(c.slot(Slot::ShipsFrom));
    let fulfilled = seller_href
        .as_deref()
        .and_then(|h| query_param(h, "isAmazonFulfilled"))
        .map(|v| v == "1")
        .or_else(|| {
            let line = ships_from.as_deref().or(merchant_line.as_deref())?;
            Some(labels::amazon_fulfilled(line))
        });
    let returns = clean(c.slot(Slot::Returns));
    let buybox = if prices.buybox.is_some() || seller_name.is_some() {
        vec![BuyboxOffer {
            price: prices.buybox,
            seller_name: seller_name.clone(),
            seller_id: seller_id.clone(),
            stock: stock.clone(),
            returns,
        }]
    } else {
        Vec::new()
    };
    let featured_merchant = seller_name.map(|name| FeaturedMerchant {
        name: Some(name),
        seller_id,
        is_amazon_fulfilled: fulfilled,
    });
    let mut images = scripts::color_images(html);
    if images.is_empty() {
        images = fallback_images(c);
    }
    let has_videos = if c.video_marker {
        Some(true)
    } else {
        scripts::has_videos(html)
    };
    let bullets: Vec<String> = c.bullets.iter().filter_map(|b| clean(b)).collect();
    let description =
        clean(c.slot(Slot::Description)).or_else(|| clean(c.slot(Slot::BookDescription)));
    let url = c
        .canonical
        .as_deref()
        .or(c.og_url.as_deref())
        .map(|u| details::absolute(&decode_entities(u), &host));
    let category = details::category(c, &host, &sales_rank);
    let rating = c
        .acr_title
        .as_deref()
        .and_then(crate::price::parse_rating)
        .or_else(|| {
            clean(c.slot(Slot::RatingText))
                .as_deref()
                .and_then(crate::price::parse_rating)
        })
        .or_else(|| {
            c.mobile_stars
                .as_deref()
                .and_then(crate::price::parse_rating)
        });
    let reviews_count = clean(c.slot(Slot::ReviewsText))
        .or_else(|| clean(c.slot(Slot::MobileReviews)))
        .and_then(|t| crate::price::parse_count(&t, m));
    let asin = page_asin.unwrap_or(requested).to_string();
    Product {
        parent_asin: scripts::parent_asin(html),
        variations: variations(html, c, &asin),
        asin,
        url,
        title: Some(title),
        brand,
        manufacturer: detail(
            &details,
            &[
                "Manufacturer",
                "Hersteller",
                "Fabricante",
                "Fabricant",
                "Produttore",
                "Fabrikant",
                "Producent",
                "Tillverkare",
                "Üretici",
                "الشركة المصنعة",
                "メーカー",
            ],
        ),
        price: prices.price,
        price_buybox: prices.buybox,
        price_strikethrough: prices.strikethrough,
        currency: prices.currency,
        price_raw: prices.raw,
        stock,
        is_prime: if c.prime {
            Some(true)
        } else {
            c.buybox_seen.then_some(false)
        },
        rating,
        reviews_count,
        rating_stars_distribution: details::star_distribution(c),
        answered_questions_count: clean(c.slot(Slot::Questions))
            .and_then(|t| crate::price::parse_count(&t, m)),
        images,
        has_videos,
        bullet_points: (!bullets.is_empty()).then(|| bullets.join("\n")),
        description,
        product_dimensions: details
            .iter()
            .find(|(k, _)| is_dimensions_label(k))
            .map(|(_, v)| v.clone()),
        product_details: details,
        category,
        sales_rank,
        buybox,
        featured_merchant,
        delivery: clean(c.slot(Slot::Delivery)),
        max_quantity: c.quantity_max,
        pricing_count: clean(c.slot(Slot::OfferCount)).and_then(|t| labels::offer_count(&t, m)),
        marketplace: Some(m),
        language: None,
        request_id: String::new(),
    }
}

/// The product title in every layout generation: `#productTitle` (2014+), the Kindle
/// title, the 2013 `#btAsinTitle` (without its "[Hardcover]" binding), mobile `<h1>`.
fn title(c: &Collected) -> Option<String> {
    if let Some(t) = clean(c.slot(Slot::Title)).or_else(|| clean(c.slot(Slot::EbookTitle))) {
        return Some(t);
    }
    if let Some(t) = clean(c.slot(Slot::AsinTitle)) {
        let binding = clean(c.slot(Slot::AsinTitleBinding)).unwrap_or_default();
        let t = t
            .strip_suffix(binding.as_str())
            .unwrap_or(&t)
            .trim()
            .to_string();
        return (!t.is_empty()).then_some(t);
    }
    clean(c.slot(Slot::MobileTitle))
}

/// The ASIN the page is about: the buy form's hidden ASIN, else the canonical link, else
/// the mobile cart form.
fn page_asin(c: &Collected) -> Option<String> {
    c.asin_input
        .as_deref()
        .map(|v| v.trim().to_ascii_uppercase())
        .filter(|v| is_asin(v))
        .or_else(|| c.canonical.as_deref().and_then(asin_in_url))
        .or_else(|| {
            c.asin_form
                .as_deref()
                .map(|v| v.trim().to_ascii_uppercase())
                .filter(|v| is_asin(v))
        })
        .or_else(|| c.og_url.as_deref().and_then(asin_in_url))
}

/// Variations from the twister data in scripts, else the twister's swatches (ASINs
/// only: their labels are pictures).
fn variations(html: &[u8], c: &Collected, page_asin: &str) -> Vec<Variation> {
    // The swatch the page selected wins over the page's own ASIN: a parent page shows
    // the family with the requested child selected.
    let selected = c
        .swatches
        .iter()
        .find(|(_, sel)| *sel)
        .map(|(a, _)| a.as_str())
        .unwrap_or(page_asin);
    let from_scripts = scripts::variations(html, Some(selected));
    if !from_scripts.is_empty() {
        return from_scripts;
    }
    let mut out: Vec<Variation> = Vec::new();
    for (asin, selected) in &c.swatches {
        if !out.iter().any(|v| &v.asin == asin) {
            out.push(Variation {
                asin: asin.clone(),
                dimensions: Default::default(),
                selected: *selected,
            });
        }
    }
    out
}

/// Book contributors from the byline's author links, in order, without repeats.
fn authors(c: &Collected) -> Option<String> {
    let mut names: Vec<String> = Vec::new();
    for a in c.authors.iter().filter_map(|a| clean(a)) {
        if !names.contains(&a) {
            names.push(a);
        }
    }
    (!names.is_empty()).then(|| names.join(", "))
}

fn detail(details: &indexmap::IndexMap<String, String>, keys: &[&str]) -> Option<String> {
    details
        .iter()
        .find(|(k, _)| keys.iter().any(|key| k.eq_ignore_ascii_case(key)))
        .map(|(_, v)| v.clone())
}

fn is_dimensions_label(key: &str) -> bool {
    let k = key.to_lowercase();
    [
        "dimension",
        "abmessung",
        "dimensões",
        "dimensioni",
        "afmeting",
        "wymiary",
        "mått",
        "boyut",
        "أبعاد",
        "寸法",
    ]
    .iter()
    .any(|w| k.contains(w))
}

/// Images when the page has no gallery script: the main image's hi-res attribute, the
/// biggest of its dynamic sizes, or its plain source.
fn fallback_images(c: &Collected) -> Vec<String> {
    for a in &c.image_attrs {
        if let Some(u) = [&a.old_hires, &a.hires].iter().find_map(|v| {
            v.as_deref()
                .and_then(clean)
                .filter(|u| u.starts_with("http"))
        }) {
            return vec![u];
        }
        if let Some(dynamic) = a.dynamic.as_deref().map(decode_entities) {
            if let Ok(serde_json::Value::Object(sizes)) =
                serde_json::from_str::<serde_json::Value>(&dynamic)
            {
                let best = sizes
                    .iter()
                    .max_by_key(|(_, wh)| wh.get(0).and_then(|w| w.as_u64()).unwrap_or(0))
                    .map(|(u, _)| u.clone());
                if let Some(u) = best {
                    return vec![u];
                }
            }
        }
    }
    c.image_attrs
        .iter()
        .filter_map(|a| a.src.as_deref().and_then(clean))
        .find(|u| {
            u.starts_with("http") && !u.contains("transparent-pixel") && !u.contains("grey-pixel")
        })
        .into_iter()
        .collect()
}

/// Names of the fields found and missing, for traces.
fn field_report(p: &Product) -> (Vec<&'static str>, Vec<&'static str>) {
    let checks: [(&'static str, bool); 24] = [
        ("title", p.title.is_some()),
        ("brand", p.brand.is_some()),
        ("manufacturer", p.manufacturer.is_some()),
        ("price", p.price.is_some()),
        ("price_buybox", p.price_buybox.is_some()),
        ("price_strikethrough", p.price_strikethrough.is_some()),
        ("currency", p.currency.is_some()),
        ("stock", p.stock.is_some()),
        ("is_prime", p.is_prime.is_some()),
        ("rating", p.rating.is_some()),
        ("reviews_count", p.reviews_count.is_some()),
        (
            "rating_stars_distribution",
            p.rating_stars_distribution.is_some(),
        ),
        (
            "answered_questions_count",
            p.answered_questions_count.is_some(),
        ),
        ("images", !p.images.is_empty()),
        ("bullet_points", p.bullet_points.is_some()),
        ("description", p.description.is_some()),
        ("product_details", !p.product_details.is_empty()),
        ("category", !p.category.is_empty()),
        ("sales_rank", !p.sales_rank.is_empty()),
        ("buybox", !p.buybox.is_empty()),
        ("featured_merchant", p.featured_merchant.is_some()),
        ("variations", !p.variations.is_empty()),
        ("delivery", p.delivery.is_some()),
        ("url", p.url.is_some()),
    ];
    let found = checks
        .iter()
        .filter(|(_, ok)| *ok)
        .map(|(n, _)| *n)
        .collect();
    let missing = checks
        .iter()
        .filter(|(_, ok)| !*ok)
        .map(|(n, _)| *n)
        .collect();
    (found, missing)
}
