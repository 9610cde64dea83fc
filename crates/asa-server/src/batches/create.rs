//! The body of `POST /amazon/batch`, checked up front: the endpoint, 1..=1000 items each
//! valid for that endpoint (one bad item is a 400 naming its index), and the webhook URL.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::params::RawQuery;
use crate::pipeline::{gate, Call};
use asa_store::batch::BatchEndpoint;
use serde_json::Value;

/// Most items one batch may hold.
pub const MAX_ITEMS: usize = 1000;

/// A creation request that passed every check.
#[derive(Debug)]
pub struct Creation {
    pub endpoint: BatchEndpoint,
    pub items: Vec<Value>,
    pub webhook_url: Option<String>,
}

/// An item's fields as the query parameters of its sync call.
pub fn item_query(item: &Value) -> Result<RawQuery, ApiError> {
    let Value::Object(fields) = item else {
        return Err(ApiError::param(
            "item",
            "must be an object of the endpoint's parameters",
        ));
    };
    let mut pairs = Vec::with_capacity(fields.len());
    for (k, v) in fields {
        if k == "api_key" {
            return Err(ApiError::param(
                "api_key",
                "is not accepted inside an item; the batch runs with the creating key's account",
            ));
        }
        let text = match v {
            Value::Null => continue,
            Value::String(s) => s.clone(),
            // JSON does not tell 2 from 2.0: a whole number is the integer it equals.
            Value::Number(n) => match n.as_f64() {
                Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => {
                    format!("{}", f as i64)
                }
                _ => n.to_string(),
            },
            Value::Bool(b) => b.to_string(),
            Value::Array(_) | Value::Object(_) => {
                return Err(ApiError::param(
                    k,
                    "must be a string, a number or a boolean",
                ))
            }
        };
        pairs.push((k.clone(), text));
    }
    Ok(RawQuery::from_pairs(pairs))
}

/// The fields an item of each endpoint may hold: its sync call's parameters (the reserved
/// `render_js` and `screenshot` included, which are `501` as there). The OpenAPI body
/// schema lists the same fields from here.
pub fn item_fields(endpoint: BatchEndpoint) -> &'static [&'static str] {
    const PRODUCT: [&str; 7] = [
        "query",
        "domain",
        "language",
        "country",
        "add_html",
        "render_js",
        "screenshot",
    ];
    const SEARCH: [&str; 10] = [
        "query",
        "sort_by",
        "start_page",
        "pages",
        "domain",
        "language",
        "country",
        "add_html",
        "render_js",
        "screenshot",
    ];
    match endpoint {
        BatchEndpoint::Product => &PRODUCT,
        BatchEndpoint::Search => &SEARCH,
    }
}

/// Parses one item for `endpoint`. An unknown field is refused: on a thousand items a
/// misspelt parameter would otherwise be silently ignored a thousand times.
pub fn item_params(endpoint: BatchEndpoint, item: &Value) -> Result<Call, ApiError> {
    if let Value::Object(fields) = item {
        if let Some(unknown) = fields
            .keys()
            .find(|k| *k != "api_key" && !item_fields(endpoint).contains(&k.as_str()))
        {
            return Err(ApiError::param(
                unknown,
                format!("is not a parameter of {}", endpoint.as_str()),
            ));
        }
    }
    Call::parse(endpoint, &item_query(item)?)
}

fn at_index(i: usize, e: ApiError) -> ApiError {
    ApiError {
        message: format!("items[{i}]: {}", e.message),
        ..e
    }
}

/// Checks the body. The webhook URL's form is checked here; where it resolves to is
/// checked by the caller (it needs the network).
pub fn parse(caller: &Caller, bytes: &[u8], allow_private: bool) -> Result<Creation, ApiError> {
    let body: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::param("body", format!("must be a JSON object: {e}")))?;
    let Value::Object(body) = body else {
        return Err(ApiError::param("body", "must be a JSON object"));
    };
    let endpoint = match body.get("endpoint") {
        None | Some(Value::Null) => {
            return Err(ApiError::param(
                "endpoint",
                "is required: amazon.product or amazon.search",
            ))
        }
        Some(Value::String(s)) => BatchEndpoint::parse(s).ok_or_else(|| {
            ApiError::param("endpoint", "must be amazon.product or amazon.search")
        })?,
        Some(_) => {
            return Err(ApiError::param(
                "endpoint",
                "must be amazon.product or amazon.search",
            ))
        }
    };
    let items = match body.get("items") {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => {
            return Err(ApiError::param("items", "is required: 1 to 1000 items"))
        }
        Some(_) => {
            return Err(ApiError::param(
                "items",
                "must be an array of 1 to 1000 items",
            ))
        }
    };
    if items.is_empty() || items.len() > MAX_ITEMS {
        return Err(ApiError::param(
            "items",
            format!("must hold 1 to {MAX_ITEMS} items, not {}", items.len()),
        ));
    }
    for (i, item) in items.iter().enumerate() {
        let params = item_params(endpoint, item).map_err(|e| at_index(i, e))?;
        // A country the plan does not allow would fail every run: refuse it now.
        gate::region(caller, params.locale()).map_err(|e| at_index(i, e))?;
    }
    let webhook_url = match body.get("webhook_url") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => {
            super::target::parse(s.trim(), allow_private)
                .map_err(|rule| ApiError::param("webhook_url", rule))?;
            Some(s.trim().to_string())
        }
        Some(_) => return Err(ApiError::param("webhook_url", "must be a string")),
    };
    Ok(Creation {
        endpoint,
        items: items.clone(),
        webhook_url,
    })
}
