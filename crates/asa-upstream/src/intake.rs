//! Admission by drain rate: the upstream's own capacity, in front of the exits.
//!
//! Every page passes through one of the page slots ([`UpstreamConfig::pages_at_once`]),
//! where its body is read, decoded and judged, so the slots drain pages at about
//! `slots / hold` a second, `hold` being how long a page keeps a slot. Sending more
//! requests upstream than that only parks answers on open connections, each with its
//! buffers, until their deadlines pass: the local queue would then pass for a slow
//! Amazon. So, from two figures measured as moving averages, `hold` and `answer` (how
//! long the upstream takes to send an answer's head):
//!
//! - At most `slots + slots × answer / hold` requests are upstream at once (sent, or
//!   holding an answer while they wait for a slot): what the slots drain while the next
//!   answers come back, plus about one answer waiting per slot. Never fewer than
//!   `FLOOR_PER_SLOT × slots`, which is also the limit until a first page has been
//!   drained: a cold start is not throttled, and a few requests that hang upstream (whose
//!   time the average of answers does not see) cannot stall the others. That many parked
//!   connections cost a few MB; the deadlines are kept by the next rule, not by the limit.
//! - The others wait here holding no connection, in the order of their deadlines: the
//!   order of arrival for first attempts, with a retry ahead of newer requests.
//! - A request that would not be done by its deadline at that rate is refused at once:
//!   done in `max(answer, ahead × hold / slots) + hold`, `ahead` being the requests
//!   upstream, in a slot or waiting. One that would fit with nothing ahead of it is still
//!   let through: only the upstream can tell whether it is too slow. A waiting request is
//!   refused when it comes to its turn too close to its deadline to be done, or when the
//!   deadline passes; so is an answer whose deadline passes while it waits for a page
//!   slot.
//!
//! A refusal is a [`Shed`]: the caller answers `503 capacity` with its `Retry-After`,
//! never an upstream timeout, since no exit was slow.

use crate::config::UpstreamConfig;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};
use tokio::time::timeout_at;

/// Requests always let upstream per page slot, figures or not.
const FLOOR_PER_SLOT: usize = 64;
/// Weight of a new sample in the moving averages: about the last ten pages count.
const ALPHA: f64 = 0.2;
/// A waiting request goes upstream only with this many times the time a request takes
/// (answer and page) left: figures are averages, and one let out with just that much would
/// often run past its deadline upstream, where the cut would read as Amazon's slowness.
const SPARE: f64 = 1.2;

/// Refused for lack of local capacity: no page slot would have been free in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shed {
    /// When a new request would fit again: the time the slots need to drain the
    /// backlog down to what a request's budget allows, at least 1 s.
    pub retry_after: Duration,
}

pub(crate) struct Intake {
    slots: usize,
    pages: Arc<Semaphore>,
    /// A new request's budget ([`UpstreamConfig::overall_timeout`]), for `Retry-After`.
    budget: Duration,
    /// The `Retry-After` while nothing has been drained yet: within one attempt's budget
    /// every request upstream has had its answer or given up.
    unmeasured: Duration,
    state: Mutex<State>,
}

type Waiter = oneshot::Sender<Result<Ticket, Shed>>;

#[derive(Default)]
struct State {
    /// Tickets out: requests sent, or holding an answer that waits for a page slot.
    upstream: usize,
    /// Pages holding a slot.
    in_slots: usize,
    /// By deadline, then arrival.
    waiting: BTreeMap<(Instant, u64), Waiter>,
    arrivals: u64,
    /// Seconds a page holds a slot.
    hold: Average,
    /// Seconds from sending a request to its answer's head.
    answer: Average,
}

#[derive(Default, Clone, Copy)]
struct Average(Option<f64>);

impl Average {
    fn add(&mut self, sample: Duration) {
        let x = sample.as_secs_f64();
        self.0 = Some(match self.0 {
            None => x,
            Some(v) => v + ALPHA * (x - v),
        });
    }
}

/// The measured figures, in seconds.
#[derive(Clone, Copy)]
struct Figures {
    hold: f64,
    answer: f64,
}

impl State {
    fn figures(&self) -> Option<Figures> {
        Some(Figures {
            // A page never holds a slot for no time at all; keeps the rate finite.
            hold: self.hold.0?.max(1e-4),
            answer: self.answer.0?,
        })
    }

    /// Everyone a new request would queue behind.
    fn backlog(&self) -> usize {
        self.upstream + self.in_slots + self.waiting.len()
    }
}

/// Leave to be upstream. Dropped (the page got its slot, or the attempt ended without
/// one), it lets the next waiting request go.
pub(crate) struct Ticket {
    intake: Option<Arc<Intake>>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if let Some(intake) = self.intake.take() {
            intake.leave();
        }
    }
}

/// A request's place among the waiting: taken out of the queue when its wait ends or
/// is given up.
struct Place<'a> {
    intake: &'a Intake,
    key: (Instant, u64),
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        self.intake.lock().waiting.remove(&self.key);
    }
}

/// A page slot, held while the body is read and judged. Dropped, it records how long it
/// was held.
pub(crate) struct PageSlot {
    intake: Arc<Intake>,
    since: Instant,
    _permit: OwnedSemaphorePermit,
}

impl Drop for PageSlot {
    fn drop(&mut self) {
        let held = self.since.elapsed();
        let intake = self.intake.clone();
        let mut st = intake.lock();
        st.in_slots -= 1;
        st.hold.add(held);
        intake.admit(&mut st);
    }
}

impl Intake {
    pub(crate) fn new(cfg: &UpstreamConfig) -> Arc<Intake> {
        let slots = cfg.page_slots();
        Arc::new(Intake {
            slots,
            pages: Arc::new(Semaphore::new(slots)),
            budget: cfg.overall_timeout,
            unmeasured: cfg.attempt_timeout.max(Duration::from_secs(1)),
            state: Mutex::new(State::default()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Counters and channels only: a panic elsewhere cannot leave them inconsistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many requests may be upstream at once (see the module's rule).
    fn limit(&self, st: &State) -> usize {
        let floor = FLOOR_PER_SLOT * self.slots;
        match st.figures() {
            None => floor,
            Some(f) => {
                let draining = (self.slots as f64 * f.answer / f.hold).ceil();
                (self.slots + draining.min(1e9) as usize).max(floor)
            }
        }
    }

    /// How long a request with `ahead` requests before it takes to be done.
    fn finish(&self, f: Figures, ahead: usize) -> Duration {
        let drained = ahead as f64 * f.hold / self.slots as f64;
        Duration::from_secs_f64((f.answer.max(drained) + f.hold).min(1e9))
    }

    fn shed(&self, st: &State) -> Shed {
        let retry_after = match st.figures() {
            None => self.unmeasured,
            Some(f) => {
                let drain = st.backlog() as f64 * f.hold / self.slots as f64;
                let fits = self.budget.as_secs_f64() - f.hold;
                Duration::from_secs_f64((drain - fits).clamp(0.0, 1e9))
            }
        };
        Shed {
            retry_after: retry_after.max(Duration::from_secs(1)),
        }
    }

    /// Waits for leave to go upstream, or is refused (see the module's rule).
    pub(crate) async fn enter(self: &Arc<Self>, deadline: Instant) -> Result<Ticket, Shed> {
        let (key, rx) = {
            let mut st = self.lock();
            let now = Instant::now();
            if let Some(f) = st.figures() {
                let late = now + self.finish(f, st.backlog()) > deadline;
                if late && now + self.finish(f, 0) <= deadline {
                    return Err(self.shed(&st));
                }
            }
            if st.waiting.is_empty() && st.upstream < self.limit(&st) {
                st.upstream += 1;
                return Ok(self.ticket());
            }
            let key = (deadline, st.arrivals);
            st.arrivals += 1;
            let (tx, rx) = oneshot::channel();
            st.waiting.insert(key, tx);
            (key, rx)
        };
        let place = Place { intake: self, key };
        let mut rx = rx;
        let answer = timeout_at(deadline.into(), &mut rx).await;
        // Out of the queue (also when this future is dropped, its caller gone), then out
        // of the lock: a ticket granted at the last moment gives its place back when
        // `rx` goes, the deadline having passed anyway.
        drop(place);
        drop(rx);
        match answer {
            Ok(Ok(answer)) => answer,
            // Timed out; or the waiter's sender went without an answer, which the intake
            // never does: refused rather than sent.
            Err(_) | Ok(Err(_)) => Err(self.shed_now()),
        }
    }

    /// A refusal with the `Retry-After` of the current backlog.
    pub(crate) fn shed_now(&self) -> Shed {
        self.shed(&self.lock())
    }

    fn ticket(self: &Arc<Self>) -> Ticket {
        Ticket {
            intake: Some(self.clone()),
        }
    }

    fn leave(self: &Arc<Self>) {
        let mut st = self.lock();
        st.upstream -= 1;
        self.admit(&mut st);
    }

    /// Lets the first waiting requests go while there is room, refusing those whose wait
    /// left them too little time even with nothing ahead ([`SPARE`]). Those further back
    /// are not refused on the figures: a refusal cannot be taken back, and the drain rate
    /// moves with the machine's load (in figure 3 with 1 MB pages, refusing the queue's
    /// tail on figures measured under a load average of 20 refused 2,872 requests that
    /// waiting would have delivered within their budget).
    fn admit(self: &Arc<Self>, st: &mut State) {
        let now = Instant::now();
        while st.upstream < self.limit(st) {
            let Some(((deadline, _), tx)) = st.waiting.pop_first() else {
                break;
            };
            if let Some(f) = st.figures() {
                if now + self.finish(f, 0).mul_f64(SPARE) > deadline {
                    // It waited here until too little of its budget was left.
                    let _ = tx.send(Err(self.shed(st)));
                    continue;
                }
            }
            st.upstream += 1;
            if let Err(Ok(mut ticket)) = tx.send(Ok(self.ticket())) {
                // Its request was given up meanwhile: the place stays free, and the
                // ticket must not release it again (nor take the lock held here).
                ticket.intake = None;
                st.upstream -= 1;
            }
        }
    }

    /// Records how long the upstream took to send an answer's head.
    pub(crate) fn answered(self: &Arc<Self>, took: Duration) {
        let mut st = self.lock();
        st.answer.add(took);
        self.admit(&mut st);
    }

    /// Waits for a page slot for an answer in hand, under the request's deadline; the
    /// ticket is given back once the slot is taken. A deadline passed here is ours.
    pub(crate) async fn page_slot(
        self: &Arc<Self>,
        ticket: Ticket,
        deadline: Instant,
    ) -> Result<PageSlot, Shed> {
        match timeout_at(deadline.into(), self.pages.clone().acquire_owned()).await {
            Ok(Ok(permit)) => {
                self.lock().in_slots += 1;
                drop(ticket);
                Ok(PageSlot {
                    intake: self.clone(),
                    since: Instant::now(),
                    _permit: permit,
                })
            }
            // The semaphore is never closed: only the deadline ends the wait.
            _ => {
                drop(ticket);
                Err(self.shed_now())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One page slot, a 2 s budget for new requests.
    fn intake() -> Arc<Intake> {
        Intake::new(&UpstreamConfig {
            pages_at_once: 1,
            overall_timeout: Duration::from_secs(2),
            ..UpstreamConfig::default()
        })
    }

    fn measured(i: &Intake, hold: f64, answer: f64) {
        let mut st = i.lock();
        st.hold = Average(Some(hold));
        st.answer = Average(Some(answer));
    }

    fn in_secs(s: f64) -> Instant {
        Instant::now() + Duration::from_secs_f64(s)
    }

    #[test]
    fn the_limit_follows_the_drain_rate_above_a_floor() {
        let i = Intake::new(&UpstreamConfig {
            pages_at_once: 4,
            ..UpstreamConfig::default()
        });
        assert_eq!(i.limit(&i.lock()), FLOOR_PER_SLOT * 4, "a cold start");
        // 1 MB pages hold a slot 25 ms; Amazon answers after 5 s: 4 slots drain 160
        // pages a second, 800 of them are on their way meanwhile.
        measured(&i, 0.025, 5.0);
        assert_eq!(i.limit(&i.lock()), 4 + 800);
        // 5 MB pages, 250 ms: 80 on their way, under the floor.
        measured(&i, 0.25, 5.0);
        assert_eq!(i.limit(&i.lock()), FLOOR_PER_SLOT * 4);
    }

    /// Takes `n` tickets (under the floor, so at once).
    async fn take(i: &Arc<Intake>, n: usize) -> Vec<Ticket> {
        let mut out = Vec::new();
        for _ in 0..n {
            out.push(i.enter(in_secs(60.0)).await.unwrap());
        }
        out
    }

    #[tokio::test]
    async fn a_request_the_backlog_would_make_late_is_shed_at_once_with_an_honest_retry_after() {
        let i = intake();
        // As many out as the floor lets go (64 with one slot), then 50 ms per page.
        let mut out = take(&i, FLOOR_PER_SLOT).await;
        measured(&i, 0.05, 0.01);
        // Done in 64 x 50 ms + 50 ms = 3.25 s: past a 2.5 s deadline.
        let shed = i.enter(in_secs(2.5)).await.err().expect("shed");
        // 3.2 s to drain the 64, of which a new 2 s budget can wait 1.95 s: 1.25 s.
        assert!((shed.retry_after.as_secs_f64() - 1.25).abs() < 1e-6);
        // With a 10 s deadline it fits, and waits its turn (the 64 are the limit).
        let waiting = tokio::spawn({
            let i = i.clone();
            async move { i.enter(in_secs(10.0)).await.is_ok() }
        });
        while i.lock().waiting.is_empty() {
            tokio::task::yield_now().await;
        }
        assert!(!waiting.is_finished());
        out.pop();
        assert!(waiting.await.unwrap(), "let through once below the limit");
    }

    #[tokio::test]
    async fn a_request_too_slow_even_with_nothing_ahead_is_left_to_the_upstream() {
        let i = intake();
        measured(&i, 3.0, 0.01);
        assert!(i.enter(in_secs(2.0)).await.is_ok());
    }

    #[tokio::test]
    async fn waiting_requests_go_in_deadline_order_and_are_shed_when_their_deadline_passes() {
        let i = intake();
        measured(&i, 0.01, 0.001);
        let mut out = take(&i, FLOOR_PER_SLOT).await;
        let (first, second) = (out.pop().unwrap(), out.pop().unwrap());
        let wait = |deadline: Instant| {
            let i = i.clone();
            tokio::spawn(async move { i.enter(deadline).await })
        };
        let newer = wait(in_secs(50.0));
        while i.lock().waiting.is_empty() {
            tokio::task::yield_now().await;
        }
        // A retry: its request came earlier, so its deadline is earlier.
        let retry = wait(in_secs(40.0));
        // Fits the estimate (66 pages of 10 ms ahead), but no place frees in time.
        let late = wait(in_secs(1.0));
        while i.lock().waiting.len() < 3 {
            tokio::task::yield_now().await;
        }
        let shed = late
            .await
            .unwrap()
            .err()
            .expect("its deadline passed while it waited");
        assert!(shed.retry_after >= Duration::from_secs(1));
        drop(first);
        let retried = retry
            .await
            .unwrap()
            .expect("the earliest deadline goes first");
        assert!(!newer.is_finished());
        drop(second);
        let next = newer.await.unwrap().expect("then the next");
        drop((retried, next, out));
        assert_eq!(i.lock().upstream, 0, "every ticket given back");
    }
}
