//! The caller's say on what a page means, and what a fetch hands back.

use crate::attempt::{Attempt, Outcome};
use crate::intake::Shed;
use asa_model::ErrorCode;
use bytes::Bytes;
use std::time::Duration;

/// Decides what a fetched page means. The upstream knows HTTP, not Amazon's pages: the
/// caller (usually running the extractor) tells a product from a challenge.
///
/// `judge` runs on the blocking pool (`spawn_blocking`), so it may do CPU work. It sees
/// every complete HTTP answer, whatever its status. An `Accept` is final only for a 2xx
/// or a 404; an accepted 503 is retried as `amazon_503`, and any other status as
/// `bad_status`, because those are Amazon refusing this exit rather than a page to
/// deliver.
pub trait Judge: Send + Sync + 'static {
    type Output: Send + 'static;
    fn judge(&self, status: u16, final_url: &str, body: &[u8]) -> Verdict<Self::Output>;
}

pub enum Verdict<T> {
    /// Final, whatever the page is: a product, Amazon's 404, a gallery shelf, a page the
    /// extractor cannot read. `Ok` is recorded (`not_found` for a 404).
    Accept(T),
    /// A challenge or an Amazon error page: try again through another exit. `value` is
    /// kept so that the last one can be reported.
    Retry { outcome: Outcome, value: T },
}

/// Everything a fetch did, and how it ended.
#[derive(Debug)]
pub struct Fetched<T> {
    pub attempts: Vec<Attempt>,
    pub result: Result<Delivered<T>, FetchError<T>>,
}

impl<T> Fetched<T> {
    /// The last HTTP status any attempt received (for `Asa-Source-Status`).
    pub fn last_status(&self) -> Option<u16> {
        self.attempts.iter().rev().find_map(|a| a.status)
    }
}

impl<T> Fetched<T> {
    /// The URL the fetch ended on (for `Asa-Resolved-Url`): the delivered page's, else
    /// where the last attempt got to.
    pub fn resolved_url(&self) -> Option<&str> {
        match &self.result {
            Ok(d) => Some(d.final_url.as_str()),
            Err(_) => self
                .attempts
                .last()
                .map(|a| a.final_url.as_deref().unwrap_or(a.url.as_str())),
        }
    }
}

/// The accepted page.
#[derive(Debug)]
pub struct Delivered<T> {
    pub value: T,
    pub status: u16,
    /// The URL after redirects.
    pub final_url: String,
    /// The decoded body.
    pub body: Bytes,
}

/// Why no page was delivered. The variants are checked in this order:
#[derive(Debug, thiserror::Error)]
pub enum FetchError<T> {
    /// At least one attempt got an HTTP answer and every answer was a challenge, an
    /// Amazon 503 or another refusal (judged `Retry`, an error status, a redirect loop).
    /// `last` is the value of the last `Retry` verdict.
    #[error("Amazon answered every attempt with a challenge or an error page")]
    Blocked { last: Option<T> },
    /// The fetch stopped for lack of local capacity: more requests were ahead than the
    /// page slots could drain before its deadline (refused at once, or its wait ran out),
    /// or its answer waited for a slot past the deadline. No exit was slow.
    /// `retry_after` is when a new request would fit again, at least 1 s.
    #[error("too many pages ahead to fetch this one within its budget")]
    Overloaded { retry_after: Duration },
    /// No answer was usable and the overall deadline ran out, or an attempt timed out.
    #[error("Amazon did not answer within the upstream budget")]
    Timeout,
    /// No attempt got a usable HTTP answer: connect, TLS, proxy or reset failures, cut or
    /// oversized bodies, or every exit for the country tried or benched.
    #[error("no attempt got an answer from Amazon")]
    Unreachable,
}

impl<T> FetchError<T> {
    pub fn code(&self) -> ErrorCode {
        match self {
            FetchError::Timeout => ErrorCode::UpstreamTimeout,
            FetchError::Blocked { .. } => ErrorCode::BlockedByAmazon,
            FetchError::Overloaded { .. } => ErrorCode::Capacity,
            FetchError::Unreachable => ErrorCode::TargetUnreachable,
        }
    }
}

/// How one attempt ended, for the final error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// An HTTP answer that was not a deliverable page.
    Refused,
    TimedOut,
    /// No usable answer.
    Failed,
}

/// The final error from how the attempts ended (see [`FetchError`] for the order).
/// `shed` is set when the fetch stopped for lack of local capacity: that is the error
/// unless Amazon refused an attempt, whatever earlier attempts met.
pub(crate) fn final_error<T>(
    endings: &[Ending],
    deadline_hit: bool,
    shed: Option<Shed>,
    last: Option<T>,
) -> FetchError<T> {
    if endings.contains(&Ending::Refused) {
        FetchError::Blocked { last }
    } else if let Some(shed) = shed {
        FetchError::Overloaded {
            retry_after: shed.retry_after,
        }
    } else if deadline_hit || endings.contains(&Ending::TimedOut) {
        FetchError::Timeout
    } else {
        FetchError::Unreachable
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ending::*;

    #[test]
    fn final_error_mapping() {
        let code = |e: &[Ending], hit| final_error::<()>(e, hit, None, None).code();
        assert_eq!(
            code(&[Failed, Refused, TimedOut], true),
            ErrorCode::BlockedByAmazon
        );
        assert_eq!(code(&[Failed, TimedOut], false), ErrorCode::UpstreamTimeout);
        assert_eq!(code(&[Failed], true), ErrorCode::UpstreamTimeout);
        assert_eq!(code(&[], true), ErrorCode::UpstreamTimeout);
        assert_eq!(code(&[Failed, Failed], false), ErrorCode::TargetUnreachable);
        assert_eq!(code(&[], false), ErrorCode::TargetUnreachable);
        let shed = Some(Shed {
            retry_after: Duration::from_secs(3),
        });
        let shed_code = |e: &[Ending]| final_error::<()>(e, false, shed, None).code();
        assert_eq!(shed_code(&[]), ErrorCode::Capacity);
        assert_eq!(shed_code(&[Failed, TimedOut]), ErrorCode::Capacity);
        assert_eq!(shed_code(&[TimedOut, Refused]), ErrorCode::BlockedByAmazon);
        match final_error::<()>(&[], false, shed, None) {
            FetchError::Overloaded { retry_after } => {
                assert_eq!(retry_after, Duration::from_secs(3))
            }
            other => panic!("expected Overloaded, got {other:?}"),
        }
        match final_error(&[Refused], false, None, Some(7)) {
            FetchError::Blocked { last } => assert_eq!(last, Some(7)),
            other => panic!("expected Blocked, got {other:?}"),
        }
    }

    #[test]
    fn codes_have_the_catalog_statuses() {
        assert_eq!(FetchError::<()>::Timeout.code().status(), 408);
        assert_eq!(
            FetchError::<()>::Blocked { last: None }.code().status(),
            422
        );
        assert_eq!(FetchError::<()>::Unreachable.code().status(), 502);
        let shed = FetchError::<()>::Overloaded {
            retry_after: Duration::from_secs(1),
        };
        assert_eq!(shed.code().status(), 503);
    }
}
