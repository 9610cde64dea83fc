//! The extractor as the upstream's judge: each fetched page is classified once, on the
//! blocking pool; challenges and Amazon error pages send the fetch to another exit.

use asa_extract::{Extraction, Page, Request, Target};
use asa_model::{Asin, Marketplace};
use asa_upstream::{Judge, Outcome, Verdict};

/// What was asked, owned, so the judge can run on another thread.
#[derive(Debug, Clone)]
pub enum Asked {
    Product(Asin),
    Search { query: String, page: u32 },
}

pub struct PageJudge {
    pub marketplace: Marketplace,
    pub asked: Asked,
}

/// The extraction and the URL it came from.
pub struct Judged {
    pub extraction: Extraction,
    pub final_url: String,
    /// Time the extractor took on this page.
    pub took: std::time::Duration,
}

impl Judge for PageJudge {
    type Output = Judged;

    fn judge(&self, _status: u16, final_url: &str, body: &[u8]) -> Verdict<Judged> {
        let target = match &self.asked {
            Asked::Product(asin) => Target::Product {
                asin: asin.as_str(),
            },
            Asked::Search { query, page } => Target::Search { query, page: *page },
        };
        let started = std::time::Instant::now();
        let extraction = asa_extract::extract(
            body,
            &Request {
                marketplace: self.marketplace,
                target,
            },
        );
        let took = started.elapsed();
        let retry = match extraction.page {
            Page::Captcha(_) => Some(Outcome::Captcha),
            Page::AmazonError => Some(Outcome::Amazon503),
            _ => None,
        };
        let value = Judged {
            extraction,
            final_url: final_url.to_string(),
            took,
        };
        match retry {
            Some(outcome) => Verdict::Retry { outcome, value },
            None => Verdict::Accept(value),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn asins_in_urls() {
        assert_eq!(
            asa_extract::text::asin_in_url("http://127.0.0.1:1/amazon.de/dp/B0MOVEDTO1?th=1")
                .as_deref(),
            Some("B0MOVEDTO1")
        );
        assert_eq!(
            asa_extract::text::asin_in_url("https://www.amazon.com/gp/product/B0057OC5O8/")
                .as_deref(),
            Some("B0057OC5O8")
        );
        assert_eq!(
            asa_extract::text::asin_in_url("https://www.amazon.com/s?k=dp"),
            None
        );
    }
}
