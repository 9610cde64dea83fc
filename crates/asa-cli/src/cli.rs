//! Command-line surface. Each subcommand lives in its own module; this one only parses and
//! dispatches.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "asa",
    version,
    about = "asa - a self-hostable Amazon Scraper API"
)]
pub struct Cli {
    /// TOML configuration file (also `ASA_CONFIG`).
    #[arg(long, global = true, env = "ASA_CONFIG")]
    pub config: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API server.
    Serve(crate::serve::ServeArgs),
    /// Run the simulator and the API server together on free ports, for tests and trying
    /// asa out; prints where they listen (--json: one JSON line), serves until SIGTERM.
    Dev(crate::dev::DevArgs),
    /// Run the Amazon simulator standalone.
    Sim(crate::sim::SimArgs),
    /// Operator commands on the server's database.
    Admin(crate::admin::AdminArgs),
    /// Apply the database's pending migrations (--check: list them, exit 1 if any).
    Migrate(crate::migrate::MigrateArgs),
    /// Classify a saved Amazon page and extract its fields, or report over a corpus.
    Extract(crate::extract::ExtractArgs),
    /// Save an API key to ~/.asa/credentials (mode 0600).
    Login(crate::user::login::LoginArgs),
    /// Fetch product pages: ASINs or URLs from arguments, --input, or stdin.
    Product(crate::user::fetch::ProductArgs),
    /// Search Amazon: one query, or many from --input or stdin.
    Search(crate::user::fetch::SearchArgs),
    /// Print the stored trace of one of your requests.
    Trace(crate::user::account::TraceArgs),
    /// Print your account: plan, limits, credits, usage.
    Account(crate::user::account::AccountArgs),
    /// Create an asynchronous batch from a file of items.
    Batch(crate::user::batch::BatchArgs),
    /// Print a batch's status and results.
    BatchStatus(crate::user::batch::BatchStatusArgs),
    /// Exit 0 when a node answers `/readyz` with 200, 1 otherwise (container health checks).
    Probe(crate::probe::ProbeArgs),
    /// Print the shell completion script for bash, zsh, fish, elvish or PowerShell.
    Completions(crate::manual::CompletionsArgs),
    /// Print the man page (or write one per command with --out).
    Man(crate::manual::ManArgs),
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => crate::serve::run(cli.config.as_deref(), args),
        Command::Dev(args) => crate::dev::run(cli.config.as_deref(), args),
        Command::Extract(args) => crate::extract::run(args),
        Command::Sim(args) => crate::sim::run(cli.config.as_deref(), args),
        Command::Login(args) => crate::user::login::run(args),
        Command::Product(args) => crate::user::fetch::product(args),
        Command::Search(args) => crate::user::fetch::search(args),
        Command::Trace(args) => crate::user::account::trace(args),
        Command::Account(args) => crate::user::account::account(args),
        Command::Batch(args) => crate::user::batch::create(args),
        Command::BatchStatus(args) => crate::user::batch::status(args),
        Command::Migrate(args) => {
            let config = asa_server::Config::load(cli.config.as_deref(), std::env::vars())?;
            crate::migrate::run(config, args)
        }
        Command::Probe(args) => crate::probe::run(cli.config.as_deref(), args),
        Command::Completions(args) => crate::manual::completions(args),
        Command::Man(args) => crate::manual::man(args),
        Command::Admin(args) => {
            let config = asa_server::Config::load(cli.config.as_deref(), std::env::vars())?;
            crate::admin::run(config, args)
        }
    }
}
