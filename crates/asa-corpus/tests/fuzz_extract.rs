//! Property tests over mutated pages: the project's own pages and, when `ASA_CORPUS` is
//! set, the corpus pages, cut, flipped, spliced, nested and salted with random bytes.
//! Extraction must return without panicking, a block page must never come back as data,
//! and pages of ten megabytes must go through (a quadratic pass would hang here).
//!
//! `PROPTEST_CASES` raises the case count for long local runs (default kept small for CI).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use asa_corpus::infer_request;
use asa_extract::search::extract_search;
use asa_extract::{classify, extract, Page, Request, Target};
use asa_model::Marketplace;
use proptest::prelude::*;

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "html") {
            out.push(p);
        }
    }
}

struct Base {
    html: Vec<u8>,
    marketplace: Marketplace,
}

/// Own pages, then the corpus' product, search, captcha and error pages.
fn bases() -> &'static [Base] {
    static BASES: OnceLock<Vec<Base>> = OnceLock::new();
    BASES.get_or_init(|| {
        let mut paths = Vec::new();
        collect(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../asa-extract/tests/pages"),
            &mut paths,
        );
        if let Some(corpus) = std::env::var_os("ASA_CORPUS") {
            for kind in ["product", "search", "captcha", "error"] {
                collect(&Path::new(&corpus).join(kind), &mut paths);
            }
        }
        paths.sort();
        let mut bases: Vec<Base> = paths
            .iter()
            .filter_map(|p| {
                let marketplace = infer_request(p, None).map_or(Marketplace::Us, |(m, _)| m);
                Some(Base {
                    html: std::fs::read(p).ok()?,
                    marketplace,
                })
            })
            .collect();
        bases.push(Base {
            html: ROBOT_CHECK.as_bytes().to_vec(),
            marketplace: Marketplace::Us,
        });
        bases
    })
}

/// Written by the asa project: the shape of Amazon's classic robot check page.
const ROBOT_CHECK: &str = r#"<!doctype html><html><head><title dir="ltr">Robot Check</title></head>
<body><div class="a-container a-padding-double-large"><div class="a-box-inner">
<h4>Enter the characters you see below</h4>
<p class="a-last">Sorry, we just need to make sure you're not a robot. For best results, please make sure your browser is accepting cookies.</p>
<form method="get" action="/errors/validateCaptcha" name="">
<input type=hidden name="amzn" value="xYz0" /><input type=hidden name="amzn-r" value="&#047;dp&#047;B0057OC5O8" />
<div class="a-row a-text-center"><img src="https://images-na.ssl-images-amazon.com/captcha/abcdefgh/Captcha_abcdefghij.jpg"></div>
<h4>Type the characters you see in this image:</h4>
<input autocomplete="off" spellcheck="false" placeholder="Type characters" id="captchacharacters" name="field-keywords" type="text">
<button type="submit" class="a-button-text">Continue shopping</button>
</form></div></div></body></html>"#;

#[derive(Debug, Clone)]
enum Mutation {
    Flip {
        at: u32,
        byte: u8,
    },
    Truncate {
        at: u32,
    },
    Splice {
        from: u16,
        start: u32,
        len: u16,
        at: u32,
    },
    Nest {
        at: u32,
        depth: u16,
        tag: u8,
    },
    Salt {
        at: u32,
        bytes: Vec<u8>,
    },
    Repeat {
        start: u32,
        len: u16,
        times: u8,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<u32>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Flip { at, byte }),
        1 => any::<u32>().prop_map(|at| Mutation::Truncate { at }),
        2 => (any::<u16>(), any::<u32>(), any::<u16>(), any::<u32>())
            .prop_map(|(from, start, len, at)| Mutation::Splice { from, start, len, at }),
        1 => (any::<u32>(), 1u16..4000, any::<u8>()).prop_map(|(at, depth, tag)| Mutation::Nest { at, depth, tag }),
        2 => (any::<u32>(), proptest::collection::vec(any::<u8>(), 1..64))
            .prop_map(|(at, bytes)| Mutation::Salt { at, bytes }),
        1 => (any::<u32>(), 1u16..2000, 2u8..50).prop_map(|(start, len, times)| Mutation::Repeat { start, len, times }),
    ]
}

fn pos(at: u32, len: usize) -> usize {
    if len == 0 {
        0
    } else {
        at as usize % (len + 1)
    }
}

const NEST_TAGS: [&str; 6] = [
    "div",
    "span",
    "li",
    "a href=\"/dp/B0057OC5O8\"",
    "table",
    "h2",
];

fn apply(mut page: Vec<u8>, m: &Mutation) -> Vec<u8> {
    match m {
        Mutation::Flip { at, byte } => {
            if !page.is_empty() {
                let i = *at as usize % page.len();
                page[i] ^= byte | 1;
            }
        }
        Mutation::Truncate { at } => page.truncate(pos(*at, page.len())),
        Mutation::Splice {
            from,
            start,
            len,
            at,
        } => {
            let other = &bases()[*from as usize % bases().len()].html;
            let s = pos(*start, other.len());
            let e = (s + *len as usize).min(other.len());
            let at = pos(*at, page.len());
            page.splice(at..at, other[s..e].iter().copied());
        }
        Mutation::Nest { at, depth, tag } => {
            let tag = NEST_TAGS[*tag as usize % NEST_TAGS.len()];
            let open = format!("<{tag}>").repeat(*depth as usize);
            let at = pos(*at, page.len());
            page.splice(at..at, open.into_bytes());
        }
        Mutation::Salt { at, bytes } => {
            let at = pos(*at, page.len());
            page.splice(at..at, bytes.iter().copied());
        }
        Mutation::Repeat { start, len, times } => {
            let s = pos(*start, page.len());
            let e = (s + *len as usize).min(page.len());
            let chunk = page[s..e].repeat(*times as usize);
            page.splice(e..e, chunk);
        }
    }
    page
}

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(default)
}

/// Both requests on one page; a page the classifier blocks is never data.
fn check(html: &[u8], m: Marketplace) {
    let blocked = classify::block_page(html).is_some();
    for target in [
        Target::Product { asin: "B0057OC5O8" },
        Target::Search {
            query: "x",
            page: 2,
        },
    ] {
        let ex = extract(
            html,
            &Request {
                marketplace: m,
                target,
            },
        );
        if blocked {
            assert!(
                !matches!(ex.page, Page::Product(_) | Page::Search(_)),
                "block page returned as {}",
                ex.page.kind()
            );
        }
        if let Page::Search(r) = &ex.page {
            for p in &r.products {
                assert_eq!(p.page, 2);
                assert!(p.organic_position.is_some() != p.sponsored_position.is_some());
            }
        }
    }
    let _ = extract_search(html, m, 1);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(24)))]

    #[test]
    fn mutated_pages_never_panic(
        base in any::<u16>(),
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let b = &bases()[base as usize % bases().len()];
        let page = mutations.iter().fold(b.html.clone(), apply);
        check(&page, b.marketplace);
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        check(&bytes, Marketplace::Us);
    }

    /// Product-looking markup dropped into a robot check between its blocks never turns
    /// it into a product.
    #[test]
    fn a_captcha_with_product_markup_stays_a_captcha(
        inserts in proptest::collection::vec((any::<u32>(), 0usize..PRODUCT_BITS.len()), 1..4),
    ) {
        let mut page = ROBOT_CHECK.as_bytes().to_vec();
        for (at, bit) in inserts {
            let starts: Vec<usize> = page.windows(5).enumerate()
                .filter(|(_, w)| w == b"<div " || w == b"</for")
                .map(|(i, _)| i)
                .collect();
            let at = starts[at as usize % starts.len()];
            page.splice(at..at, PRODUCT_BITS[bit].bytes());
        }
        let req = Request { marketplace: Marketplace::Us, target: Target::Product { asin: "B0057OC5O8" } };
        let got = extract(&page, &req).page;
        prop_assert!(matches!(got, Page::Captcha(_)), "{}", got.kind());
    }
}

const PRODUCT_BITS: [&str; 4] = [
    r#"<span id="productTitle">Acme Widget</span>"#,
    r#"<div id="corePrice_feature_div"><span class="a-price"><span class="a-offscreen">$9.99</span></span></div>"#,
    r#"<input type="hidden" id="ASIN" name="ASIN" value="B0057OC5O8"><link rel="canonical" href="https://www.amazon.com/dp/B0057OC5O8">"#,
    r#"<div id="availability"><span>In Stock</span></div><div id="feature-bullets"><ul><li>One</li></ul></div>"#,
];

#[test]
fn the_robot_check_template_is_a_captcha() {
    let req = Request {
        marketplace: Marketplace::Us,
        target: Target::Product { asin: "B0057OC5O8" },
    };
    assert!(matches!(
        extract(ROBOT_CHECK.as_bytes(), &req).page,
        Page::Captcha(_)
    ));
}

/// A card of about 500 bytes; 20 000 of them make a 10 MB page.
fn card(i: usize) -> String {
    let asin = format!("B{i:09}");
    let sponsored = if i.is_multiple_of(5) { " AdHolder" } else { "" };
    format!(
        r#"<div data-asin="{asin}" data-component-type="s-search-result" class="s-result-item s-asin{sponsored}"><div class="puis-card-container"><img class="s-image" src="https://m.media-amazon.com/images/I/{i}.jpg"><a href="/Widget-{i}/dp/{asin}/ref=sr_1_{i}"><h2><span>Widget number {i}</span></h2></a><div class="a-row a-size-small"><i class="a-icon a-icon-star-small"><span class="a-icon-alt">4.5 out of 5 stars</span></i><span aria-label="{i}"></span></div><div data-cy="price-recipe"><span class="a-price"><span class="a-offscreen">${i}.99</span></span></div></div></div>
"#
    )
}

#[test]
fn a_ten_megabyte_search_page_extracts_every_card() {
    let n = 20_000;
    let mut html = String::from("<html><body><div class=\"s-main-slot\">");
    for i in 0..n {
        html.push_str(&card(i));
    }
    html.push_str("</div></body></html>");
    assert!(html.len() > 10_000_000, "{}", html.len());
    let r = extract_search(html.as_bytes(), Marketplace::Us, 1).expect("search");
    assert_eq!(r.products.len(), n);
    let last = &r.products[n - 1];
    assert_eq!(last.asin, format!("B{:09}", n - 1));
    assert_eq!(last.price, Some((n - 1) as f64 + 0.99));
    assert_eq!(last.reviews_count, Some((n - 1) as u64));
    assert_eq!(last.organic_position, Some(16_000));
    assert_eq!(r.products[n - 5].sponsored_position, Some(4_000));
}

#[test]
fn ten_megabytes_of_nesting_go_through() {
    // 700 000 open elements inside one card and one product title: every element sits
    // below every descendant selector's anchor.
    let depth = 700_000;
    let mut html = String::from(
        r#"<html><body><div id="dp"><div id="centerCol"><div data-asin="B0057OC5O8" data-component-type="s-search-result" class="s-result-item s-asin"><h2>"#,
    );
    html.push_str(&"<span class=\"a-size-base\">".repeat(depth / 2));
    html.push_str(&"<div>".repeat(depth / 2));
    html.push_str(r#"<span id="productTitle">Deep</span></h2></div></div></div></body></html>"#);
    assert!(html.len() > 10_000_000, "{}", html.len());
    for target in [
        Target::Product { asin: "B0057OC5O8" },
        Target::Search {
            query: "x",
            page: 1,
        },
    ] {
        let ex = extract(
            html.as_bytes(),
            &Request {
                marketplace: Marketplace::Us,
                target,
            },
        );
        assert!(
            !matches!(ex.page, Page::Captcha(_) | Page::AmazonError),
            "{}",
            ex.page.kind()
        );
        if let Page::Search(r) = ex.page {
            assert_eq!(r.products.len(), 1);
            assert_eq!(r.products[0].title.as_deref(), Some("Deep"));
        }
    }
}
