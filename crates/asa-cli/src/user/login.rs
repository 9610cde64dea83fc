//! `asa login <key>`: writes `~/.asa/credentials` (0600), keeping a base URL already there.

use super::{usage, ConnArgs};
use asa_client::Credentials;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
#[command(after_help = super::EXIT_CODES_HELP)]
pub struct LoginArgs {
    /// The API key (`asa_live_...` or `asa_test_...`).
    pub key: String,
    /// Also save this base URL.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Check the key against the server (GET /api/v1/account) before saving it.
    #[arg(long)]
    pub check: bool,
}

pub fn run(args: LoginArgs) -> anyhow::Result<ExitCode> {
    let key = args.key.trim();
    if asa_model::ApiKey::parse(key).is_none() {
        return Ok(usage(
            "that is not an asa key (asa_live_ or asa_test_ followed by 32 letters and digits)",
        ));
    }
    let Some(path) = Credentials::default_path() else {
        return Ok(usage(
            "HOME is not set: nowhere to write ~/.asa/credentials",
        ));
    };
    let mut creds = Credentials::load(&path)?;
    creds.api_key = Some(key.to_string());
    if let Some(u) = args.base_url {
        creds.base_url = Some(u);
    }
    if args.check {
        let conn = ConnArgs {
            base_url: creds.base_url.clone(),
            api_key: creds.api_key.clone(),
            timeout: None,
            max_attempts: 1,
            deadline: None,
            max_retry_delay: None,
            no_retry: true,
        };
        let rt = super::runtime()?;
        let result = rt.block_on(async { conn.builder().build()?.account().await });
        match result {
            Ok(a) => eprintln!(
                "key accepted: account {} on plan {}",
                a.data.account_id, a.data.plan
            ),
            Err(e) => return Ok(super::fail(&e)),
        }
    }
    creds.save(&path)?;
    eprintln!("saved to {} (mode 0600)", path.display());
    Ok(ExitCode::SUCCESS)
}
