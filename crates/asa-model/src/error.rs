//! The error catalog: every code asa answers with, its HTTP status, whether it is worth
//! retrying and how, and its message. The server's envelope, the docs page, the OpenAPI
//! document and every client's retry policy read it; nothing else defines a code.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Every error code of the API: the 16 of the public error table plus
/// `product_not_found`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidParams,
    Unauthorized,
    Revoked,
    InsufficientCredits,
    ForbiddenRegion,
    NotFound,
    ProductNotFound,
    UpstreamTimeout,
    BlockedByAmazon,
    RateLimited,
    InternalError,
    NotImplemented,
    TargetUnreachable,
    ExtractionFailed,
    AsinMismatch,
    GenericGalleryPage,
    Capacity,
}

/// How a client should treat an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAdvice {
    /// Permanent: the same request will fail the same way.
    Never,
    /// Wait for the `Retry-After` header (falling back to `fallback` when absent).
    AfterRetryAfter { fallback: Duration },
    /// A fixed delay before each retry, at most `max_retries` retries.
    Fixed { delay: Duration, max_retries: u32 },
    /// At least `min_delay` before a retry (Amazon needs time to forget us).
    AtLeast { min_delay: Duration },
    /// Exponential backoff from `base`, capped at `cap`.
    Exponential { base: Duration, cap: Duration },
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 17] = [
        ErrorCode::InvalidParams,
        ErrorCode::Unauthorized,
        ErrorCode::Revoked,
        ErrorCode::InsufficientCredits,
        ErrorCode::ForbiddenRegion,
        ErrorCode::NotFound,
        ErrorCode::ProductNotFound,
        ErrorCode::UpstreamTimeout,
        ErrorCode::BlockedByAmazon,
        ErrorCode::RateLimited,
        ErrorCode::InternalError,
        ErrorCode::NotImplemented,
        ErrorCode::TargetUnreachable,
        ErrorCode::ExtractionFailed,
        ErrorCode::AsinMismatch,
        ErrorCode::GenericGalleryPage,
        ErrorCode::Capacity,
    ];

    /// The wire name, e.g. `blocked_by_amazon`.
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            InvalidParams => "invalid_params",
            Unauthorized => "unauthorized",
            Revoked => "revoked",
            InsufficientCredits => "insufficient_credits",
            ForbiddenRegion => "forbidden_region",
            NotFound => "not_found",
            ProductNotFound => "product_not_found",
            UpstreamTimeout => "upstream_timeout",
            BlockedByAmazon => "blocked_by_amazon",
            RateLimited => "rate_limited",
            InternalError => "internal_error",
            NotImplemented => "not_implemented",
            TargetUnreachable => "target_unreachable",
            ExtractionFailed => "extraction_failed",
            AsinMismatch => "asin_mismatch",
            GenericGalleryPage => "generic_gallery_page",
            Capacity => "capacity",
        }
    }

    pub fn parse(s: &str) -> Option<ErrorCode> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn status(self) -> u16 {
        use ErrorCode::*;
        match self {
            InvalidParams => 400,
            Unauthorized | Revoked => 401,
            InsufficientCredits => 402,
            ForbiddenRegion => 403,
            NotFound | ProductNotFound => 404,
            UpstreamTimeout => 408,
            BlockedByAmazon => 422,
            RateLimited => 429,
            InternalError => 500,
            NotImplemented => 501,
            TargetUnreachable | ExtractionFailed | AsinMismatch | GenericGalleryPage => 502,
            Capacity => 503,
        }
    }

    /// The retry advice of the public error table and docs/API.md's retry policy.
    pub fn retry(self) -> RetryAdvice {
        use ErrorCode::*;
        match self {
            // 402 is "retry after topping up": no automatic retry can fix it.
            InvalidParams | Unauthorized | Revoked | InsufficientCredits | ForbiddenRegion
            | NotFound | ProductNotFound | NotImplemented | AsinMismatch | GenericGalleryPage => {
                RetryAdvice::Never
            }
            UpstreamTimeout => RetryAdvice::Fixed {
                delay: Duration::from_secs(2),
                max_retries: 3,
            },
            BlockedByAmazon | TargetUnreachable => RetryAdvice::AtLeast {
                min_delay: Duration::from_secs(60),
            },
            RateLimited | Capacity => RetryAdvice::AfterRetryAfter {
                fallback: Duration::from_secs(1),
            },
            InternalError => RetryAdvice::Fixed {
                delay: Duration::from_secs(5),
                max_retries: 3,
            },
            ExtractionFailed => RetryAdvice::Exponential {
                base: Duration::from_secs(2),
                cap: Duration::from_secs(30),
            },
        }
    }

    /// The `retryable` flag of the envelope: whether an automatic retry can succeed.
    pub fn retryable(self) -> bool {
        self.retry() != RetryAdvice::Never
    }

    /// The `Retry-After` seconds the server advises on its own for this code, where the
    /// table advises a delay (408, 422, 500, 502s that are retryable). 429 and 503 carry the
    /// real time until a slot frees, computed by the limiter.
    pub fn advised_retry_after(self) -> Option<u64> {
        match self.retry() {
            RetryAdvice::Fixed { delay, .. } => Some(delay.as_secs()),
            RetryAdvice::AtLeast { min_delay } => Some(min_delay.as_secs()),
            RetryAdvice::Exponential { base, .. } => Some(base.as_secs()),
            _ => None,
        }
    }

    /// The default message; handlers pass a more specific one where they know more.
    pub fn default_message(self) -> &'static str {
        use ErrorCode::*;
        match self {
            InvalidParams => "The request's parameters are invalid.",
            Unauthorized => "Missing, malformed or unknown API key.",
            Revoked => "This API key was revoked or rotated out; use your current key.",
            InsufficientCredits => "Your credit balance is below this call's cost and auto-top-up is off or its monthly cap is spent.",
            ForbiddenRegion => "Egress to the requested country is not available on your plan.",
            NotFound => "No such endpoint. Check the URL and method.",
            ProductNotFound => "Amazon answered 404 for this ASIN on this marketplace.",
            UpstreamTimeout => "Amazon did not answer within the upstream time budget.",
            BlockedByAmazon => "Amazon served a challenge page or a 503 on every internal retry.",
            RateLimited => "You exceeded your account's requests per second or concurrency ceiling.",
            InternalError => "An unexpected error on our side. It has been logged with the request id.",
            NotImplemented => "This parameter is on the roadmap and not implemented yet.",
            TargetUnreachable => "No attempt got an answer from Amazon (connection, TLS or proxy failures).",
            ExtractionFailed => "Amazon served a page whose layout the extractor could not parse.",
            AsinMismatch => "Amazon redirected to a different ASIN than the one requested.",
            GenericGalleryPage => "Amazon served its placeholder shelf: the product is delisted.",
            Capacity => "The shared upstream pool is saturated; retry after the Retry-After delay.",
        }
    }

    /// When the code happens, for the docs page (the public table's wording).
    pub fn when(self) -> &'static str {
        use ErrorCode::*;
        match self {
            InvalidParams => "ASIN not 10 alphanumeric chars, unsupported domain value, language not in the enum, missing query, or any other parameter outside its rule.",
            Unauthorized => "Missing Authorization header, malformed Bearer token, or unknown key.",
            Revoked => "Key was rotated out or revoked.",
            InsufficientCredits => "You are out of credits and have no active auto-top-up.",
            ForbiddenRegion => "Egress to the requested country isn't available on your plan.",
            NotFound => "You hit an unknown path. Check the endpoint URL.",
            ProductNotFound => "Amazon answered its 404 page for the ASIN.",
            UpstreamTimeout => "Amazon took longer than the upstream budget (45 s by default) to respond.",
            BlockedByAmazon => "Amazon served a challenge page or 503. We already retried internally.",
            RateLimited => "You exceeded your per-account QPS or concurrency ceiling. Check the Retry-After header.",
            InternalError => "Unhandled exception on our side. Always gets logged.",
            NotImplemented => "You passed a roadmap param (render_js, screenshot).",
            TargetUnreachable => "Amazon blocked every internal retry: no attempt got an HTTP answer.",
            ExtractionFailed => "Amazon served HTML that our extractor couldn't parse. Usually a new A/B layout; the page is kept for the maintainers.",
            AsinMismatch => "You asked for B1, Amazon redirected to B2 (usually a new-edition swap).",
            GenericGalleryPage => "Amazon served a placeholder shelf (the product is delisted).",
            Capacity => "We're rate-limiting you to protect the shared pool. Rare.",
        }
    }

    /// The retry column of the docs page.
    pub fn retry_text(self) -> &'static str {
        use ErrorCode::*;
        match self {
            InvalidParams => "No - fix the request.",
            Unauthorized => "No - get a valid key.",
            Revoked => "No - use your current key.",
            InsufficientCredits => "After topping up (not automatically).",
            ForbiddenRegion => "No - upgrade or drop the country param.",
            NotFound | ProductNotFound => "No.",
            UpstreamTimeout => "Yes - retry up to 3 times with 2s backoff.",
            BlockedByAmazon => "Yes, but with a 60s+ delay.",
            RateLimited => "Yes - respect Retry-After.",
            InternalError => "Yes, after ~5s.",
            NotImplemented => "No - wait for the feature.",
            TargetUnreachable => "Yes, with a 60s+ delay.",
            ExtractionFailed => "Yes, typically works on retry (exponential backoff).",
            AsinMismatch => "No - the source ASIN is what's stale.",
            GenericGalleryPage => "No - remove the ASIN from your set.",
            Capacity => "Yes, after Retry-After.",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seventeen_codes_round_trip() {
        let mut names: Vec<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 17);
        for c in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(c.as_str()), Some(c));
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
    }

    #[test]
    fn permanent_statuses_are_never_retried() {
        for c in ErrorCode::ALL {
            if [400, 401, 402, 403, 404, 501].contains(&c.status()) {
                assert!(!c.retryable(), "{c}");
            }
        }
        assert!(!ErrorCode::AsinMismatch.retryable());
        assert!(!ErrorCode::GenericGalleryPage.retryable());
        assert!(ErrorCode::ExtractionFailed.retryable());
        assert!(ErrorCode::Capacity.retryable());
    }
}
