//! The user commands of `asa`: `login`, `product`, `search`, `trace`, `account`, `batch`,
//! `batch-status`. They call the API through `asa-client`, which owns the retry policy;
//! this module owns argument parsing, output and the bulk runner.
//!
//! Exit codes (documented in `asa --help` and the README):
//! - 0: every request succeeded.
//! - 1: at least one request failed with an API error (each failure is printed or
//!   written with its request id).
//! - 2: usage or configuration error: bad arguments, no key, a key the server refuses
//!   (401), an unreadable input file.
//! - 3: the server could not be reached (connection, timeout, deadline).
//! - 4: an output could not be written (closed pipe, full disk); the run stopped there.
//! - 130 / 143: interrupted by SIGINT / SIGTERM (everything answered until then is written).
//!
//! # Layout
//! - `mod.rs`: connection and retry flags, client construction, exit codes, error lines.
//! - `login.rs`, `account.rs` (account, trace), `batch.rs`: the single-call commands.
//! - `fetch.rs`: `product` and `search` arguments and inputs.
//! - `bulk.rs`: the runner: bounded concurrency and pacing from the account's limits,
//!   outputs, failures, summary.
//! - `output.rs`: pretty JSON, NDJSON and CSV records.
//! - `records.rs`: whole, flushed records in files and on stdout; the summary file whole.
//! - `resume.rs`: `--resume`: the inputs an earlier run answered.
//! - `interrupt.rs`: SIGINT and SIGTERM as events of a run.
//! - `progress.rs`: progress on stderr: a bar on a terminal, plain lines otherwise, with
//!   the requests waiting to retry.

pub mod account;
pub mod batch;
pub mod bulk;
pub mod fetch;
pub mod interrupt;
pub mod login;
pub mod output;
pub mod progress;
pub mod records;
pub mod resume;

use asa_client::{Client, ClientBuilder, Error, RetryPolicy};
use std::process::ExitCode;
use std::time::Duration;

/// Every request succeeded.
pub const EXIT_OK: u8 = 0;
/// At least one request failed with an API error.
pub const EXIT_FAILED: u8 = 1;
/// Usage or configuration error.
pub const EXIT_USAGE: u8 = 2;
/// The server could not be reached.
pub const EXIT_UNREACHABLE: u8 = 3;
/// An output could not be written.
pub const EXIT_OUTPUT: u8 = 4;

/// Shown under `--help` of every user command.
pub const EXIT_CODES_HELP: &str =
    "Exit codes: 0 every request succeeded; 1 at least one request failed \
(each failure is printed with its code, message and request id); 2 usage or configuration error \
(bad arguments, no key, key refused, unreadable input); 3 the server could not be reached; \
4 an output could not be written (closed pipe, full disk); 130 / 143 interrupted by SIGINT / SIGTERM. \
A first Ctrl-C (or SIGTERM) starts no new request and writes the ones in flight; a second stops \
at once. No output is ever left with a partial record; --resume continues a stopped run.";

/// Where the API is and how to retry; shared by every user command.
#[derive(Debug, Clone, clap::Args)]
pub struct ConnArgs {
    /// API base URL [default: ASA_BASE_URL, then ~/.asa/credentials, then http://127.0.0.1:8080].
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// API key [default: ASA_API_KEY, then ~/.asa/credentials].
    #[arg(long, value_name = "KEY")]
    pub api_key: Option<String>,
    /// Time for one attempt, e.g. `90s`.
    #[arg(long, value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub timeout: Option<Duration>,
    /// Attempts per request, the first included (the retry policy of docs/API.md: 4).
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub max_attempts: u32,
    /// Overall budget of one request, all attempts and waits together, e.g. `5m`.
    #[arg(long, value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub deadline: Option<Duration>,
    /// Do not retry a failure whose wait would be longer, e.g. `10s` skips the 60 s class.
    #[arg(long, value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub max_retry_delay: Option<Duration>,
    /// One attempt per request.
    #[arg(long)]
    pub no_retry: bool,
}

impl ConnArgs {
    pub fn policy(&self) -> RetryPolicy {
        if self.no_retry {
            return RetryPolicy::off();
        }
        RetryPolicy {
            max_attempts: self.max_attempts.max(1),
            deadline: self.deadline,
            max_delay: self.max_retry_delay,
            ..RetryPolicy::default()
        }
    }

    pub fn builder(&self) -> ClientBuilder {
        let mut b = Client::builder().retry(self.policy());
        if let Some(u) = &self.base_url {
            b = b.base_url(u);
        }
        if let Some(k) = &self.api_key {
            b = b.api_key(k);
        }
        if let Some(t) = self.timeout {
            b = b.timeout(Some(t));
        }
        b
    }
}

/// A current-thread runtime is enough: the work is I/O.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// The exit code for a call that failed.
pub fn exit_code_of(e: &Error) -> u8 {
    match e {
        Error::Config(_) => EXIT_USAGE,
        Error::Transport { .. } | Error::Deadline { .. } => EXIT_UNREACHABLE,
        Error::Api(api) if api.status == 401 => EXIT_USAGE,
        _ => EXIT_FAILED,
    }
}

/// Prints the error as one line on stderr and returns its exit code.
pub fn fail(e: &Error) -> ExitCode {
    eprintln!("{}", e.one_line());
    ExitCode::from(exit_code_of(e))
}

/// Pretty JSON on stdout.
pub fn print_json(v: &serde_json::Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// A usage error: one line, exit 2.
pub fn usage(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(EXIT_USAGE)
}
