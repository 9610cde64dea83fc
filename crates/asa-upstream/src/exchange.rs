//! One attempt's HTTP exchange through one exit: the request with the session's
//! profile, headers and cookie jar, redirects followed by hand, and the decoded body
//! streamed under the size cap. Engine-neutral: the exit's client does the HTTP.

use crate::attempt::Outcome;
use crate::engine::ExitClient;
pub(crate) use crate::engine::Failure;
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
    /// Fetches `progress.url`, following redirects, and returns the decoded body of the
    /// final answer. Progress is updated as it goes, so a timeout still shows how far it got.
    pub(crate) async fn run(&self, progress: &mut Progress) -> Result<Bytes, Failure> {
        loop {
            let cookies = self.jar.cookies(&progress.url);
            let mut response = self
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
            let mut body = BytesMut::new();
            loop {
                let chunk = response.chunk().await?;
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
