//! Search extraction held against the project's own hand-written pages
//! (`tests/pages/search/`): exact values for every field of every card.

use asa_extract::search::{extract_search, SearchResults};
use asa_model::{Marketplace, SearchProduct};

fn page(name: &str, m: Marketplace) -> Option<SearchResults> {
    let path = format!("{}/tests/pages/search/{name}", env!("CARGO_MANIFEST_DIR"));
    let html = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    extract_search(&html, m, 1)
}

fn results(name: &str, m: Marketplace) -> Vec<SearchProduct> {
    let r = page(name, m).unwrap_or_else(|| panic!("{name}: not read as a search page"));
    assert!(!r.no_results, "{name}");
    r.products
}

/// A card with every field absent, to spell out only what a test expects.
fn blank(asin: &str, m: Marketplace) -> SearchProduct {
    SearchProduct {
        asin: asin.into(),
        url: Some(format!("https://www.amazon.{}/dp/{asin}", m.domain())),
        page: 1,
        ..SearchProduct::default()
    }
}

#[test]
fn com_modern_layout_every_field() {
    let m = Marketplace::Us;
    let got = results("com_search_usb_c_cable.html", m);
    let usd = Some("USD".to_string());
    let expected = vec![
        SearchProduct {
            title: Some("Acme Braided USB C Cable, 6 ft, 60W & Fast Charging".into()),
            image: Some("https://m.media-amazon.com/images/I/71TestCab1L._AC_UY218_.jpg".into()),
            price: Some(12.99),
            price_strikethrough: Some(19.99),
            currency: usd.clone(),
            rating: Some(4.5),
            reviews_count: Some(1234),
            sales_volume: Some("2K+ bought in past month".into()),
            is_prime: true,
            is_sponsored: true,
            sponsored_position: Some(1),
            ..blank("B0TESTCAB1", m)
        },
        SearchProduct {
            title: Some("Bolt USB C Cable 3-Pack (3/6/10 ft)".into()),
            image: Some("https://m.media-amazon.com/images/I/61TestCab2L._AC_UY218_.jpg".into()),
            price: Some(9.99),
            highest_price: Some(24.99),
            currency: usd.clone(),
            rating: Some(4.7),
            // The card shows "(12.3K)"; the label holds the exact count.
            reviews_count: Some(12345),
            sales_volume: Some("10K+ bought in past month".into()),
            is_prime: true,
            is_amazons_choice: true,
            organic_position: Some(1),
            ..blank("B0TESTCAB2", m)
        },
        SearchProduct {
            // The brand heading above the title is not the title.
            title: Some("Coiled USB C to USB C Cable, 3 ft".into()),
            image: Some("https://m.media-amazon.com/images/I/51TestCab3L._AC_UY218_.jpg".into()),
            best_seller: true,
            organic_position: Some(2),
            ..blank("B0TESTCAB3", m)
        },
        SearchProduct {
            title: Some("Dash Short USB C Cable 1 ft, 2-Pack".into()),
            image: Some("https://m.media-amazon.com/images/I/41TestCab4L._AC_UY218_.jpg".into()),
            price: Some(5.49),
            price_strikethrough: Some(6.99),
            currency: usd.clone(),
            rating: Some(4.1),
            reviews_count: Some(87),
            organic_position: Some(3),
            ..blank("B0TESTCAB4", m)
        },
        SearchProduct {
            title: Some("Echo Right Angle USB C Cable".into()),
            image: Some("https://m.media-amazon.com/images/I/81TestCab5L._AC_UY218_.jpg".into()),
            price: Some(1049.0),
            currency: usd,
            is_sponsored: true,
            sponsored_position: Some(2),
            ..blank("B0TESTCAB5", m)
        },
    ];
    assert_eq!(got, expected);
}

#[test]
fn de_decimal_commas_and_labels() {
    let m = Marketplace::De;
    let got = results("de_search_kaffeemaschine.html", m);
    let eur = Some("EUR".to_string());
    assert_eq!(
        got,
        vec![
            SearchProduct {
                title: Some("Barista Siebträgermaschine mit Mahlwerk, 15 bar".into()),
                image: Some(
                    "https://m.media-amazon.com/images/I/71TestDe01L._AC_UL320_.jpg".into()
                ),
                price: Some(1299.0),
                price_strikethrough: Some(1499.0),
                currency: eur.clone(),
                rating: Some(4.6),
                reviews_count: Some(1234),
                sales_volume: Some("Mehr als 500 Mal im letzten Monat gekauft".into()),
                is_prime: true,
                is_sponsored: true,
                sponsored_position: Some(1),
                ..blank("B0TESTDE01", m)
            },
            SearchProduct {
                title: Some("Filterkaffeemaschine \"Classic\" mit Glaskanne, 1,25 l".into()),
                image: Some(
                    "https://m.media-amazon.com/images/I/61TestDe02L._AC_UL320_.jpg".into()
                ),
                price: Some(29.99),
                currency: eur,
                rating: Some(4.3),
                reviews_count: Some(27015),
                best_seller: true,
                organic_position: Some(1),
                ..blank("B0TESTDE02", m)
            },
        ]
    );
}

#[test]
fn jp_yen_without_decimals() {
    let m = Marketplace::Jp;
    let got = results("jp_search_coffee.html", m);
    let jpy = Some("JPY".to_string());
    assert_eq!(
        got,
        vec![
            SearchProduct {
                title: Some("ドリップコーヒー 100袋 アソート".into()),
                image: Some(
                    "https://m.media-amazon.com/images/I/71TestJp01L._AC_UL320_.jpg".into()
                ),
                price: Some(1280.0),
                price_strikethrough: Some(1980.0),
                currency: jpy.clone(),
                rating: Some(4.3),
                reviews_count: Some(1024),
                // The points line mentions buying but is no sales volume.
                sales_volume: Some("過去1か月で100点以上購入されました".into()),
                is_amazons_choice: true,
                organic_position: Some(1),
                ..blank("B0TESTJP01", m)
            },
            SearchProduct {
                title: Some("コーヒー豆 中煎り 1kg".into()),
                image: Some(
                    "https://m.media-amazon.com/images/I/61TestJp02L._AC_UL320_.jpg".into()
                ),
                price: Some(2450.0),
                currency: jpy,
                is_sponsored: true,
                sponsored_position: Some(1),
                ..blank("B0TESTJP02", m)
            },
        ]
    );
}

#[test]
fn fr_narrow_spaces_and_entities() {
    let m = Marketplace::Fr;
    let got = results("fr_search_casque.html", m);
    assert_eq!(got.len(), 2);
    let (a, b) = (&got[0], &got[1]);
    assert_eq!(
        a.title.as_deref(),
        Some("Casque audio sans fil à réduction de bruit")
    );
    assert_eq!(
        (a.price, a.price_strikethrough),
        (Some(1299.99), Some(1499.0))
    );
    assert_eq!((a.rating, a.reviews_count), (Some(4.4), Some(2345)));
    assert_eq!(
        a.sales_volume.as_deref(),
        Some("Plus de 500 achetés au cours du mois dernier")
    );
    assert!(a.is_sponsored && !a.best_seller);
    assert_eq!(b.title.as_deref(), Some("Écouteurs filaires l'original"));
    assert_eq!((b.price, b.currency.as_deref()), (Some(9.9), Some("EUR")));
    assert!(b.best_seller && !b.is_sponsored);
    assert_eq!(
        (b.organic_position, a.sponsored_position),
        (Some(1), Some(1))
    );
}

#[test]
fn ae_arabic_indic_digits() {
    let m = Marketplace::Ae;
    let got = results("ae_search_saat.html", m);
    assert_eq!(got.len(), 2);
    let (a, b) = (&got[0], &got[1]);
    assert_eq!(a.title.as_deref(), Some("ساعة ذكية رياضية مقاومة للماء"));
    assert_eq!(
        (a.price, a.price_strikethrough),
        (Some(1299.0), Some(1499.0))
    );
    assert_eq!((a.rating, a.reviews_count), (Some(4.5), Some(1234)));
    assert_eq!(a.currency.as_deref(), Some("AED"));
    assert!(a.is_sponsored);
    assert_eq!(
        a.url.as_deref(),
        Some("https://www.amazon.ae/dp/B0TESTAE01")
    );
    assert_eq!((b.price, b.organic_position), (Some(49.5), Some(1)));
}

#[test]
fn no_results_pages_in_two_languages() {
    for (name, m) in [
        ("com_search_no_results.html", Marketplace::Us),
        ("de_search_keine_ergebnisse.html", Marketplace::De),
    ] {
        let r = page(name, m).unwrap_or_else(|| panic!("{name}"));
        // The "similar searches" shelf on the page is not a result.
        assert_eq!((r.no_results, r.products.len()), (true, 0), "{name}");
    }
}

#[test]
fn a_page_without_results_or_marker_is_unknown() {
    // Its only "No results for" is in a script; the data-asin tile is no result card.
    assert_eq!(
        page("com_search_unknown_layout.html", Marketplace::Us),
        None
    );
    assert_eq!(extract_search(b"", Marketplace::Us, 1), None);
}

#[test]
fn de_2019_list_layout() {
    let m = Marketplace::De;
    let got = results("de_search_plastikfrei_2019_layout.html", m);
    let asins: Vec<&str> = got.iter().map(|p| p.asin.as_str()).collect();
    // result_2 has no `</li>`: the next card still starts a card of its own.
    assert_eq!(
        asins,
        ["B0TESTOLD1", "B0TESTOLD2", "B0TESTOLD3", "B0TESTOLD4"]
    );
    let a = &got[0];
    assert_eq!(a.title.as_deref(), Some("Gemüsebeutel 5er Set"));
    assert_eq!(
        (a.price, a.price_strikethrough),
        (Some(1021.9), Some(1099.0))
    );
    assert_eq!((a.rating, a.reviews_count), (Some(4.5), Some(15)));
    assert!(a.is_sponsored && a.is_prime);
    assert_eq!(
        a.image.as_deref(),
        Some("https://images-eu.ssl-images-amazon.com/images/I/51TestOld1L._AC_US218_.jpg")
    );
    let b = &got[1];
    assert_eq!((b.price, b.highest_price), (Some(9.99), Some(14.99)));
    assert_eq!((b.rating, b.reviews_count), (Some(5.0), Some(36)));
    // "5% sparen" sits in a badge class but is a coupon, not a best-seller badge.
    assert!(!b.best_seller && !b.is_sponsored);
    let positions: Vec<_> = got
        .iter()
        .map(|p| (p.organic_position, p.sponsored_position))
        .collect();
    assert_eq!(
        positions,
        [
            (None, Some(1)),
            (Some(1), None),
            (Some(2), None),
            (Some(3), None)
        ]
    );
}

#[test]
fn grid_2013_layout_with_asin_in_name() {
    let m = Marketplace::Us;
    let got = results("com_search_grid_2013_layout.html", m);
    assert_eq!(got.len(), 2);
    let a = &got[0];
    assert_eq!(a.asin, "B0TESTGRD1");
    assert_eq!(a.title.as_deref(), Some("Finance Basics"));
    assert_eq!(
        (a.price, a.rating, a.reviews_count),
        (Some(3.99), Some(4.4), Some(12))
    );
    assert_eq!(
        a.image.as_deref(),
        Some("http://ecx.images-amazon.com/images/I/51TestGrd1L._AA160_.jpg")
    );
    assert_eq!(
        (got[1].title.as_deref(), got[1].price),
        (Some("The Money Book"), Some(0.99))
    );
}

#[test]
fn a_lone_card_fragment() {
    let m = Marketplace::Us;
    let got = results("com_search_card_fragment.html", m);
    assert_eq!(
        got,
        vec![SearchProduct {
            title: Some("Desk Lamp with Wireless Charger".into()),
            image: Some("https://m.media-amazon.com/images/I/61TestFrg1L._AC_UL320_.jpg".into()),
            price: Some(39.99),
            currency: Some("USD".into()),
            is_prime: true,
            organic_position: Some(1),
            ..blank("B0TESTFRG1", m)
        }]
    );
}

#[test]
fn page_number_is_carried_to_every_card() {
    let path = format!(
        "{}/tests/pages/search/com_search_usb_c_cable.html",
        env!("CARGO_MANIFEST_DIR")
    );
    let html = std::fs::read(path).expect("page");
    let r = extract_search(&html, Marketplace::Us, 3).expect("search");
    assert!(r.products.iter().all(|p| p.page == 3));
    // Positions stay within the page; the server renumbers across pages.
    assert_eq!(r.products[1].organic_position, Some(1));
}
