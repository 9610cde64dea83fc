//! The `asa` binary: `serve`, `dev`, `admin ...`, `migrate`, `extract`, `sim`, the user's
//! client commands, and `probe`, `completions`, `man` for packaging.

mod admin;
mod cli;
mod dev;
mod extract;
mod manual;
mod migrate;
mod probe;
mod serve;
mod sim;
mod user;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    match cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(1)
        }
    }
}
