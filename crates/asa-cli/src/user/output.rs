//! Output of `product` and `search`: pretty JSON (an object for one input, an array for
//! several), NDJSON (one body per line, as the server sent it), or CSV with chosen fields
//! (dotted paths; a search writes one row per result card, with the body's fields too).

use super::records::{RecordOut, WriteError};
use serde_json::Value;

/// What the bodies are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Product,
    Search,
}

impl Kind {
    pub fn default_fields(self) -> &'static [&'static str] {
        match self {
            Kind::Product => &[
                "asin",
                "title",
                "brand",
                "price",
                "currency",
                "rating",
                "reviews_count",
                "stock",
                "marketplace",
                "request_id",
            ],
            Kind::Search => &[
                "query",
                "page",
                "organic_position",
                "sponsored_position",
                "asin",
                "title",
                "price",
                "currency",
                "rating",
                "reviews_count",
                "is_sponsored",
                "request_id",
            ],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    Pretty,
    Ndjson,
    Csv(Vec<String>),
}

/// Where the results go, one whole record at a time (see `records`).
pub struct Sink {
    format: Format,
    kind: Kind,
    /// Pretty output of several inputs is one JSON array.
    array: bool,
    written: u64,
    out: RecordOut,
}

impl Sink {
    /// `header`: write the CSV header row (not when continuing a file that has it).
    pub fn new(
        format: Format,
        kind: Kind,
        several: bool,
        mut out: RecordOut,
        header: bool,
    ) -> Result<Sink, WriteError> {
        let array = several && format == Format::Pretty;
        match &format {
            Format::Csv(fields) if header => out.record(&csv_record([fields.clone()]))?,
            Format::Pretty if array => out.record(b"[")?,
            _ => {}
        }
        Ok(Sink {
            format,
            kind,
            array,
            written: 0,
            out,
        })
    }

    /// Writes one successful body as one record: an NDJSON line, the CSV rows of the body,
    /// or a pretty element.
    pub fn write(&mut self, body: &Value) -> Result<(), WriteError> {
        let bytes = match &self.format {
            Format::Pretty => {
                let mut b = Vec::new();
                if self.array {
                    b.extend_from_slice(if self.written == 0 { b"\n" } else { b",\n" });
                }
                b.extend(serde_json::to_vec_pretty(body).unwrap_or_default());
                if !self.array {
                    b.push(b'\n');
                }
                b
            }
            Format::Ndjson => {
                let mut b = serde_json::to_vec(body).unwrap_or_default();
                b.push(b'\n');
                b
            }
            Format::Csv(fields) => csv_record(
                rows(self.kind, body)
                    .into_iter()
                    .map(|row| fields.iter().map(|f| cell(row, body, f)).collect()),
            ),
        };
        self.out.record(&bytes)?;
        self.written += 1;
        Ok(())
    }

    /// Closes a pretty array.
    pub fn finish(mut self) -> Result<(), WriteError> {
        if self.array {
            self.out.record(b"\n]\n")?;
        }
        Ok(())
    }
}

/// CSV rows as bytes, quoted as the `csv` crate does.
fn csv_record(rows: impl IntoIterator<Item = Vec<String>>) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        // Writing to memory cannot fail.
        let _ = w.write_record(&r);
    }
    w.into_inner().unwrap_or_default()
}

/// The objects a body contributes rows from: itself, or a search's result cards.
fn rows(kind: Kind, body: &Value) -> Vec<&Value> {
    match kind {
        Kind::Product => vec![body],
        Kind::Search => body["products"]
            .as_array()
            .map(|a| a.iter().collect())
            .unwrap_or_default(),
    }
}

/// A dotted path looked up in the row, then in the whole body; scalars as text, other
/// values as JSON, absent as empty.
fn cell(row: &Value, body: &Value, field: &str) -> String {
    let find = |root: &Value| {
        field
            .split('.')
            .try_fold(root, |v, k| match v {
                Value::Object(m) => m.get(k),
                Value::Array(a) => k.parse::<usize>().ok().and_then(|i| a.get(i)),
                _ => None,
            })
            .cloned()
    };
    match find(row).or_else(|| find(body)) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s,
        Some(v) => v.to_string(),
    }
}

/// Parses `--fields a,b,c`.
pub fn parse_fields(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(format: Format, kind: Kind, several: bool, bodies: &[Value]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out");
        let mut s = Sink::new(format, kind, several, RecordOut::create(&p).unwrap(), true).unwrap();
        for b in bodies {
            s.write(b).unwrap();
        }
        s.finish().unwrap();
        std::fs::read_to_string(&p).unwrap()
    }

    #[test]
    fn csv_quotes_and_flattens() {
        let p = json!({"asin": "B1", "title": "A \"quoted\", title", "price": 12.5,
                       "featured_merchant": {"name": "Shop"}, "images": ["a", "b"]});
        let out = run(
            Format::Csv(parse_fields(
                "asin,title,price,featured_merchant.name,images,missing",
            )),
            Kind::Product,
            true,
            &[p],
        );
        assert_eq!(
            out,
            "asin,title,price,featured_merchant.name,images,missing\nB1,\"A \"\"quoted\"\", title\",12.5,Shop,\"[\"\"a\"\",\"\"b\"\"]\",\n"
        );
        let s = json!({"query": "q", "request_id": "req_1",
                       "products": [{"asin": "X1", "page": 1}, {"asin": "X2", "page": 2}]});
        let out = run(
            Format::Csv(parse_fields("query,asin,page,request_id")),
            Kind::Search,
            false,
            &[s],
        );
        assert_eq!(
            out,
            "query,asin,page,request_id\nq,X1,1,req_1\nq,X2,2,req_1\n"
        );
    }

    #[test]
    fn pretty_is_an_array_for_several_and_ndjson_one_line_each() {
        let a = json!({"asin": "A"});
        let b = json!({"asin": "B"});
        let out = run(Format::Pretty, Kind::Product, true, &[a.clone(), b.clone()]);
        let parsed: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(parsed, json!([a, b]));
        let out = run(Format::Pretty, Kind::Product, true, &[]);
        assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), json!([]));
        let out = run(
            Format::Pretty,
            Kind::Product,
            false,
            std::slice::from_ref(&a),
        );
        assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), a);
        let out = run(Format::Ndjson, Kind::Product, true, &[a, b]);
        assert_eq!(out, "{\"asin\":\"A\"}\n{\"asin\":\"B\"}\n");
    }
}
