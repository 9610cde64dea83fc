//! Sticky sessions: one exit, one cookie jar and one browser profile, reused for up to
//! `session_requests` requests to a marketplace, the way one visitor browses. Anti-bot
//! systems flag churn (a new IP, fingerprint or cookie-less visit per page) as much as
//! they flag a cookie that hops between IPs; a session never changes any of the three.
//!
//! A session is checked out by one request at a time. It goes back to the idle list only
//! after a delivered page; a challenge, an error page or a transport failure ends it.

use crate::profile::{Profile, Rotation};
use asa_model::Marketplace;
use dashmap::DashMap;
use reqwest::cookie::Jar;
use std::sync::atomic::{AtomicU64, Ordering};

/// Idle sessions kept per marketplace and route; older ones beyond it are retired.
const MAX_IDLE: usize = 256;

/// Where a session goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    /// The exit at this index of the route's pool.
    Pool(usize),
    Direct,
}

pub(crate) struct Session {
    pub id: u64,
    pub via: Via,
    pub profile: &'static Profile,
    pub jar: Jar,
    /// Pages delivered through it so far.
    pub served: u32,
}

impl Session {
    /// `s12#3`: the session and the number of the request in it.
    pub(crate) fn label(&self) -> String {
        format!("s{}#{}", self.id, self.served + 1)
    }
}

pub(crate) struct Sessions {
    /// Idle sessions per key, in a sharded map: requests on different marketplaces never
    /// wait on one lock.
    idle: DashMap<String, Vec<Session>>,
    next_id: AtomicU64,
    rotation: Rotation,
}

/// The idle list a request draws from: its marketplace and where its exits come from.
pub(crate) fn key(m: Marketplace, exit_country: &str) -> String {
    format!("{}|{exit_country}", m.domain())
}

impl Sessions {
    pub(crate) fn new(rotation: Rotation) -> Sessions {
        Sessions {
            idle: DashMap::new(),
            next_id: AtomicU64::new(1),
            rotation,
        }
    }

    /// The most recently kept idle session of `key` whose exit `usable` accepts.
    /// `usable` may take the exit (its breaker's probe slot): it is called on candidates
    /// only until one is accepted.
    pub(crate) fn take(&self, key: &str, mut usable: impl FnMut(Via) -> bool) -> Option<Session> {
        let mut list = self.idle.get_mut(key)?;
        let pos = list.iter().rposition(|s| usable(s.via))?;
        Some(list.remove(pos))
    }

    /// A new session on `m` through `via`, with the next profile of `m`'s rotation and
    /// an empty cookie jar.
    pub(crate) fn open(&self, m: Marketplace, via: Via) -> Session {
        Session {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            via,
            profile: self.rotation.next(m),
            jar: Jar::default(),
            served: 0,
        }
    }

    /// Puts a session that delivered a page back, unless it has served `limit` pages.
    pub(crate) fn keep(&self, key: &str, mut session: Session, limit: u32) {
        session.served += 1;
        if session.served >= limit {
            tracing::debug!(
                session = session.id,
                served = session.served,
                "session retired"
            );
            return;
        }
        let mut list = self.idle.entry(key.to_string()).or_default();
        list.push(session);
        if list.len() > MAX_IDLE {
            list.remove(0);
        }
    }

    /// Idle sessions of `key` (for tests and health).
    #[cfg(test)]
    pub(crate) fn idle(&self, key: &str) -> usize {
        self.idle.get(key).map_or(0, |l| l.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Engine;

    #[test]
    fn a_session_is_reused_until_its_limit_then_retired() {
        let sessions = Sessions::new(Rotation::new(Engine::Standard));
        let k = key(Marketplace::De, "DE");
        let first = sessions.open(Marketplace::De, Via::Pool(1));
        let (id, profile) = (first.id, first.profile.id);
        assert_eq!(first.label(), format!("s{id}#1"));
        sessions.keep(&k, first, 3);
        let again = sessions.take(&k, |_| true).unwrap();
        assert_eq!((again.id, again.profile.id, again.served), (id, profile, 1));
        assert_eq!(again.label(), format!("s{id}#2"));
        sessions.keep(&k, again, 3);
        let third = sessions.take(&k, |_| true).unwrap();
        sessions.keep(&k, third, 3);
        assert_eq!(sessions.idle(&k), 0, "retired after 3 pages");
    }

    #[test]
    fn take_skips_sessions_whose_exit_is_not_usable_and_keys_apart() {
        let sessions = Sessions::new(Rotation::new(Engine::Standard));
        let k = key(Marketplace::De, "DE");
        sessions.keep(&k, sessions.open(Marketplace::De, Via::Pool(0)), 10);
        sessions.keep(&k, sessions.open(Marketplace::De, Via::Pool(1)), 10);
        assert!(sessions
            .take(&key(Marketplace::Fr, "DE"), |_| true)
            .is_none());
        let s = sessions.take(&k, |via| via == Via::Pool(0)).unwrap();
        assert_eq!(s.via, Via::Pool(0));
        assert!(sessions.take(&k, |via| via == Via::Pool(0)).is_none());
        assert_eq!(sessions.idle(&k), 1);
    }
}
