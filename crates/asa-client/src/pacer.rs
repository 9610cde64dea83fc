//! Client-side pacing: a steady request rate shared by every call of a client, and a
//! common pause when the server says `429`/`503` with `Retry-After`, so a bulk run follows
//! the account's limits instead of discovering them one refusal at a time.

use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    next: Option<Instant>,
    paused_until: Option<Instant>,
}

impl Pacer {
    /// `rps` requests per second at most, evenly spaced (no burst: the server's burst is
    /// the margin that absorbs the network's jitter).
    pub fn new(rps: f64) -> Pacer {
        let rps = if rps.is_finite() && rps > 0.0 {
            rps
        } else {
            f64::MAX
        };
        Pacer {
            interval: Duration::from_secs_f64(1.0 / rps),
            state: Mutex::new(State {
                next: None,
                paused_until: None,
            }),
        }
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Waits for this caller's slot.
    pub async fn acquire(&self) {
        let slot = {
            let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let mut t = now;
            if let Some(n) = s.next {
                t = t.max(n);
            }
            if let Some(p) = s.paused_until {
                t = t.max(p);
            }
            s.next = Some(t + self.interval);
            t
        };
        tokio::time::sleep_until(slot).await;
    }

    /// Holds every caller's next slot until `until` (the server's `Retry-After`).
    pub fn pause_until(&self, until: Instant) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if !matches!(s.paused_until, Some(p) if p >= until) {
            s.paused_until = Some(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn slots_are_evenly_spaced_and_pauses_hold_them() {
        let p = Pacer::new(10.0);
        let t0 = Instant::now();
        for _ in 0..5 {
            p.acquire().await;
        }
        assert_eq!(t0.elapsed(), Duration::from_millis(400));
        p.pause_until(Instant::now() + Duration::from_secs(3));
        p.acquire().await;
        assert_eq!(t0.elapsed(), Duration::from_millis(3400));
    }
}
