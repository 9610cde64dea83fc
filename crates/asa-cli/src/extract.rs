//! `asa extract <file>`: classify a saved page and print its fields as one JSON object.

use anyhow::Context;
use asa_model::Marketplace;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ExtractArgs {
    /// The saved page.
    pub file: Option<String>,
    /// Marketplace the page is from (`com`, `de`, ...).
    #[arg(long, default_value = "com")]
    pub domain: String,
    /// The ASIN that was requested (a product page).
    #[arg(long)]
    pub asin: Option<String>,
    /// The query that was searched (a search page).
    #[arg(long)]
    pub query: Option<String>,
    /// Result page number of a search page.
    #[arg(long, default_value_t = 1)]
    pub page: u32,
}

pub fn run(args: ExtractArgs) -> anyhow::Result<ExitCode> {
    let marketplace = Marketplace::from_domain(&args.domain)
        .with_context(|| format!("unknown --domain {}", args.domain))?;
    let file = args.file.as_deref().context("give a file to extract")?;
    let html = std::fs::read(file).with_context(|| format!("reading {file}"))?;
    let target = match (&args.query, &args.asin) {
        (Some(q), _) => asa_extract::Target::Search {
            query: q,
            page: args.page,
        },
        (None, Some(a)) => asa_extract::Target::Product { asin: a },
        (None, None) => asa_extract::Target::Product { asin: "" },
    };
    let extraction = asa_extract::extract(
        &html,
        &asa_extract::Request {
            marketplace,
            target,
        },
    );
    println!("{}", extraction.page.kind());
    Ok(ExitCode::SUCCESS)
}
