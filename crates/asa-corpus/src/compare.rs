//! Expected values of the corpus, in the other projects' terms, held against our fields.
//! Only values that mean the same thing in both are compared; the rest (meta
//! descriptions, seller feedback ratings, related searches) are left out on purpose.

use asa_model::{Marketplace, Product, SearchProduct};
use serde_json::Value;

use crate::PageKind;
use asa_extract::text::{asin_in_url, squash};
use asa_extract::{Extraction, Page};

/// One comparison: a field, and whether the page's value matches the expected one.
pub(super) struct Check {
    pub field: &'static str,
    pub ok: bool,
    pub expected: String,
    pub got: String,
}

impl Check {
    fn new(
        field: &'static str,
        ok: bool,
        expected: impl Into<String>,
        got: impl Into<String>,
    ) -> Check {
        Check {
            field,
            ok,
            expected: expected.into(),
            got: got.into(),
        }
    }
}

pub(super) fn checks(
    kind: PageKind,
    expected: Option<&Value>,
    ex: &Extraction,
    m: Marketplace,
) -> Vec<Check> {
    let got_kind = ex.page.kind();
    let mut out = vec![Check::new(
        "class",
        got_kind == kind.page_kind(),
        kind.page_kind(),
        got_kind,
    )];
    let Some(expected) = expected else { return out };
    match (&ex.page, kind) {
        (Page::Product(p), PageKind::Product) => product_checks(expected, p, ex, &mut out),
        (Page::Search(s), PageKind::Search) => search_checks(expected, &s.products, m, &mut out),
        _ => {}
    }
    out
}

fn show<T: std::fmt::Debug>(v: &Option<T>) -> String {
    match v {
        Some(v) => format!("{v:?}"),
        None => "null".into(),
    }
}

fn same_text(a: &str, b: &str) -> bool {
    squash(a) == squash(b)
}

/// The id of an Amazon image (`51M0KK9HuHL` in `.../images/I/51M0KK9HuHL._SY300_.jpg`):
/// the same picture under another size or host.
fn image_id(url: &str) -> Option<String> {
    let rest = &url[url.find("/images/I/")? + "/images/I/".len()..];
    let id = rest.split(['.', '_']).next()?;
    Some(id.replace("%2B", "+").replace("%2b", "+"))
}

/// Same storefront host and same product in both URLs.
fn same_product_url(expected: &str, got: &str) -> bool {
    let host = |u: &str| {
        let rest = u.split_once("://").map_or(u, |(_, r)| r);
        rest.split('/')
            .next()
            .unwrap_or("")
            .trim_start_matches("www.")
            .to_ascii_lowercase()
    };
    host(expected) == host(got)
        && asin_in_url(expected).is_some()
        && asin_in_url(expected) == asin_in_url(got)
}

fn price_close(expected: f64, got: Option<f64>) -> bool {
    got.is_some_and(|g| (g - expected).abs() < 0.005)
}

fn product_checks(e: &Value, p: &Product, ex: &Extraction, out: &mut Vec<Check>) {
    let title = e
        .get("title")
        .or_else(|| e.pointer("/fields_hint/title"))
        .and_then(Value::as_str);
    if let Some(t) = title {
        let ok = p.title.as_deref().is_some_and(|g| same_text(t, g));
        out.push(Check::new("title", ok, t, show(&p.title)));
    }
    let price = e
        .get("price")
        .and_then(|v| v.as_f64().or_else(|| v.get("amount")?.as_f64()));
    if let Some(price) = price {
        out.push(Check::new(
            "price",
            price_close(price, p.price),
            price.to_string(),
            show(&p.price),
        ));
    }
    if let Some(cur) = e.pointer("/price/currency").and_then(Value::as_str) {
        out.push(Check::new(
            "currency",
            p.currency.as_deref() == Some(cur),
            cur,
            show(&p.currency),
        ));
    }
    if let Some(img) = e.get("image").and_then(Value::as_str) {
        let want = image_id(img);
        let ok = want.is_some() && p.images.iter().any(|g| image_id(g) == want);
        out.push(Check::new("image", ok, img, format!("{:?}", p.images)));
    }
    let author = e
        .get("author")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| {
            let list = e.get("authors")?;
            list.as_str().map(str::to_string).or_else(|| {
                let names: Vec<&str> = list.as_array()?.iter().filter_map(Value::as_str).collect();
                Some(names.join(", "))
            })
        });
    if let Some(author) = author {
        // The byline reads "Visit the SainSmart Store" or "David Baldacci (Author)"; our
        // brand is the name inside it.
        let ok = p.brand.as_deref().is_some_and(|b| {
            let (a, b) = (author.to_lowercase(), b.to_lowercase());
            !b.is_empty() && (a.contains(&b) || b.contains(&a))
        });
        out.push(Check::new("brand", ok, author, show(&p.brand)));
    }
    if let Some(url) = e.get("url").and_then(Value::as_str) {
        let ok = p.url.as_deref().is_some_and(|g| same_product_url(url, g));
        out.push(Check::new("url", ok, url, show(&p.url)));
    }
    if let Some(asin) = e.get("asin").and_then(Value::as_str) {
        let ok = p.asin == asin || ex.page_asin.as_deref() == Some(asin);
        out.push(Check::new("asin", ok, asin, p.asin.clone()));
    }
    seller_check(e.get("seller"), p, out);
    if let Some(specs) = e.get("specs").and_then(Value::as_object) {
        let missing: Vec<String> = specs
            .iter()
            .filter(|(k, v)| {
                let want = v.as_str().unwrap_or_default();
                !p.product_details
                    .get(k.as_str())
                    .is_some_and(|g| same_text(g, want))
            })
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        out.push(Check::new(
            "product_details",
            missing.is_empty(),
            missing.join("; "),
            format!("{:?}", p.product_details),
        ));
    }
    if let Some(r) = e.get("reviews").filter(|r| r.is_object()) {
        review_checks(r, p, out);
    }
    if let Some(a) = e.get("assert").and_then(Value::as_object) {
        for (field, present) in [
            ("title", p.title.is_some()),
            ("price", p.price.is_some()),
            (
                "seller",
                p.featured_merchant
                    .as_ref()
                    .is_some_and(|f| f.name.is_some())
                    || p.buybox.iter().any(|b| b.seller_name.is_some()),
            ),
        ] {
            if a.get(field).and_then(Value::as_str) == Some("not None") {
                out.push(Check::new(
                    field,
                    present,
                    "present",
                    if present { "present" } else { "null" },
                ));
            }
        }
    }
    if let Some(prefix) = e.get("description_prefix").and_then(Value::as_str) {
        let prefix = prefix.trim_end_matches("...").trim_end_matches('…').trim();
        let ok = p
            .description
            .as_deref()
            .is_some_and(|d| squash(d).starts_with(&squash(prefix)));
        out.push(Check::new("description", ok, prefix, show(&p.description)));
    }
    contains_checks(e, p, out);
}

fn seller_check(seller: Option<&Value>, p: &Product, out: &mut Vec<Check>) {
    let Some(seller) = seller.filter(|s| s.is_object()) else {
        return;
    };
    let name = seller.get("name").and_then(Value::as_str);
    let id = seller.get("id").and_then(Value::as_str);
    let (got_name, got_id) = match (&p.featured_merchant, p.buybox.first()) {
        (Some(f), _) if f.name.is_some() => (f.name.clone(), f.seller_id.clone()),
        (_, Some(b)) => (b.seller_name.clone(), b.seller_id.clone()),
        _ => (None, None),
    };
    let ok = name.is_none_or(|n| got_name.as_deref().is_some_and(|g| same_text(g, n)))
        && id.is_none_or(|i| got_id.as_deref() == Some(i));
    out.push(Check::new(
        "seller",
        ok,
        format!("{name:?} {id:?}"),
        format!("{got_name:?} {got_id:?}"),
    ));
}

fn review_checks(r: &Value, p: &Product, out: &mut Vec<Check>) {
    if let Some(range) = r.get("rating_range").and_then(Value::as_array) {
        let lo = range.first().and_then(Value::as_f64).unwrap_or(0.0);
        let hi = range.get(1).and_then(Value::as_f64).unwrap_or(5.0);
        let ok = p.rating.is_some_and(|v| (lo..=hi).contains(&v));
        out.push(Check::new(
            "rating",
            ok,
            format!("in [{lo}, {hi}]"),
            show(&p.rating),
        ));
    }
    if r.get("review_count_type").and_then(Value::as_str) == Some("int") {
        out.push(Check::new(
            "reviews_count",
            p.reviews_count.is_some(),
            "a count",
            show(&p.reviews_count),
        ));
    }
    if r.get("rating_distribution_keys").is_some() {
        let dist = p.rating_stars_distribution.as_deref().unwrap_or_default();
        let mut stars: Vec<u8> = dist.iter().map(|s| s.rating).collect();
        stars.sort_unstable();
        let sum: f64 = dist.iter().map(|s| s.percentage).sum();
        // Shares may be written as fractions or percentages.
        let ok =
            stars == [1, 2, 3, 4, 5] && ((sum - 100.0).abs() <= 2.0 || (sum - 1.0).abs() <= 0.02);
        out.push(Check::new(
            "rating_stars_distribution",
            ok,
            "stars 1..5 summing to 100%",
            format!("{stars:?} sum {sum}"),
        ));
    }
}

/// Substring expectations (onebox renders): each must appear in what we extracted.
fn contains_checks(e: &Value, p: &Product, out: &mut Vec<Check>) {
    let wanted: Vec<&str> = [
        "contains",
        "contains_regular_page_context",
        "contains_book_page_context",
    ]
    .iter()
    .filter_map(|k| e.get(*k)?.as_array())
    .flatten()
    .filter_map(Value::as_str)
    // Three-letter markers ("img") test the render, not the data.
    .filter(|s| s.chars().count() > 3)
    .collect();
    if wanted.is_empty() {
        return;
    }
    let mut hay = vec![p.asin.clone()];
    hay.extend(
        [
            &p.title,
            &p.brand,
            &p.manufacturer,
            &p.description,
            &p.bullet_points,
            &p.price_raw,
        ]
        .into_iter()
        .flatten()
        .cloned(),
    );
    hay.extend(p.images.iter().cloned());
    hay.extend(
        p.product_details
            .iter()
            .flat_map(|(k, v)| [k.clone(), v.clone()]),
    );
    if let Some(r) = p.rating {
        hay.push(format!("{r} out of 5 stars"));
    }
    // Image URLs are written with "+" or "%2B" for the same picture.
    let norm = |t: &str| squash(t).replace("%2B", "+").replace("%2b", "+");
    let hay = norm(&hay.join("\n"));
    let missing: Vec<&str> = wanted
        .into_iter()
        .filter(|w| {
            // An image is the same picture at any size: compare image ids.
            let same_image = image_id(w)
                .is_some_and(|want| p.images.iter().any(|g| image_id(g).as_ref() == Some(&want)));
            !same_image && !hay.contains(&norm(w))
        })
        .collect();
    out.push(Check::new(
        "contains",
        missing.is_empty(),
        format!("{missing:?}"),
        "not found in the product's fields",
    ));
}

fn search_checks(e: &Value, rows: &[SearchProduct], m: Marketplace, out: &mut Vec<Check>) {
    if let Some(list) = e.as_array() {
        out.push(Check::new(
            "search.rows",
            rows.len() == list.len(),
            list.len().to_string(),
            rows.len().to_string(),
        ));
        row_checks(list, rows, out);
        return;
    }
    if let Some(items) = e.get("items").and_then(Value::as_array) {
        row_checks(items, rows, out);
    }
    let Some(a) = e.get("assert").and_then(Value::as_object) else {
        return;
    };
    if a.get("rows_nonempty").and_then(Value::as_bool) == Some(true) {
        out.push(Check::new(
            "search.rows",
            !rows.is_empty(),
            "non-empty",
            rows.len().to_string(),
        ));
    }
    if let Some(n) = a.get("products_len").and_then(Value::as_u64) {
        out.push(Check::new(
            "search.rows",
            rows.len() as u64 == n,
            n.to_string(),
            rows.len().to_string(),
        ));
    }
    let prefix = a
        .get("url_prefix")
        .or_else(|| a.get("each_candidate.source_url_prefix"))
        .and_then(Value::as_str);
    let no_ref = a.get("url_has_no_ref").and_then(Value::as_bool) == Some(true);
    if prefix.is_some() || no_ref {
        let host = format!("https://{}/dp/", m.host());
        let bad: Vec<&str> = rows
            .iter()
            .filter_map(|r| r.url.as_deref())
            .filter(|u| prefix.is_some_and(|p| !u.starts_with(p)) || (no_ref && u.contains("ref=")))
            .collect();
        let ok = bad.is_empty() && rows.iter().all(|r| r.url.is_some());
        out.push(Check::new(
            "search.url",
            ok,
            prefix.unwrap_or(&host).to_string(),
            format!("{bad:?}"),
        ));
    }
}

/// Expected rows (2015 fragment, nl card) matched to ours by the ASIN of their link.
fn row_checks(list: &[Value], rows: &[SearchProduct], out: &mut Vec<Check>) {
    let mut diffs: [(Vec<String>, usize); 5] = Default::default();
    const FIELDS: [&str; 5] = [
        "search.title",
        "search.price",
        "search.rating",
        "search.reviews_count",
        "search.image",
    ];
    let mut url_bad = Vec::new();
    for want in list {
        let link = want.get("link").and_then(Value::as_str).unwrap_or_default();
        let asin = want
            .get("asin")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| asin_in_url(link));
        let row = asin
            .as_deref()
            .and_then(|a| rows.iter().find(|r| r.asin == a));
        let Some(row) = row else {
            url_bad.push(format!("{asin:?} missing"));
            continue;
        };
        if !link.is_empty()
            && !row
                .url
                .as_deref()
                .is_some_and(|u| same_product_url(link, u))
        {
            url_bad.push(format!("{link} vs {:?}", row.url));
        }
        let mut note = |i: usize, ok: bool, what: String| {
            diffs[i].1 += 1;
            if !ok {
                diffs[i].0.push(what);
            }
        };
        if let Some(t) = want.get("title").and_then(Value::as_str) {
            note(
                0,
                row.title.as_deref().is_some_and(|g| same_text(g, t)),
                format!("{t:?} vs {:?}", row.title),
            );
        }
        if let Some(p) = want.get("price").and_then(Value::as_f64) {
            // The Legion card's source stores whole euros (1750 for "€ 1.749,99").
            let rounded_by_source = p.fract() == 0.0 && row.price.is_some_and(|g| g.round() == p);
            note(
                1,
                price_close(p, row.price) || rounded_by_source,
                format!("{p} vs {:?}", row.price),
            );
        }
        if let Some(s) = want.get("stars").and_then(Value::as_f64) {
            note(
                2,
                row.rating.is_some_and(|g| (g - s).abs() < 0.05),
                format!("{s} vs {:?}", row.rating),
            );
        }
        if let Some(n) = want.get("numReviews").and_then(Value::as_u64) {
            note(
                3,
                row.reviews_count == Some(n),
                format!("{n} vs {:?}", row.reviews_count),
            );
        }
        if let Some(img) = want.get("image").and_then(Value::as_str) {
            note(
                4,
                row.image.as_deref() == Some(img),
                format!("{img} vs {:?}", row.image),
            );
        }
    }
    out.push(Check::new(
        "search.url",
        url_bad.is_empty(),
        "rows by ASIN, on the storefront",
        url_bad.join("; "),
    ));
    for (i, (bad, seen)) in diffs.into_iter().enumerate() {
        if seen > 0 {
            out.push(Check::new(
                FIELDS[i],
                bad.is_empty(),
                format!("{seen} rows"),
                bad.join("; "),
            ));
        }
    }
}
