//! Every page kind the classifier must tell apart, on the project's own pages (written to
//! Amazon's structures; see the comment at the top of each).

use asa_extract::{extract, CaptchaKind, Page, Request, Target};
use asa_model::Marketplace;
use std::path::Path;

fn classify(file: &str, m: Marketplace) -> asa_extract::Extraction {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/pages")
        .join(file);
    let bytes = std::fs::read(&path).expect("page exists");
    extract(
        &bytes,
        &Request {
            marketplace: m,
            target: Target::Product { asin: "B000000001" },
        },
    )
}

#[test]
fn challenges_are_captchas_of_their_kind() {
    assert_eq!(
        classify("block/robot_check.html", Marketplace::Us).page,
        Page::Captcha(CaptchaKind::RobotCheck)
    );
    assert_eq!(
        classify("block/continue_shopping.html", Marketplace::De).page,
        Page::Captcha(CaptchaKind::ContinueShopping)
    );
    assert_eq!(
        classify("block/waf_challenge.html", Marketplace::Us).page,
        Page::Captcha(CaptchaKind::JsChallenge)
    );
}

#[test]
fn error_pages_are_told_by_structure_in_any_language() {
    assert_eq!(
        classify("block/amazon_503_de.html", Marketplace::De).page,
        Page::AmazonError
    );
    assert_eq!(
        classify("block/not_found_404.html", Marketplace::Us).page,
        Page::NotFound
    );
}

#[test]
fn a_shelf_without_a_product_is_the_gallery_page() {
    let e = classify("block/gallery_shelf.html", Marketplace::Us);
    assert_eq!(e.page, Page::Gallery);
    assert_eq!(e.to_json()["kind"], "gallery");
}

#[test]
fn a_shelf_at_a_delisted_products_address_is_the_gallery_page() {
    let e = classify("block/gallery_shelf_canonical.html", Marketplace::De);
    assert_eq!(e.page, Page::Gallery);
    assert_eq!(e.page_asin.as_deref(), Some("B0GALLERY2"));
}

#[test]
fn an_unreadable_product_page_with_carousels_is_unknown_not_a_gallery() {
    let e = classify("block/unknown_layout_with_shelves.html", Marketplace::Us);
    assert!(matches!(e.page, Page::Unknown { .. }), "{:?}", e.page);
    assert_eq!(e.page_asin.as_deref(), Some("B0UNKNOWN2"));
}

#[test]
fn a_product_page_we_cannot_read_is_unknown_not_a_guess() {
    let e = classify("block/unknown_layout.html", Marketplace::Us);
    match &e.page {
        Page::Unknown { reason } => assert!(reason.contains("unknown layout"), "{reason}"),
        other => panic!("expected unknown, got {other:?}"),
    }
    assert_eq!(e.page_asin.as_deref(), Some("B0UNKNOWN1"));
    assert_eq!(e.to_json()["kind"], "unknown");
    assert!(e.to_json()["reason"].as_str().is_some());
}

#[test]
fn real_product_pages_are_not_blocks() {
    for file in [
        "product/us_corePrice_full.html",
        "product/uk_priceblock_2018.html",
    ] {
        let e = classify(file, Marketplace::Us);
        assert_eq!(e.page.kind(), "product", "{file}");
    }
}

#[test]
fn search_pages_requested_as_products_are_not_products() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pages/search");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "html") {
            let bytes = std::fs::read(&path).expect("readable");
            let e = extract(
                &bytes,
                &Request {
                    marketplace: Marketplace::Us,
                    target: Target::Product { asin: "B000000001" },
                },
            );
            assert!(!matches!(e.page, Page::Product(_)), "{}", path.display());
        }
    }
}
