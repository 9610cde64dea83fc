//! `asa admin ...`: the operator's commands, on the same database and configuration as
//! `asa serve`. Every command takes `--json` for scripts.
//!
//! It only parses arguments, calls the store and prints: the rules (configured plans,
//! credit amounts, auto-top-up settings) are the store's, so they hold for every caller.

use anyhow::Context;
use asa_model::{AccountId, Credits, KeyId, KeyKind, RequestId};
use asa_server::Config;
use asa_store::{AutoTopup, NewAccount, Store, StoreError, TraceFilter};
use clap::Subcommand;
use serde_json::json;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, clap::Args)]
pub struct AdminArgs {
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Database URL (overrides `database_url` / `ASA_DATABASE_URL`).
    #[arg(long, global = true)]
    pub database_url: Option<String>,
    #[command(subcommand)]
    pub command: AdminCommand,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Accounts: create, show, list, auto-top-up.
    #[command(subcommand)]
    Account(AccountCommand),
    /// API keys: create, rotate, revoke, list.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Credits.
    #[command(subcommand)]
    Credits(CreditsCommand),
    /// Plans.
    #[command(subcommand)]
    Plan(PlanCommand),
    /// Pages the extractor could not read, kept for its maintainers.
    #[command(subcommand)]
    Failures(FailuresCommand),
    /// Copy the database to a new file while servers keep serving (SQLite's online
    /// backup). Restore: stop every node, put the copy in the database file's place, start
    /// them. PostgreSQL is backed up with pg_dump: this command prints how.
    Backup {
        /// The file to write; it must not exist yet.
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Print one request's trace (any account).
    Trace { request_id: RequestId },
    /// List traces, newest first.
    Traces {
        #[arg(long)]
        account: Option<AccountId>,
        /// How far back, e.g. `1h`, `2d`.
        #[arg(long)]
        since: Option<String>,
        /// Only this error code.
        #[arg(long)]
        code: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    Create {
        #[arg(long)]
        plan: String,
        #[arg(long, default_value_t = 0)]
        credits: i64,
        #[arg(long)]
        name: Option<String>,
    },
    Show {
        id: AccountId,
    },
    List,
    /// Turn auto-top-up on (all three values) or off (`--off`).
    SetAutoTopup {
        id: AccountId,
        #[arg(long, required_unless_present = "off")]
        threshold: Option<i64>,
        #[arg(long, required_unless_present = "off")]
        amount: Option<i64>,
        #[arg(long, required_unless_present = "off")]
        monthly_cap: Option<i64>,
        #[arg(long, conflicts_with_all = ["threshold", "amount", "monthly_cap"])]
        off: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    Create {
        #[arg(long)]
        account: AccountId,
        /// A sandbox key (`asa_test_`): served by the simulator, never billed.
        #[arg(long)]
        test: bool,
    },
    Rotate {
        key_id: KeyId,
        /// Keep the old key working this long, e.g. `1h`.
        #[arg(long)]
        grace: Option<String>,
    },
    Revoke {
        key_id: KeyId,
    },
    List {
        #[arg(long)]
        account: AccountId,
    },
}

#[derive(Debug, Subcommand)]
pub enum CreditsCommand {
    Add {
        #[arg(long)]
        account: AccountId,
        amount: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum FailuresCommand {
    /// Kept pages, newest first.
    List,
    /// One kept page's record and where its HTML is.
    Show { request_id: String },
    /// Copy kept pages (all, or those named) into a folder.
    Export {
        request_ids: Vec<String>,
        #[arg(long)]
        out: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    List,
}

fn print(json_mode: bool, value: serde_json::Value, text: String) {
    if json_mode {
        println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
    } else {
        println!("{text}");
    }
}

fn failures(config: &Config, json_mode: bool, cmd: FailuresCommand) -> anyhow::Result<ExitCode> {
    let keeper =
        asa_server::failures::FailureKeeper::new(&config.failures_dir, config.failures_keep);
    match cmd {
        FailuresCommand::List => {
            let all = keeper.list()?;
            let text = all
                .iter()
                .map(|r| {
                    format!(
                        "{}  {}  {:6} {:24} {:>9} B  {}",
                        r.created_at.format("%Y-%m-%d %H:%M:%S"),
                        r.request_id,
                        r.marketplace,
                        r.asked,
                        r.bytes,
                        r.reason
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            print(
                json_mode,
                json!({"id": "failures", "dir": keeper.dir(), "failures": all}),
                text,
            );
        }
        FailuresCommand::Show { request_id } => {
            let (r, html) = keeper.show(&request_id)?;
            let text = format!(
                "{}\nhtml: {}",
                serde_json::to_string_pretty(&r)?,
                html.display()
            );
            print(
                json_mode,
                json!({"id": r.request_id, "record": r, "html": html}),
                text,
            );
        }
        FailuresCommand::Export { request_ids, out } => {
            let n = keeper.export(&request_ids, std::path::Path::new(&out))?;
            print(
                json_mode,
                json!({"id": "export", "exported": n, "out": out}),
                format!("exported {n} page(s) to {out}"),
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run(mut config: Config, args: AdminArgs) -> anyhow::Result<ExitCode> {
    if let AdminCommand::Failures(cmd) = args.command {
        return failures(&config, args.json, cmd);
    }
    let rt = tokio::runtime::Runtime::new().context("starting the runtime")?;
    if let Some(url) = &args.database_url {
        config.database_url = url.clone();
    }
    rt.block_on(async move {
        let store = config.open_store().await.with_context(|| {
            format!(
                "opening {}",
                asa_server::config::mask_url(&config.database_url)
            )
        })?;
        execute(&config, store, args).await
    })
}

async fn execute(
    config: &Config,
    store: Arc<dyn Store>,
    args: AdminArgs,
) -> anyhow::Result<ExitCode> {
    let j = args.json;
    match args.command {
        AdminCommand::Account(AccountCommand::Create {
            plan,
            credits,
            name,
        }) => {
            let a = store
                .create_account(NewAccount {
                    plan,
                    name,
                    credits: Credits(credits),
                })
                .await?;
            print(
                j,
                json!({"id": a.id, "plan": a.plan, "name": a.name, "balance": a.balance}),
                a.id.to_string(),
            );
        }
        AdminCommand::Account(AccountCommand::Show { id }) => {
            let a = store
                .account(&id)
                .await?
                .with_context(|| format!("no account {id}"))?;
            let keys = store.keys(&id).await?;
            let value = json!({"id": a.id, "account": a, "keys": keys});
            let text = format!(
                "{}  plan {}  balance {}  reserved {}  auto-top-up {}  keys {}",
                a.id,
                a.plan,
                a.balance,
                a.reserved,
                a.auto_topup.map_or("off".to_string(), |t| format!(
                    "below {} add {} (cap {}/month)",
                    t.threshold, t.amount, t.monthly_cap
                )),
                keys.len()
            );
            print(j, value, text);
        }
        AdminCommand::Account(AccountCommand::List) => {
            let all = store.list_accounts().await?;
            let text = all
                .iter()
                .map(|a| format!("{}  {}  {}", a.id, a.plan, a.balance))
                .collect::<Vec<_>>()
                .join("\n");
            print(j, json!({"accounts": all}), text);
        }
        AdminCommand::Account(AccountCommand::SetAutoTopup {
            id,
            threshold,
            amount,
            monthly_cap,
            off,
        }) => {
            // clap holds either all three values or `--off`.
            let setting = match (threshold, amount, monthly_cap) {
                (Some(threshold), Some(amount), Some(monthly_cap)) if !off => Some(AutoTopup {
                    threshold: Credits(threshold),
                    amount: Credits(amount),
                    monthly_cap: Credits(monthly_cap),
                }),
                _ => None,
            };
            store.set_auto_topup(&id, setting).await?;
            print(
                j,
                json!({"id": id, "auto_topup": setting}),
                format!("{id}: auto-top-up {}", if off { "off" } else { "on" }),
            );
        }
        AdminCommand::Key(KeyCommand::Create { account, test }) => {
            let kind = if test { KeyKind::Test } else { KeyKind::Live };
            let (rec, key) = store.create_key(&account, kind).await?;
            print(
                j,
                json!({"id": rec.id, "key": key.expose(), "account_id": rec.account_id, "short_prefix": rec.short_prefix, "kind": rec.kind}),
                format!(
                    "{}\n(key id {}; the key is shown only this once)",
                    key.expose(),
                    rec.id
                ),
            );
        }
        AdminCommand::Key(KeyCommand::Rotate { key_id, grace }) => {
            let grace = grace
                .as_deref()
                .map(humantime::parse_duration)
                .transpose()
                .context("--grace")?;
            let (rec, key) = store.rotate_key(&key_id, grace).await?;
            print(
                j,
                json!({"id": rec.id, "key": key.expose(), "replaces": key_id, "short_prefix": rec.short_prefix}),
                format!(
                    "{}\n(new key id {}; {key_id} {})",
                    key.expose(),
                    rec.id,
                    grace.map_or("is revoked now".to_string(), |g| format!(
                        "keeps working for {}",
                        humantime::format_duration(g)
                    ))
                ),
            );
        }
        AdminCommand::Key(KeyCommand::Revoke { key_id }) => {
            let rec = store.revoke_key(&key_id).await?;
            print(
                j,
                json!({"id": rec.id, "state": rec.state}),
                format!("{} revoked", rec.id),
            );
        }
        AdminCommand::Key(KeyCommand::List { account }) => {
            let keys = store.keys(&account).await?;
            let text = keys
                .iter()
                .map(|k| {
                    format!(
                        "{}  {}{}…  {:?}  created {}",
                        k.id,
                        k.kind.prefix(),
                        k.short_prefix,
                        k.state,
                        k.created_at
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            print(j, json!({"id": account, "keys": keys}), text);
        }
        AdminCommand::Credits(CreditsCommand::Add { account, amount }) => {
            let balance = store
                .add_credits(&account, Credits(amount), "admin top-up")
                .await?;
            print(
                j,
                json!({"id": account, "balance": balance}),
                format!("{account}: balance {balance}"),
            );
        }
        AdminCommand::Plan(PlanCommand::List) => {
            let text = config
                .plans
                .iter()
                .map(|(n, p)| {
                    format!(
                        "{n:8} concurrency {:4}  rps {:6}  burst {:4}  countries {}",
                        p.concurrency,
                        p.rps,
                        p.burst,
                        serde_json::to_string(&p.countries).unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            print(j, json!({"id": "plans", "plans": config.plans}), text);
        }
        AdminCommand::Failures(cmd) => return failures(config, j, cmd),
        AdminCommand::Backup { out } => match store.backup(&out).await {
            Ok(()) => {
                let bytes = std::fs::metadata(&out).map(|m| m.len()).unwrap_or_default();
                print(
                    j,
                    json!({"id": "backup", "out": out, "bytes": bytes}),
                    format!("backed up to {} ({bytes} bytes)", out.display()),
                );
            }
            Err(StoreError::NoOnlineBackup) => anyhow::bail!(pg_dump_advice(config, &out)),
            Err(e) => return Err(e).with_context(|| format!("backing up to {}", out.display())),
        },
        AdminCommand::Trace { request_id } => {
            let Some(t) = store.trace(&request_id, None).await? else {
                eprintln!(
                    "no trace {request_id} (traces are kept {} days)",
                    config.trace_retention_days
                );
                return Ok(ExitCode::from(2));
            };
            let value = serde_json::to_value(&t)?;
            let text = serde_json::to_string_pretty(&value)?;
            print(j, json!({"id": t.request_id, "trace": value}), text);
        }
        AdminCommand::Traces {
            account,
            since,
            code,
            limit,
        } => {
            let since = since
                .as_deref()
                .map(|s| {
                    humantime::parse_duration(s).map(|d| {
                        chrono::Utc::now() - chrono::Duration::from_std(d).unwrap_or_default()
                    })
                })
                .transpose()
                .context("--since")?;
            let list = store
                .traces(&TraceFilter {
                    account_id: account,
                    key_prefix: None,
                    since,
                    code,
                    limit,
                    ..TraceFilter::default()
                })
                .await?;
            let text = list
                .iter()
                .map(|t| {
                    format!(
                        "{}  {}  {:>3} {:22} {:>6} ms  {}",
                        t.created_at.format("%Y-%m-%d %H:%M:%S"),
                        t.request_id,
                        t.status,
                        t.error_code.as_deref().unwrap_or("-"),
                        t.latency_ms,
                        t.endpoint
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            print(j, json!({"id": "traces", "traces": list}), text);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What to run instead of `asa admin backup` on PostgreSQL, with this configuration's
/// database (its password masked) and schema filled in.
fn pg_dump_advice(config: &Config, out: &std::path::Path) -> String {
    let url = asa_server::config::mask_url(&config.database_url);
    let schema = config
        .database_schema
        .as_deref()
        .map(|s| format!(" --schema={s}"))
        .unwrap_or_default();
    format!(
        "asa admin backup copies SQLite databases; this one is PostgreSQL, which pg_dump \
         backs up while the nodes keep serving:\n\n  \
         pg_dump --format=custom{schema} --file={out} '{url}'\n\n\
         and pg_restore puts back into an empty database (nodes stopped):\n\n  \
         pg_restore --no-owner --dbname='{url}' {out}{masked}",
        out = out.display(),
        masked = if url.contains(":***@") {
            "\n\n(the password is masked: put it back, or drop `:***` and give it in \
             PGPASSWORD or ~/.pgpass)"
        } else {
            ""
        }
    )
}
