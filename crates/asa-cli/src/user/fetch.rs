//! `asa product` and `asa search`: their arguments, where their inputs come from
//! (arguments, `--input FILE`, or stdin when it is piped), and the hand-off to the bulk
//! runner.

use super::bulk::{self, Job};
use super::output::{parse_fields, Format, Kind};
use super::{usage, ConnArgs};
use asa_client::{ProductParams, SearchParams, SortBy};
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

/// Output and bulk-run flags shared by `product` and `search`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// One JSON body per line (NDJSON).
    #[arg(long, conflicts_with = "csv")]
    pub json_per_line: bool,
    /// CSV with a header row (see --fields).
    #[arg(long)]
    pub csv: bool,
    /// CSV columns, dotted paths into the body, e.g. `asin,title,price,featured_merchant.name`.
    #[arg(long, requires = "csv", value_name = "a,b,c")]
    pub fields: Option<String>,
    /// Write the results here instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Write failures here as NDJSON (input, code, message, request ids) instead of stderr.
    #[arg(long, value_name = "FILE")]
    pub failures: Option<PathBuf>,
    /// Write the run's summary here as JSON.
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,
    /// Requests in flight at once [default: the account's `limits.concurrency`].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Requests per second [default: the account's `limits.rps`].
    #[arg(long, value_name = "RPS")]
    pub rps: Option<f64>,
    /// No progress: neither the bar (on a terminal) nor the plain progress lines.
    #[arg(long)]
    pub no_progress: bool,
    /// Continue the run that wrote -o (and --failures): skip the inputs it answered and
    /// append the rest. Needs --json-per-line or --csv. Inputs are matched by the request
    /// (ASIN or URL, marketplace, and the other parameters), not by text alone.
    #[arg(long, requires = "output")]
    pub resume: bool,
}

impl RunArgs {
    fn format(&self, kind: Kind) -> Format {
        if self.csv {
            let fields = match &self.fields {
                Some(f) => parse_fields(f),
                None => kind
                    .default_fields()
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            };
            Format::Csv(fields)
        } else if self.json_per_line {
            Format::Ndjson
        } else {
            Format::Pretty
        }
    }
}

#[derive(Debug, clap::Args)]
#[command(after_help = super::EXIT_CODES_HELP)]
pub struct ProductArgs {
    /// ASINs / ISBN-10s or Amazon product URLs.
    #[arg(value_name = "ASIN|URL")]
    pub inputs: Vec<String>,
    /// Read inputs from this file, one per line (`-` for stdin; `#` starts a comment).
    #[arg(long, short = 'i', value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Marketplace TLD: com, co.uk, de, fr, ... (default com).
    #[arg(long)]
    pub domain: Option<String>,
    /// Interface language, xx_YY (default: the marketplace's).
    #[arg(long)]
    pub language: Option<String>,
    /// Exit country, ISO alpha-2 (default: the marketplace's).
    #[arg(long)]
    pub country: Option<String>,
    /// Attach the raw page under `html`.
    #[arg(long)]
    pub add_html: bool,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub conn: ConnArgs,
}

#[derive(Debug, clap::Args)]
#[command(after_help = super::EXIT_CODES_HELP)]
pub struct SearchArgs {
    /// The search query (several words are one query; use --input for many queries).
    #[arg(value_name = "QUERY")]
    pub query: Vec<String>,
    /// Read queries from this file, one per line (`-` for stdin).
    #[arg(long, short = 'i', value_name = "FILE")]
    pub input: Option<PathBuf>,
    #[arg(long)]
    pub domain: Option<String>,
    #[arg(long)]
    pub language: Option<String>,
    #[arg(long)]
    pub country: Option<String>,
    /// best_match, price_asc, price_desc, avg_customer_review, newest.
    #[arg(long, alias = "sort-by", value_parser = parse_sort)]
    pub sort: Option<SortBy>,
    /// First result page, 1..=10.
    #[arg(long)]
    pub start_page: Option<u32>,
    /// Result pages to fetch, 1..=10 (each is billed as one request).
    #[arg(long)]
    pub pages: Option<u32>,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub conn: ConnArgs,
}

fn parse_sort(s: &str) -> Result<SortBy, String> {
    SortBy::parse(s).ok_or_else(|| {
        let all: Vec<_> = SortBy::ALL.iter().map(|v| v.as_str()).collect();
        format!("one of {}", all.join(", "))
    })
}

/// Non-empty, non-comment lines.
fn read_lines(r: impl BufRead) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    for line in r.lines() {
        let line = line?;
        let t = line.trim();
        if !t.is_empty() && !t.starts_with('#') {
            out.push(t.to_string());
        }
    }
    Ok(out)
}

/// Arguments, then `--input`, then stdin when nothing else was given and it is piped.
fn gather(args: Vec<String>, file: Option<&PathBuf>) -> Result<Vec<String>, String> {
    let mut inputs = args;
    match file {
        Some(p) if p.as_os_str() == "-" => inputs.extend(
            read_lines(std::io::stdin().lock()).map_err(|e| format!("reading stdin: {e}"))?,
        ),
        Some(p) => {
            let f = std::fs::File::open(p).map_err(|e| format!("{}: {e}", p.display()))?;
            inputs.extend(
                read_lines(std::io::BufReader::new(f))
                    .map_err(|e| format!("{}: {e}", p.display()))?,
            );
        }
        None if inputs.is_empty() && !std::io::stdin().is_terminal() => inputs.extend(
            read_lines(std::io::stdin().lock()).map_err(|e| format!("reading stdin: {e}"))?,
        ),
        None => {}
    }
    Ok(inputs)
}

pub fn product(args: ProductArgs) -> anyhow::Result<ExitCode> {
    let inputs = match gather(args.inputs, args.input.as_ref()) {
        Ok(i) if i.is_empty() => {
            return Ok(usage(
                "no ASIN given: pass ASINs or URLs, --input FILE, or pipe them on stdin",
            ))
        }
        Ok(i) => i,
        Err(e) => return Ok(usage(e)),
    };
    let jobs = inputs
        .into_iter()
        .map(|q| {
            let mut p = ProductParams::new(q.clone());
            p.domain = args.domain.clone();
            p.language = args.language.clone();
            p.country = args.country.clone();
            p.add_html = args.add_html.then_some(true);
            Job::Product(q, p)
        })
        .collect();
    bulk::run(
        jobs,
        Kind::Product,
        args.run.format(Kind::Product),
        &args.run,
        &args.conn,
    )
}

pub fn search(args: SearchArgs) -> anyhow::Result<ExitCode> {
    let joined = args.query.join(" ");
    let positional = if joined.trim().is_empty() {
        vec![]
    } else {
        vec![joined.trim().to_string()]
    };
    let queries = match gather(positional, args.input.as_ref()) {
        Ok(q) if q.is_empty() => {
            return Ok(usage(
                "no query given: pass one, --input FILE, or pipe queries on stdin",
            ))
        }
        Ok(q) => q,
        Err(e) => return Ok(usage(e)),
    };
    let jobs = queries
        .into_iter()
        .map(|q| {
            let mut p = SearchParams::new(q.clone());
            p.domain = args.domain.clone();
            p.language = args.language.clone();
            p.country = args.country.clone();
            p.sort_by = args.sort;
            p.start_page = args.start_page;
            p.pages = args.pages;
            Job::Search(q, p)
        })
        .collect();
    bulk::run(
        jobs,
        Kind::Search,
        args.run.format(Kind::Search),
        &args.run,
        &args.conn,
    )
}
