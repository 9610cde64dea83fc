//! The browser engine: wreq on BoringSSL, one client per exit and profile, each built
//! from the profile's wreq-util emulation (TLS ClientHello, HTTP/2 settings and
//! priorities, header set and order). Clients are built on first use, so an exit only
//! holds the profiles its sessions have used.

use super::Failure;
use crate::attempt::{classify_failure, describe_error};
use crate::config::UpstreamConfig;
use crate::profile::{Emulated, Profile};
use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, COOKIE};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use url::Url;
use wreq_util::{Emulation, EmulationOS, EmulationOption};

pub(crate) struct Clients {
    proxy: Option<Url>,
    connect_timeout: Duration,
    cert_store: Option<wreq::tls::CertStore>,
    built: Mutex<HashMap<&'static str, wreq::Client>>,
}

fn option(e: Emulated) -> EmulationOption {
    let (emulation, os) = match e {
        Emulated::Chrome137Windows => (Emulation::Chrome137, EmulationOS::Windows),
        Emulated::Chrome137MacOs => (Emulation::Chrome137, EmulationOS::MacOS),
        Emulated::Edge134Windows => (Emulation::Edge134, EmulationOS::Windows),
        Emulated::Firefox139Windows => (Emulation::Firefox139, EmulationOS::Windows),
        Emulated::Firefox139MacOs => (Emulation::Firefox139, EmulationOS::MacOS),
        Emulated::Safari18_5MacOs => (Emulation::Safari18_5, EmulationOS::MacOS),
    };
    EmulationOption::builder()
        .emulation(emulation)
        .emulation_os(os)
        .build()
}

impl Clients {
    pub(crate) fn new(proxy: Option<&Url>, cfg: &UpstreamConfig) -> Result<Clients, String> {
        let cert_store = if cfg.extra_root_certs.is_empty() {
            None
        } else {
            // Extra roots are added to the public ones, never in their place.
            let mut b = wreq::tls::CertStore::builder().add_der_certs(
                webpki_root_certs::TLS_SERVER_ROOT_CERTS
                    .iter()
                    .map(|c| c.as_ref()),
            );
            for pem in &cfg.extra_root_certs {
                b = b.add_pem_cert(pem.as_bytes());
            }
            Some(
                b.build()
                    .map_err(|e| format!("extra root certificate: {e}"))?,
            )
        };
        let clients = Clients {
            proxy: proxy.cloned(),
            connect_timeout: cfg.attempt_timeout.min(Duration::from_secs(10)),
            cert_store,
            built: Mutex::new(HashMap::new()),
        };
        // Build one client now so a bad proxy URL or certificate fails at startup.
        clients.build(
            crate::profile::EMULATED[0]
                .emulated
                .unwrap_or(Emulated::Chrome137Windows),
        )?;
        Ok(clients)
    }

    fn build(&self, e: Emulated) -> Result<wreq::Client, String> {
        let mut b = wreq::Client::builder()
            .emulation(option(e))
            // Redirects are followed by hand, as with the standard engine.
            .redirect(wreq::redirect::Policy::none())
            .connect_timeout(self.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true);
        if let Some(store) = &self.cert_store {
            b = b.cert_store(store.clone());
        }
        b = match &self.proxy {
            Some(u) => {
                b.proxy(wreq::Proxy::all(u.as_str()).map_err(|e| e.without_url().to_string())?)
            }
            None => b.no_proxy(),
        };
        b.build().map_err(|e| e.without_url().to_string())
    }

    fn client(&self, profile: &Profile) -> Result<wreq::Client, Failure> {
        let e = profile.emulated.unwrap_or(Emulated::Chrome137Windows);
        let mut built = self.built.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = built.get(profile.id) {
            return Ok(c.clone());
        }
        let c = self
            .build(e)
            .map_err(|why| (crate::attempt::Outcome::ConnectError, why))?;
        built.insert(profile.id, c.clone());
        Ok(c)
    }

    pub(crate) async fn get(
        &self,
        profile: &Profile,
        url: &Url,
        headers: &HeaderMap,
        cookie: Option<HeaderValue>,
    ) -> Result<wreq::Response, Failure> {
        let client = self.client(profile)?;
        let mut request = client.get(url.as_str());
        for (name, value) in headers {
            request = request.header(name, value);
        }
        if let Some(c) = cookie {
            request = request.header(COOKIE, c);
        }
        request.send().await.map_err(|e| {
            let outcome = classify_failure(e.is_timeout(), e.is_connect(), &e);
            (outcome, describe_error(&e.without_url()))
        })
    }
}

pub(super) async fn chunk(r: &mut wreq::Response) -> Result<Option<Bytes>, Failure> {
    r.chunk().await.map_err(|e| {
        let outcome = if e.is_timeout() {
            crate::attempt::Outcome::Timeout
        } else {
            crate::attempt::Outcome::Truncated
        };
        (outcome, describe_error(&e.without_url()))
    })
}
