//! `--resume`: which inputs an earlier run of the same command already answered, read from
//! its output (`-o`, NDJSON or CSV) and its `--failures` file, so a rerun sends only the
//! rest.
//!
//! An input is matched by the request as given, not by its text alone:
//! - a result answers a product request when its `asin` is the request's ASIN (the
//!   ASIN given, or the one in the URL given) and its `marketplace` and, when `--language`
//!   was given, its `language` are the request's; a search request when its `query` is
//!   the query given and `domain`, and `sort_by`, `start_page`, `pages` when given, agree.
//!   A CSV answers with its columns: a column left out of `--fields` is not compared, and
//!   `asin` (product) or `query` (search) must be there.
//! - a failure answers a request when its `input` and `params` (every parameter sent) are
//!   the request's, and only when it is final (`retryable: false`, e.g.
//!   `product_not_found`): a failure that may pass later is tried again and its old line
//!   dropped from the failures file.
//!
//! Parameters the body does not echo (`--country`, `--add-html`) cannot be compared: a
//! resumed run is taken to use the ones of the first run.

use super::bulk::Job;
use super::output::{Format, Kind};
use asa_model::ProductQuery;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

/// The fields of one earlier result: body fields (NDJSON) or columns (CSV), as text.
type Fields = HashMap<String, String>;

/// What an earlier run answered.
#[derive(Default)]
pub struct Answered {
    /// Results by their `asin` / `query`; `true` once an input of this run took it.
    results: HashMap<String, Vec<(Fields, bool)>>,
    /// Final failures by input: their params, and whether an input took them.
    failures: HashMap<String, Vec<(Value, bool)>>,
}

/// The output file as found: how much of it is kept, and what it answered.
pub struct OutputState {
    /// Bytes of complete records; a cut-off last line (from a crash of an older `asa`, or
    /// a power loss) is dropped.
    pub keep: u64,
    /// Whether the CSV header is already there.
    pub has_header: bool,
    pub dropped_tail: bool,
}

/// The failures file as found: the final failures, kept; the rest will be retried.
pub struct FailuresState {
    pub kept: String,
    pub retried: usize,
}

impl Answered {
    /// Whether an earlier run answered `job`; a result or failure answers one input only.
    pub fn take(&mut self, job: &Job) -> bool {
        let (primary, others) = key(job);
        if let Some(v) = self.results.get_mut(&primary) {
            let hit = v.iter_mut().find(|(fields, used)| {
                !*used
                    && others.iter().all(|(k, want)| {
                        fields
                            .get(*k)
                            .is_none_or(|got| got.is_empty() || got.eq_ignore_ascii_case(want))
                    })
            });
            if let Some(hit) = hit {
                hit.1 = true;
                return true;
            }
        }
        let params = job.params();
        if let Some(v) = self.failures.get_mut(job.input()) {
            if let Some(hit) = v
                .iter_mut()
                .find(|(p, used)| !*used && (p.is_null() || *p == params))
            {
                hit.1 = true;
                return true;
            }
        }
        false
    }

    /// Reads the results in `path` (NDJSON or CSV with `fields`).
    pub fn read_output(
        &mut self,
        path: &Path,
        format: &Format,
        kind: Kind,
    ) -> anyhow::Result<OutputState> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => anyhow::bail!("{}: {e}", path.display()),
        };
        let keep = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let whole = &bytes[..keep];
        let primary = match kind {
            Kind::Product => "asin",
            Kind::Search => "query",
        };
        let mut has_header = false;
        match format {
            Format::Ndjson => {
                for (n, line) in whole.split(|b| *b == b'\n').enumerate() {
                    if line.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    let body: Value = serde_json::from_slice(line).map_err(|e| {
                        anyhow::anyhow!("{} line {}: not JSON ({e})", path.display(), n + 1)
                    })?;
                    self.add_result(primary, body_fields(kind, &body));
                }
            }
            Format::Csv(columns) => {
                let mut r = csv::ReaderBuilder::new()
                    .has_headers(false)
                    .flexible(true)
                    .from_reader(whole);
                let mut rows = r.records();
                if let Some(header) = rows.next() {
                    let header: Vec<String> = header?.iter().map(str::to_string).collect();
                    if &header != columns {
                        anyhow::bail!(
                            "{} has the columns {}; this run writes {}: resume with the same --fields",
                            path.display(),
                            header.join(","),
                            columns.join(",")
                        );
                    }
                    has_header = true;
                }
                if !columns.iter().any(|c| c == primary) {
                    anyhow::bail!(
                        "--resume with --csv needs the `{primary}` column in --fields to know which inputs were answered"
                    );
                }
                for row in rows {
                    let row = row?;
                    let fields: Fields = columns
                        .iter()
                        .cloned()
                        .zip(row.iter().map(str::to_string))
                        .collect();
                    self.add_result(primary, fields);
                }
            }
            Format::Pretty => {
                anyhow::bail!("--resume needs --json-per-line or --csv: a pretty JSON array cannot be continued")
            }
        }
        Ok(OutputState {
            keep: keep as u64,
            has_header,
            dropped_tail: keep < bytes.len(),
        })
    }

    /// Reads the failures in `path`: final ones answer their inputs and are kept.
    pub fn read_failures(&mut self, path: &Path) -> anyhow::Result<FailuresState> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => anyhow::bail!("{}: {e}", path.display()),
        };
        let mut kept = String::new();
        let mut retried = 0;
        // Only complete lines: a cut-off last one is dropped with the retried ones.
        let complete = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
        for line in complete.lines().filter(|l| !l.trim().is_empty()) {
            let Ok(f) = serde_json::from_str::<Value>(line) else {
                retried += 1;
                continue;
            };
            let Some(input) = f["input"].as_str() else {
                retried += 1;
                continue;
            };
            if f["retryable"] == Value::Bool(false) {
                self.failures
                    .entry(input.to_string())
                    .or_default()
                    .push((f["params"].clone(), false));
                kept.push_str(line);
                kept.push('\n');
            } else {
                retried += 1;
            }
        }
        Ok(FailuresState { kept, retried })
    }

    fn add_result(&mut self, primary: &str, fields: Fields) {
        if let Some(p) = fields.get(primary).filter(|p| !p.is_empty()) {
            self.results
                .entry(norm(primary, p))
                .or_default()
                .push((fields, false));
        }
    }
}

/// An ASIN is upper-case on the wire; a query is compared as given.
fn norm(field: &str, v: &str) -> String {
    match field {
        "asin" => v.trim().to_ascii_uppercase(),
        _ => v.to_string(),
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        v => Some(v.to_string()),
    }
}

/// The fields of a body that identify its request.
fn body_fields(kind: Kind, body: &Value) -> Fields {
    let names: &[&str] = match kind {
        Kind::Product => &["asin", "marketplace", "language"],
        Kind::Search => &["query", "domain", "sort_by", "start_page", "pages"],
    };
    names
        .iter()
        .filter_map(|n| text(&body[*n]).map(|v| (n.to_string(), v)))
        .collect()
}

/// The request's primary value (`asin` or `query`) and the other fields a result must
/// agree on.
fn key(job: &Job) -> (String, Vec<(&'static str, String)>) {
    match job {
        Job::Product(input, p) => {
            let parsed = ProductQuery::parse(input).ok();
            let asin = parsed
                .as_ref()
                .map_or_else(|| norm("asin", input), |q| q.asin.as_str().to_string());
            let marketplace = parsed
                .and_then(|q| q.marketplace)
                .map(|m| m.domain().to_string())
                .or_else(|| p.domain.clone())
                .unwrap_or_else(|| "com".to_string());
            let mut others = vec![("marketplace", marketplace)];
            if let Some(l) = &p.language {
                others.push(("language", l.clone()));
            }
            (asin, others)
        }
        Job::Search(_, p) => {
            let mut others = vec![("domain", p.domain.clone().unwrap_or_else(|| "com".into()))];
            if let Some(s) = p.sort_by {
                others.push(("sort_by", s.as_str().to_string()));
            }
            if let Some(n) = p.start_page {
                others.push(("start_page", n.to_string()));
            }
            if let Some(n) = p.pages {
                others.push(("pages", n.to_string()));
            }
            (p.query.clone(), others)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use asa_client::{ProductParams, SearchParams};
    use serde_json::json;

    fn product(input: &str, domain: Option<&str>) -> Job {
        let mut p = ProductParams::new(input);
        p.domain = domain.map(str::to_string);
        Job::Product(input.to_string(), p)
    }

    fn answered_by(lines: &[Value], format: Format, kind: Kind) -> Answered {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out");
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(&p, text).unwrap();
        let mut a = Answered::default();
        a.read_output(&p, &format, kind).unwrap();
        a
    }

    #[test]
    fn products_match_by_asin_and_marketplace_as_requested() {
        let mut a = answered_by(
            &[
                json!({"asin": "B000LQXC2Q", "marketplace": "de", "language": "de_DE"}),
                json!({"asin": "B0T0000001", "marketplace": "com", "language": "en_US"}),
            ],
            Format::Ndjson,
            Kind::Product,
        );
        // The same ASIN on another marketplace is another request.
        assert!(!a.take(&product("B000LQXC2Q", None)));
        // A URL names its marketplace.
        assert!(a.take(&product("https://www.amazon.de/dp/B000LQXC2Q", None)));
        // Each result answers one input.
        assert!(!a.take(&product("b000lqxc2q", Some("de"))));
        assert!(a.take(&product("b0t0000001", None)));
        assert!(!a.take(&product("B0T0000002", None)));
    }

    #[test]
    fn searches_match_by_query_and_the_parameters_given() {
        let mut a = answered_by(
            &[
                json!({"query": "usb hub", "domain": "com", "sort_by": "newest",
                     "start_page": 1, "pages": 2}),
            ],
            Format::Ndjson,
            Kind::Search,
        );
        let mut p = SearchParams::new("usb hub");
        p.pages = Some(1);
        assert!(!a.take(&Job::Search("usb hub".into(), p.clone())));
        p.pages = Some(2);
        assert!(a.take(&Job::Search("usb hub".into(), p)));
    }

    #[test]
    fn only_final_failures_answer_and_stay() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("fails");
        let job = product("B0NOTFND01", None);
        let params = job.params();
        std::fs::write(
            &f,
            format!(
                "{}\n{}\n{{\"input\":\"B0T",
                json!({"input": "B0NOTFND01", "error": "product_not_found", "retryable": false, "params": params}),
                json!({"input": "B0CAPTCHA1", "error": "blocked_by_amazon", "retryable": true}),
            ),
        )
        .unwrap();
        let mut a = Answered::default();
        let st = a.read_failures(&f).unwrap();
        assert_eq!(st.retried, 1);
        assert_eq!(st.kept.lines().count(), 1);
        assert!(!a.take(&product("B0NOTFND01", Some("de"))));
        assert!(a.take(&job));
        assert!(!a.take(&product("B0CAPTCHA1", None)));
    }

    #[test]
    fn csv_needs_the_key_column_and_the_same_header() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.csv");
        std::fs::write(&p, "asin,title\nB0T0000001,A\nB0T00000").unwrap();
        let cols = |s: &str| Format::Csv(s.split(',').map(str::to_string).collect());
        let mut a = Answered::default();
        let st = a
            .read_output(&p, &cols("asin,title"), Kind::Product)
            .unwrap();
        assert!(st.has_header && st.dropped_tail);
        assert_eq!(st.keep, "asin,title\nB0T0000001,A\n".len() as u64);
        assert!(a.take(&product("B0T0000001", None)));
        assert!(a
            .read_output(&p, &cols("asin,price"), Kind::Product)
            .is_err());
        std::fs::write(&p, "title\nA\n").unwrap();
        assert!(a.read_output(&p, &cols("title"), Kind::Product).is_err());
    }
}
