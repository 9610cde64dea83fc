//! The corpus runner over the project's own pages (always), a folder with a wrong
//! expectation (it must be reported), and the real corpus when `ASA_CORPUS` is set.

use std::path::{Path, PathBuf};

use asa_corpus::{infer_request, run_corpus, FieldTally, OwnedTarget};
use asa_model::Marketplace;

fn own_pages() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../asa-extract/tests/pages")
}

#[test]
fn own_search_pages_match_their_expected_values() {
    let report = run_corpus(&own_pages().join("search"));
    println!("{report}");
    assert!(report.all_matched(), "{report}");
    assert!(report.skipped.is_empty(), "{report}");
    // Every page gets a class check; these fields come from the expected files.
    assert_eq!(report.fields["class"].total, report.pages);
    assert!(report.pages >= 11, "{report}");
    assert_eq!(report.pages_with_expected, 5);
    // Tallies count pages holding an expectation for the field.
    for (field, pages) in [
        ("search.rows", 3),
        ("search.url", 5),
        ("search.title", 3),
        ("search.price", 3),
        ("search.rating", 4),
        ("search.reviews_count", 4),
        ("search.image", 2),
    ] {
        let t: FieldTally = report.fields[field];
        assert_eq!(
            t,
            FieldTally {
                matched: pages,
                total: pages
            },
            "{field}"
        );
    }
    let json = serde_json::to_value(&report).expect("report serializes");
    assert_eq!(json["fields"]["class"]["matched"], report.pages);
}

#[test]
fn a_wrong_expectation_is_reported_with_what_differed() {
    let dir = std::env::temp_dir().join(format!("asa-corpus-runner-{}", std::process::id()));
    let search = dir.join("search");
    std::fs::create_dir_all(&search).expect("temp dir");
    let page = own_pages().join("search/de_search_kaffeemaschine.html");
    std::fs::copy(&page, search.join("de_search_kaffeemaschine.html")).expect("copy");
    std::fs::write(
        search.join("de_search_kaffeemaschine.expected.json"),
        r#"{"items": [{"asin": "B0TESTDE01", "price": 1300.0, "title": "Something else"}],
            "assert": {"products_len": 3}}"#,
    )
    .expect("write");
    // A captcha folder page that is in fact a result page must fail its class check.
    let captcha = dir.join("captcha");
    std::fs::create_dir_all(&captcha).expect("temp dir");
    std::fs::copy(&page, captcha.join("de_results_not_a_captcha.html")).expect("copy");
    let report = run_corpus(&dir);
    std::fs::remove_dir_all(&dir).ok();

    assert!(!report.all_matched());
    assert_eq!(report.pages, 2);
    let fields = |page: &str| -> Vec<String> {
        let f = report
            .failures
            .iter()
            .find(|f| f.page.ends_with(page))
            .unwrap_or_else(|| panic!("{page} not reported: {report}"));
        f.differences.iter().map(|d| d.field.clone()).collect()
    };
    assert_eq!(
        fields("de_search_kaffeemaschine.html"),
        ["search.title", "search.price", "search.rows"]
    );
    assert_eq!(fields("de_results_not_a_captcha.html"), ["class"]);
    assert_eq!(
        report.fields["search.price"],
        FieldTally {
            matched: 0,
            total: 1
        }
    );
    let text = report.to_string();
    assert!(text.contains("1300 vs Some(1299.0)"), "{text}");
    assert!(text.contains("expected captcha, got search"), "{text}");
}

#[test]
fn requests_inferred_for_a_single_file() {
    let page = own_pages().join("search/jp_search_coffee.html");
    assert_eq!(
        infer_request(&page, None),
        Some((
            Marketplace::Jp,
            OwnedTarget::Search {
                query: "coffee".into(),
                page: 1
            }
        ))
    );
}

/// With the corpus: every page is classified as its folder or expected file says, and
/// every search expectation holds. The full table is printed for the issue's note.
#[test]
fn corpus_classification_and_search_expectations() {
    let Some(dir) = std::env::var_os("ASA_CORPUS") else {
        eprintln!("ASA_CORPUS not set: the corpus run is skipped (own pages ran above)");
        return;
    };
    let report = run_corpus(Path::new(&dir));
    println!("{report}");
    assert!(report.pages > 50, "{report}");
    let class = report.fields["class"];
    assert_eq!(class.matched, class.total, "{report}");
    for (field, tally) in &report.fields {
        if field.starts_with("search.") {
            assert_eq!(tally.matched, tally.total, "{field}\n{report}");
        }
    }
}
