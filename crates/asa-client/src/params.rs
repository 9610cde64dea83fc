//! Request parameters, named as the public API and its official SDKs name them (`query`,
//! `domain`, `language`, `country`, `add_html`, `sort_by`, `start_page`, `pages`). The
//! server validates them; the client only carries them, so a rule lives in one place.

use asa_model::SortBy;
use serde::{Deserialize, Serialize};

/// `GET /api/v1/amazon/product`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProductParams {
    /// An ASIN / ISBN-10, or a product URL on an Amazon host.
    pub query: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub add_html: Option<bool>,
    /// Parameters this client does not know yet, sent as given.
    #[serde(skip)]
    pub extra: Vec<(String, String)>,
}

impl ProductParams {
    pub fn new(query: impl Into<String>) -> Self {
        ProductParams {
            query: query.into(),
            ..Default::default()
        }
    }
    pub fn domain(mut self, v: impl Into<String>) -> Self {
        self.domain = Some(v.into());
        self
    }
    pub fn language(mut self, v: impl Into<String>) -> Self {
        self.language = Some(v.into());
        self
    }
    pub fn country(mut self, v: impl Into<String>) -> Self {
        self.country = Some(v.into());
        self
    }
    pub fn add_html(mut self, v: bool) -> Self {
        self.add_html = Some(v);
        self
    }
    /// Any other query parameter, sent verbatim.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }

    pub(crate) fn query_pairs(&self) -> Vec<(String, String)> {
        let mut q = vec![("query".to_string(), self.query.clone())];
        push(&mut q, "domain", &self.domain);
        push(&mut q, "language", &self.language);
        push(&mut q, "country", &self.country);
        if let Some(h) = self.add_html {
            q.push(("add_html".into(), h.to_string()));
        }
        q.extend(self.extra.iter().cloned());
        q
    }
}

impl From<&str> for ProductParams {
    fn from(q: &str) -> Self {
        ProductParams::new(q)
    }
}

impl From<String> for ProductParams {
    fn from(q: String) -> Self {
        ProductParams::new(q)
    }
}

/// `GET /api/v1/amazon/search`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchParams {
    pub query: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_by: Option<SortBy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_page: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub add_html: Option<bool>,
    #[serde(skip)]
    pub extra: Vec<(String, String)>,
}

impl SearchParams {
    pub fn new(query: impl Into<String>) -> Self {
        SearchParams {
            query: query.into(),
            ..Default::default()
        }
    }
    pub fn domain(mut self, v: impl Into<String>) -> Self {
        self.domain = Some(v.into());
        self
    }
    pub fn language(mut self, v: impl Into<String>) -> Self {
        self.language = Some(v.into());
        self
    }
    pub fn country(mut self, v: impl Into<String>) -> Self {
        self.country = Some(v.into());
        self
    }
    pub fn sort_by(mut self, v: SortBy) -> Self {
        self.sort_by = Some(v);
        self
    }
    pub fn start_page(mut self, v: u32) -> Self {
        self.start_page = Some(v);
        self
    }
    pub fn pages(mut self, v: u32) -> Self {
        self.pages = Some(v);
        self
    }
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }

    pub(crate) fn query_pairs(&self) -> Vec<(String, String)> {
        let mut q = vec![("query".to_string(), self.query.clone())];
        push(&mut q, "domain", &self.domain);
        push(&mut q, "language", &self.language);
        push(&mut q, "country", &self.country);
        if let Some(s) = self.sort_by {
            q.push(("sort_by".into(), s.as_str().into()));
        }
        if let Some(p) = self.start_page {
            q.push(("start_page".into(), p.to_string()));
        }
        if let Some(p) = self.pages {
            q.push(("pages".into(), p.to_string()));
        }
        if let Some(h) = self.add_html {
            q.push(("add_html".into(), h.to_string()));
        }
        q.extend(self.extra.iter().cloned());
        q
    }
}

impl From<&str> for SearchParams {
    fn from(q: &str) -> Self {
        SearchParams::new(q)
    }
}

fn push(q: &mut Vec<(String, String)>, name: &str, v: &Option<String>) {
    if let Some(v) = v {
        q.push((name.to_string(), v.clone()));
    }
}

/// Which sync endpoint a batch's items call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BatchEndpoint {
    #[serde(rename = "amazon.product")]
    Product,
    #[serde(rename = "amazon.search")]
    Search,
}

/// `POST /api/v1/amazon/batch`: 1..=1000 items with the sync endpoint's parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchRequest {
    pub endpoint: BatchEndpoint,
    pub items: Vec<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
    /// Sent as the `Idempotency-Key` header; the client makes one up when absent, so a
    /// retried POST returns the first batch instead of creating a second.
    #[serde(skip)]
    pub idempotency_key: Option<String>,
}

impl BatchRequest {
    pub fn products(items: impl IntoIterator<Item = ProductParams>) -> Self {
        BatchRequest {
            endpoint: BatchEndpoint::Product,
            items: items.into_iter().map(|p| to_item(&p, &p.extra)).collect(),
            webhook_url: None,
            idempotency_key: None,
        }
    }
    pub fn searches(items: impl IntoIterator<Item = SearchParams>) -> Self {
        BatchRequest {
            endpoint: BatchEndpoint::Search,
            items: items.into_iter().map(|p| to_item(&p, &p.extra)).collect(),
            webhook_url: None,
            idempotency_key: None,
        }
    }
    pub fn webhook_url(mut self, url: impl Into<String>) -> Self {
        self.webhook_url = Some(url.into());
        self
    }
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }
}

fn to_item<T: Serialize>(p: &T, extra: &[(String, String)]) -> serde_json::Value {
    let mut v = serde_json::to_value(p).unwrap_or(serde_json::Value::Null);
    if let Some(obj) = v.as_object_mut() {
        for (k, val) in extra {
            obj.insert(k.clone(), serde_json::Value::String(val.clone()));
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_pairs_use_the_public_names() {
        let p = SearchParams::new("usb c")
            .domain("de")
            .sort_by(SortBy::PriceAsc)
            .start_page(2)
            .pages(3);
        let names: Vec<_> = p.query_pairs().into_iter().map(|(k, _)| k).collect();
        assert_eq!(names, ["query", "domain", "sort_by", "start_page", "pages"]);
        let b = BatchRequest::products([ProductParams::new("B000LQXC2Q").domain("de")]);
        assert_eq!(
            serde_json::to_value(&b).unwrap(),
            serde_json::json!({"endpoint": "amazon.product", "items": [{"query": "B000LQXC2Q", "domain": "de"}]})
        );
    }
}
