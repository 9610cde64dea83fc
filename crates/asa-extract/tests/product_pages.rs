//! Exact field values on the project's own product pages, the ASIN-mismatch rule on real
//! pages, and the JSON shape `asa extract` prints.

use asa_extract::{extract, Extraction, Page, Request, Target};
use asa_model::{Marketplace, Product};
use std::path::{Path, PathBuf};

/// (ASIN, dimension name/value pairs, selected)
type VariationRow<'a> = (&'a str, Vec<(&'a str, &'a str)>, bool);

fn page(file: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/pages/product")
            .join(file),
    )
    .expect("page exists")
}

fn run(bytes: &[u8], m: Marketplace, asin: &str) -> Extraction {
    extract(
        bytes,
        &Request {
            marketplace: m,
            target: Target::Product { asin },
        },
    )
}

fn product(e: &Extraction) -> &Product {
    match &e.page {
        Page::Product(p) => p,
        other => panic!("not a product: {other:?}"),
    }
}

#[test]
fn every_field_of_a_2021_core_price_page() {
    let e = run(
        &page("us_corePrice_full.html"),
        Marketplace::Us,
        "B0US000001",
    );
    let p = product(&e);
    assert_eq!(e.page_asin.as_deref(), Some("B0US000001"));
    assert_eq!(p.asin, "B0US000001");
    assert_eq!(p.parent_asin.as_deref(), Some("B0US000000"));
    assert_eq!(
        p.url.as_deref(),
        Some("https://www.amazon.com/Acme-Cordless-Drill-20V/dp/B0US000001")
    );
    assert_eq!(
        p.title.as_deref(),
        Some("Acme Cordless Drill 20V, 2 Batteries & Charger")
    );
    assert_eq!(p.brand.as_deref(), Some("Acme"));
    assert_eq!(p.manufacturer.as_deref(), Some("Acme Corporation"));
    assert_eq!(p.price, Some(24.99));
    assert_eq!(p.price_buybox, Some(24.99));
    assert_eq!(p.price_strikethrough, Some(34.99));
    assert_eq!(p.currency.as_deref(), Some("USD"));
    assert_eq!(p.price_raw.as_deref(), Some("$24.99"));
    assert_eq!(
        p.stock.as_deref(),
        Some("Only 3 left in stock - order soon.")
    );
    assert_eq!(p.is_prime, Some(true));
    assert_eq!(p.rating, Some(4.5));
    assert_eq!(p.reviews_count, Some(12345));
    let stars: Vec<(u8, f64)> = p
        .rating_stars_distribution
        .iter()
        .flatten()
        .map(|s| (s.rating, s.percentage))
        .collect();
    assert_eq!(
        stars,
        vec![(5, 71.0), (4, 15.0), (3, 7.0), (2, 3.0), (1, 4.0)]
    );
    assert_eq!(p.answered_questions_count, Some(56));
    assert_eq!(
        p.images,
        vec![
            "https://m.media-amazon.com/images/I/71drillL._AC_SL1500_.jpg",
            "https://m.media-amazon.com/images/I/51sideL._AC_.jpg"
        ]
    );
    assert_eq!(p.has_videos, Some(true));
    assert_eq!(
        p.bullet_points.as_deref(),
        Some("20V lithium-ion battery, 1,500 RPM\nTwo batteries & a fast charger included\n3/8\" keyless chuck")
    );
    assert_eq!(
        p.description.as_deref(),
        Some("The Acme 20V drill drives screws into hardwood & drills clean holes.")
    );
    assert_eq!(
        p.product_details.get("Brand").map(String::as_str),
        Some("Acme")
    );
    assert_eq!(
        p.product_details.get("Manufacturer").map(String::as_str),
        Some("Acme Corporation")
    );
    assert_eq!(p.product_dimensions.as_deref(), Some("10 x 3 x 8 inches"));
    assert_eq!(p.category.len(), 1);
    let ladder: Vec<(&str, Option<&str>)> = p.category[0]
        .ladder
        .iter()
        .map(|s| (s.name.as_str(), s.url.as_deref()))
        .collect();
    assert_eq!(
        ladder,
        vec![
            (
                "Tools & Home Improvement",
                Some("https://www.amazon.com/Tools-Home-Improvement/b/ref=dp_bc_aui_C_1?ie=UTF8&node=228013")
            ),
            ("Power Drills", Some("https://www.amazon.com/b/ref=dp_bc_aui_C_2?ie=UTF8&node=328182011")),
        ]
    );
    assert_eq!(p.category[0].rank, Some(1234));
    let ranks: Vec<(&str, u64)> = p
        .sales_rank
        .iter()
        .map(|r| (r.category.as_str(), r.rank))
        .collect();
    assert_eq!(
        ranks,
        vec![("Tools & Home Improvement", 1234), ("Power Drills", 12)]
    );
    assert_eq!(p.buybox.len(), 1);
    let b = &p.buybox[0];
    assert_eq!(b.price, Some(24.99));
    assert_eq!(b.seller_name.as_deref(), Some("Acme Tools Direct"));
    assert_eq!(b.seller_id.as_deref(), Some("A1ACMESELLER01"));
    assert_eq!(
        b.stock.as_deref(),
        Some("Only 3 left in stock - order soon.")
    );
    assert_eq!(b.returns.as_deref(), Some("30-day refund/replacement"));
    let fm = p.featured_merchant.clone().unwrap_or_default();
    assert_eq!(fm.name.as_deref(), Some("Acme Tools Direct"));
    assert_eq!(fm.seller_id.as_deref(), Some("A1ACMESELLER01"));
    assert_eq!(fm.is_amazon_fulfilled, Some(true));
    let vars: Vec<VariationRow> = p
        .variations
        .iter()
        .map(|v| {
            (
                v.asin.as_str(),
                v.dimensions
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect(),
                v.selected,
            )
        })
        .collect();
    assert_eq!(
        vars,
        vec![
            (
                "B0US000001",
                vec![("Color", "Blue"), ("Size", "Tool only")],
                true
            ),
            (
                "B0US000002",
                vec![("Color", "Red"), ("Size", "Tool only")],
                false
            ),
            (
                "B0US000003",
                vec![("Color", "Blue"), ("Size", "Kit")],
                false
            ),
        ]
    );
    assert_eq!(p.delivery.as_deref(), Some("FREE delivery Tuesday, May 7"));
    assert_eq!(p.max_quantity, Some(3));
    assert_eq!(p.pricing_count, Some(5));
    assert_eq!(p.marketplace, Some(Marketplace::Us));
    assert!(e.fields_missing.is_empty(), "{:?}", e.fields_missing);
}

#[test]
fn priceblock_page_with_was_price_and_merchant_line() {
    let e = run(
        &page("uk_priceblock_2018.html"),
        Marketplace::Uk,
        "B0UK000001",
    );
    let p = product(&e);
    assert_eq!(p.price, Some(7.99));
    assert_eq!(p.price_strikethrough, Some(19.99));
    assert_eq!(p.price_raw.as_deref(), Some("£7.99"));
    assert_eq!(p.currency.as_deref(), Some("GBP"));
    assert_eq!(p.brand.as_deref(), Some("Salter"));
    assert_eq!(p.manufacturer.as_deref(), Some("Salter Housewares"));
    assert_eq!(
        p.product_dimensions.as_deref(),
        Some("20 x 15 x 2 cm; 500 g")
    );
    let fm = p.featured_merchant.clone().unwrap_or_default();
    assert_eq!(fm.name.as_deref(), Some("Amazon.co.uk"));
    assert_eq!(fm.is_amazon_fulfilled, Some(true));
    let ranks: Vec<(&str, u64)> = p
        .sales_rank
        .iter()
        .map(|r| (r.category.as_str(), r.rank))
        .collect();
    assert_eq!(ranks, vec![("Kitchen Scales", 9)]);
    assert_eq!(p.pricing_count, Some(3));
    assert_eq!(
        p.images,
        vec!["https://images-eu.ssl-images-amazon.com/images/I/71scaleL._SL1500_.jpg"]
    );
    assert_eq!(p.variations, vec![]);
    assert_eq!(p.has_videos, None);
}

#[test]
fn latin1_page_of_2013_is_decoded() {
    let e = run(
        &page("us_btAsinTitle_2013_latin1.html"),
        Marketplace::Us,
        "0000000013",
    );
    let p = product(&e);
    assert_eq!(p.title.as_deref(), Some("Café Cookbook: 50 Recettes"));
    assert_eq!(p.brand.as_deref(), Some("José García"));
    assert_eq!(p.price, Some(18.77));
    assert_eq!(p.price_strikethrough, Some(24.95));
    assert_eq!(p.stock.as_deref(), Some("In Stock"));
    assert_eq!(e.page_asin.as_deref(), Some("0000000013"));
}

#[test]
fn prices_in_every_locale() {
    let cases: &[(&str, Marketplace, f64, &str, &str)] = &[
        (
            "de_corePrice_1299.html",
            Marketplace::De,
            1299.0,
            "EUR",
            "1.299,00\u{a0}€",
        ),
        (
            "fr_corePrice_1299.html",
            Marketplace::Fr,
            1299.0,
            "EUR",
            "1\u{202f}299,00\u{a0}€",
        ),
        (
            "jp_corePrice_1280.html",
            Marketplace::Jp,
            1280.0,
            "JPY",
            "￥1,280",
        ),
        (
            "ae_corePrice_arabic_digits.html",
            Marketplace::Ae,
            1299.0,
            "AED",
            "١٬٢٩٩٫٠٠ د.إ.",
        ),
        (
            "sa_corePrice_arabic_digits.html",
            Marketplace::Sa,
            3499.0,
            "SAR",
            "٣٬٤٩٩٫٠٠ ر.س",
        ),
        (
            "in_corePrice_lakh.html",
            Marketplace::In,
            109999.0,
            "INR",
            "₹1,09,999.00",
        ),
        (
            "br_corePrice_real.html",
            Marketplace::Br,
            2499.9,
            "BRL",
            "R$\u{a0}2.499,90",
        ),
        (
            "mx_corePrice_peso.html",
            Marketplace::Mx,
            1299.0,
            "MXN",
            "$1,299.00",
        ),
        (
            "tr_corePrice_lira.html",
            Marketplace::Tr,
            1234.56,
            "TRY",
            "1.234,56 TL",
        ),
        (
            "pl_corePrice_zloty.html",
            Marketplace::Pl,
            1499.0,
            "PLN",
            "1 499,00 zł",
        ),
        (
            "se_corePrice_krona.html",
            Marketplace::Se,
            1499.0,
            "SEK",
            "1 499,00 kr",
        ),
        (
            "it_corePrice_euro.html",
            Marketplace::It,
            29.99,
            "EUR",
            "29,99\u{a0}€",
        ),
        (
            "nl_corePrice_euro.html",
            Marketplace::Nl,
            149.99,
            "EUR",
            "149,99\u{a0}€",
        ),
        (
            "au_corePrice_dollar.html",
            Marketplace::Au,
            49.0,
            "AUD",
            "$49.00",
        ),
        (
            "sg_corePrice_dollar.html",
            Marketplace::Sg,
            159.0,
            "SGD",
            "S$159.00",
        ),
        (
            "eg_corePrice_pound.html",
            Marketplace::Eg,
            12999.0,
            "EGP",
            "EGP 12,999.00",
        ),
    ];
    for (file, m, price, currency, raw) in cases {
        let e = run(&page(file), *m, "B000000001");
        let p = product(&e);
        assert_eq!(p.price, Some(*price), "{file}");
        assert_eq!(p.currency.as_deref(), Some(*currency), "{file}");
        assert_eq!(
            p.price_raw
                .as_deref()
                .map(|r| r.split_whitespace().collect::<Vec<_>>().join(" ")),
            Some(raw.split_whitespace().collect::<Vec<_>>().join(" ")),
            "{file}"
        );
    }
    let e = run(
        &page("in_corePrice_lakh.html"),
        Marketplace::In,
        "B0IN000001",
    );
    assert_eq!(product(&e).price_strikethrough, Some(114900.0));
    assert_eq!(product(&e).reviews_count, Some(2194));
}

#[test]
fn json_shape_of_a_product() {
    let e = run(
        &page("us_corePrice_full.html"),
        Marketplace::Us,
        "B0US000001",
    );
    let v = e.to_json();
    assert_eq!(v["kind"], "product");
    assert_eq!(v["page_asin"], "B0US000001");
    assert_eq!(
        v["product"]["title"],
        "Acme Cordless Drill 20V, 2 Batteries & Charger"
    );
    assert_eq!(v["product"]["price"], 24.99);
    assert!(v["fields_found"]
        .as_array()
        .is_some_and(|a| a.iter().any(|f| f == "price")));
    assert!(v["fields_missing"].as_array().is_some_and(|a| a.is_empty()));
}

#[test]
fn own_page_is_not_a_mismatch_but_another_asin_is() {
    let e = run(
        &page("us_corePrice_full.html"),
        Marketplace::Us,
        "B0US000001",
    );
    assert_eq!(e.asin_mismatch("B0US000001"), None);
    // A sibling variation of the family shown: the requested product is on the page.
    assert_eq!(e.asin_mismatch("B0US000003"), None);
    assert_eq!(e.asin_mismatch("B0US000000"), None);
    assert_eq!(e.asin_mismatch("B0OTHER001").as_deref(), Some("B0US000001"));
}

fn corpus() -> Option<PathBuf> {
    std::env::var_os("ASA_CORPUS").map(PathBuf::from)
}

#[test]
fn corpus_asin_mismatch_cases() {
    let Some(dir) = corpus() else { return };
    let read = |f: &str| std::fs::read(dir.join("product").join(f)).expect("corpus page");
    // Requested B09B2SRTB3; the page's canonical and buy form are B085VK7LYQ.
    let br = run(
        &read("br_B09B2SRTB3_canonical_B085VK7LYQ.html"),
        Marketplace::Br,
        "B09B2SRTB3",
    );
    // The requested ASIN is a swatch of the family shown, selected: not a mismatch.
    let shown = product(&br);
    assert!(shown
        .variations
        .iter()
        .any(|v| v.asin == "B09B2SRTB3" && v.selected));
    assert_eq!(br.asin_mismatch("B09B2SRTB3"), None);
    // An ASIN the page names nowhere is.
    assert_eq!(
        br.asin_mismatch("B000000000").as_deref(),
        Some("B085VK7LYQ")
    );
    assert_eq!(br.page_asin.as_deref(), Some("B085VK7LYQ"));
    // The same ASIN in 2017, 2019 and 2024: the product changed, the ASIN did not.
    for f in [
        "es_B01MUGXRT9_conga_2017.html",
        "es_B01MUGXRT9_conga_2019.html",
        "es_B01MUGXRT9_windroid_2024.html",
    ] {
        let e = run(&read(f), Marketplace::Es, "B01MUGXRT9");
        assert_eq!(e.page_asin.as_deref(), Some("B01MUGXRT9"), "{f}");
        assert_eq!(e.asin_mismatch("B01MUGXRT9"), None, "{f}");
    }
}

#[test]
fn store_bylines_scale_first_ratings_and_plain_space_counts() {
    // (page, marketplace, brand, rating, reviews)
    let cases: &[(&str, Marketplace, &str, f64, u64)] = &[
        (
            "tr_store_byline.html",
            Marketplace::Tr,
            "Philips",
            4.4,
            5123,
        ),
        (
            "jp_store_byline.html",
            Marketplace::Jp,
            "サーモス",
            3.9,
            12345,
        ),
        (
            "se_plain_space_count.html",
            Marketplace::Se,
            "Oral-B",
            4.5,
            5000,
        ),
    ];
    for (file, m, brand, rating, reviews) in cases {
        let e = run(&page(file), *m, "B000000002");
        let p = product(&e);
        assert_eq!(p.brand.as_deref(), Some(*brand), "{file}");
        assert_eq!(p.rating, Some(*rating), "{file}");
        assert_eq!(p.reviews_count, Some(*reviews), "{file}");
    }
}
