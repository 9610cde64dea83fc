//! `asa completions <shell>` and `asa man`: shell completions and man pages, generated from
//! the same clap definitions that parse the command line, so they never drift from it.

use clap::CommandFactory;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for. Install, e.g.:
    /// `asa completions bash > /etc/bash_completion.d/asa`,
    /// `asa completions zsh > "${fpath[1]}/_asa"`,
    /// `asa completions fish > ~/.config/fish/completions/asa.fish`.
    pub shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write one page per command (`asa.1`, `asa-serve.1`, `asa-admin-backup.1`, ...) into
    /// this folder instead of printing `asa.1`; e.g. `asa man --out /usr/local/share/man/man1`.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn completions(args: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut cmd = crate::cli::Cli::command();
    // Rendered in memory first: clap_complete panics on a write error (a closed pipe).
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "asa", &mut script);
    print_all(&script)
}

pub fn man(args: ManArgs) -> anyhow::Result<ExitCode> {
    // The page's NAME line is "asa - <about>": the about without its own "asa - ".
    let cmd = crate::cli::Cli::command().about("a self-hostable Amazon Scraper API");
    match args.out {
        Some(dir) => {
            std::fs::create_dir_all(&dir)?;
            clap_mangen::generate_to(cmd, &dir)?;
            eprintln!("man pages written to {}", dir.display());
            Ok(ExitCode::SUCCESS)
        }
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut page)?;
            print_all(&page)
        }
    }
}

/// Writes to stdout; a reader that stopped early (`| head`) is not an error.
fn print_all(bytes: &[u8]) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}
