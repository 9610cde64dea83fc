//! `asa account` and `asa trace <request_id>`: one call each, the body as pretty JSON.

use super::{fail, print_json, ConnArgs};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
#[command(after_help = super::EXIT_CODES_HELP)]
pub struct AccountArgs {
    #[command(flatten)]
    pub conn: ConnArgs,
}

#[derive(Debug, clap::Args)]
#[command(after_help = super::EXIT_CODES_HELP)]
pub struct TraceArgs {
    /// A request id of your account (`req_` + 12 hex), as printed with every error.
    pub request_id: String,
    #[command(flatten)]
    pub conn: ConnArgs,
}

pub fn account(args: AccountArgs) -> anyhow::Result<ExitCode> {
    let rt = super::runtime()?;
    match rt.block_on(async { args.conn.builder().build()?.account().await }) {
        Ok(r) => {
            print_json(&r.raw)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Ok(fail(&e)),
    }
}

pub fn trace(args: TraceArgs) -> anyhow::Result<ExitCode> {
    let rt = super::runtime()?;
    let id = args.request_id.trim().to_string();
    match rt.block_on(async { args.conn.builder().build()?.trace(&id).await }) {
        Ok(r) => {
            print_json(&r.raw)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Ok(fail(&e)),
    }
}
