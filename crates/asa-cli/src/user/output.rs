//! Output of `product` and `search`: pretty JSON (an object for one input, an array for
//! several), NDJSON (one body per line, as the server sent it), or CSV with chosen fields
//! (dotted paths; a search writes one row per result card, with the body's fields too).

use serde_json::Value;
use std::io::Write;

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

pub struct Sink {
    format: Format,
    kind: Kind,
    /// Pretty output of several inputs is one JSON array.
    array: bool,
    written: u64,
    out: Box<dyn Write + Send>,
    csv: Option<csv::Writer<Box<dyn Write + Send>>>,
}

impl Sink {
    pub fn new(
        format: Format,
        kind: Kind,
        several: bool,
        out: Box<dyn Write + Send>,
    ) -> anyhow::Result<Sink> {
        let mut sink = Sink {
            array: several && format == Format::Pretty,
            format,
            kind,
            written: 0,
            out: Box::new(std::io::sink()),
            csv: None,
        };
        if let Format::Csv(fields) = &sink.format {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(fields)?;
            sink.csv = Some(w);
        } else {
            sink.out = out;
            if sink.array {
                sink.out.write_all(b"[")?;
            }
        }
        Ok(sink)
    }

    /// Writes one successful body.
    pub fn write(&mut self, body: &Value) -> anyhow::Result<()> {
        match &self.format {
            Format::Pretty => {
                if self.array {
                    self.out
                        .write_all(if self.written == 0 { b"\n" } else { b",\n" })?;
                }
                serde_json::to_writer_pretty(&mut self.out, body)?;
                if !self.array {
                    self.out.write_all(b"\n")?;
                }
            }
            Format::Ndjson => {
                serde_json::to_writer(&mut self.out, body)?;
                self.out.write_all(b"\n")?;
            }
            Format::Csv(fields) => {
                let w = self.csv.as_mut().expect("a CSV sink has a writer");
                for row in rows(self.kind, body) {
                    w.write_record(fields.iter().map(|f| cell(row, body, f)))?;
                }
            }
        }
        self.written += 1;
        Ok(())
    }

    pub fn finish(mut self) -> anyhow::Result<()> {
        if let Some(mut w) = self.csv.take() {
            w.flush()?;
            return Ok(());
        }
        if self.array {
            self.out.write_all(b"\n]\n")?;
        }
        self.out.flush()?;
        Ok(())
    }
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
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn run(format: Format, kind: Kind, several: bool, bodies: &[Value]) -> String {
        let buf = Buf::default();
        let mut s = Sink::new(format, kind, several, Box::new(buf.clone())).unwrap();
        for b in bodies {
            s.write(b).unwrap();
        }
        s.finish().unwrap();
        let out = buf.0.lock().unwrap().clone();
        String::from_utf8(out).unwrap()
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
