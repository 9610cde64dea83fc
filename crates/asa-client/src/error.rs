//! What a call can fail with. An answer from the server is an [`ApiError`] read from the
//! envelope: its code is the catalog's [`ErrorCode`] when the client knows it, and it
//! carries every attempt the call made, so support can pull each attempt's trace.

use asa_model::ErrorCode;
use std::fmt;
use std::time::Duration;

/// One HTTP attempt of a call.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    /// 1-based.
    pub number: u32,
    /// The server's request id (`X-Request-Id` or the body's `request_id`); `None` when no
    /// answer came back (connection error, timeout).
    pub request_id: Option<String>,
    /// The HTTP status, when an answer came back.
    pub status: Option<u16>,
    /// The envelope's `error`, or a client-side reason (`transport`, `timeout`, `deadline`).
    pub code: Option<String>,
    /// The `Retry-After` the answer carried.
    pub retry_after: Option<Duration>,
    /// Time from sending to the end of the answer's body.
    pub elapsed: Duration,
}

/// Why the client stopped with an error instead of trying again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The catalog says the code is permanent.
    NotRetryable,
    /// The policy's attempt budget (overall or for this code) is spent.
    AttemptsExhausted,
    /// The next attempt could not start before the overall deadline.
    Deadline,
    /// The wait the code needs is longer than the policy's `max_delay`.
    DelayTooLong,
    /// Retries are switched off.
    RetriesOff,
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stop::NotRetryable => "not retryable",
            Stop::AttemptsExhausted => "attempts exhausted",
            Stop::Deadline => "deadline reached",
            Stop::DelayTooLong => "retry delay above the limit",
            Stop::RetriesOff => "retries off",
        })
    }
}

/// An error answer of the API (the envelope), with the attempts behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The wire code, e.g. `blocked_by_amazon`.
    pub code: String,
    /// The catalog entry of `code`; `None` for a code newer than this client.
    pub kind: Option<ErrorCode>,
    pub message: String,
    pub status: u16,
    /// The envelope's `retryable` flag (the catalog's, for a known code).
    pub retryable: bool,
    /// The request id of the last attempt.
    pub request_id: String,
    pub docs_url: Option<String>,
    pub retry_after: Option<Duration>,
    /// Every attempt of the call, the last one included.
    pub attempts: Vec<Attempt>,
    pub stop: Stop,
}

/// Everything a call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with an error envelope (or a non-2xx without one).
    #[error("{}", display_api(.0))]
    Api(Box<ApiError>),
    /// No answer: connection refused or reset, TLS, the per-attempt timeout.
    #[error("no answer from the server after {} attempt(s): {source}", .attempts.len())]
    Transport {
        #[source]
        source: reqwest::Error,
        attempts: Vec<Attempt>,
        stop: Stop,
    },
    /// The overall deadline passed while an attempt was in flight.
    #[error("deadline of {deadline:?} reached after {} attempt(s)", .attempts.len())]
    Deadline {
        deadline: Duration,
        attempts: Vec<Attempt>,
    },
    /// A 2xx whose body is not what the endpoint returns.
    #[error("unexpected {status} body (request {request_id}): {source}")]
    Decode {
        status: u16,
        request_id: String,
        #[source]
        source: serde_json::Error,
        attempts: Vec<Attempt>,
    },
    /// The client cannot be built or the call cannot be sent (no key, bad base URL).
    #[error("{0}")]
    Config(String),
}

fn display_api(e: &ApiError) -> String {
    format!(
        "{} ({}): {} [request_id {}]",
        e.code, e.status, e.message, e.request_id
    )
}

impl Error {
    /// Every attempt the call made.
    pub fn attempts(&self) -> &[Attempt] {
        match self {
            Error::Api(e) => &e.attempts,
            Error::Transport { attempts, .. }
            | Error::Deadline { attempts, .. }
            | Error::Decode { attempts, .. } => attempts,
            Error::Config(_) => &[],
        }
    }

    /// The request ids of every attempt that got an answer, oldest first.
    pub fn request_ids(&self) -> Vec<&str> {
        self.attempts()
            .iter()
            .filter_map(|a| a.request_id.as_deref())
            .collect()
    }

    /// The last request id, the one to quote to support.
    pub fn request_id(&self) -> Option<&str> {
        self.request_ids().last().copied()
    }

    /// The error code: the envelope's, or a client-side one (`transport`, `deadline`,
    /// `decode`, `config`).
    pub fn code(&self) -> &str {
        match self {
            Error::Api(e) => &e.code,
            Error::Transport { .. } => "transport",
            Error::Deadline { .. } => "deadline",
            Error::Decode { .. } => "decode",
            Error::Config(_) => "config",
        }
    }

    /// The catalog entry, for an API error with a known code.
    pub fn kind(&self) -> Option<ErrorCode> {
        match self {
            Error::Api(e) => e.kind,
            _ => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn as_api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// One line for a terminal: code, message, request id.
    pub fn one_line(&self) -> String {
        match self {
            Error::Api(e) => format!(
                "error: {} ({}): {} (request_id {}, {} attempt{})",
                e.code,
                e.status,
                e.message,
                e.request_id,
                e.attempts.len(),
                if e.attempts.len() == 1 { "" } else { "s" }
            ),
            other => {
                // reqwest's own message leaves the cause (e.g. "connection refused") to
                // its sources: show the whole chain.
                let mut text = other.to_string();
                let mut source = std::error::Error::source(other);
                while let Some(s) = source {
                    let part = s.to_string();
                    if !text.contains(&part) {
                        text.push_str(": ");
                        text.push_str(&part);
                    }
                    source = s.source();
                }
                let ids = other.request_ids();
                if ids.is_empty() {
                    format!("error: {}: {text}", other.code())
                } else {
                    format!(
                        "error: {}: {text} (request_ids {})",
                        other.code(),
                        ids.join(",")
                    )
                }
            }
        }
    }
}
