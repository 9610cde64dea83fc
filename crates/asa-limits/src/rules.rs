//! The arithmetic both backends share, in integer ticks of one unit (nanoseconds in process;
//! `redis/scripts.rs` repeats it in Lua in microseconds, and its tests hold the two equal).

/// GCRA: with the theoretical arrival time `tat`, may a request arriving at `now` pass?
/// `Ok(new_tat)` to store if it is admitted, or `Err(wait)`: the exact ticks until it would.
pub fn gcra(tat: u64, now: u64, interval: u64, tolerance: u64) -> Result<u64, u64> {
    let tat = tat.max(now);
    let allow_at = tat - tolerance.min(tat);
    if now < allow_at {
        Err(allow_at - now)
    } else {
        Ok(tat + interval)
    }
}

/// Admitted requests counted in two fixed windows; the rate blends the previous window by how
/// much of it still lies within one window of `now` (the usual sliding-window approximation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecentWindow {
    index: u64,
    current: u64,
    previous: u64,
}

impl RecentWindow {
    pub fn record(&mut self, now: u64, width: u64) {
        let index = now / width;
        if index == self.index {
            self.current += 1;
            return;
        }
        self.previous = if index == self.index + 1 {
            self.current
        } else {
            0
        };
        self.current = 1;
        self.index = index;
    }

    /// Requests per second at `now`; `ticks_per_sec` converts the width.
    pub fn rate(&self, now: u64, width: u64, ticks_per_sec: f64) -> f64 {
        let index = now / width;
        let (current, previous) = if index == self.index {
            (self.current, self.previous)
        } else if index == self.index + 1 {
            (0, self.current)
        } else {
            (0, 0)
        };
        let into = (now - index * width) as f64 / width as f64;
        let count = previous as f64 * (1.0 - into) + current as f64;
        count / (width as f64 / ticks_per_sec)
    }
}

/// Weight of the newest sample in the hold-time average.
const HOLD_WEIGHT: f64 = 0.2;

/// Exponentially weighted average of how long slots are held, in ticks; 0 means no sample.
pub fn blend_hold(average: u64, sample: u64) -> u64 {
    if average == 0 {
        sample.max(1)
    } else {
        ((average as f64) * (1.0 - HOLD_WEIGHT) + (sample as f64) * HOLD_WEIGHT).max(1.0) as u64
    }
}

/// When a full ceiling is expected to free a slot: with `in_flight` slots whose remaining hold
/// is spread over `[0, average]`, the first ends after about `average / in_flight`. Without a
/// sample, `unknown`; never below `floor`.
pub fn hold_estimate(average: u64, in_flight: u32, unknown: u64, floor: u64) -> u64 {
    if average == 0 {
        return unknown.max(floor);
    }
    (average / u64::from(in_flight.max(1))).max(floor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcra_admits_burst_then_one_per_interval() {
        let (interval, tolerance) = (100, 400); // burst 5
        let mut tat = 0;
        for _ in 0..5 {
            tat = gcra(tat, 1_000, interval, tolerance).expect("within burst");
        }
        assert_eq!(gcra(tat, 1_000, interval, tolerance), Err(100));
        assert_eq!(gcra(tat, 1_099, interval, tolerance), Err(1));
        let tat = gcra(tat, 1_100, interval, tolerance).expect("one interval later");
        assert_eq!(gcra(tat, 1_100, interval, tolerance), Err(100));
    }

    #[test]
    fn gcra_burst_of_one_is_a_plain_interval() {
        let tat = gcra(0, 50, 10, 0).expect("first");
        assert_eq!(tat, 60);
        assert_eq!(gcra(tat, 55, 10, 0), Err(5));
        assert_eq!(gcra(tat, 60, 10, 0), Ok(70));
    }

    #[test]
    fn gcra_rest_refills_only_up_to_the_burst() {
        let (interval, tolerance) = (10, 20); // burst 3
        let mut tat = 0;
        let mut admitted = 0;
        while let Ok(next) = gcra(tat, 10_000, interval, tolerance) {
            tat = next;
            admitted += 1;
        }
        assert_eq!(admitted, 3);
    }

    #[test]
    fn window_rate_blends_the_previous_window() {
        let mut w = RecentWindow::default();
        for _ in 0..10 {
            w.record(5_000, 1_000);
        }
        assert_eq!(w.rate(5_000, 1_000, 1_000.0), 10.0);
        // Half-way through the next window, half the previous count still counts.
        assert_eq!(w.rate(6_500, 1_000, 1_000.0), 5.0);
        w.record(6_500, 1_000);
        assert_eq!(w.rate(6_500, 1_000, 1_000.0), 6.0);
        // Two windows on, nothing recent is left.
        assert_eq!(w.rate(8_000, 1_000, 1_000.0), 0.0);
        w.record(9_000, 1_000);
        assert_eq!(w.rate(9_000, 1_000, 1_000.0), 1.0);
    }

    #[test]
    fn hold_average_and_estimate() {
        assert_eq!(blend_hold(0, 500), 500);
        assert_eq!(blend_hold(500, 1_000), 600);
        assert_eq!(hold_estimate(0, 3, 1_000, 10), 1_000);
        assert_eq!(hold_estimate(600, 3, 1_000, 10), 200);
        assert_eq!(hold_estimate(600, 300, 1_000, 10), 10);
        assert_eq!(hold_estimate(600, 0, 1_000, 10), 600);
    }
}
