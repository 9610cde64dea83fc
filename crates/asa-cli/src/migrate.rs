//! `asa migrate`: applies the database's pending migrations, or with `--check` lists them
//! and fails, so a deployment can change the schema once, before (or without) any node
//! doing it on start (`migrate = false`).

use anyhow::Context;
use asa_server::Config;
use serde_json::json;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// Change nothing: list what is pending and exit 1 when the schema is not current.
    #[arg(long)]
    pub check: bool,
    /// Database URL (overrides `database_url` / `ASA_DATABASE_URL`).
    #[arg(long)]
    pub database_url: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Exit status of `--check` when the schema is not current.
const NOT_CURRENT: u8 = 1;

pub fn run(mut config: Config, args: MigrateArgs) -> anyhow::Result<ExitCode> {
    if let Some(url) = &args.database_url {
        config.database_url = url.clone();
    }
    // Opened as `serve` and `admin` open it, except that opening applies nothing: what
    // happens to the schema is this command's to say.
    config.migrate = false;
    let rt = tokio::runtime::Runtime::new().context("starting the runtime")?;
    rt.block_on(async move {
        let where_ = asa_server::config::mask_url(&config.database_url);
        let store = config
            .open_store()
            .await
            .with_context(|| format!("opening {where_}"))?;
        let status = store
            .schema_status()
            .await
            .context("reading the applied migrations")?;
        let pending: Vec<String> = status.pending.iter().map(|m| m.to_string()).collect();
        if args.check {
            if args.json {
                println!(
                    "{}",
                    json!({
                        "current": status.is_current(),
                        "pending": pending,
                        "unknown": status.unknown,
                        "changed": status.changed,
                        "dirty": status.dirty,
                    })
                );
            } else {
                println!("{where_}: {}", status.summary());
            }
            return Ok(match status.is_current() {
                true => ExitCode::SUCCESS,
                false => ExitCode::from(NOT_CURRENT),
            });
        }
        let applied = store
            .migrate()
            .await
            .with_context(|| format!("migrating {where_} ({})", status.summary()))?;
        let applied: Vec<String> = applied.iter().map(|m| m.to_string()).collect();
        if args.json {
            println!("{}", json!({"applied": applied}));
        } else if applied.is_empty() {
            println!("{where_}: already current");
        } else {
            println!("{where_}: applied {}", applied.join(", "));
        }
        Ok(ExitCode::SUCCESS)
    })
}
