//! `asa probe`: exits 0 when a node answers its readiness check (`GET /readyz`) with 200,
//! 1 otherwise. Container health checks run it: the runtime image has no curl, and the
//! probe finds the node where its configuration (`listen`) says it is.

use anyhow::Context;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct ProbeArgs {
    /// URL to ask (default: `/readyz` on the configured `listen` address, the unspecified
    /// address 0.0.0.0 or :: taken as loopback).
    #[arg(long)]
    pub url: Option<String>,
    /// Give up after this long, e.g. `3s`.
    #[arg(long, default_value = "5s")]
    pub timeout: String,
}

/// `/readyz` on `listen`, as a client on the same host reaches it.
fn readiness_url(listen: &str) -> anyhow::Result<String> {
    let mut addr: SocketAddr = listen
        .parse()
        .with_context(|| format!("listen = {listen:?} is not an address with a port"))?;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        });
    }
    Ok(format!("http://{addr}/readyz"))
}

pub fn run(file: Option<&str>, args: ProbeArgs) -> anyhow::Result<ExitCode> {
    let url = match args.url {
        Some(url) => url,
        None => {
            let config = asa_server::Config::load(file, std::env::vars())
                .context("loading configuration")?;
            readiness_url(&config.listen)?
        }
    };
    let timeout = humantime::parse_duration(&args.timeout).context("--timeout")?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let answer = rt.block_on(ask(&url, timeout));
    match answer {
        Ok(200) => Ok(ExitCode::SUCCESS),
        Ok(status) => {
            eprintln!("{url}: not ready ({status})");
            Ok(ExitCode::from(1))
        }
        Err(e) => {
            eprintln!("{url}: no answer ({:#})", anyhow::Error::from(e));
            Ok(ExitCode::from(1))
        }
    }
}

async fn ask(url: &str, timeout: Duration) -> Result<u16, reqwest::Error> {
    let client = reqwest::Client::builder().timeout(timeout).build()?;
    Ok(client.get(url).send().await?.status().as_u16())
}

#[cfg(test)]
mod tests {
    use super::readiness_url;

    #[test]
    fn the_unspecified_address_is_asked_on_loopback() {
        assert_eq!(
            readiness_url("0.0.0.0:8080").unwrap(),
            "http://127.0.0.1:8080/readyz"
        );
        assert_eq!(readiness_url("[::]:80").unwrap(), "http://[::1]:80/readyz");
        assert_eq!(
            readiness_url("10.1.2.3:9000").unwrap(),
            "http://10.1.2.3:9000/readyz"
        );
        assert!(readiness_url("localhost").is_err());
    }
}
