//! `asa extract <file>`: classify a saved page and print its fields as one JSON object;
//! `asa extract --corpus <dir>`: run over saved pages with expected values and report.

use anyhow::{bail, Context};
use asa_corpus::{self as corpus, OwnedTarget};
use asa_model::Marketplace;
use std::path::Path;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ExtractArgs {
    /// The saved page.
    pub file: Option<String>,
    /// Marketplace the page is from (`com`, `de`, ...); inferred from the file name when
    /// not given.
    #[arg(long)]
    pub domain: Option<String>,
    /// The ASIN that was requested (a product page).
    #[arg(long)]
    pub asin: Option<String>,
    /// The query that was searched (a search page).
    #[arg(long)]
    pub query: Option<String>,
    /// Result page number of a search page.
    #[arg(long, default_value_t = 1)]
    pub page: u32,
    /// Run over a folder of saved pages with `*.expected.json` beside them and report, per
    /// field, how many pages match.
    #[arg(long, conflicts_with = "file")]
    pub corpus: Option<String>,
    /// With `--corpus`: print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: ExtractArgs) -> anyhow::Result<ExitCode> {
    if let Some(dir) = &args.corpus {
        let report = corpus::run_corpus(Path::new(dir));
        if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            print!("{report}");
        }
        return Ok(if report.all_matched() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    let Some(file) = args.file.as_deref() else {
        bail!("give a file to extract, or --corpus <dir>")
    };
    let path = Path::new(file);
    let html = std::fs::read(path).with_context(|| format!("reading {file}"))?;
    let inferred = corpus::infer_request(path, corpus::expected_for(path).as_ref());
    let marketplace = match &args.domain {
        Some(d) => Marketplace::from_domain(d).with_context(|| format!("unknown --domain {d}"))?,
        None => inferred
            .as_ref()
            .map(|(m, _)| *m)
            .unwrap_or(Marketplace::Us),
    };
    let target = match (&args.query, &args.asin, inferred) {
        (Some(q), _, _) => OwnedTarget::Search {
            query: q.clone(),
            page: args.page,
        },
        (None, Some(a), _) => OwnedTarget::Product {
            asin: a.to_ascii_uppercase(),
        },
        (None, None, Some((_, t))) => t,
        (None, None, None) => OwnedTarget::Product {
            asin: String::new(),
        },
    };
    let extraction = asa_extract::extract(
        &html,
        &asa_extract::Request {
            marketplace,
            target: target.as_target(),
        },
    );
    println!("{}", serde_json::to_string_pretty(&extraction.to_json())?);
    Ok(ExitCode::SUCCESS)
}
