//! The retry policy of docs/API.md, read from the error catalog: whether an answer is retried
//! and after how long is [`ErrorCode::retry`]'s advice, never a table of our own. This
//! module only turns that advice into delay bounds, adds jitter, and applies the caller's
//! budget (attempts, deadline, longest wait).
//!
//! Delays, for an answer whose code the catalog knows:
//! - `AfterRetryAfter` (429, 503): the `Retry-After` seconds (else the catalog's fallback),
//!   plus up to 1 s of jitter, as the public retry loop does.
//! - `Fixed` (408 every 2 s, 500 every 5 s): the delay plus up to half of it; at most the
//!   catalog's `max_retries` retries of that code.
//! - `AtLeast` (422, `target_unreachable`: 60 s): the minimum plus up to half of it.
//! - `Exponential` (`extraction_failed`): full jitter, uniform in `0..=min(cap, base*2^k)`
//!   where `k` counts the earlier answers with that code.
//!
//! A `Retry-After` header on any retryable answer is a floor: the client never retries
//! sooner than the server asked. A permanent code is never retried, whatever the headers.
//! Answers the catalog does not cover (a newer code, a non-envelope 502/503/504 from a
//! proxy in between, a lost connection) back off exponentially from
//! [`RetryPolicy::transport`].

use asa_model::{ErrorCode, RetryAdvice};
use std::time::Duration;

/// Jitter added to each delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Jitter {
    /// Uniform over the class's bounds (see the module doc).
    #[default]
    Full,
    /// The nominal delay, exactly: the floor, or the exponential ceiling.
    None,
}

/// Exponential backoff for failures outside the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

/// How a client retries. `RetryPolicy::default()` is docs/API.md's policy; `RetryPolicy::off()`
/// makes every call a single attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    pub enabled: bool,
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// Overall budget of a call, all attempts and waits together.
    pub deadline: Option<Duration>,
    /// A retry that needs a longer wait is not made: the call fails with its last answer
    /// (e.g. to skip the 60 s class in an interactive run).
    pub max_delay: Option<Duration>,
    pub jitter: Jitter,
    /// Backoff for answers the catalog does not cover.
    pub transport: Backoff,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            enabled: true,
            max_attempts: 4,
            deadline: None,
            max_delay: None,
            jitter: Jitter::Full,
            transport: Backoff {
                base: Duration::from_secs(1),
                cap: Duration::from_secs(30),
            },
        }
    }
}

impl RetryPolicy {
    pub fn off() -> RetryPolicy {
        RetryPolicy {
            enabled: false,
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }
}

/// What one attempt produced, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Answer<'a> {
    /// An error envelope.
    Envelope {
        code: &'a str,
        retryable: bool,
        retry_after: Option<Duration>,
    },
    /// A non-2xx without an envelope (e.g. a proxy in front of the server).
    Bare {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// No answer at all.
    Transport,
}

/// The range a retry's delay is drawn from, and its nominal value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DelayBounds {
    pub min: Duration,
    pub max: Duration,
    pub nominal: Duration,
}

/// Where a call stands when an attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The attempt that just failed, 1-based.
    pub attempt: u32,
    /// Earlier attempts of this call that failed with the same code.
    pub same_code_before: u32,
    /// Time left before the deadline, if there is one.
    pub remaining: Option<Duration>,
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Retry(Duration),
    Stop(crate::Stop),
}

impl RetryPolicy {
    /// Bounds of the delay before the next attempt, or `None` when the answer must not be
    /// retried at all. Budget limits (attempts, deadline, `max_delay`) are not applied here.
    pub fn bounds(&self, answer: Answer<'_>, same_code_before: u32) -> Option<DelayBounds> {
        match answer {
            Answer::Envelope {
                code,
                retryable,
                retry_after,
            } => match ErrorCode::parse(code) {
                Some(kind) => catalog_bounds(kind, retry_after, same_code_before),
                None if retryable => {
                    Some(exponential(self.transport, retry_after, same_code_before))
                }
                None => None,
            },
            Answer::Bare {
                status: 502..=504,
                retry_after,
            } => Some(exponential(self.transport, retry_after, same_code_before)),
            Answer::Bare { .. } => None,
            Answer::Transport => Some(exponential(self.transport, None, same_code_before)),
        }
    }

    /// Retry or stop, and the delay drawn with `unit` (uniform in `0..1`) for the jitter.
    pub fn decide(&self, answer: Answer<'_>, progress: Progress, unit: f64) -> Decision {
        use crate::Stop;
        let Some(bounds) = self.bounds(answer, progress.same_code_before) else {
            return Decision::Stop(Stop::NotRetryable);
        };
        if !self.enabled {
            return Decision::Stop(Stop::RetriesOff);
        }
        if progress.attempt >= self.max_attempts || over_code_budget(answer, progress) {
            return Decision::Stop(Stop::AttemptsExhausted);
        }
        let delay = match self.jitter {
            Jitter::None => bounds.nominal,
            Jitter::Full => bounds.min + (bounds.max - bounds.min).mul_f64(unit.clamp(0.0, 1.0)),
        };
        if self.max_delay.is_some_and(|m| bounds.min > m) {
            return Decision::Stop(Stop::DelayTooLong);
        }
        let delay = self.max_delay.map_or(delay, |m| delay.min(m));
        if progress.remaining.is_some_and(|r| bounds.min >= r) {
            return Decision::Stop(Stop::Deadline);
        }
        match progress.remaining {
            // Jitter above the floor never takes a retry past the deadline.
            Some(r) if delay >= r => Decision::Retry(bounds.min),
            _ => Decision::Retry(delay),
        }
    }
}

/// The catalog's own cap on retries of one code (`Fixed { max_retries }`).
fn over_code_budget(answer: Answer<'_>, progress: Progress) -> bool {
    let Answer::Envelope { code, .. } = answer else {
        return false;
    };
    match ErrorCode::parse(code).map(ErrorCode::retry) {
        Some(RetryAdvice::Fixed { max_retries, .. }) => progress.same_code_before >= max_retries,
        _ => false,
    }
}

fn catalog_bounds(
    kind: ErrorCode,
    retry_after: Option<Duration>,
    same_code_before: u32,
) -> Option<DelayBounds> {
    let floor = |d: Duration| retry_after.map_or(d, |ra| ra.max(d));
    match kind.retry() {
        RetryAdvice::Never => None,
        RetryAdvice::AfterRetryAfter { fallback } => {
            let base = retry_after.unwrap_or(fallback);
            Some(DelayBounds {
                min: base,
                max: base + Duration::from_secs(1),
                nominal: base,
            })
        }
        RetryAdvice::Fixed { delay, .. } => {
            let min = floor(delay);
            Some(DelayBounds {
                min,
                max: min + delay / 2,
                nominal: min,
            })
        }
        RetryAdvice::AtLeast { min_delay } => {
            let min = floor(min_delay);
            Some(DelayBounds {
                min,
                max: min + min_delay / 2,
                nominal: min,
            })
        }
        RetryAdvice::Exponential { base, cap } => Some(exponential(
            Backoff { base, cap },
            retry_after,
            same_code_before,
        )),
    }
}

fn exponential(b: Backoff, retry_after: Option<Duration>, k: u32) -> DelayBounds {
    let ceiling = b.base.saturating_mul(1u32 << k.min(16)).min(b.cap);
    let min = retry_after.unwrap_or(Duration::ZERO);
    let max = ceiling.max(min);
    DelayBounds {
        min,
        max,
        nominal: max,
    }
}

/// `Retry-After` as integer seconds or an HTTP date (relative to `now`).
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let secs = (when.with_timezone(&chrono::Utc) - now)
        .num_seconds()
        .max(0);
    Some(Duration::from_secs(secs as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Stop;

    fn env(code: &str, ra: Option<u64>) -> Answer<'_> {
        Answer::Envelope {
            code,
            retryable: ErrorCode::parse(code).is_some_and(ErrorCode::retryable),
            retry_after: ra.map(Duration::from_secs),
        }
    }

    fn first() -> Progress {
        Progress {
            attempt: 1,
            same_code_before: 0,
            remaining: None,
        }
    }

    #[test]
    fn every_permanent_code_of_the_catalog_stops_at_once() {
        let p = RetryPolicy::default();
        for code in ErrorCode::ALL {
            let d = p.decide(env(code.as_str(), Some(1)), first(), 0.5);
            assert_eq!(
                matches!(d, Decision::Retry(_)),
                code.retryable(),
                "{code}: {d:?}"
            );
        }
    }

    #[test]
    fn the_deadline_stops_a_wait_it_cannot_cover() {
        let p = RetryPolicy::default();
        let mut pr = first();
        pr.remaining = Some(Duration::from_secs(30));
        assert_eq!(
            p.decide(env("blocked_by_amazon", None), pr, 0.0),
            Decision::Stop(Stop::Deadline)
        );
        // Jitter is clipped to the floor rather than overshooting the deadline.
        pr.remaining = Some(Duration::from_secs(3));
        assert_eq!(
            p.decide(env("rate_limited", Some(2)), pr, 1.0),
            Decision::Retry(Duration::from_secs(2))
        );
    }

    #[test]
    fn max_delay_and_switch_off() {
        let p = RetryPolicy {
            max_delay: Some(Duration::from_secs(10)),
            ..RetryPolicy::default()
        };
        assert_eq!(
            p.decide(env("target_unreachable", None), first(), 0.0),
            Decision::Stop(Stop::DelayTooLong)
        );
        assert_eq!(
            RetryPolicy::off().decide(env("upstream_timeout", None), first(), 0.0),
            Decision::Stop(Stop::RetriesOff)
        );
        assert_eq!(
            RetryPolicy::off().decide(env("asin_mismatch", None), first(), 0.0),
            Decision::Stop(Stop::NotRetryable)
        );
    }

    #[test]
    fn retry_after_dates() {
        let now = chrono::DateTime::parse_from_rfc2822("Wed, 21 Oct 2015 07:28:00 GMT")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
