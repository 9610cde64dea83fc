//! Extraction throughput on the saved pages of `$ASA_CORPUS`, against a full-DOM parse
//! (scraper) and the Python peers (BeautifulSoup+lxml, parsel, selectolax) run from the
//! corpus' `peer_extract.py` in the same run. Prints a table; asserts nothing.
//!
//! `cargo bench -p asa-corpus` (skips with a message when `ASA_CORPUS` is unset).
//! `ASA_PEER_EXTRACT` overrides the peer script path.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use asa_corpus::{infer_request, OwnedTarget};
use asa_extract::{extract, Request};
use asa_model::Marketplace;
use criterion::{Criterion, Throughput};
use scraper::{Html, Selector};

/// The field set of the Python peers' selectors (`peer_extract.py`), so the DOM baseline
/// does the same work they do.
const PEER_SELECTORS: [&str; 12] = [
    "#productTitle",
    ".a-price .a-offscreen",
    "#priceblock_ourprice",
    "#acrPopover",
    "#acrCustomerReviewText",
    "#bylineInfo",
    "#availability",
    "#feature-bullets li",
    "#landingImage",
    "#wayfinding-breadcrumbs_feature_div li a",
    "#productDetails_techSpec_section_1 tr",
    "#merchant-info",
];

struct SavedPage {
    name: String,
    html: Vec<u8>,
    marketplace: Marketplace,
    target: OwnedTarget,
}

fn load(dir: &Path, search: bool) -> Vec<SavedPage> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    paths.retain(|p| p.extension().is_some_and(|e| e == "html"));
    paths.sort();
    paths
        .into_iter()
        .filter_map(|path| {
            let (marketplace, target) = infer_request(&path, None).or_else(|| {
                // amazon.cn is not served; read its layout as a search all the same.
                search.then(|| {
                    (
                        Marketplace::Us,
                        OwnedTarget::Search {
                            query: String::new(),
                            page: 1,
                        },
                    )
                })
            })?;
            Some(SavedPage {
                name: path.file_name()?.to_string_lossy().into_owned(),
                html: std::fs::read(&path).ok()?,
                marketplace,
                target,
            })
        })
        .collect()
}

fn run_asa(p: &SavedPage) -> usize {
    let req = Request {
        marketplace: p.marketplace,
        target: p.target.as_target(),
    };
    let ex = extract(black_box(&p.html), &req);
    ex.fields_found.len() + ex.page.kind().len()
}

/// The floor of any lol_html extraction: the same pass with no selectors at all.
fn lol_html_floor(html: &[u8]) -> usize {
    let mut n = 0usize;
    let mut rw = lol_html::HtmlRewriter::new(lol_html::Settings::new(), |c: &[u8]| n += c.len());
    if rw.write(html).is_ok() {
        let _ = rw.end();
    }
    n
}

fn dom_baseline(html: &[u8], selectors: &[Selector]) -> usize {
    let doc = Html::parse_document(&String::from_utf8_lossy(html));
    selectors
        .iter()
        .map(|s| {
            doc.select(s)
                .map(|e| e.text().collect::<Vec<_>>().join(" ").len())
                .sum::<usize>()
        })
        .sum()
}

/// Median seconds of one call of `f`, over at least 5 runs and about `budget`.
fn median_secs(budget: Duration, mut f: impl FnMut() -> usize) -> f64 {
    black_box(f());
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < 5 || (start.elapsed() < budget && times.len() < 200) {
        let t = Instant::now();
        black_box(f());
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Per-page median MB/s (median over pages) and aggregate MB/s (all bytes / all time).
struct Figures {
    median_mbps: f64,
    aggregate_mbps: f64,
    median_ms: f64,
    /// (page, MB/s), slowest first.
    slowest: Vec<(String, f64)>,
}

fn measure(pages: &[SavedPage], budget: Duration, f: impl Fn(&SavedPage) -> usize) -> Figures {
    let mut per_page = Vec::new();
    let mut per_page_ms = Vec::new();
    let mut named = Vec::new();
    let (mut bytes, mut secs) = (0usize, 0.0f64);
    for p in pages {
        let s = median_secs(budget, || f(p));
        per_page.push(p.html.len() as f64 / 1e6 / s);
        named.push((p.name.clone(), p.html.len() as f64 / 1e6 / s));
        per_page_ms.push(s * 1e3);
        bytes += p.html.len();
        secs += s;
    }
    named.sort_by(|a, b| a.1.total_cmp(&b.1));
    Figures {
        slowest: named,
        median_mbps: median(per_page),
        aggregate_mbps: bytes as f64 / 1e6 / secs,
        median_ms: median(per_page_ms),
    }
}

/// One peer's line of `peer_extract.py`: name, median ms/page, MB/s.
struct Peer {
    name: String,
    median_ms: f64,
    mbps: f64,
    titles: String,
}

fn run_peers(corpus: &Path, dir: &Path) -> Result<Vec<Peer>, String> {
    let script = std::env::var_os("ASA_PEER_EXTRACT")
        .map(PathBuf::from)
        .unwrap_or_else(|| corpus.join("../../tools/peer_extract.py"));
    if !script.exists() {
        return Err(format!("no peer script at {}", script.display()));
    }
    let out = Command::new("python3")
        .arg(&script)
        .arg(dir)
        .output()
        .map_err(|e| format!("python3 could not run: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().last().unwrap_or("").to_string();
        return Err(format!(
            "{} failed: {last} (pip install beautifulsoup4 lxml parsel selectolax)",
            script.display()
        ));
    }
    // "bs4+lxml    median 48.1 ms/page, 31.2 MB/s, titles 30/32"
    let text = String::from_utf8_lossy(&out.stdout);
    let peers: Vec<Peer> = text
        .lines()
        .filter_map(|l| {
            let (name, rest) = l.split_once(" median ")?;
            let ms: f64 = rest.split_whitespace().next()?.parse().ok()?;
            let mbps: f64 = rest
                .split(", ")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()?;
            let titles = rest.split(", ").nth(2).unwrap_or("").to_string();
            Some(Peer {
                name: name.trim().to_string(),
                median_ms: ms,
                mbps,
                titles,
            })
        })
        .collect();
    if peers.is_empty() {
        return Err(format!("unexpected peer output: {text}"));
    }
    Ok(peers)
}

fn table(corpus: &Path, products: &[SavedPage], searches: &[SavedPage]) {
    let selectors: Vec<Selector> = PEER_SELECTORS
        .iter()
        .filter_map(|s| Selector::parse(s).ok())
        .collect();
    let mb: f64 = products.iter().map(|p| p.html.len()).sum::<usize>() as f64 / 1e6;
    let budget = Duration::from_millis(250);
    let asa = measure(products, budget, run_asa);
    let dom = measure(products, budget, |p| dom_baseline(&p.html, &selectors));
    let floor = measure(products, budget, |p| lol_html_floor(&p.html));
    let search = measure(searches, budget, run_asa);
    let classified: Vec<&str> = products
        .iter()
        .map(|p| {
            let req = Request {
                marketplace: p.marketplace,
                target: p.target.as_target(),
            };
            extract(&p.html, &req).page.kind()
        })
        .collect();
    let as_product = classified.iter().filter(|k| **k == "product").count();

    println!("\n== extraction throughput, single core ==");
    println!(
        "product pages: {} ({:.1} MB), {} extracted as product with every field",
        products.len(),
        mb,
        as_product
    );
    println!(
        "{:<26} {:>14} {:>14} {:>12} {:>12}",
        "extractor", "median MB/s", "aggregate MB/s", "median ms", "asa/x (agg)"
    );
    let row = |name: &str, f: &Figures| {
        println!(
            "{:<26} {:>14.1} {:>14.1} {:>12.2} {:>12.1}",
            name,
            f.median_mbps,
            f.aggregate_mbps,
            f.median_ms,
            asa.aggregate_mbps / f.aggregate_mbps
        );
    };
    row("asa (lol_html stream)", &asa);
    row("scraper full DOM", &dom);
    row("lol_html, no selectors", &floor);
    match run_peers(corpus, &corpus.join("product")) {
        Ok(peers) => {
            for p in peers {
                println!(
                    "{:<26} {:>14} {:>14.1} {:>12.2} {:>12.1}   ({})",
                    format!("python {}", p.name),
                    "-",
                    p.mbps,
                    p.median_ms,
                    asa.aggregate_mbps / p.mbps,
                    p.titles
                );
            }
        }
        Err(why) => println!("python peers skipped: {why}"),
    }
    println!(
        "asa median per page vs scraper median per page: {:.1}x; goal >= 300 MB/s median: {}",
        asa.median_mbps / dom.median_mbps,
        if asa.median_mbps >= 300.0 {
            "met"
        } else {
            "NOT met"
        }
    );
    let slow: Vec<String> = asa
        .slowest
        .iter()
        .take(5)
        .map(|(n, v)| format!("{n} {v:.0}"))
        .collect();
    println!("asa slowest product pages (MB/s): {}", slow.join(", "));
    println!(
        "search pages: {} ({:.1} MB): asa median {:.1} MB/s, aggregate {:.1} MB/s, median {:.2} ms/page\n",
        searches.len(),
        searches.iter().map(|p| p.html.len()).sum::<usize>() as f64 / 1e6,
        search.median_mbps,
        search.aggregate_mbps,
        search.median_ms
    );
}

fn main() {
    let Some(corpus) = std::env::var_os("ASA_CORPUS").map(PathBuf::from) else {
        println!(
            "ASA_CORPUS is not set: no saved pages to measure; the extract benchmark is skipped."
        );
        return;
    };
    let products = load(&corpus.join("product"), false);
    let searches = load(&corpus.join("search"), true);
    if products.is_empty() {
        println!(
            "no product pages under {}: skipped",
            corpus.join("product").display()
        );
        return;
    }
    // A name filter (`cargo bench -p asa-corpus -- asa/product`) runs only criterion's
    // benchmarks, e.g. under a profiler.
    let filtered = std::env::args().skip(1).any(|a| !a.starts_with('-'));
    if !filtered {
        table(&corpus, &products, &searches);
    }

    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    let selectors: Vec<Selector> = PEER_SELECTORS
        .iter()
        .filter_map(|s| Selector::parse(s).ok())
        .collect();
    let mut g = c.benchmark_group("extract");
    g.throughput(Throughput::Bytes(
        products.iter().map(|p| p.html.len() as u64).sum(),
    ));
    g.bench_function("asa/product_corpus", |b| {
        b.iter(|| products.iter().map(run_asa).sum::<usize>())
    });
    g.bench_function("scraper_dom/product_corpus", |b| {
        b.iter(|| {
            products
                .iter()
                .map(|p| dom_baseline(&p.html, &selectors))
                .sum::<usize>()
        })
    });
    g.throughput(Throughput::Bytes(
        searches.iter().map(|p| p.html.len() as u64).sum(),
    ));
    g.bench_function("asa/search_corpus", |b| {
        b.iter(|| searches.iter().map(run_asa).sum::<usize>())
    });
    g.finish();
    c.final_summary();
}
