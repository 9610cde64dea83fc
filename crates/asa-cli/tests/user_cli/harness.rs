//! A server and its simulator in the test's runtime (`asa_server::dev`), and the `asa`
//! binary run against it with a private HOME (so `~/.asa/credentials` is the test's own).

#![allow(dead_code)]

use asa_model::{AccountId, Credits, KeyKind};
use asa_server::config::{Countries, CountryKeyword, PlanConfig};
use asa_server::dev::{Dev, Launch};
use asa_server::Config;
use asa_store::{NewAccount, Store};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub struct Server {
    pub base: String,
    pub store: Arc<dyn Store>,
    pub home: tempfile::TempDir,
    _dev: Dev,
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// A plan for fast bulk tests: the limits are real, only higher than the defaults.
pub fn bulk_plan(concurrency: u32, rps: f64, burst: u32) -> PlanConfig {
    PlanConfig {
        concurrency,
        rps,
        burst,
        countries: Countries::Keyword(CountryKeyword::Any),
    }
}

impl Server {
    pub async fn start(sim: asa_sim::SimConfig, tweak: impl FnOnce(&mut Config)) -> Server {
        let mut config = Config::default();
        config.sandbox.bootstrap = false;
        config.upstream.timeout = Duration::from_secs(5);
        config.upstream.attempt_timeout = Duration::from_secs(3);
        tweak(&mut config);
        let dev = Launch::new(config)
            .sim(sim)
            .start()
            .await
            .expect("server starts");
        Server {
            base: dev.api_url(),
            store: dev.store(),
            home: tempfile::tempdir().unwrap(),
            _dev: dev,
        }
    }

    /// A new account on `plan` and its key.
    pub async fn key(&self, plan: &str, credits: i64, kind: KeyKind) -> (String, String) {
        let a = self
            .store
            .create_account(NewAccount {
                plan: plan.into(),
                name: None,
                credits: Credits(credits),
            })
            .await
            .unwrap();
        let (_, key) = self.store.create_key(&a.id, kind).await.unwrap();
        (a.id.into_string(), key.expose().to_string())
    }

    pub async fn balance(&self, account: &str) -> i64 {
        let account = AccountId::from(account);
        self.store
            .account(&account)
            .await
            .unwrap()
            .unwrap()
            .balance
            .get()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }

    /// `asa <args>` with `ASA_BASE_URL` pointing here, `key` as `ASA_API_KEY` (if any),
    /// HOME the test's temp dir, and `stdin` piped in.
    pub async fn asa(&self, key: Option<&str>, args: &[&str], stdin: Option<&str>) -> Output {
        asa_in(self.home.path(), Some(&self.base), key, args, stdin).await
    }
}

/// The `asa` command with `ASA_BASE_URL` / `ASA_API_KEY` as given and HOME `home`.
fn command(
    home: &Path,
    base: Option<&str>,
    key: Option<&str>,
    args: &[&str],
) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_asa"));
    cmd.args(args)
        .env_remove("ASA_API_KEY")
        .env_remove("ASA_BASE_URL")
        .env_remove("ASA_CONFIG")
        .env("HOME", home)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if let Some(b) = base {
        cmd.env("ASA_BASE_URL", b);
    }
    if let Some(k) = key {
        cmd.env("ASA_API_KEY", k);
    }
    cmd
}

pub async fn asa_in(
    home: &Path,
    base: Option<&str>,
    key: Option<&str>,
    args: &[&str],
    stdin: Option<&str>,
) -> Output {
    use tokio::io::AsyncWriteExt;
    let mut child = command(home, base, key, args).spawn().expect("asa runs");
    let mut pipe = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        pipe.write_all(s.as_bytes()).await.unwrap();
    }
    drop(pipe);
    let out = tokio::time::timeout(Duration::from_secs(240), child.wait_with_output())
        .await
        .expect("asa finishes")
        .unwrap();
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// An `asa` still running: its stderr is read as it comes, so a test can wait for a line
/// and then signal it.
pub struct Running {
    child: tokio::process::Child,
    stdout: tokio::task::JoinHandle<String>,
    stderr: Arc<std::sync::Mutex<String>>,
    reader: tokio::task::JoinHandle<()>,
}

impl Server {
    /// `asa <args>` started and left running, stdin closed; `keep_stdout: false` closes the
    /// reading end of its stdout at once.
    pub fn spawn(&self, key: Option<&str>, args: &[&str], keep_stdout: bool) -> Running {
        use tokio::io::{AsyncBufReadExt, AsyncReadExt};
        let mut child = command(self.home.path(), Some(&self.base), key, args)
            .stdin(std::process::Stdio::null())
            .spawn()
            .expect("asa runs");
        let mut out = child.stdout.take().unwrap();
        let stdout = tokio::spawn(async move {
            let mut s = String::new();
            if keep_stdout {
                let _ = out.read_to_string(&mut s).await;
            }
            s
        });
        let stderr = Arc::new(std::sync::Mutex::new(String::new()));
        let (sink, err) = (stderr.clone(), child.stderr.take().unwrap());
        let reader = tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(err).lines();
            while let Ok(Some(l)) = lines.next_line().await {
                let mut s = sink.lock().unwrap();
                s.push_str(&l);
                s.push('\n');
            }
        });
        Running {
            child,
            stdout,
            stderr,
            reader,
        }
    }
}

impl Running {
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until stderr contains `needle`; panics with what it has after `within`.
    pub async fn wait_for_stderr(&self, needle: &str, within: Duration) {
        let until = tokio::time::Instant::now() + within;
        while !self.stderr().contains(needle) {
            assert!(
                tokio::time::Instant::now() < until,
                "no {needle:?} on stderr after {within:?}:\n{}",
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sends a signal (`INT`, `TERM`) with kill(1).
    pub fn signal(&self, name: &str) {
        let pid = self.child.id().expect("still running").to_string();
        let st = std::process::Command::new("kill")
            .args([format!("-{name}"), pid])
            .status()
            .unwrap();
        assert!(st.success());
    }

    pub async fn finish(mut self) -> Output {
        let status = tokio::time::timeout(Duration::from_secs(240), self.child.wait())
            .await
            .expect("asa finishes")
            .unwrap();
        let _ = self.reader.await;
        let stderr = self.stderr.lock().unwrap().clone();
        Output {
            code: status.code().unwrap_or(-1),
            stdout: self.stdout.await.unwrap(),
            stderr,
        }
    }
}
