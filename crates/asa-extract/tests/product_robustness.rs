//! The product extractor on hostile bytes: truncated pages, invalid UTF-8, deep nesting,
//! a 10 MB page. It must answer (any page kind) without panicking, in linear work.

use asa_extract::{extract, Page, Request, Target};
use asa_model::Marketplace;
use std::path::Path;

fn run(bytes: &[u8]) -> asa_extract::Extraction {
    extract(
        bytes,
        &Request {
            marketplace: Marketplace::De,
            target: Target::Product { asin: "B000000001" },
        },
    )
}

fn own_page() -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pages/product/us_corePrice_full.html"),
    )
    .expect("page")
}

#[test]
fn every_truncation_of_a_page_is_answered() {
    let page = own_page();
    for cut in (0..page.len()).step_by(97) {
        let e = run(&page[..cut]);
        // A cut page may lose fields; it never invents a product without a title.
        if let Page::Product(p) = &e.page {
            assert!(p.title.is_some());
        }
    }
}

#[test]
fn invalid_utf8_and_control_bytes() {
    let mut page = own_page();
    for i in (0..page.len()).step_by(53) {
        page[i] = [0xff, 0xc3, 0x00, 0x80][i % 4];
    }
    let _ = run(&page);
    let _ = run(&[0xff; 4096]);
    let _ = run(b"");
    let _ = run(b"HTTP/1.1 200 OK\r\n\r\n");
}

#[test]
fn deep_nesting_and_unclosed_markup() {
    let mut page = b"<span id=\"productTitle\">Deep</span>".to_vec();
    page.extend(std::iter::repeat_n(&b"<div><span><li>"[..], 50_000).flatten());
    page.extend(b"<script>'colorImages': { 'initial': [{\"hiRes\":\"");
    let e = run(&page);
    assert_eq!(e.page.kind(), "product");
}

#[test]
fn a_ten_megabyte_page_is_read_to_the_end() {
    let page = own_page();
    let mut big = Vec::with_capacity(11 << 20);
    // Filler of ordinary markup in front, the product at the end: the pass must reach it.
    while big.len() < 10 << 20 {
        big.extend_from_slice(b"<div class=\"a-section\"><span>filler text &amp; more</span><a href=\"/dp/B0FILLER01\">x</a></div>\n");
    }
    big.extend_from_slice(&page);
    let e = run(&big);
    match &e.page {
        Page::Product(p) => assert_eq!(p.price, Some(24.99)),
        other => panic!("{other:?}"),
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    #[test]
    fn mutated_pages_never_panic(seed in proptest::collection::vec((0usize..1_000_000, proptest::prelude::any::<u8>()), 0..64)) {
        let mut page = own_page();
        for (at, byte) in seed {
            let i = at % page.len();
            page[i] = byte;
        }
        let _ = run(&page);
    }
}
