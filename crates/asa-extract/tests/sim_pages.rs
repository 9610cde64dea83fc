//! The simulator's generated product pages (`asa-sim`, imitating Amazon's current desktop
//! markup) in all 20 marketplaces, in each one's default language and in English where
//! the storefront offers it: the extracted fields equal what the page states
//! (`product_truth`). Its delisted-product shelf is a gallery, its unknown layout unknown.

use asa_extract::{extract, Page, Request, Target};
use asa_model::{Marketplace, Product};
use asa_sim::pages::blocks;
use asa_sim::{product_truth, render_product_page, ProductTruth};

const ASINS: [&str; 3] = ["B0SIMTEST1", "B07XJ8C8F5", "B0D5M12FB2"];

fn extract_product(m: Marketplace, asin: &str, html: &str) -> Page {
    let req = Request {
        marketplace: m,
        target: Target::Product { asin },
    };
    extract(html.as_bytes(), &req).page
}

fn languages(m: Marketplace) -> Vec<&'static str> {
    let mut out = vec![m.default_language()];
    if let Some(en) = m.languages().iter().find(|l| l.starts_with("en")) {
        if !out.contains(en) {
            out.push(en);
        }
    }
    out
}

/// Every disagreement between the page's statement and the extraction, as text.
fn disagreements(t: &ProductTruth, p: &Product) -> Vec<String> {
    let mut out = Vec::new();
    let mut check = |field: &str, want: String, got: String| {
        if want != got {
            out.push(format!("{field}: want {want:?}, got {got:?}"));
        }
    };
    check(
        "title",
        format!("{:?}", Some(&t.title)),
        format!("{:?}", p.title.as_ref()),
    );
    let cents = |v: Option<f64>| v.map(|v| (v * 100.0).round() as i64);
    check(
        "price",
        format!("{:?}", cents(t.price)),
        format!("{:?}", cents(p.price)),
    );
    check(
        "currency",
        format!("{:?}", Some(&t.currency)),
        format!("{:?}", p.currency.as_ref()),
    );
    check(
        "rating",
        format!("{:?}", t.rating),
        format!("{:?}", p.rating),
    );
    check(
        "reviews_count",
        format!("{:?}", t.reviews_count),
        format!("{:?}", p.reviews_count),
    );
    check(
        "brand",
        format!("{:?}", Some(&t.brand)),
        format!("{:?}", p.brand.as_ref()),
    );
    check(
        "stock",
        format!("{:?}", Some(&t.stock)),
        format!("{:?}", p.stock.as_ref()),
    );
    out
}

#[test]
fn every_marketplace_and_language_reads_as_the_page_states() {
    let mut failures = Vec::new();
    let mut pages = 0;
    for m in Marketplace::ALL {
        for lang in languages(m) {
            for asin in ASINS {
                let t = product_truth(m, asin, lang);
                let html = render_product_page(m, asin, lang, 64 * 1024);
                pages += 1;
                match extract_product(m, asin, &html) {
                    Page::Product(p) => {
                        for d in disagreements(&t, &p) {
                            failures.push(format!("{} {lang} {asin}: {d}", m.domain()));
                        }
                    }
                    other => failures.push(format!(
                        "{} {lang} {asin}: not a product: {other:?}",
                        m.domain()
                    )),
                }
            }
        }
    }
    assert!(pages >= 20 * ASINS.len(), "{pages} pages");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn full_size_pages_read_as_they_state() {
    // The simulator's pages at the size it serves (scripts, carousels and padding around
    // the product), one per marketplace.
    let mut failures = Vec::new();
    for m in Marketplace::ALL {
        let lang = m.default_language();
        let asin = ASINS[0];
        let t = product_truth(m, asin, lang);
        let html = render_product_page(m, asin, lang, asa_sim::DEFAULT_PAGE_BYTES);
        assert!(
            html.len() >= asa_sim::DEFAULT_PAGE_BYTES / 2,
            "{}",
            m.domain()
        );
        match extract_product(m, asin, &html) {
            Page::Product(p) => {
                for d in disagreements(&t, &p) {
                    failures.push(format!("{} {lang}: {d}", m.domain()));
                }
            }
            other => failures.push(format!("{} {lang}: not a product: {other:?}", m.domain())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_delisted_shelf_is_a_gallery_in_every_marketplace() {
    for m in Marketplace::ALL {
        let lang = m.default_language();
        let html = blocks::gallery(m, "B0GALLERY1", lang);
        assert_eq!(
            extract_product(m, "B0GALLERY1", &html),
            Page::Gallery,
            "{}",
            m.domain()
        );
    }
}

#[test]
fn an_unknown_layout_is_unknown_in_every_marketplace() {
    for m in Marketplace::ALL {
        let lang = m.default_language();
        let html = blocks::unknown_product(&product_truth(m, "B0UNKNOWN1", lang));
        let page = extract_product(m, "B0UNKNOWN1", &html);
        assert!(
            matches!(page, Page::Unknown { .. }),
            "{}: {page:?}",
            m.domain()
        );
    }
}
