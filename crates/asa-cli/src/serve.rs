//! `asa serve`: load the configuration, open the store, and run the API.

use anyhow::Context;
use asa_server::config::LogFormat;
use asa_server::{Application, Config};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (overrides `listen` / `ASA_LISTEN`).
    #[arg(long)]
    pub listen: Option<String>,
    /// Database URL (overrides `database_url` / `ASA_DATABASE_URL`).
    #[arg(long)]
    pub database_url: Option<String>,
    /// Print the effective configuration (secrets masked) and exit.
    #[arg(long)]
    pub print_config: bool,
    /// Log as JSON lines instead of text (overrides `log_format` / `ASA_LOG_FORMAT`).
    #[arg(long)]
    pub json_logs: bool,
    /// Leave the schema as it is: only `asa migrate` applies migrations (overrides
    /// `migrate` / `ASA_MIGRATE`).
    #[arg(long)]
    pub no_migrate: bool,
}

pub fn load_config(file: Option<&str>, args: &ServeArgs) -> anyhow::Result<Config> {
    let mut config = Config::load(file, std::env::vars()).context("loading configuration")?;
    if let Some(l) = &args.listen {
        config.listen = l.clone();
    }
    if let Some(d) = &args.database_url {
        config.database_url = d.clone();
    }
    if args.no_migrate {
        config.migrate = false;
    }
    Ok(config)
}

/// Logs to stderr, filtered by `ASA_LOG`, in the configured `log_format` unless the
/// `--json-logs` flag asks for JSON: the one place the format is decided.
pub fn init_logs(config: &Config, json_flag: bool) {
    let json = json_flag || config.log_format == LogFormat::Json;
    let filter = tracing_subscriber::EnvFilter::try_from_env("ASA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

pub fn run(file: Option<&str>, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(file, &args)?;
    if args.print_config {
        print!("{}", config.masked_toml());
        return Ok(ExitCode::SUCCESS);
    }
    init_logs(&config, args.json_logs);
    let rt = tokio::runtime::Runtime::new().context("starting the runtime")?;
    rt.block_on(async move {
        let app = Application::build(config).await?;
        tracing::info!(addr = %app.addr(), "asa listening");
        if let Some(key) = app.bootstrap_key() {
            println!("Created a sandbox account. Its key (shown once): {key}");
            println!("Try: curl -s 'http://{}/api/v1/amazon/product?query=B000LQXC2Q' -H 'Authorization: Bearer {key}'", app.addr());
            println!("Or sign in with it at http://{}/dashboard", app.addr());
        }
        if let Some(admin) = app.admin_addr() {
            tracing::info!(addr = %admin, "operator pages at /operator");
        }
        app.run_until_stopped(shutdown_signal())
            .await?;
        Ok(ExitCode::SUCCESS)
    })
}

pub use asa_server::app::shutdown_signal;
