//! The fetch loop: attempts through fresh exits under the overall deadline, with backoff
//! between them, until the judge accepts a page or the attempts, exits or time run out.

use crate::attempt::{Attempt, Outcome};
use crate::config::{UpstreamConfig, UpstreamError};
use crate::engine::Engine;
use crate::exchange::{Exchange, Failure, Progress};
use crate::intake::{Intake, PageSlot, Shed, Ticket};
use crate::judge::{final_error, Delivered, Ending, Fetched, Judge, Verdict};
use crate::profile::Rotation;
use crate::proxy::{Exit, ExitResult, Exits, NoExit, ProxyHealth, Route, DIRECT};
use crate::session::{self, Session, Sessions, Via};
use crate::target::{locale_cookie, page_url, FetchRequest};
use bytes::Bytes;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::time::timeout_at;
use tracing::Instrument;
use url::Url;

/// Fetches Amazon pages through the configured exits. Build once and share: it holds
/// one HTTP client (and connection pool) per proxy endpoint.
pub struct Upstream {
    cfg: UpstreamConfig,
    exits: Exits,
    sessions: Sessions,
    /// Admission by drain rate, and the page slots ([`UpstreamConfig::pages_at_once`])
    /// held from reading a body until its judge is done.
    intake: Arc<Intake>,
}

/// Shows the template and proxy ids with their addresses, never credentials.
impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("url_template", &self.cfg.url_template)
            .field("proxies", &self.exits.describe())
            .finish_non_exhaustive()
    }
}

/// An exit taken for one attempt. If the attempt is dropped before it records a result
/// (the caller gave up on the fetch), a half-open exit's probe slot is freed again.
struct Taken<'a> {
    exit: &'a Exit,
    cfg: &'a UpstreamConfig,
    recorded: bool,
}

impl Taken<'_> {
    fn record(&mut self, result: ExitResult) {
        self.recorded = true;
        self.exit.record(result, self.cfg);
    }
}

impl Drop for Taken<'_> {
    fn drop(&mut self) {
        if !self.recorded {
            self.exit.release();
        }
    }
}

/// How one attempt ended.
enum Step<T> {
    Delivered(Delivered<T>),
    Retry(Option<T>, Ending),
    /// The overall deadline ran out during the attempt.
    DeadlineHit,
    /// The answer waited here past the request's budget: ours, not the upstream's.
    Shed(Shed),
}

impl Upstream {
    pub fn new(cfg: UpstreamConfig) -> Result<Upstream, UpstreamError> {
        cfg.validate()?;
        let exits = Exits::from_config(&cfg)?;
        let sessions = Sessions::new(Rotation::new(cfg.engine));
        let intake = Intake::new(&cfg);
        Ok(Upstream {
            cfg,
            exits,
            sessions,
            intake,
        })
    }

    pub fn config(&self) -> &UpstreamConfig {
        &self.cfg
    }

    /// The URL the first attempt asks for.
    pub fn url_for(&self, req: &FetchRequest) -> String {
        page_url(&self.cfg.url_template, req)
    }

    /// The health of every proxy endpoint, sorted by pool and id (the direct exit is not
    /// listed: it is never benched).
    pub fn proxy_health(&self) -> Vec<ProxyHealth> {
        self.exits.health()
    }

    /// Fetches the page of `req`, retrying through other exits until `judge` accepts an
    /// answer or the attempts, the exits or the overall deadline run out.
    pub async fn fetch<J: Judge>(&self, req: &FetchRequest, judge: Arc<J>) -> Fetched<J::Output> {
        let span = tracing::info_span!(
            "upstream_fetch",
            request_id = %req.request_id,
            domain = %req.marketplace,
            country = %req.exit_country(),
        );
        self.run(req, judge).instrument(span).await
    }

    async fn run<J: Judge>(&self, req: &FetchRequest, judge: Arc<J>) -> Fetched<J::Output> {
        let deadline = Instant::now() + self.cfg.overall_timeout;
        let url = self.url_for(req);
        let country = req.exit_country();
        let route = self.exits.route(&country);
        let key = session::key(req.marketplace, &country);
        let mut attempts = Vec::new();
        let mut endings = Vec::new();
        let mut tried = Vec::new();
        let mut last = None;
        let mut deadline_hit = false;
        let mut shed = None;

        for n in 1..=self.cfg.max_attempts {
            if n > 1 {
                let wake = Instant::now() + self.cfg.backoff(n - 1);
                if wake >= deadline {
                    // No time left for another attempt after the wait.
                    deadline_hit = true;
                    break;
                }
                tokio::time::sleep_until(wake.into()).await;
            }
            // Before an exit is taken: a request waiting here holds no connection, nor a
            // half-open exit's probe.
            let ticket = match self.intake.enter(deadline).await {
                Ok(ticket) => ticket,
                Err(refused) => {
                    tracing::info!(
                        attempt = n,
                        retry_after_s = refused.retry_after.as_secs(),
                        "no page slot in time: shed before going upstream"
                    );
                    shed = Some(refused);
                    break;
                }
            };
            let (session, exit, exit_country) = match &route {
                Route::Direct => {
                    let session = self
                        .sessions
                        .take(&key, |via| via == Via::Direct)
                        .unwrap_or_else(|| self.sessions.open(req.marketplace, Via::Direct));
                    (session, &self.exits.direct, None)
                }
                Route::Pool { pool, exit_country } => {
                    let now = Instant::now();
                    // A session whose exit this request has not tried yet keeps its exit.
                    let kept = self.sessions.take(&key, |via| match via {
                        Via::Pool(i) => !tried.contains(&i) && pool.exits[i].try_acquire(now),
                        Via::Direct => false,
                    });
                    let picked = match kept {
                        Some(s) => match s.via {
                            Via::Pool(i) => Ok((s, i)),
                            Via::Direct => unreachable!("only pool sessions are taken here"),
                        },
                        None => pool
                            .pick(&tried)
                            .map(|i| (self.sessions.open(req.marketplace, Via::Pool(i)), i)),
                    };
                    match picked {
                        Ok((session, i)) => {
                            tried.push(i);
                            (session, &pool.exits[i], exit_country.clone())
                        }
                        Err(NoExit { benched }) => {
                            tracing::warn!(
                                attempt = n,
                                untried = pool.exits.len() - tried.len(),
                                benched,
                                "no exit left to try for this country"
                            );
                            break;
                        }
                    }
                }
            };
            let (attempt, step, session) = self
                .attempt(
                    n,
                    ticket,
                    exit,
                    exit_country,
                    session,
                    &url,
                    req,
                    judge.clone(),
                    deadline,
                )
                .await;
            match (&step, attempt.outcome) {
                (Step::Delivered(_), _) => {
                    self.sessions.keep(&key, session, self.cfg.session_requests)
                }
                (_, Outcome::Captcha) => {
                    // Amazon has flagged this visitor: never show it again, and rest the exit.
                    tracing::info!(session = session.id, proxy_id = %exit.id, "session dropped after a challenge");
                    exit.cool_down(&self.cfg);
                }
                _ => {}
            }
            tracing::info!(
                attempt = n,
                proxy_id = attempt.proxy_id.as_deref().unwrap_or(DIRECT),
                outcome = %attempt.outcome,
                status = attempt.status,
                bytes = attempt.bytes,
                latency_ms = attempt.latency_ms,
                error = attempt.error.as_deref(),
                "upstream attempt"
            );
            attempts.push(attempt);
            match step {
                Step::Delivered(d) => {
                    return Fetched {
                        attempts,
                        result: Ok(d),
                    }
                }
                Step::Retry(value, ending) => {
                    if value.is_some() {
                        last = value;
                    }
                    endings.push(ending);
                }
                Step::DeadlineHit => {
                    endings.push(Ending::TimedOut);
                    deadline_hit = true;
                    break;
                }
                Step::Shed(refused) => {
                    shed = Some(refused);
                    break;
                }
            }
        }
        let err = final_error(&endings, deadline_hit, shed, last);
        tracing::warn!(
            code = err.code().as_str(),
            attempts = attempts.len(),
            "upstream fetch failed"
        );
        Fetched {
            attempts,
            result: Err(err),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn attempt<J: Judge>(
        &self,
        n: u32,
        ticket: Ticket,
        exit: &Exit,
        exit_country: Option<String>,
        session: Session,
        url: &str,
        req: &FetchRequest,
        judge: Arc<J>,
        deadline: Instant,
    ) -> (Attempt, Step<J::Output>, Session) {
        let (record, step) = self
            .attempt_in(
                n,
                ticket,
                exit,
                exit_country,
                &session,
                url,
                req,
                judge,
                deadline,
            )
            .await;
        (record, step, session)
    }

    #[allow(clippy::too_many_arguments)]
    async fn attempt_in<J: Judge>(
        &self,
        n: u32,
        ticket: Ticket,
        exit: &Exit,
        exit_country: Option<String>,
        session: &Session,
        url: &str,
        req: &FetchRequest,
        judge: Arc<J>,
        deadline: Instant,
    ) -> (Attempt, Step<J::Output>) {
        let profile = session.profile;
        let presents_profile = self.cfg.engine == Engine::Browser;
        let mut record = Attempt {
            n,
            exit_country,
            proxy_id: Some(exit.id.clone()),
            url: url.to_string(),
            final_url: None,
            status: None,
            bytes: 0,
            latency_ms: 0,
            outcome: Outcome::Ok,
            error: None,
            engine: Some(self.cfg.engine.as_str().to_string()),
            profile: Some(profile.id.to_string()),
            session: Some(session.label()),
            ja4: profile.ja4.filter(|_| presents_profile).map(str::to_string),
            http2: profile
                .http2
                .filter(|_| presents_profile)
                .map(str::to_string),
        };
        let mut taken = Taken {
            exit,
            cfg: &self.cfg,
            recorded: false,
        };
        let start = Instant::now();
        let own_deadline = start + self.cfg.attempt_timeout;
        let attempt_deadline = own_deadline.min(deadline);

        let Ok(parsed) = Url::parse(url) else {
            // The template was validated; a URL that still fails is nothing a retry fixes.
            record.outcome = Outcome::ConnectError;
            record.error = Some("invalid upstream URL".to_string());
            return (record, Step::Retry(None, Ending::Failed));
        };
        let language = req.language();
        let headers = profile.headers(language);
        session
            .jar
            .add_cookie_str(&locale_cookie(req.marketplace, language), &parsed);
        let exchange = Exchange {
            client: &exit.client,
            profile,
            headers: &headers,
            jar: &session.jar,
            body_cap: self.cfg.body_cap,
            max_redirects: self.cfg.max_redirects,
        };
        let mut progress = Progress::new(parsed);
        let (result, waited) = self
            .exchange(&exchange, &mut progress, ticket, attempt_deadline, deadline)
            .await;

        // The wait for a page slot is ours, not the exit's.
        record.latency_ms = start.elapsed().saturating_sub(waited).as_millis() as u64;
        record.status = progress.status;
        record.bytes = progress.bytes;
        if progress.hops > 0 {
            record.final_url = Some(progress.url.to_string());
        }
        let (body, _slot) = match result {
            Err(Cut::Shed(refused)) => {
                record.outcome = Outcome::Capacity;
                record.error = Some(format!(
                    "the answer waited {} ms here for a page slot; the request's budget ran out",
                    waited.as_millis()
                ));
                // The exit did answer: only our queue was too long.
                taken.record(ExitResult::Reached);
                return (record, Step::Shed(refused));
            }
            Err(cut) => {
                record.outcome = Outcome::Timeout;
                let by_deadline = cut == Cut::Deadline;
                record.error = Some(if by_deadline {
                    "overall deadline reached".to_string()
                } else {
                    format!(
                        "no answer within {} ms",
                        self.cfg.attempt_timeout.as_millis()
                    )
                });
                if by_deadline {
                    // A cut by the request's budget says nothing about the exit.
                    taken.record(ExitResult::Neutral);
                    return (record, Step::DeadlineHit);
                }
                taken.record(ExitResult::Failed);
                return (record, Step::Retry(None, Ending::TimedOut));
            }
            Ok(Err((outcome, error))) => {
                record.outcome = outcome;
                record.error = Some(exit.scrub(&error));
                let (health, ending) = match outcome {
                    Outcome::Timeout => (ExitResult::Failed, Ending::TimedOut),
                    Outcome::ConnectError
                    | Outcome::TlsError
                    | Outcome::ProxyError
                    | Outcome::Reset => (ExitResult::Failed, Ending::Failed),
                    // Amazon answered, but only with redirects.
                    Outcome::Redirect => (ExitResult::Reached, Ending::Refused),
                    _ => (ExitResult::Reached, Ending::Failed),
                };
                taken.record(health);
                return (record, Step::Retry(None, ending));
            }
            Ok(Ok(read)) => read,
        };
        taken.record(ExitResult::Reached);

        // Some status is set whenever the exchange returned a body.
        let status = progress.status.unwrap_or(200);
        let final_url = progress.url.to_string();
        let verdict = {
            let (body, final_url, span) =
                (body.clone(), final_url.clone(), tracing::Span::current());
            let task = tokio::task::spawn_blocking(move || {
                span.in_scope(|| judge.judge(status, &final_url, &body))
            });
            match timeout_at(deadline.into(), task).await {
                Err(_) => {
                    // The page was here: judging it (our CPU) outlasted the budget.
                    record.outcome = Outcome::Capacity;
                    record.error = Some("overall deadline reached while judging the page".into());
                    return (record, Step::Shed(self.intake.shed_now()));
                }
                // A panicking judge is a bug: let it reach the caller's panic handling.
                Ok(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Ok(Err(_)) => {
                    record.outcome = Outcome::Reset;
                    record.error = Some("judging was cancelled (runtime shutting down)".into());
                    return (record, Step::Retry(None, Ending::Failed));
                }
                Ok(Ok(v)) => v,
            }
        };
        match verdict {
            Verdict::Accept(value) if (200..300).contains(&status) || status == 404 => {
                record.outcome = if status == 404 {
                    Outcome::NotFound
                } else {
                    Outcome::Ok
                };
                let delivered = Delivered {
                    value,
                    status,
                    final_url,
                    body,
                };
                (record, Step::Delivered(delivered))
            }
            Verdict::Accept(value) => {
                record.outcome = if status == 503 {
                    Outcome::Amazon503
                } else {
                    Outcome::BadStatus
                };
                record.error = Some(format!("HTTP {status}"));
                (record, Step::Retry(Some(value), Ending::Refused))
            }
            Verdict::Retry { outcome, value } => {
                record.outcome = outcome;
                (record, Step::Retry(Some(value), Ending::Refused))
            }
        }
    }
}

/// Which budget cut an exchange short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    Attempt,
    Deadline,
    /// The request's deadline passed while its answer waited for a page slot.
    Shed(Shed),
}

/// An exchange's outcome: the body with the page slot it holds, an HTTP-level failure, or
/// a cut by one of the budgets.
type Exchanged = Result<Result<(Bytes, PageSlot), Failure>, Cut>;

impl Upstream {
    /// Runs one exchange: the answer under the attempt's budget, then a page slot (waited
    /// for under the request's overall deadline only: local work queued is not the exit's
    /// slowness, and a deadline passed there is a [`Cut::Shed`]), then the body under the
    /// attempt's budget pushed back by that wait. The intake's ticket is given back once
    /// the slot is taken, or when the exchange ends without one. Returns how long the slot
    /// was waited for.
    async fn exchange(
        &self,
        exchange: &Exchange<'_>,
        progress: &mut Progress,
        ticket: Ticket,
        attempt_deadline: Instant,
        deadline: Instant,
    ) -> (Exchanged, Duration) {
        let cut = |at: Instant| {
            if at >= deadline {
                Cut::Deadline
            } else {
                Cut::Attempt
            }
        };
        let sent = Instant::now();
        let answer = match timeout_at(attempt_deadline.into(), exchange.answer(progress)).await {
            Err(_) => return (Err(cut(attempt_deadline)), Duration::ZERO),
            Ok(Err(failure)) => return (Ok(Err(failure)), Duration::ZERO),
            Ok(Ok(answer)) => answer,
        };
        let asked = Instant::now();
        self.intake.answered(asked - sent);
        let slot = match self.intake.page_slot(ticket, deadline).await {
            Ok(slot) => slot,
            Err(refused) => return (Err(Cut::Shed(refused)), asked.elapsed()),
        };
        let waited = asked.elapsed();
        let body_deadline = (attempt_deadline + waited).min(deadline);
        let read = match timeout_at(body_deadline.into(), exchange.body(answer, progress)).await {
            Err(_) => Err(cut(body_deadline)),
            Ok(body) => Ok(body.map(|b| (b, slot))),
        };
        (read, waited)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Any;
    impl Judge for Any {
        type Output = ();
        fn judge(&self, _: u16, _: &str, _: &[u8]) -> Verdict<()> {
            Verdict::Accept(())
        }
    }

    /// Handlers and spawned tasks need both: checked at compile time.
    #[test]
    fn upstream_is_shareable_and_its_fetch_is_send() {
        fn shareable<T: Send + Sync + 'static>() {}
        fn send<T: Send>(_: &T) {}
        shareable::<Upstream>();
        let up = Upstream::new(UpstreamConfig::default()).unwrap();
        let req = FetchRequest {
            request_id: "req_0123456789ab".into(),
            marketplace: asa_model::Marketplace::Us,
            target: crate::FetchTarget::Search {
                query: "q".into(),
                page: 1,
                sort: asa_model::SortBy::BestMatch,
            },
            language: String::new(),
            country: String::new(),
        };
        let fut = up.fetch(&req, Arc::new(Any));
        send(&fut);
    }
}
