//! Any bytes, any marketplace, product or search request: extraction must return, never
//! panic, and a page the classifier calls a block page must never come back as data.
#![no_main]

use asa_extract::{classify, extract, Page, Request, Target};
use asa_model::Marketplace;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the request; the rest is the page.
    let Some((&pick, html)) = data.split_first() else {
        return;
    };
    let marketplace = Marketplace::ALL[usize::from(pick) % Marketplace::ALL.len()];
    let target = if pick & 0x80 == 0 {
        Target::Product { asin: "B0057OC5O8" }
    } else {
        Target::Search {
            query: "usb c cable",
            page: u32::from(pick % 10) + 1,
        }
    };
    let ex = extract(
        html,
        &Request {
            marketplace,
            target,
        },
    );
    if classify::block_page(html).is_some() {
        assert!(
            !matches!(ex.page, Page::Product(_) | Page::Search(_)),
            "block page returned as {}",
            ex.page.kind()
        );
    }
    if let Page::Search(results) = &ex.page {
        for (i, p) in results.products.iter().enumerate() {
            assert!(
                p.organic_position.is_some() != p.sponsored_position.is_some(),
                "card {i}"
            );
        }
    }
    let _ = asa_extract::search::extract_search(html, marketplace, 1);
});
