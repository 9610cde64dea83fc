//! Limits taken at accept time, before any HTTP is read and so before authentication:
//! a cap on the connections one client IP holds open at once (`max_connections_per_ip`;
//! a peer in `trusted_proxies` is not capped), and a deadline for the first request's header section (`header_read_timeout`).
//!
//! [`LimitedListener`] wraps the `TcpListener` handed to `axum::serve`. A connection past
//! its IP's cap is closed at once with a reset: at that point there is no request (no
//! request id, not even the protocol: HTTP/1.1 or h2c), and writing an answer would spend
//! work on exactly the client that is flooding us. The slot is given back when the
//! connection's IO is dropped, which axum does when hyper is done with the connection.
//!
//! The header deadline: axum's `serve` runs hyper without a timer, so hyper's own
//! `header_read_timeout` never fires. The IO wrapper does it instead for the first
//! request of each connection: until the end of a header section (an empty line) has been
//! read, a read past the deadline fails with `TimedOut` and hyper closes the connection.
//! Later requests on a kept-alive connection are not covered (telling where one request's
//! body ends and the next one's headers begin needs the HTTP parser); the per-IP cap bounds
//! how many such connections one client holds.
//!
//! The idle timeout (`idle_timeout`): hyper under axum has no timer either, so a kept-alive
//! connection (HTTP/1.1 or HTTP/2) could sit open forever. The IO wrapper closes it once no
//! byte has moved for that long while none of its requests is in flight; the envelope
//! counts a connection's requests in flight through [`ConnPeer`], the connect info the API
//! listener hands to every request.

use crate::client_ip::{canonical, TrustedProxies};
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Open connections per client IP, shared by the listener and every connection's slot.
#[derive(Debug, Default)]
pub struct ConnCounts {
    open: Mutex<HashMap<IpAddr, u32>>,
    refused: AtomicU64,
}

impl ConnCounts {
    /// Takes a slot for `ip` unless it already holds `cap` (0: no cap).
    fn take(self: &Arc<Self>, ip: IpAddr, cap: u32) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(ip).or_insert(0);
        if cap != 0 && *n >= cap {
            return None;
        }
        *n += 1;
        Some(Slot {
            counts: self.clone(),
            ip,
        })
    }

    /// Connections `ip` holds open now.
    pub fn open(&self, ip: IpAddr) -> u32 {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.get(&canonical(ip)).copied().unwrap_or(0)
    }

    /// Connections closed at accept time because their IP was at its cap, since start.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }
}

/// One accepted connection's place in its IP's count; given back on drop.
#[derive(Debug)]
struct Slot {
    counts: Arc<ConnCounts>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.counts.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// The API's listener: a `TcpListener` whose accepted connections are capped per client
/// IP and carry the first request's header deadline.
#[derive(Debug)]
pub struct LimitedListener {
    inner: TcpListener,
    per_ip: u32,
    header_timeout: Option<Duration>,
    /// Proxies are not capped: their connections carry many clients (whose own cap is the
    /// proxy's business, as only it sees their connections).
    trusted: TrustedProxies,
    idle_timeout: Option<Duration>,
    counts: Arc<ConnCounts>,
}

/// A connection's requests in flight: while any is, the connection is not idle, however
/// long its handler takes.
#[derive(Debug, Default)]
pub struct ConnActivity {
    in_flight: AtomicU32,
}

impl ConnActivity {
    /// Marks a request in flight until the guard drops.
    pub fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.clone())
    }

    fn busy(&self) -> bool {
        self.in_flight.load(Ordering::Relaxed) > 0
    }
}

/// One request in flight on its connection.
#[derive(Debug)]
pub struct InFlight(Arc<ConnActivity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The API listener's connect info: the peer's address, and its connection's activity.
#[derive(Debug, Clone)]
pub struct ConnPeer {
    pub addr: SocketAddr,
    pub activity: Arc<ConnActivity>,
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, LimitedListener>>
    for ConnPeer
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, LimitedListener>) -> ConnPeer {
        ConnPeer {
            addr: *stream.remote_addr(),
            activity: stream.io().activity.clone(),
        }
    }
}

impl LimitedListener {
    /// `per_ip` 0: no cap; `header_timeout` or `idle_timeout` zero: no deadline.
    pub fn new(
        inner: TcpListener,
        per_ip: u32,
        header_timeout: Duration,
        idle_timeout: Duration,
        trusted: TrustedProxies,
    ) -> LimitedListener {
        LimitedListener {
            inner,
            per_ip,
            header_timeout: (!header_timeout.is_zero()).then_some(header_timeout),
            trusted,
            idle_timeout: (!idle_timeout.is_zero()).then_some(idle_timeout),
            counts: Arc::default(),
        }
    }

    /// The shared counts (for tests and diagnostics).
    pub fn counts(&self) -> Arc<ConnCounts> {
        self.counts.clone()
    }
}

impl axum::serve::Listener for LimitedListener {
    type Io = LimitedIo;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (LimitedIo, SocketAddr) {
        loop {
            // axum's own accept loop: it logs and retries accept errors (EMFILE included).
            let (io, addr) = axum::serve::Listener::accept(&mut self.inner).await;
            let ip = canonical(addr.ip());
            let cap = match self.trusted.trusts(ip) {
                true => 0,
                false => self.per_ip,
            };
            match self.counts.take(ip, cap) {
                Some(slot) => {
                    let io = LimitedIo::new(io, slot, self.header_timeout, self.idle_timeout);
                    return (io, addr);
                }
                None => {
                    // A reset, not a FIN: nothing lingers in TIME_WAIT on our side.
                    let _ = io.set_zero_linger();
                    drop(io);
                    let n = self.counts.refused.fetch_add(1, Ordering::Relaxed) + 1;
                    // Not one line per refusal: a flood would turn into a log flood.
                    if n.is_power_of_two() {
                        tracing::warn!(
                            client_ip = %ip,
                            cap = self.per_ip,
                            refused_since_start = n,
                            "connection closed at accept: the client IP is at max_connections_per_ip"
                        );
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// Watches the bytes of the first request for the empty line that ends its header section.
#[derive(Debug)]
struct HeaderDeadline {
    sleep: Pin<Box<tokio::time::Sleep>>,
    /// 0: inside a line; 1: just after a `\n`; 2: after `\n\r`.
    state: u8,
}

impl HeaderDeadline {
    /// Whether `bytes` complete the header section (`\n\n` or `\n\r\n`). The HTTP/2
    /// connection preface (`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`) ends one too.
    fn scan(&mut self, bytes: &[u8]) -> bool {
        for &b in bytes {
            self.state = match (self.state, b) {
                (1 | 2, b'\n') => return true,
                (_, b'\n') => 1,
                (1, b'\r') => 2,
                _ => 0,
            };
        }
        false
    }
}

/// Closes a connection on which nothing moved for `after` while no request was in flight.
#[derive(Debug)]
struct IdleDeadline {
    sleep: Pin<Box<tokio::time::Sleep>>,
    after: Duration,
}

impl IdleDeadline {
    fn push_back(&mut self) {
        let at = tokio::time::Instant::now() + self.after;
        self.sleep.as_mut().reset(at);
    }
}

/// An accepted connection: the stream, its IP's slot (given back on drop), until the
/// first header section is in its deadline, and its idle deadline.
#[derive(Debug)]
pub struct LimitedIo {
    io: TcpStream,
    headers: Option<HeaderDeadline>,
    idle: Option<IdleDeadline>,
    activity: Arc<ConnActivity>,
    _slot: Slot,
}

impl LimitedIo {
    fn new(
        io: TcpStream,
        slot: Slot,
        header_timeout: Option<Duration>,
        idle_timeout: Option<Duration>,
    ) -> LimitedIo {
        LimitedIo {
            io,
            headers: header_timeout.map(|t| HeaderDeadline {
                sleep: Box::pin(tokio::time::sleep(t)),
                state: 0,
            }),
            idle: idle_timeout.map(|after| IdleDeadline {
                sleep: Box::pin(tokio::time::sleep(after)),
                after,
            }),
            activity: Arc::default(),
            _slot: slot,
        }
    }

    /// Moved bytes: the idle deadline starts again.
    fn active(&mut self) {
        if let Some(idle) = &mut self.idle {
            idle.push_back();
        }
    }

    pub fn get_ref(&self) -> &TcpStream {
        &self.io
    }
}

impl AsyncRead for LimitedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(h) = &mut this.headers {
            // Polled on every read until the headers are in, so the timer wakes the
            // connection's task even when the client sends nothing at all.
            if h.sleep.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the request's header section did not arrive within header_read_timeout",
                )));
            }
        }
        if let Some(idle) = &mut this.idle {
            // Hyper keeps a read pending on an idle connection (HTTP/1.1 to see it close,
            // HTTP/2 for frames), so this timer is always polled.
            if idle.sleep.as_mut().poll(cx).is_ready() {
                if !this.activity.busy() {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the kept-alive connection was idle for idle_timeout",
                    )));
                }
                // A request is being worked on: look again a period later.
                idle.push_back();
                let _ = idle.sleep.as_mut().poll(cx);
            }
        }
        let before = buf.filled().len();
        let read = Pin::new(&mut this.io).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &read {
            let fresh = &buf.filled()[before..];
            if !fresh.is_empty() {
                if let Some(h) = &mut this.headers {
                    if h.scan(fresh) {
                        this.headers = None;
                    }
                }
                this.active();
            }
        }
        read
    }
}

impl AsyncWrite for LimitedIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.io).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &written {
            if *n > 0 {
                this.active();
            }
        }
        written
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = &written {
            if *n > 0 {
                this.active();
            }
        }
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deadline() -> HeaderDeadline {
        HeaderDeadline {
            sleep: Box::pin(tokio::time::sleep(Duration::from_secs(1))),
            state: 0,
        }
    }

    #[tokio::test]
    async fn the_end_of_a_header_section_is_found_across_reads() {
        let mut h = deadline();
        assert!(!h.scan(b"GET / HTTP/1.1\r\nHost: a\r"));
        assert!(!h.scan(b"\n"));
        assert!(!h.scan(b"\r"));
        assert!(h.scan(b"\n"));
        let mut h = deadline();
        assert!(h.scan(b"GET / HTTP/1.1\nHost: a\n\n"));
        let mut h = deadline();
        assert!(h.scan(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
        let mut h = deadline();
        assert!(!h.scan(b"GET / HTTP/1.1\r\nX: \r\r\n"));
    }

    #[test]
    fn slots_are_counted_per_ip_and_given_back_on_drop() {
        let counts = Arc::new(ConnCounts::default());
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let s1 = counts.take(a, 2).unwrap();
        let _s2 = counts.take(a, 2).unwrap();
        assert!(counts.take(a, 2).is_none());
        let _s3 = counts.take(b, 2).unwrap();
        assert_eq!(counts.open(a), 2);
        drop(s1);
        assert_eq!(counts.open(a), 1);
        assert!(counts.take(a, 2).is_some());
        assert!(counts.take(a, 0).is_some(), "0 is no cap");
    }

    #[test]
    fn a_mapped_ipv4_address_counts_as_itself() {
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(canonical(mapped), "10.0.0.1".parse::<IpAddr>().unwrap());
    }
}
