//! One attempt's HTTP exchange through one exit: the request with the attempt's headers
//! and cookie jar, redirects followed by hand, and the decoded body streamed under the
//! size cap.

use crate::attempt::{classify_body, classify_send, describe, Outcome};
use bytes::{Bytes, BytesMut};
use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{HeaderMap, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Client, StatusCode};
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

/// A failed exchange: the outcome and a short reason.
pub(crate) type Failure = (Outcome, String);

pub(crate) struct Exchange<'a> {
    pub client: &'a Client,
    pub headers: &'a HeaderMap,
    pub jar: &'a Jar,
    pub body_cap: usize,
    pub max_redirects: u32,
}

impl Exchange<'_> {
    /// Fetches `progress.url`, following redirects, and returns the decoded body of the
    /// final answer. Progress is updated as it goes, so a timeout still shows how far it got.
    pub(crate) async fn run(&self, progress: &mut Progress) -> Result<Bytes, Failure> {
        loop {
            let mut request = self
                .client
                .get(progress.url.clone())
                .headers(self.headers.clone());
            if let Some(cookies) = self.jar.cookies(&progress.url) {
                request = request.header(COOKIE, cookies);
            }
            let mut response = request
                .send()
                .await
                .map_err(|e| (classify_send(&e), describe(e)))?;
            let status = response.status();
            progress.status = Some(status.as_u16());
            self.jar.set_cookies(
                &mut response.headers().get_all(SET_COOKIE).iter(),
                &progress.url,
            );

            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                progress.url = self.next_hop(progress, response.headers())?;
                progress.hops += 1;
                continue;
            }
            if status == StatusCode::PROXY_AUTHENTICATION_REQUIRED {
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
            let mut body = BytesMut::new();
            loop {
                let chunk = response
                    .chunk()
                    .await
                    .map_err(|e| (classify_body(&e), describe(e)))?;
                let Some(chunk) = chunk else { break };
                progress.bytes += chunk.len() as u64;
                if body.len() + chunk.len() > self.body_cap {
                    return Err(too_large(self.body_cap, None));
                }
                body.extend_from_slice(&chunk);
            }
            return Ok(body.freeze());
        }
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
