//! What a simulator instance does: where saved pages live, how often it misbehaves, how
//! slowly it answers, how large its product pages are.

use crate::bot::BotManager;
use std::path::PathBuf;
use std::time::Duration;

/// Default size of a generated product page: real desktop pages weigh 1-2 MB.
pub const DEFAULT_PAGE_BYTES: usize = 1_500_000;

/// Configuration of one simulator instance.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// A directory of saved pages (e.g. the corpus); a request whose ASIN or query slug
    /// names a file there is answered with that file verbatim.
    pub pages_dir: Option<PathBuf>,
    /// Random faults, drawn per request from a generator seeded with `seed`.
    pub faults: FaultRates,
    /// Delay applied to every request before it is answered (e.g. 5 s for the
    /// 10,000-in-flight benchmark).
    pub latency: Latency,
    /// Target size of generated product pages in bytes.
    pub page_bytes: usize,
    /// Honour `Accept-Encoding` (gzip, br); when false bodies go out uncompressed.
    pub compress: bool,
    /// Seed of the fault draws, so a run is reproducible.
    pub seed: u64,
    /// Bytes of generated and encoded pages kept in memory.
    pub cache_bytes: usize,
    /// Request records kept for `requests()`; the oldest are dropped beyond it.
    pub log_capacity: usize,
    /// Speak TLS too: every listener then also accepts TLS connections and `CONNECT`
    /// tunnels (a client using the exit as its proxy), fingerprints each client (JA3,
    /// JA4, HTTP/2) and serves HTTP/2 to those that offer it. Plain HTTP still works.
    pub tls: bool,
    /// Answer like Amazon's bot defences (see `bot`): challenge clients whose
    /// fingerprints are not a browser's, or whose session changed IP or fingerprint.
    pub bot_manager: Option<BotManager>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            pages_dir: None,
            faults: FaultRates::default(),
            latency: Latency::None,
            page_bytes: DEFAULT_PAGE_BYTES,
            compress: true,
            seed: 0x5eed,
            cache_bytes: 256 * 1024 * 1024,
            log_capacity: 100_000,
            tls: false,
            bot_manager: None,
        }
    }
}

/// Probabilities (0.0..=1.0) that a product or search request gets a fault. They are
/// exclusive: one draw picks at most one fault, so they should add up to at most 1.
#[derive(Debug, Clone, Default)]
pub struct FaultRates {
    pub captcha_rate: f64,
    pub error503_rate: f64,
    pub reset_rate: f64,
    pub truncate_rate: f64,
    pub slow_rate: f64,
    /// The extra delay of a request drawn as slow.
    pub slow_latency: Latency,
}

/// A delay distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Latency {
    #[default]
    None,
    Fixed(Duration),
    /// Uniform between `min` and `max` (inclusive).
    Uniform {
        min: Duration,
        max: Duration,
    },
}

impl Latency {
    /// The delay for a draw `u` in `0.0..1.0`.
    pub fn sample(&self, u: f64) -> Duration {
        match *self {
            Latency::None => Duration::ZERO,
            Latency::Fixed(d) => d,
            Latency::Uniform { min, max } => {
                let (lo, hi) = if min <= max { (min, max) } else { (max, min) };
                lo + (hi - lo).mul_f64(u.clamp(0.0, 1.0))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_samples_within_bounds() {
        let l = Latency::Uniform {
            min: Duration::from_millis(100),
            max: Duration::from_millis(300),
        };
        assert_eq!(l.sample(0.0), Duration::from_millis(100));
        assert_eq!(l.sample(1.0), Duration::from_millis(300));
        assert_eq!(l.sample(0.5), Duration::from_millis(200));
        assert_eq!(Latency::None.sample(0.7), Duration::ZERO);
        let f = Latency::Fixed(Duration::from_secs(5));
        assert_eq!(f.sample(0.1), Duration::from_secs(5));
    }
}
