//! Search extraction on the real saved pages of `$ASA_CORPUS/search` (skipped when unset;
//! `search_pages.rs` covers the same layouts with the project's own pages).

use std::path::PathBuf;

use asa_extract::search::{extract_search, SearchResults};
use asa_model::{Marketplace, SearchProduct};

fn corpus_page(name: &str, m: Marketplace) -> Option<SearchResults> {
    let dir = PathBuf::from(std::env::var_os("ASA_CORPUS")?);
    let html =
        std::fs::read(dir.join("search").join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    Some(extract_search(&html, m, 1).unwrap_or_else(|| panic!("{name}: not read as search")))
}

fn sponsored(rows: &[SearchProduct]) -> usize {
    rows.iter().filter(|r| r.is_sponsored).count()
}

#[test]
fn modern_pages_count_every_result_card() {
    // Counts of `s-search-result` cards (and of their `AdHolder` ones) in each page.
    for (name, m, cards, ads) in [
        (
            "com_search_portable_charger_2026.html",
            Marketplace::Us,
            22,
            6,
        ),
        (
            "jp_search_pokemon_card_box_2026.html",
            Marketplace::Jp,
            33,
            9,
        ),
        ("de_search_katzenfutter_p1.html", Marketplace::De, 60, 12),
    ] {
        let Some(r) = corpus_page(name, m) else {
            return;
        };
        assert_eq!(
            (r.products.len(), sponsored(&r.products)),
            (cards, ads),
            "{name}"
        );
        let prefix = format!("https://www.amazon.{}/dp/", m.domain());
        for p in &r.products {
            let url = p.url.as_deref().unwrap_or_default();
            assert!(
                url.starts_with(&prefix) && !url.contains("ref="),
                "{name}: {url}"
            );
            assert!(p.title.is_some() && p.image.is_some(), "{name}: {p:?}");
        }
        let organic: Vec<u32> = r
            .products
            .iter()
            .filter_map(|p| p.organic_position)
            .collect();
        assert_eq!(
            organic,
            (1..=(cards - ads) as u32).collect::<Vec<_>>(),
            "{name}"
        );
    }
}

#[test]
fn de_2019_list_pages() {
    // One card per `li[id^=result_]`; an older version of the source's test asserted 22
    // for the Gemüsebeutel page.
    for (name, cards) in [
        ("de_search_plastikfrei_gemuesebeutel_2019.html", 22),
        ("de_search_plastikfrei_besteck_2019.html", 20),
        ("de_search_plastikfrei_einsteiger_2019.html", 15),
        ("de_search_plastikfrei_gesicht_2019.html", 16),
    ] {
        let Some(r) = corpus_page(name, Marketplace::De) else {
            return;
        };
        assert_eq!(r.products.len(), cards, "{name}");
        assert!(r.products.iter().all(|p| p.title.is_some()), "{name}");
    }
    let Some(r) = corpus_page(
        "de_search_plastikfrei_gemuesebeutel_2019.html",
        Marketplace::De,
    ) else {
        return;
    };
    let imline = r
        .products
        .iter()
        .find(|p| p.asin == "B07D187NPX")
        .expect("B07D187NPX");
    assert_eq!(
        (
            imline.price,
            imline.price_strikethrough,
            imline.rating,
            imline.reviews_count
        ),
        (Some(19.99), Some(25.99), Some(5.0), Some(36))
    );
    // The same product as an ad (result_0) and as an organic result (result_8).
    let bag: Vec<_> = r
        .products
        .iter()
        .filter(|p| p.asin == "B07JKXG7Y1")
        .collect();
    assert_eq!(bag.len(), 2);
    assert!(bag[0].is_sponsored && !bag[1].is_sponsored);
    assert_eq!(
        bag[0]
            .title
            .as_deref()
            .map(|t| t.starts_with("CottonLoveBag")),
        Some(true)
    );
}

#[test]
fn single_card_fragments() {
    if let Some(r) = corpus_page(
        "br_search_card_fragment_samsung_a34_2024.html",
        Marketplace::Br,
    ) {
        let p = &r.products[0];
        assert_eq!(r.products.len(), 1);
        assert_eq!(p.asin, "B0BXB619GS");
        assert_eq!(
            (p.price, p.price_strikethrough),
            (Some(1439.01), Some(2599.0))
        );
        assert_eq!((p.rating, p.reviews_count), (Some(4.8), Some(634)));
        assert_eq!(
            p.sales_volume.as_deref(),
            Some("Mais de 1 mil compras no mês passado")
        );
        assert!(p.is_amazons_choice && p.is_prime && !p.is_sponsored);
        assert_eq!(p.currency.as_deref(), Some("BRL"));
    }
    if let Some(r) = corpus_page("nl_search_card_fragment_legion_2023.html", Marketplace::Nl) {
        let p = &r.products[0];
        // The source's test stores whole euros (1750); the card shows "€ 1.749,99".
        assert_eq!(
            (p.asin.as_str(), p.price, p.price_strikethrough),
            ("B0CG6P1P64", Some(1749.99), Some(1949.0))
        );
        assert_eq!(
            p.url.as_deref(),
            Some("https://www.amazon.nl/dp/B0CG6P1P64")
        );
    }
}

#[test]
fn fragment_2015_and_grid_2013() {
    if let Some(r) = corpus_page("com_books_search_fragment_2015.html", Marketplace::Us) {
        assert_eq!(r.products.len(), 12);
        let sicp = r
            .products
            .iter()
            .find(|p| p.asin == "0262510871")
            .expect("SICP");
        // The heading is cut with "..."; the link's title attribute is whole.
        assert_eq!(
            sicp.title.as_deref(),
            Some("Structure and Interpretation of Computer Programs - 2nd Edition (MIT Electrical Engineering and Computer Science)")
        );
        assert_eq!((sicp.rating, sicp.reviews_count), (Some(3.7), Some(202)));
    }
    // amazon.cn is not served; the 2013 grid layout is read all the same.
    if let Some(r) = corpus_page("cn_kindle_browse_finance_2013.html", Marketplace::Us) {
        assert_eq!(r.products.len(), 48);
        assert!(r
            .products
            .iter()
            .all(|p| p.title.is_some() && p.price.is_some()));
        assert_eq!(r.products[0].title.as_deref(), Some("总经理财务一本通"));
    }
}
