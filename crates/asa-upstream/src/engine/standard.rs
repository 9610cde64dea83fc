//! The standard engine: reqwest on rustls, one client per exit.

use super::Failure;
use crate::attempt::{classify_body, classify_send, describe};
use crate::config::UpstreamConfig;
use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, COOKIE};
use std::time::Duration;
use url::Url;

pub(super) fn build(proxy: Option<&Url>, cfg: &UpstreamConfig) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        // Redirects are followed by hand, to carry the session's cookie jar across hops
        // and record the final URL.
        .redirect(reqwest::redirect::Policy::none())
        .gzip(true)
        .brotli(true)
        .deflate(true)
        .use_rustls_tls()
        .connect_timeout(cfg.attempt_timeout.min(Duration::from_secs(10)))
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_nodelay(true);
    for pem in &cfg.extra_root_certs {
        let cert = reqwest::Certificate::from_pem(pem.as_bytes())
            .map_err(|e| format!("extra root certificate: {e}"))?;
        builder = builder.add_root_certificate(cert);
    }
    let builder = match proxy {
        Some(u) => {
            builder.proxy(reqwest::Proxy::all(u.as_str()).map_err(|e| e.without_url().to_string())?)
        }
        // Direct means direct: ignore HTTP(S)_PROXY from the environment.
        None => builder.no_proxy(),
    };
    builder.build().map_err(|e| e.without_url().to_string())
}

pub(super) async fn get(
    client: &reqwest::Client,
    url: &Url,
    headers: &HeaderMap,
    cookie: Option<HeaderValue>,
) -> Result<reqwest::Response, Failure> {
    let mut request = client.get(url.clone()).headers(headers.clone());
    if let Some(c) = cookie {
        request = request.header(COOKIE, c);
    }
    request
        .send()
        .await
        .map_err(|e| (classify_send(&e), describe(e)))
}

pub(super) async fn chunk(r: &mut reqwest::Response) -> Result<Option<Bytes>, Failure> {
    r.chunk()
        .await
        .map_err(|e| (classify_body(&e), describe(e)))
}
