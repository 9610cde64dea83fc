//! Generated pages: faithful markup, locale, determinism, sizes, and agreement with the
//! truth they were built from.

use crate::support::{get, sim, small};
use asa_model::{Marketplace, SortBy};
use asa_sim::{product_truth, render_product_page, render_search_page, search_truth, SimConfig};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[test]
fn product_pages_state_their_truth_on_every_marketplace() {
    for m in Marketplace::ALL {
        for lang in [m.default_language(), m.languages()[m.languages().len() - 1]] {
            for asin in [
                "B000LQXC2Q",
                "B0057OC5O8",
                "193435659X",
                "B0DR8G428S",
                "B07ZCVN7YN",
            ] {
                let t = product_truth(m, asin, lang);
                let page = render_product_page(m, asin, lang, 50_000);
                for needle in [
                    "id=\"productTitle\"",
                    "id=\"bylineInfo\"",
                    "id=\"availability\"",
                    "id=\"feature-bullets\"",
                    "id=\"landingImage\"",
                    "id=\"wayfinding-breadcrumbs_feature_div\"",
                    "'colorImages'",
                    "id=\"productDetails_techSpec_section_1\"",
                    "id=\"detailBullets_feature_div\"",
                ] {
                    assert!(page.contains(needle), "{m} {lang} {asin}: {needle}");
                }
                assert!(page.contains(&esc(&t.title)), "{m} {asin} title");
                assert!(page.contains(&format!(
                    "<input type=\"hidden\" id=\"ASIN\" name=\"ASIN\" value=\"{asin}\">"
                )));
                assert!(page.contains(&format!(
                    "<link rel=\"canonical\" href=\"{}\"/>",
                    esc(&t.url)
                )));
                assert!(page.contains(&esc(&t.stock)));
                assert!(page.contains(&format!("data-old-hires=\"{}\"", t.images[0])));
                for b in &t.bullets {
                    assert!(page.contains(&esc(b)), "{m} bullet {b}");
                }
                match &t.price_text {
                    Some(p) => {
                        assert!(
                            page.contains(&format!(
                                "<span class=\"a-offscreen\">{}</span>",
                                esc(p)
                            )),
                            "{m} {lang} {asin} price {p}"
                        );
                        assert!(
                            page.contains("id=\"corePrice_feature_div\"")
                                && page.contains("id=\"quantity\"")
                        );
                        assert!(page.contains("id=\"sellerProfileTriggerId\""));
                    }
                    None => assert!(!page.contains("id=\"quantity\"") && !t.in_stock),
                }
                if let Some(s) = &t.price_strikethrough_text {
                    assert!(
                        page.contains("basisPrice") && page.contains(&esc(s)),
                        "{m} strike"
                    );
                }
                assert_eq!(page.contains("id=\"acrPopover\""), t.rating.is_some());
                assert_eq!(page.contains("id=\"twister\""), !t.variations.is_empty());
            }
        }
    }
}

#[test]
fn prices_follow_the_storefront_locale() {
    let find = |m: Marketplace, lang: &str, pred: &dyn Fn(&str) -> bool| {
        (0..400)
            .map(|i| product_truth(m, &format!("B0TEST{i:04}"), lang))
            .filter_map(|t| t.price_text)
            .find(|p| pred(p))
            .unwrap_or_else(|| panic!("no matching price on {m} {lang}"))
    };
    let de = find(Marketplace::De, "de_DE", &|p| p.contains('.'));
    assert!(
        de.ends_with("\u{a0}€") && de.contains('.') && de.contains(','),
        "{de}"
    );
    let fr = find(Marketplace::Fr, "fr_FR", &|p| p.contains('\u{202f}'));
    assert!(fr.ends_with("\u{a0}€"), "{fr}");
    let jp = find(Marketplace::Jp, "ja_JP", &|_| true);
    assert!(jp.starts_with('￥') && !jp.contains('.'), "{jp}");
    let inr = find(Marketplace::In, "en_IN", &|p| p.matches(',').count() >= 2);
    assert!(inr.starts_with('₹'), "{inr}");
    let br = find(Marketplace::Br, "pt_BR", &|_| true);
    assert!(br.starts_with("R$\u{a0}"), "{br}");
    let ar = find(Marketplace::Sa, "ar_AE", &|_| true);
    assert!(
        ar.chars().any(|c| ('\u{660}'..='\u{669}').contains(&c))
            && !ar.chars().any(|c| c.is_ascii_digit()),
        "{ar}"
    );
    let se = find(Marketplace::Se, "sv_SE", &|p| p.contains('\u{a0}'));
    assert!(se.ends_with("kr") && !se.contains(','), "{se}");
    // The value and the text agree.
    for i in 0..200 {
        let t = product_truth(Marketplace::De, &format!("B0VALUE{i:03}"), "de_DE");
        if let (Some(v), Some(text)) = (t.price, t.price_text) {
            let parsed: f64 = text
                .trim_end_matches("\u{a0}€")
                .replace('.', "")
                .replace(',', ".")
                .parse()
                .unwrap();
            assert!((parsed - v).abs() < 1e-9, "{text} vs {v}");
        }
    }
}

#[test]
fn interface_language_changes_labels_not_the_product() {
    let de = product_truth(Marketplace::De, "B000LQXC2Q", "de_DE");
    let en = product_truth(Marketplace::De, "B000LQXC2Q", "en_GB");
    assert_eq!(de.brand, en.brand);
    assert_eq!(de.price, en.price);
    assert_eq!(de.images, en.images);
    assert_ne!(de.title, en.title);
    let page_de = render_product_page(Marketplace::De, "B000LQXC2Q", "de_DE", 40_000);
    let page_en = render_product_page(Marketplace::De, "B000LQXC2Q", "en_GB", 40_000);
    assert!(page_de.contains("Besuche den") && page_de.contains("Info zu diesem Artikel"));
    assert!(page_en.contains("Visit the") && page_en.contains("About this item"));
    assert!(page_de.contains("lang=\"de-de\"") && page_en.contains("lang=\"en-gb\""));
}

#[test]
fn pages_are_deterministic_and_sized() {
    let a = render_product_page(
        Marketplace::Fr,
        "B0057OC5O8",
        "fr_FR",
        asa_sim::DEFAULT_PAGE_BYTES,
    );
    let b = render_product_page(
        Marketplace::Fr,
        "B0057OC5O8",
        "fr_FR",
        asa_sim::DEFAULT_PAGE_BYTES,
    );
    assert_eq!(a, b);
    assert!((1_000_000..=2_000_000).contains(&a.len()), "{}", a.len());
    let big = render_product_page(Marketplace::Us, "B0057OC5O8", "en_US", 5_000_000);
    assert!((5_000_000..5_200_000).contains(&big.len()), "{}", big.len());
    // The bulk is realistic markup: many script and style blocks, not one comment.
    assert!(a.matches("<script").count() > 50 && a.matches("<style").count() > 20);
    assert!(a.matches("<!--").count() < 5);
}

#[test]
fn search_pages_state_their_truth() {
    for (m, lang, sponsored) in [
        (Marketplace::Us, "en_US", "Sponsored"),
        (Marketplace::De, "de_DE", "Gesponsert"),
        (Marketplace::Jp, "ja_JP", "スポンサー"),
    ] {
        let t = search_truth(m, "usb cable", 2, SortBy::BestMatch, lang);
        assert!(!t.no_results);
        assert_eq!(t.results.len(), 20);
        assert_eq!(t.results.iter().filter(|r| r.is_sponsored).count(), 4);
        let organic: Vec<u32> = t
            .results
            .iter()
            .filter_map(|r| r.organic_position)
            .collect();
        assert_eq!(organic, (1..=16).collect::<Vec<_>>());
        let page = render_search_page(m, "usb cable", 2, SortBy::BestMatch, lang, 100_000);
        assert_eq!(
            page.matches("data-component-type=\"s-search-result\"")
                .count(),
            20
        );
        assert!(page.contains(sponsored));
        for r in &t.results {
            assert!(page.contains(&format!("data-asin=\"{}\"", r.asin)));
            assert!(page.contains(&format!("<span>{}</span></h2>", esc(&r.title))));
            if let Some(p) = &r.price_text {
                assert!(page.contains(&esc(p)));
            }
            if let Some(s) = &r.sales_volume {
                assert!(page.contains(&esc(s)));
            }
            // Search cards and product pages agree.
            assert_eq!(product_truth(m, &r.asin, lang).price, r.price);
        }
        assert!(page.contains("a-icon-star-small"));
    }
    let asc = search_truth(Marketplace::Us, "lamp", 1, SortBy::PriceAsc, "en_US");
    let prices: Vec<f64> = asc
        .results
        .iter()
        .filter(|r| !r.is_sponsored)
        .filter_map(|r| r.price)
        .collect();
    assert!(prices.windows(2).all(|w| w[0] <= w[1]), "{prices:?}");
    let empty = search_truth(Marketplace::De, "sim-empty", 1, SortBy::BestMatch, "de_DE");
    assert!(empty.no_results && empty.results.is_empty());
    let page = render_search_page(
        Marketplace::De,
        "sim-empty",
        1,
        SortBy::BestMatch,
        "de_DE",
        20_000,
    );
    assert!(page.contains("Keine Ergebnisse für") && !page.contains("s-search-result\""));
}

#[tokio::test]
async fn served_pages_match_rendered_ones_and_honour_language() {
    let s = sim(small()).await;
    let (status, body) = get(&s, "/amazon.de/dp/B000LQXC2Q?th=1&psc=1").await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        render_product_page(Marketplace::De, "B000LQXC2Q", "de_DE", 60_000)
    );
    let (_, en) = get(&s, "/amazon.de/dp/B000LQXC2Q?language=en_GB").await;
    assert_eq!(
        en,
        render_product_page(Marketplace::De, "B000LQXC2Q", "en_GB", 60_000)
    );
    let r = crate::support::client()
        .get(crate::support::url(
            &s,
            "/amazon.de/Some-Slug/dp/B000LQXC2Q",
        ))
        .header("Cookie", "session-id=1; lc-main=en_GB")
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), en);
    let (_, ae) = get(&s, "/amazon.ae/gp/product/B000LQXC2Q?language=ar_AE").await;
    let t = product_truth(Marketplace::Ae, "B000LQXC2Q", "ar_AE");
    if let Some(p) = t.price_text {
        assert!(ae.contains(&p));
    }
    let (status, body) = get(&s, "/amazon.co.jp/s?k=pokemon+card&page=2&s=price-asc-rank").await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        render_search_page(
            Marketplace::Jp,
            "pokemon card",
            2,
            SortBy::PriceAsc,
            "ja_JP",
            45_000
        )
    );
    s.shutdown().await;
}

#[tokio::test]
async fn default_product_pages_weigh_one_to_two_megabytes() {
    let s = sim(SimConfig::default()).await;
    for path in [
        "/amazon.com/dp/B0057OC5O8",
        "/amazon.de/dp/B000LQXC2Q",
        "/amazon.co.jp/dp/B0DR8G428S",
    ] {
        let (status, body) = get(&s, path).await;
        assert_eq!(status, 200);
        assert!(
            (1_000_000..=2_000_000).contains(&body.len()),
            "{path}: {}",
            body.len()
        );
    }
    s.shutdown().await;
}
