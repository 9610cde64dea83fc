//! How an [`Extraction`] is shown (`asa extract`, traces) and when its page is about
//! another product than the one requested.

use crate::text::asin_in_url;
use crate::{Extraction, Page};
use serde_json::{json, Value};

impl Extraction {
    /// `Some(page's ASIN)` when the page is about a different product than `requested`.
    ///
    /// The rule: a product page is about the requested ASIN when the requested ASIN is
    /// any of the identities the page claims for itself — its buy-form ASIN, the ASIN
    /// of its canonical link, its parent ASIN, or one of its twister variations (a
    /// variation family page for the requested child is the requested product).
    /// Otherwise Amazon redirected or merged the ASIN (`br_B09B2SRTB3` served as
    /// B085VK7LYQ), and the answer is the ASIN the page shows. A reused ASIN whose
    /// content changed over the years (`es_B01MUGXRT9` 2017 vs 2024) still names the
    /// requested ASIN everywhere, so it is not a mismatch: nothing on the page can tell.
    /// Pages that are not products, or that name no ASIN at all, are never a mismatch.
    pub fn asin_mismatch(&self, requested: &str) -> Option<String> {
        let Page::Product(p) = &self.page else {
            return None;
        };
        let requested = requested.trim().to_ascii_uppercase();
        let canonical = p.url.as_deref().and_then(asin_in_url);
        let claims = self
            .page_asin
            .iter()
            .chain(canonical.iter())
            .chain(p.parent_asin.iter())
            .chain(p.variations.iter().map(|v| &v.asin));
        let mut any = false;
        for id in claims {
            any = true;
            if id.eq_ignore_ascii_case(&requested) {
                return None;
            }
        }
        if !any {
            return None;
        }
        self.page_asin.clone().or(canonical)
    }

    /// `{"kind": "product", "product": {...}, "page_asin": ..}`, `{"kind": "search",
    /// "search": {...}}`, `{"kind": "captcha", "captcha": "robot_check"}`,
    /// `{"kind": "unknown", "reason": ...}`; always with the field report.
    pub fn to_json(&self) -> Value {
        let mut v = json!({ "kind": self.page.kind() });
        let body = match &self.page {
            Page::Product(p) => Some(("product", serde_json::to_value(p).unwrap_or(Value::Null))),
            Page::Search(s) => Some(("search", serde_json::to_value(s).unwrap_or(Value::Null))),
            Page::Captcha(k) => Some(("captcha", serde_json::to_value(k).unwrap_or(Value::Null))),
            Page::Unknown { reason } => Some(("reason", Value::String(reason.clone()))),
            Page::AmazonError | Page::NotFound | Page::Gallery => None,
        };
        if let (Some((key, body)), Some(obj)) = (body, v.as_object_mut()) {
            obj.insert(key.to_string(), body);
        }
        if let Some(obj) = v.as_object_mut() {
            obj.insert("page_asin".into(), json!(self.page_asin));
            obj.insert("fields_found".into(), json!(self.fields_found));
            obj.insert("fields_missing".into(), json!(self.fields_missing));
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use crate::{CaptchaKind, Extraction, Page};
    use asa_model::{Product, Variation};

    fn product(page_asin: Option<&str>, url: Option<&str>, variations: &[&str]) -> Extraction {
        Extraction {
            page: Page::Product(Box::new(Product {
                url: url.map(str::to_string),
                variations: variations
                    .iter()
                    .map(|a| Variation {
                        asin: a.to_string(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            })),
            page_asin: page_asin.map(str::to_string),
            fields_found: vec![],
            fields_missing: vec![],
        }
    }

    #[test]
    fn mismatch_rule() {
        let e = product(
            Some("B085VK7LYQ"),
            Some("https://www.amazon.com.br/x/dp/B085VK7LYQ"),
            &[],
        );
        assert_eq!(e.asin_mismatch("B09B2SRTB3").as_deref(), Some("B085VK7LYQ"));
        assert_eq!(e.asin_mismatch("b085vk7lyq"), None);
        let family = product(Some("B085VK7LYQ"), None, &["B085VK7LYQ", "B09B2SRTB3"]);
        assert_eq!(family.asin_mismatch("B09B2SRTB3"), None);
        let canonical_only = product(
            Some("B01MDLOCIN"),
            Some("https://www.amazon.com/dp/B01MFXN4Y2"),
            &[],
        );
        assert_eq!(canonical_only.asin_mismatch("B01MFXN4Y2"), None);
        assert_eq!(product(None, None, &[]).asin_mismatch("B01MFXN4Y2"), None);
        let captcha = Extraction {
            page: Page::Captcha(CaptchaKind::RobotCheck),
            page_asin: None,
            fields_found: vec![],
            fields_missing: vec![],
        };
        assert_eq!(captcha.asin_mismatch("B01MFXN4Y2"), None);
        assert_eq!(captcha.to_json()["captcha"], "robot_check");
        assert_eq!(captcha.to_json()["kind"], "captcha");
    }
}
