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
    /// Run the Amazon simulator standalone.
    Sim(crate::sim::SimArgs),
    /// Operator commands on the server's database.
    Admin(crate::admin::AdminArgs),
    /// Classify a saved Amazon page and extract its fields, or report over a corpus.
    Extract(crate::extract::ExtractArgs),
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => crate::serve::run(cli.config.as_deref(), args),
        Command::Extract(args) => crate::extract::run(args),
        Command::Sim(args) => crate::sim::run(args),
        Command::Admin(args) => {
            let config = asa_server::Config::load(cli.config.as_deref(), std::env::vars())?;
            crate::admin::run(config, args)
        }
    }
}
