//! asa-corpus: the corpus runner. It extracts every saved page of a folder and compares
//! the result with the `<page>.expected.json` beside it; `asa extract --corpus <dir>`
//! prints its report, and its tests hold the extractor against the shared corpus
//! (`ASA_CORPUS`).
//!
//! It owns reading saved pages and their expected values from disk, which asa-extract must
//! not do; it must not hold extraction rules of its own (those live in asa-extract). It is
//! not published: a maintainers' tool beside the extractor.
//!
//! The request for each page is inferred from where it lies and what it is named
//! (`product/com_B0057OC5O8_relay_2017.html` is a product request for B0057OC5O8 on
//! amazon.com), or from the expected file's `request_url`.
//!
//! # Layout
//! - this file: the run, the report, and requests inferred from paths and names.
//! - `compare`: expected values in the other projects' terms, held against our fields.

mod compare;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use asa_model::Marketplace;
use serde::Serialize;

use asa_extract::text::{asin_in_url, is_asin, query_param};
use asa_extract::{extract, Request, Target};

/// A request target that owns its strings, for requests inferred from a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum OwnedTarget {
    Product { asin: String },
    Search { query: String, page: u32 },
}

impl OwnedTarget {
    pub fn as_target(&self) -> Target<'_> {
        match self {
            OwnedTarget::Product { asin } => Target::Product { asin },
            OwnedTarget::Search { query, page } => Target::Search { query, page: *page },
        }
    }
}

/// What a saved page is expected to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PageKind {
    Product,
    Search,
    Captcha,
    AmazonError,
    NotFound,
    Gallery,
    /// A page the extractor must refuse (a layout it cannot read).
    Unknown,
}

impl PageKind {
    /// The [`asa_extract::Page::kind`] a correct extraction gives.
    pub fn page_kind(self) -> &'static str {
        match self {
            PageKind::Product => "product",
            PageKind::Search => "search",
            PageKind::Captcha => "captcha",
            PageKind::AmazonError => "amazon_error",
            PageKind::NotFound => "not_found",
            PageKind::Gallery => "gallery",
            PageKind::Unknown => "unknown",
        }
    }
}

/// How many pages hold an expected value for a field, and how many of them match it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FieldTally {
    pub matched: usize,
    pub total: usize,
}

/// One expected value that the extraction did not give.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    pub field: String,
    pub expected: String,
    pub got: String,
}

/// A page with at least one difference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageFailure {
    /// Path relative to the corpus folder.
    pub page: String,
    pub expected_kind: PageKind,
    pub got_kind: String,
    pub differences: Vec<Difference>,
}

/// A page the runner could not hold against anything, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkippedPage {
    pub page: String,
    pub reason: String,
}

/// The outcome of a corpus run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CorpusReport {
    pub extractor_version: String,
    /// Pages extracted and compared (with or without an expected file: the folder alone
    /// says which class a page must get).
    pub pages: usize,
    pub pages_with_expected: usize,
    /// Field name to tally, sorted by name.
    pub fields: BTreeMap<String, FieldTally>,
    pub failures: Vec<PageFailure>,
    pub skipped: Vec<SkippedPage>,
}

impl CorpusReport {
    /// True when every compared value matched.
    pub fn all_matched(&self) -> bool {
        self.failures.is_empty()
    }

    fn tally(&mut self, field: &str, ok: bool) {
        let t = self.fields.entry(field.to_string()).or_default();
        t.total += 1;
        t.matched += usize::from(ok);
    }
}

/// Runs the extractor over every saved page under `dir` (recursively) and compares it
/// with what the page's folder, name and expected file say.
pub fn run_corpus(dir: &Path) -> CorpusReport {
    let mut report = CorpusReport {
        extractor_version: asa_extract::EXTRACTOR_VERSION.to_string(),
        ..CorpusReport::default()
    };
    let mut pages = Vec::new();
    collect_pages(dir, &mut pages);
    pages.sort();
    for path in pages {
        let name = path
            .strip_prefix(dir)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        let expected = expected_for(&path);
        run_page(&mut report, name, &path, expected.as_ref());
    }
    report
}

fn run_page(
    report: &mut CorpusReport,
    name: String,
    path: &Path,
    expected: Option<&serde_json::Value>,
) {
    let skip = |report: &mut CorpusReport, reason: String| {
        report.skipped.push(SkippedPage {
            page: name.clone(),
            reason,
        })
    };
    let Some(kind) = infer_kind(path, expected) else {
        let reason = match expected {
            Some(_) => "not a page kind the API serves (listing, offers, reviews, ...)",
            None => "no expected file and no page kind from its folder",
        };
        return skip(report, reason.into());
    };
    let Some((marketplace, target)) = infer_request(path, expected) else {
        return skip(report, "marketplace not one of the 20 served".into());
    };
    let html = match std::fs::read(path) {
        Ok(html) => html,
        Err(e) => return skip(report, format!("unreadable: {e}")),
    };
    let request = Request {
        marketplace,
        target: target.as_target(),
    };
    let extraction = extract(&html, &request);
    report.pages += 1;
    report.pages_with_expected += usize::from(expected.is_some());
    let checks = compare::checks(kind, expected, &extraction, marketplace);
    let mut differences = Vec::new();
    for check in checks {
        report.tally(check.field, check.ok);
        if !check.ok {
            differences.push(Difference {
                field: check.field.to_string(),
                expected: check.expected,
                got: check.got,
            });
        }
    }
    if !differences.is_empty() {
        report.failures.push(PageFailure {
            page: name,
            expected_kind: kind,
            got_kind: extraction.page.kind().to_string(),
            differences,
        });
    }
}

fn collect_pages(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_pages(&path, out);
        } else if path.extension().is_some_and(|e| e == "html" || e == "htm") {
            out.push(path);
        }
    }
}

/// The `X.expected.json` beside `X.html`, parsed; `None` when absent or not JSON.
pub fn expected_for(page: &Path) -> Option<serde_json::Value> {
    let stem = page.file_stem()?.to_str()?;
    let text =
        std::fs::read_to_string(page.with_file_name(format!("{stem}.expected.json"))).ok()?;
    serde_json::from_str(&text).ok()
}

fn request_url(expected: Option<&serde_json::Value>) -> Option<&str> {
    expected?.get("request_url")?.as_str()
}

/// What the page must be: the expected file's `expected_class`, then the folder, then
/// the expected `request_url`, then the file name.
pub fn infer_kind(path: &Path, expected: Option<&serde_json::Value>) -> Option<PageKind> {
    let class = expected
        .and_then(|e| e.get("expected_class"))
        .and_then(|c| c.as_str());
    if let Some(class) = class {
        let kind = [
            ("captcha", PageKind::Captcha),
            ("503", PageKind::AmazonError),
            ("error", PageKind::AmazonError),
            ("not_found", PageKind::NotFound),
            ("404", PageKind::NotFound),
            ("gallery", PageKind::Gallery),
            ("unknown", PageKind::Unknown),
            ("product", PageKind::Product),
            ("search", PageKind::Search),
        ]
        .into_iter()
        .find(|(word, _)| class.contains(word));
        if let Some((_, kind)) = kind {
            return Some(kind);
        }
    }
    let folder = path
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|f| f.to_str());
    match folder {
        Some("product") => return Some(PageKind::Product),
        Some("search") => return Some(PageKind::Search),
        Some("captcha") => return Some(PageKind::Captcha),
        Some("error") => return Some(PageKind::AmazonError),
        Some("offers" | "reviews" | "other") => return None,
        _ => {}
    }
    if let Some(url) = request_url(expected) {
        if is_search_url(url) {
            return Some(PageKind::Search);
        }
        if asin_in_request_url(url).is_some() {
            return Some(PageKind::Product);
        }
    }
    let stem = path.file_stem()?.to_str()?;
    if stem.contains("search") {
        Some(PageKind::Search)
    } else if stem.contains("captcha") {
        Some(PageKind::Captcha)
    } else if asin_in_name(stem).is_some() {
        Some(PageKind::Product)
    } else {
        None
    }
}

fn is_search_url(url: &str) -> bool {
    url.contains("/s?") || url.contains("/s/") || url.contains("field-keywords=")
}

/// The marketplace and target a saved page was fetched with: the marketplace from the
/// expected `request_url` host or the file name's prefix (`com_`, `uk_`, `es-pt_`, ...),
/// the ASIN from the file name (it names the page's content) or the `request_url`, the
/// query from the `request_url` or the file name.
pub fn infer_request(
    path: &Path,
    expected: Option<&serde_json::Value>,
) -> Option<(Marketplace, OwnedTarget)> {
    let stem = path.file_stem()?.to_str()?;
    let url = request_url(expected);
    let marketplace = url
        .and_then(url_host)
        .and_then(Marketplace::from_host)
        .or_else(|| marketplace_from_prefix(stem))?;
    let kind = infer_kind(path, expected);
    let asin = asin_in_name(stem).or_else(|| url.and_then(asin_in_request_url));
    let target = match (kind, asin) {
        (Some(PageKind::Search), _) | (None, None) => {
            let query = url
                .and_then(|u| {
                    ["k", "keywords", "field-keywords"]
                        .iter()
                        .find_map(|p| query_param(u, p))
                })
                .map(|q| q.replace('+', " "))
                .unwrap_or_else(|| query_from_name(stem));
            OwnedTarget::Search {
                query,
                page: page_from_name(stem),
            }
        }
        (_, Some(asin)) => OwnedTarget::Product { asin },
        (Some(_), None) => OwnedTarget::Search {
            query: query_from_name(stem),
            page: 1,
        },
    };
    Some((marketplace, target))
}

/// The ASIN of a product URL, or any path segment that is one
/// (`/gp/offer-listing/B01NCE2FHK`, `/product-reviews/B0BBPNPZTC/`).
fn asin_in_request_url(url: &str) -> Option<String> {
    asin_in_url(url).or_else(|| {
        let path = url.split(['?', '#', ' ']).next()?;
        path.split('/').find(|s| is_asin(s)).map(str::to_string)
    })
}

fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?', ' ']).next().filter(|h| !h.is_empty())
}

fn marketplace_from_prefix(stem: &str) -> Option<Marketplace> {
    let prefix = stem.split('_').next()?;
    let domain = match prefix {
        "us" => "com",
        "uk" | "gb" => "co.uk",
        "jp" => "co.jp",
        "br" => "com.br",
        "mx" => "com.mx",
        "au" => "com.au",
        "tr" => "com.tr",
        // The .es storefront in its Portuguese interface.
        "es-pt" => "es",
        other => other,
    };
    Marketplace::from_domain(domain)
}

fn asin_in_name(stem: &str) -> Option<String> {
    stem.split(['_', '-', '.'])
        .find(|t| is_asin(t) && t.bytes().any(|b| b.is_ascii_digit()) && t.len() == 10)
        .map(str::to_string)
}

/// Words of the name that are neither the marketplace prefix, "search", a page number
/// nor a year: `de_search_katzenfutter_p1` searched "katzenfutter".
fn query_from_name(stem: &str) -> String {
    let words: Vec<&str> = stem
        .split('_')
        .skip(1)
        .filter(|w| {
            *w != "search"
                && page_token(w).is_none()
                && !(w.len() == 4 && w.bytes().all(|b| b.is_ascii_digit()))
        })
        .collect();
    words.join(" ")
}

fn page_token(word: &str) -> Option<u32> {
    word.strip_prefix('p')?.parse().ok().filter(|p| *p > 0)
}

fn page_from_name(stem: &str) -> u32 {
    stem.split('_').find_map(page_token).unwrap_or(1)
}

impl fmt::Display for CorpusReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "extractor {}: {} pages compared ({} with expected values), {} skipped",
            self.extractor_version,
            self.pages,
            self.pages_with_expected,
            self.skipped.len()
        )?;
        writeln!(f, "{:<32} {:>7} / {:<7}", "field", "match", "have")?;
        for (field, t) in &self.fields {
            let mark = if t.matched == t.total { "" } else { "  <-" };
            writeln!(f, "{:<32} {:>7} / {:<7}{}", field, t.matched, t.total, mark)?;
        }
        if !self.failures.is_empty() {
            writeln!(f, "\npages that differ ({}):", self.failures.len())?;
            for page in &self.failures {
                writeln!(
                    f,
                    "  {} (expected {}, got {})",
                    page.page,
                    page.expected_kind.page_kind(),
                    page.got_kind
                )?;
                for d in &page.differences {
                    writeln!(f, "    {}: expected {}, got {}", d.field, d.expected, d.got)?;
                }
            }
        }
        if !self.skipped.is_empty() {
            writeln!(f, "\nskipped ({}):", self.skipped.len())?;
            for s in &self.skipped {
                writeln!(f, "  {}: {}", s.page, s.reason)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn infer(
        path: &str,
        expected: Option<serde_json::Value>,
    ) -> Option<(Marketplace, OwnedTarget)> {
        infer_request(Path::new(path), expected.as_ref())
    }

    #[test]
    fn requests_from_names() {
        assert_eq!(
            infer("product/com_B0057OC5O8_relay_2017.html", None),
            Some((
                Marketplace::Us,
                OwnedTarget::Product {
                    asin: "B0057OC5O8".into()
                }
            ))
        );
        assert_eq!(
            infer("product/es-pt_B07ZCVN7YN.html", None),
            Some((
                Marketplace::Es,
                OwnedTarget::Product {
                    asin: "B07ZCVN7YN".into()
                }
            ))
        );
        assert_eq!(
            infer("product/uk_book_1849757097_2017.html", None),
            Some((
                Marketplace::Uk,
                OwnedTarget::Product {
                    asin: "1849757097".into()
                }
            ))
        );
        assert_eq!(
            infer("search/de_search_katzenfutter_p2.html", None),
            Some((
                Marketplace::De,
                OwnedTarget::Search {
                    query: "katzenfutter".into(),
                    page: 2
                }
            ))
        );
        assert_eq!(
            infer("search/cn_kindle_browse_finance_2013.html", None),
            None
        );
    }

    #[test]
    fn requests_from_expected_urls() {
        let e = serde_json::json!({"request_url": "https://www.amazon.com/s?k=portable+charger"});
        assert_eq!(
            infer("x/whatever.html", Some(e)),
            Some((
                Marketplace::Us,
                OwnedTarget::Search {
                    query: "portable charger".into(),
                    page: 1
                }
            ))
        );
        let e = serde_json::json!({"request_url": "http://amazon.in/gp/offer-listing/B01NCE2FHK"});
        assert_eq!(
            infer("x/page.html", Some(e)),
            Some((
                Marketplace::In,
                OwnedTarget::Product {
                    asin: "B01NCE2FHK".into()
                }
            ))
        );
    }

    #[test]
    fn kinds_from_folders_and_classes() {
        let kind = |p: &str, e: Option<serde_json::Value>| infer_kind(Path::new(p), e.as_ref());
        assert_eq!(kind("captcha/com_x.html", None), Some(PageKind::Captcha));
        assert_eq!(kind("error/com_x.html", None), Some(PageKind::AmazonError));
        assert_eq!(kind("other/com_bestsellers.html", None), None);
        let e = serde_json::json!({"expected_class": "error_503"});
        assert_eq!(
            kind("pages/com_sorry.html", Some(e)),
            Some(PageKind::AmazonError)
        );
        assert_eq!(kind("pages/jp_search_x.html", None), Some(PageKind::Search));
    }
}
