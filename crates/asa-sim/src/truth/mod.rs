//! The values a generated page is built from. Tests compare what the extractor returns
//! with these: `product_truth` and `search_truth` are pure functions of what was asked.

mod search;
pub use search::{search_truth, SearchResultTruth, SearchTruth, ORGANIC_PER_PAGE, SEARCH_PAGES};

use crate::detrand::{hash_parts, Stream, BASE62, UPPER_ALNUM};
use crate::i18n::{fill, labels};
use crate::money::{amount_value, format_money, money_style};
use asa_model::Marketplace;
use serde::Serialize;

/// Everything a generated product page states.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductTruth {
    pub asin: String,
    pub parent_asin: String,
    pub marketplace: Marketplace,
    pub language: String,
    /// The canonical URL the page links to.
    pub url: String,
    pub title: String,
    pub brand: String,
    pub manufacturer: String,
    /// Buy-box price, `None` when the product is unavailable.
    pub price: Option<f64>,
    /// The price as `.a-offscreen` writes it.
    pub price_text: Option<String>,
    pub price_strikethrough: Option<f64>,
    pub price_strikethrough_text: Option<String>,
    pub currency: String,
    /// The `#availability` text.
    pub stock: String,
    pub in_stock: bool,
    pub is_prime: bool,
    pub rating: Option<f64>,
    pub reviews_count: Option<u64>,
    /// Percent of reviews with 5, 4, 3, 2, 1 stars (in that order).
    pub rating_stars_distribution: Vec<(u8, u32)>,
    /// Full-size image URLs, main image first.
    pub images: Vec<String>,
    pub has_videos: bool,
    pub bullets: Vec<String>,
    pub description: String,
    /// Name/value rows of the technical details and detail bullets.
    pub product_details: Vec<(String, String)>,
    /// Breadcrumb ladder: (name, url).
    pub category: Vec<(String, String)>,
    /// Best Sellers Rank: (category, rank).
    pub sales_rank: Vec<(String, u64)>,
    /// Buy-box seller; `None` when the product is unavailable (no buy box).
    pub seller_name: Option<String>,
    pub seller_id: Option<String>,
    pub is_amazon_fulfilled: bool,
    pub variations: Vec<VariationTruth>,
    pub delivery: Option<String>,
    /// Highest value of the `#quantity` select; `None` without a buy box.
    pub max_quantity: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariationTruth {
    pub asin: String,
    /// (dimension, value), e.g. ("color_name", "Black").
    pub dimensions: Vec<(String, String)>,
    pub selected: bool,
}

const BRANDS: &[&str] = &[
    "Lumora",
    "Vantrix",
    "Koalix",
    "Brevio",
    "Nordhaus",
    "Tecvida",
    "Orbeta",
    "Zentoro",
    "Halvik",
    "Quorra",
    "Pexilo",
    "Maruvo",
    "Solvane",
    "Trekka",
    "Fennix",
    "Ulmera",
    "Corvadi",
    "Yarrow & Co",
    "Bexley",
    "Odalis",
];

/// Rough value of one US dollar in each currency, so prices look native.
fn usd_rate(currency: &str) -> f64 {
    match currency {
        "GBP" => 0.8,
        "EUR" => 0.92,
        "PLN" => 4.0,
        "SEK" => 10.5,
        "CAD" => 1.37,
        "MXN" => 17.0,
        "BRL" => 5.0,
        "AUD" => 1.5,
        "JPY" => 150.0,
        "SGD" => 1.35,
        "INR" => 83.0,
        "TRY" => 32.0,
        "AED" => 3.67,
        "SAR" => 3.75,
        "EGP" => 48.0,
        _ => 1.0,
    }
}

/// A "shop" price in minor units from a dollar amount: .99/.49/.00 endings, yen in tens.
fn native_price(usd: f64, m: Marketplace, decimals: u32, s: &mut Stream) -> u64 {
    let value = usd * usd_rate(m.currency());
    if decimals == 0 {
        let step = if m.currency() == "JPY" { 10.0 } else { 1.0 };
        let whole = ((value / step).round() * step).max(step) as u64;
        return if m.currency() == "SEK" {
            (whole / 10) * 10 + 9
        } else {
            whole
        };
    }
    let whole = value.floor().max(1.0) as u64;
    let cents = *s.pick(&[99u64, 99, 49, 0, 95, 90]);
    whole * 100 + cents
}

/// A deterministic ASIN-like id for `parts` (never one of the magic prefixes in practice).
pub fn derived_asin(parts: &[&str]) -> String {
    let mut s = Stream::new(hash_parts(parts));
    format!("B0{}", s.chars(UPPER_ALNUM, 8))
}

pub(crate) fn slug(title: &str) -> String {
    let words: Vec<String> = title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(6)
        .map(str::to_string)
        .collect();
    words.join("-")
}

/// The product page values for `asin` on marketplace `m` in interface `language`.
pub fn product_truth(m: Marketplace, asin: &str, language: &str) -> ProductTruth {
    let asin = asin.to_ascii_uppercase();
    let l = labels(language);
    // Structure comes from the ASIN alone, so a product is the same across storefronts.
    let mut core = Stream::new(hash_parts(&["product", &asin]));
    let brand = core.pick(BRANDS).to_string();
    let noun_i = core.below(10) as usize;
    let adj_i = core.below(8) as usize;
    let colour_i = core.below(6) as usize;
    let spec = format!("{}W", core.pick(&[5u32, 10, 20, 30, 45, 65, 100]));
    let title = format!(
        "{brand} {} {} {spec}, {}",
        l.adjectives[adj_i], l.nouns[noun_i], l.colours[colour_i]
    );
    let stock_roll = core.below(100);
    let only_left = core.range(1, 9);
    let rating_tenths = (30 + core.below(21)).max(core.range(38, 49)) as u32;
    let no_reviews = core.chance(0.05);
    let reviews = (core.unit() * 11.0).exp().round() as u64 + 1;
    let images: Vec<String> = (0..core.range(4, 8))
        .map(|_| {
            format!(
                "https://m.media-amazon.com/images/I/{}L._AC_SL1500_.jpg",
                core.chars(BASE62, 10)
            )
        })
        .collect();
    let has_videos = core.chance(0.4);
    let n_colours = if core.chance(0.4) {
        core.range(2, 4) as usize
    } else {
        0
    };
    let amazon_sells = core.chance(0.5);
    let seller_code = core.chars(UPPER_ALNUM, 13);
    let model_no = format!(
        "{}-{}",
        &brand[..2].to_ascii_uppercase(),
        core.range(100, 9999)
    );
    let max_quantity = core.range(1, 30) as u32;
    let top_rank = core.range(1, 250_000);
    let sub_rank = core.range(1, 500);
    let node = core.range(100_000, 99_999_999);
    let strike = core.chance(0.4);
    let usd = if core.chance(0.15) {
        200.0 + core.unit() * 2300.0
    } else {
        5.0 + core.unit() * 195.0
    };
    let discount = 1.1 + core.unit() * 0.6;
    let weight = core.range(80, 2400);
    let hist = histogram(rating_tenths, &mut core);

    let style = money_style(m, language);
    let mut price_stream = Stream::new(hash_parts(&["price", m.domain(), &asin]));
    let (in_stock, stock, has_price) = match stock_roll {
        0..=7 => (false, l.unavailable.to_string(), false),
        8..=19 => (
            true,
            fill(l.only_left, &[("n", &only_left.to_string())]),
            true,
        ),
        _ => (true, l.in_stock.to_string(), true),
    };
    let price_minor = has_price.then(|| native_price(usd, m, style.decimals, &mut price_stream));
    let strike_minor = price_minor
        .filter(|_| strike)
        .map(|p| native_price(usd * discount, m, style.decimals, &mut price_stream).max(p + 1));

    let (rating, reviews_count, dist) = if no_reviews {
        (None, None, Vec::new())
    } else {
        (Some(f64::from(rating_tenths) / 10.0), Some(reviews), hist)
    };
    let bullets: Vec<String> = l
        .bullets
        .iter()
        .map(|b| {
            fill(
                b,
                &[
                    ("brand", &brand),
                    ("noun", l.nouns[noun_i]),
                    ("n", &(12 + noun_i * 6).to_string()),
                ],
            )
        })
        .collect();
    let description = format!("{title}. {} {}", bullets[0], bullets[2]);
    let top_category = l.categories[[0, 1, 0, 0, 2, 1, 0, 1, 2, 0][noun_i]].to_string();
    let category = vec![
        (
            top_category.clone(),
            format!("/b/ref=dp_bc_1?ie=UTF8&node={}", node / 1000),
        ),
        (
            l.nouns[noun_i].to_string(),
            format!("/b/ref=dp_bc_2?ie=UTF8&node={node}"),
        ),
    ];
    let sales_rank = vec![
        (top_category, top_rank),
        (l.nouns[noun_i].to_string(), sub_rank),
    ];
    let (seller_name, seller_id) = if amazon_sells {
        let name = if m == Marketplace::Us {
            "Amazon.com".to_string()
        } else {
            format!("Amazon.{}", m.domain())
        };
        (
            name,
            format!("A{}", &derived_asin(&["amazon-seller", m.domain()])[2..]) + "AMZ1",
        )
    } else {
        (format!("{brand} Direct"), format!("A{seller_code}"))
    };
    let is_amazon_fulfilled = amazon_sells || seller_code.as_bytes()[0] < b'N';
    let parent_asin = if n_colours > 0 {
        derived_asin(&["parent", &asin])
    } else {
        asin.clone()
    };
    let variations = (0..n_colours)
        .map(|i| {
            let selected = i == 0;
            let v_asin = if selected {
                asin.clone()
            } else {
                derived_asin(&["variation", &asin, &i.to_string()])
            };
            VariationTruth {
                asin: v_asin,
                dimensions: vec![(
                    "color_name".to_string(),
                    l.colours[(colour_i + i) % 6].to_string(),
                )],
                selected,
            }
        })
        .collect();
    let weight_text = if weight >= 1000 {
        format!(
            "{} kg",
            crate::money::format_rating((weight / 100) as u32, language)
        )
    } else {
        format!("{weight} g")
    };
    let product_details = vec![
        (l.brand.to_string(), brand.clone()),
        (l.model.to_string(), model_no),
        (l.colour.to_string(), l.colours[colour_i].to_string()),
        (l.weight.to_string(), weight_text),
        (l.manufacturer.to_string(), brand.clone()),
        ("ASIN".to_string(), asin.clone()),
        (
            l.first_available.to_string(),
            l.first_available_value.to_string(),
        ),
    ];
    let url_slug = slug(&title);
    let url = if url_slug.is_empty() {
        format!("https://{}/dp/{asin}", m.host())
    } else {
        format!("https://{}/{url_slug}/dp/{asin}", m.host())
    };
    ProductTruth {
        parent_asin,
        marketplace: m,
        language: language.to_string(),
        url,
        title,
        manufacturer: brand.clone(),
        brand,
        price: price_minor.map(|p| amount_value(p, &style)),
        price_text: price_minor.map(|p| format_money(p, &style)),
        price_strikethrough: strike_minor.map(|p| amount_value(p, &style)),
        price_strikethrough_text: strike_minor.map(|p| format_money(p, &style)),
        currency: m.currency().to_string(),
        stock,
        in_stock,
        is_prime: is_amazon_fulfilled,
        rating,
        reviews_count,
        rating_stars_distribution: dist,
        images,
        has_videos,
        bullets,
        description,
        product_details,
        category,
        sales_rank,
        seller_name: in_stock.then_some(seller_name),
        seller_id: in_stock.then_some(seller_id),
        is_amazon_fulfilled,
        variations,
        delivery: in_stock.then(|| format!("{} {}", l.free_delivery, l.delivery_day)),
        max_quantity: in_stock.then(|| {
            if (8..=19).contains(&stock_roll) {
                only_left as u32
            } else {
                max_quantity
            }
        }),
        asin,
    }
}

/// Minor units of a truth price, for templates (`price` * 10^decimals).
pub fn price_minor(value: f64, decimals: u32) -> u64 {
    (value * 10f64.powi(decimals as i32)).round() as u64
}

/// Star percentages for 5..1 stars that add up to 100 and lean towards the rating.
fn histogram(rating_tenths: u32, s: &mut Stream) -> Vec<(u8, u32)> {
    let p5 = 20 + (rating_tenths.saturating_sub(30)) * 3;
    let mut p4 = 10 + s.below(10) as u32;
    let p3 = 3 + s.below(6) as u32;
    let p2 = 1 + s.below(4) as u32;
    while p5 + p4 + p3 + p2 >= 100 {
        p4 -= 1;
    }
    let p1 = 100 - p5 - p4 - p3 - p2;
    vec![(5, p5), (4, p4), (3, p3), (2, p2), (1, p1)]
}
