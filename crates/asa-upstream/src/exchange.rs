//! One attempt's HTTP exchange through one exit: the request with the session's
//! profile, headers and cookie jar, redirects followed by hand ([`Exchange::answer`]),
//! then the decoded body streamed under the size cap ([`Exchange::body`]); the fetch
//! loop takes a page slot between the two. Engine-neutral: the exit's client does the HTTP.

use crate::attempt::Outcome;
pub(crate) use crate::engine::Failure;
use crate::engine::{Answer, ExitClient};
use crate::profile::Profile;
use bytes::{Bytes, BytesMut};
use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use url::Url;

/// What the exchange got so far; read after it ends or is cut by a timeout.
#[derive(Debug)]
pub(crate) struct Progress {
    /// The URL of the current hop; the final URL once the exchange is over.
    pub url: Url,
    pub status: Option<u16>,
    pub bytes: u64,
    pub hops: u32,
}

impl Progress {
    pub(crate) fn new(url: Url) -> Progress {
        Progress {
            url,
            status: None,
            bytes: 0,
            hops: 0,
        }
    }
}

pub(crate) struct Exchange<'a> {
    pub client: &'a ExitClient,
    pub profile: &'a Profile,
    pub headers: &'a HeaderMap,
    pub jar: &'a Jar,
    pub body_cap: usize,
    pub max_redirects: u32,
}

impl Exchange<'_> {
    /// Asks for `progress.url`, following redirects, and returns the final answer with its
    /// body still unread. Progress is updated as it goes, so a timeout still shows how far
    /// it got.
    pub(crate) async fn answer(&self, progress: &mut Progress) -> Result<Answer, Failure> {
        loop {
            let cookies = self.jar.cookies(&progress.url);
            let response = self
                .client
                .get(self.profile, &progress.url, self.headers, cookies)
                .await?;
            let status = response.status();
            progress.status = Some(status);
            self.jar.set_cookies(
                &mut response.headers().get_all(SET_COOKIE).iter(),
                &progress.url,
            );

            if (300..400).contains(&status) && status != 304 {
                progress.url = self.next_hop(progress, response.headers())?;
                progress.hops += 1;
                continue;
            }
            if status == 407 {
                return Err((
                    Outcome::ProxyError,
                    "proxy authentication required".to_string(),
                ));
            }
            if let Some(len) = response.content_length() {
                if len > self.body_cap as u64 {
                    return Err(too_large(self.body_cap, Some(len)));
                }
            }
            return Ok(response);
        }
    }

    /// Reads the decoded body of `answer` under the cap, copying it once. With a known
    /// length the buffer has that size from the start; otherwise (a compressed answer) the
    /// decoder's chunks are kept as they come and joined once into a buffer of the exact
    /// size (a growing buffer would copy a big page several times and reserve up to
    /// twice its size).
    pub(crate) async fn body(
        &self,
        mut answer: Answer,
        progress: &mut Progress,
    ) -> Result<Bytes, Failure> {
        let known = answer.content_length().map(|n| n as usize);
        let mut sized = BytesMut::with_capacity(known.unwrap_or(0));
        let mut chunks: Vec<Bytes> = Vec::new();
        let mut len = 0usize;
        while let Some(chunk) = answer.chunk().await? {
            progress.bytes += chunk.len() as u64;
            len += chunk.len();
            if len > self.body_cap {
                return Err(too_large(self.body_cap, None));
            }
            if len <= sized.capacity() {
                sized.extend_from_slice(&chunk);
            } else {
                chunks.push(chunk);
            }
        }
        if chunks.is_empty() {
            return Ok(sized.freeze());
        }
        if sized.is_empty() && chunks.len() == 1 {
            return Ok(chunks.pop().unwrap_or_default());
        }
        // The length was unknown (or wrong): one join of everything read.
        let mut body = BytesMut::with_capacity(len);
        body.extend_from_slice(&sized);
        drop(sized);
        for chunk in chunks.drain(..) {
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }

    fn next_hop(&self, progress: &Progress, headers: &HeaderMap) -> Result<Url, Failure> {
        let redirect = |why: String| (Outcome::Redirect, why);
        if progress.hops >= self.max_redirects {
            return Err(redirect(format!(
                "more than {} redirects",
                self.max_redirects
            )));
        }
        let location = headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| redirect("redirect without a Location".to_string()))?;
        let next = progress
            .url
            .join(location)
            .map_err(|e| redirect(format!("redirect to an invalid Location: {e}")))?;
        if !matches!(next.scheme(), "http" | "https") {
            return Err(redirect(format!("redirect to a {} URL", next.scheme())));
        }
        Ok(next)
    }
}

fn too_large(cap: usize, announced: Option<u64>) -> Failure {
    let why = match announced {
        Some(len) => format!("body of {len} bytes announced, cap is {cap}"),
        None => format!("decoded body passed the cap of {cap} bytes"),
    };
    (Outcome::TooLarge, why)
}
