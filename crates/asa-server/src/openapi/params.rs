//! The exact rules of the query parameters, as schemas: what `crate::params` accepts is
//! what the document promises, so a generated request the schema calls valid is served
//! and one it calls invalid is refused. The parser is lenient beyond these canonical
//! forms (case, surrounding whitespace, an empty value counting as absent); the
//! descriptions say so.

use asa_model::{Marketplace, SortBy};
use serde_json::{json, Value};
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::path::Parameter;
use utoipa::openapi::{RefOr, Schema};

/// The vendor extension on `language` carrying the per-marketplace language table.
pub const LANGUAGES_EXTENSION: &str = "x-asa-languages-by-domain";

/// Which operation's parameters a set of rules is for (`query` means different things, and
/// some names belong to one operation only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamRules {
    Product,
    Search,
    BatchList,
    BatchRead,
    Trace,
    /// No parameter with rules of its own.
    Plain,
}

/// Sets the schema of every known parameter of an operation.
pub fn refine(rules: ParamRules, parameters: &mut [Parameter]) {
    for p in parameters {
        let Some(schema) = schema_for(rules, &p.name) else {
            continue;
        };
        p.schema = Some(
            serde_json::from_value::<RefOr<Schema>>(schema)
                .expect("the parameter schemas are valid OpenAPI"),
        );
        if p.name == "language" {
            p.extensions = Some(Extensions::from_iter([(
                LANGUAGES_EXTENSION.to_string(),
                languages_by_domain(),
            )]));
        }
    }
}

/// The characters `str::trim` removes (Unicode `White_Space`), for a regex class that reads
/// the same in ECMA-262 and in Python (whose `\s` differ from it and from each other).
const WHITE_SPACE: &str =
    r"\t\n\x0B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";

fn schema_for(rules: ParamRules, name: &str) -> Option<Value> {
    let schema = canonical(rules, name)?;
    if rules == ParamRules::Trace || name == "query" {
        return Some(schema);
    }
    // An optional parameter given empty (or only white space) counts as absent.
    let blank = json!({"type": "string", "pattern": format!("^[{WHITE_SPACE}]*$")});
    Some(json!({"anyOf": [schema, blank]}))
}

fn canonical(rules: ParamRules, name: &str) -> Option<Value> {
    use ParamRules::*;
    let page = json!({"type": "integer", "minimum": 1, "maximum": crate::params::MAX_PAGE});
    Some(match (rules, name) {
        (Product, "query") => json!({
            "type": "string",
            "pattern": product_query_pattern(),
        }),
        (Search, "query") => json!({
            "type": "string",
            "minLength": 1,
            "maxLength": crate::params::MAX_SEARCH_QUERY_CHARS,
            // At least one character that is not white space (the parser trims).
            "pattern": format!("[^{WHITE_SPACE}]"),
        }),
        (_, "sort_by") => json!({
            "type": "string",
            "enum": SortBy::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        }),
        (_, "start_page" | "pages") => page,
        (_, "domain") => json!({
            "type": "string",
            "enum": Marketplace::domains().collect::<Vec<_>>(),
        }),
        (_, "language") => json!({"type": "string", "enum": all_languages()}),
        (_, "country") => json!({"type": "string", "pattern": "^[A-Za-z]{2}$"}),
        (_, "add_html") => json!({
            "type": "string",
            "enum": ["true", "false", "1", "0", "yes", "no"],
        }),
        (BatchList, "limit") => {
            json!({"type": "integer", "minimum": 1, "maximum": 100})
        }
        (BatchRead, "results_limit") => json!({
            "type": "integer",
            "minimum": 1,
            "maximum": crate::batches::create::MAX_ITEMS,
        }),
        (BatchRead, "results_offset") => {
            json!({"type": "integer", "minimum": 0, "maximum": u32::MAX})
        }
        (Trace, "request_id") => json!({
            "type": "string",
            "pattern": "^req_[0-9a-f]{12}$",
        }),
        _ => return None,
    })
}

/// A bare ASIN / ISBN-10, or a product URL on a marketplace host.
fn product_query_pattern() -> String {
    let hosts: Vec<String> = Marketplace::domains()
        .map(|d| d.replace('.', r"\."))
        .collect();
    format!(
        r"^([A-Za-z0-9]{{10}}|https?://(www\.)?amazon\.({})/(dp|gp/product|gp/aw/d)/[A-Za-z0-9]{{10}})$",
        hosts.join("|")
    )
}

/// Every language some marketplace accepts, in first-seen order.
fn all_languages() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for m in Marketplace::ALL {
        for l in m.languages() {
            if !out.contains(l) {
                out.push(l);
            }
        }
    }
    out
}

/// `{domain: [languages, default first]}`: the rule no per-parameter schema can state.
fn languages_by_domain() -> Value {
    let mut map = serde_json::Map::new();
    for m in Marketplace::ALL {
        map.insert(m.domain().to_string(), json!(m.languages()));
    }
    Value::Object(map)
}

/// The body of `POST /amazon/batch`, exactly: one variant per endpoint, whose items take
/// that endpoint's parameters with the same rules as its query string (plus JSON numbers
/// and booleans where the parameter is one).
pub fn batch_create_schema() -> Value {
    use crate::batches::create::item_fields;
    use asa_store::batch::BatchEndpoint;
    let variant = |endpoint: BatchEndpoint, rules: ParamRules| {
        let mut props = serde_json::Map::new();
        // The reserved `render_js` and `screenshot` have no schema: any value is a 501.
        for name in item_fields(endpoint) {
            let Some(mut schema) = schema_for(rules, name) else {
                continue;
            };
            match *name {
                "start_page" | "pages" => {
                    schema = json!({"anyOf": [schema, canonical(rules, name)]})
                }
                "add_html" => schema = json!({"anyOf": [schema, {"type": "boolean"}]}),
                _ => {}
            }
            props.insert(name.to_string(), schema);
        }
        json!({
            "type": "object",
            "required": ["endpoint", "items"],
            "properties": {
                "endpoint": {"type": "string", "enum": [endpoint.as_str()]},
                "items": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": crate::batches::create::MAX_ITEMS,
                    "items": {
                        "type": "object",
                        "required": ["query"],
                        "properties": props,
                        "additionalProperties": false,
                    },
                },
                "webhook_url": {
                    "description": "Where `batch.completed` is POSTed: https to a host that resolves to public addresses only (checked again at each delivery). Empty or null: no webhook.",
                    "anyOf": [
                        {"type": "string", "maxLength": crate::batches::target::MAX_URL_LEN, "pattern": "^https://[^/@:?#\\s]+(:[0-9]{1,5})?([/?#]|$)"},
                        {"type": "string", "maxLength": 0},
                        {"type": "null"},
                    ],
                },
            },
        })
    };
    json!({
        "oneOf": [
            variant(BatchEndpoint::Product, ParamRules::Product),
            variant(BatchEndpoint::Search, ParamRules::Search),
        ]
    })
}
