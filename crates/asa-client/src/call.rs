//! One call: attempts, each read into an [`Attempt`], the retry decision of
//! [`RetryPolicy::decide`], the wait, and the observer told about each attempt.

use crate::client::Inner;
use crate::retry::{parse_retry_after, Answer, Decision, Progress};
use crate::types::Meta;
use crate::{ApiError, Attempt, Error, Stop};
use asa_model::ErrorCode;
use reqwest::header::HeaderMap;
use reqwest::Method;
use std::time::Duration;
use tokio::time::Instant;

/// What the observer hook sees after every attempt.
#[derive(Debug, Clone)]
pub struct AttemptEvent<'a> {
    /// e.g. `amazon.product`.
    pub endpoint: &'a str,
    pub attempt: &'a Attempt,
    pub next: Next,
}

/// What the send hook sees when an attempt leaves: its in-flight slot and the pace allowed
/// it, so from here it may be answered and billed. Until then a call (queued, or waiting to
/// retry) has cost nothing, which is what a caller stopping early needs to know.
#[derive(Debug, Clone, Copy)]
pub struct SendEvent<'a> {
    /// e.g. `amazon.product`.
    pub endpoint: &'a str,
    /// 1-based.
    pub attempt: u32,
}

/// What the client does after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// The attempt succeeded.
    Done,
    /// Another attempt follows after this delay.
    Retry(Duration),
    /// The call fails with this attempt's error.
    Stop(Stop),
}

pub(crate) struct Request<'a> {
    pub endpoint: &'a str,
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<serde_json::Value>,
    pub idempotency_key: Option<String>,
}

pub(crate) struct Success {
    pub raw: serde_json::Value,
    pub meta: Meta,
    pub attempts: Vec<Attempt>,
}

/// What one attempt produced.
enum Raw {
    Answer {
        status: u16,
        headers: HeaderMap,
        body: bytes::Bytes,
    },
    Transport(reqwest::Error),
    Deadline,
}

#[derive(serde::Deserialize)]
struct Envelope {
    error: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    docs_url: Option<String>,
    #[serde(default)]
    request_id: Option<String>,
    #[serde(default)]
    retryable: Option<bool>,
}

impl Inner {
    pub(crate) async fn execute(&self, req: Request<'_>) -> Result<Success, Error> {
        let key = self.api_key.as_deref().ok_or_else(|| {
            Error::Config("no API key: pass one, set ASA_API_KEY, or run `asa login <key>`".into())
        })?;
        let url = self.url(&req.path)?;
        let started = Instant::now();
        let deadline = self.policy.deadline.map(|d| (d, started + d));
        let mut attempts: Vec<Attempt> = Vec::new();
        loop {
            let number = attempts.len() as u32 + 1;
            let sent = Instant::now();
            let raw = self
                .attempt(&req, number, &url, key, deadline.map(|d| d.1))
                .await;
            let elapsed = sent.elapsed();
            let mut attempt = Attempt {
                number,
                request_id: None,
                status: None,
                code: None,
                retry_after: None,
                elapsed,
            };
            let failure = match raw {
                Raw::Deadline => {
                    attempt.code = Some("deadline".into());
                    self.notify(req.endpoint, &attempt, Next::Stop(Stop::Deadline));
                    attempts.push(attempt);
                    return Err(Error::Deadline {
                        deadline: deadline.map_or(Duration::ZERO, |d| d.0),
                        attempts,
                    });
                }
                Raw::Transport(e) => {
                    attempt.code = Some(
                        if e.is_timeout() {
                            "timeout"
                        } else {
                            "transport"
                        }
                        .into(),
                    );
                    Failure::Transport(e)
                }
                Raw::Answer {
                    status,
                    headers,
                    body,
                } => {
                    let meta = meta(status, &headers);
                    attempt.status = Some(status);
                    attempt.request_id = Some(meta.request_id.clone()).filter(|s| !s.is_empty());
                    attempt.retry_after = headers
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
                    if (200..300).contains(&status) {
                        match serde_json::from_slice::<serde_json::Value>(&body) {
                            Ok(raw) => {
                                self.notify(req.endpoint, &attempt, Next::Done);
                                attempts.push(attempt);
                                return Ok(Success {
                                    raw,
                                    meta,
                                    attempts,
                                });
                            }
                            Err(source) => {
                                attempts.push(attempt);
                                return Err(Error::Decode {
                                    status,
                                    request_id: meta.request_id,
                                    source,
                                    attempts,
                                });
                            }
                        }
                    }
                    match serde_json::from_slice::<Envelope>(&body) {
                        Ok(env) => {
                            if attempt.request_id.is_none() {
                                attempt.request_id = env.request_id.clone();
                            }
                            attempt.code = Some(env.error.clone());
                            Failure::Envelope(env, status)
                        }
                        Err(_) => {
                            attempt.code = Some(format!("http_{status}"));
                            Failure::Bare(status, body)
                        }
                    }
                }
            };
            let answer = match &failure {
                Failure::Envelope(env, status) => Answer::Envelope {
                    code: &env.error,
                    retryable: env.retryable.unwrap_or_else(|| {
                        ErrorCode::parse(&env.error).map_or(*status >= 500, ErrorCode::retryable)
                    }),
                    retry_after: attempt.retry_after,
                },
                Failure::Bare(status, _) => Answer::Bare {
                    status: *status,
                    retry_after: attempt.retry_after,
                },
                Failure::Transport(_) => Answer::Transport,
            };
            let same_code_before = attempts
                .iter()
                .filter(|a| a.code.is_some() && a.code == attempt.code)
                .count() as u32;
            let progress = Progress {
                attempt: number,
                same_code_before,
                remaining: deadline.map(|d| d.1.saturating_duration_since(Instant::now())),
            };
            let mut decision = self.policy.decide(answer, progress, rand::random::<f64>());
            if matches!(failure, Failure::Transport(_)) && !req.retry_safe() {
                decision = Decision::Stop(Stop::NotRetryable);
            }
            if let (Some(pacer), Some(ra)) = (&self.pacer, attempt.retry_after) {
                if matches!(attempt.status, Some(429 | 503)) {
                    pacer.pause_until(Instant::now() + ra);
                }
            }
            match decision {
                Decision::Retry(delay) => {
                    tracing::debug!(
                        endpoint = req.endpoint,
                        attempt = number,
                        code = attempt.code.as_deref().unwrap_or(""),
                        request_id = attempt.request_id.as_deref().unwrap_or(""),
                        delay_ms = delay.as_millis() as u64,
                        "retrying"
                    );
                    self.notify(req.endpoint, &attempt, Next::Retry(delay));
                    attempts.push(attempt);
                    tokio::time::sleep(delay).await;
                }
                Decision::Stop(stop) => {
                    self.notify(req.endpoint, &attempt, Next::Stop(stop));
                    attempts.push(attempt);
                    return Err(failure.into_error(attempts, stop));
                }
            }
        }
    }

    async fn attempt(
        &self,
        req: &Request<'_>,
        number: u32,
        url: &url::Url,
        key: &str,
        deadline: Option<Instant>,
    ) -> Raw {
        let work = async {
            let _permit = match &self.in_flight {
                Some(s) => s.acquire().await.ok(),
                None => None,
            };
            if let Some(p) = &self.pacer {
                p.acquire().await;
            }
            let mut rb = self
                .http
                .request(req.method.clone(), url.clone())
                .bearer_auth(key)
                .header(reqwest::header::ACCEPT, "application/json");
            if !req.query.is_empty() {
                rb = rb.query(&req.query);
            }
            if let Some(body) = &req.body {
                rb = rb.json(body);
            }
            if let Some(k) = &req.idempotency_key {
                rb = rb.header("Idempotency-Key", k);
            }
            if let Some(t) = self.timeout {
                rb = rb.timeout(t);
            }
            if let Some(hook) = &self.on_send {
                hook(&SendEvent {
                    endpoint: req.endpoint,
                    attempt: number,
                });
            }
            let res = match rb.send().await {
                Ok(r) => r,
                Err(e) => return Raw::Transport(e),
            };
            let status = res.status().as_u16();
            let headers = res.headers().clone();
            match res.bytes().await {
                Ok(body) => Raw::Answer {
                    status,
                    headers,
                    body,
                },
                Err(e) => Raw::Transport(e),
            }
        };
        match deadline {
            Some(d) => tokio::time::timeout_at(d, work)
                .await
                .unwrap_or(Raw::Deadline),
            None => work.await,
        }
    }

    fn notify(&self, endpoint: &str, attempt: &Attempt, next: Next) {
        if let Some(obs) = &self.observer {
            obs(&AttemptEvent {
                endpoint,
                attempt,
                next,
            });
        }
    }
}

impl Request<'_> {
    /// Whether sending it twice is harmless: every GET, and a POST with an idempotency key.
    fn retry_safe(&self) -> bool {
        self.method == Method::GET || self.idempotency_key.is_some()
    }
}

enum Failure {
    Envelope(Envelope, u16),
    Bare(u16, bytes::Bytes),
    Transport(reqwest::Error),
}

impl Failure {
    fn into_error(self, attempts: Vec<Attempt>, stop: Stop) -> Error {
        let last = attempts.last().cloned();
        let retry_after = last.as_ref().and_then(|a| a.retry_after);
        let request_id = last
            .as_ref()
            .and_then(|a| a.request_id.clone())
            .unwrap_or_default();
        match self {
            Failure::Envelope(env, status) => {
                let kind = ErrorCode::parse(&env.error);
                Error::Api(Box::new(ApiError {
                    retryable: env
                        .retryable
                        .unwrap_or_else(|| kind.is_some_and(ErrorCode::retryable)),
                    code: env.error,
                    kind,
                    message: env.message,
                    status,
                    request_id,
                    docs_url: env.docs_url,
                    retry_after,
                    attempts,
                    stop,
                }))
            }
            Failure::Bare(status, body) => {
                let text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
                Error::Api(Box::new(ApiError {
                    code: format!("http_{status}"),
                    kind: None,
                    message: format!("HTTP {status} without an error envelope: {}", text.trim()),
                    status,
                    retryable: (502..=504).contains(&status),
                    request_id,
                    docs_url: None,
                    retry_after,
                    attempts,
                    stop,
                }))
            }
            Failure::Transport(source) => Error::Transport {
                source,
                attempts,
                stop,
            },
        }
    }
}

fn header<'h>(h: &'h HeaderMap, name: &str) -> Option<&'h str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn meta(status: u16, h: &HeaderMap) -> Meta {
    Meta {
        status,
        request_id: header(h, "x-request-id").unwrap_or_default().to_string(),
        cost: header(h, "asa-cost").and_then(|v| v.parse().ok()),
        upstream_attempts: header(h, "asa-attempts").and_then(|v| v.parse().ok()),
        source_status: header(h, "asa-source-status").and_then(|v| v.parse().ok()),
        resolved_url: header(h, "asa-resolved-url").map(str::to_string),
        extractor_version: header(h, "asa-extractor-version").map(str::to_string),
        concurrency: header(h, "asa-concurrency").map(str::to_string),
        rps: header(h, "asa-rps").map(str::to_string),
    }
}
