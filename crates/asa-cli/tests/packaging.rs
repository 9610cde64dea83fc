//! What packagers and container images use of the binary: `asa completions <shell>`,
//! `asa man`, and `asa probe` (the image's health check).

mod support;

use std::process::{Command, Output};

fn asa(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_asa"))
        .args(args)
        .output()
        .expect("asa runs")
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn completions_cover_every_command_and_parse_in_their_shell() {
    let bash = stdout(&asa(&["completions", "bash"]));
    for word in [
        "serve",
        "admin",
        "backup",
        "completions",
        "probe",
        "--database-url",
    ] {
        assert!(bash.contains(word), "bash completions lack {word}");
    }
    // The script is valid bash.
    if asa_server::dev_runtime::usable("bash", "checking the bash completions' syntax") {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("asa.bash");
        std::fs::write(&file, &bash).unwrap();
        let check = Command::new("bash").arg("-n").arg(&file).output().unwrap();
        assert!(
            check.status.success(),
            "{}",
            String::from_utf8_lossy(&check.stderr)
        );
    }

    assert!(stdout(&asa(&["completions", "zsh"])).starts_with("#compdef asa"));
    assert!(stdout(&asa(&["completions", "fish"])).contains("complete -c asa"));
    let refused = asa(&["completions", "tcsh"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("possible values"));
}

#[test]
fn the_man_page_documents_the_commands() {
    let page = stdout(&asa(&["man"]));
    assert!(page.contains(".TH asa 1"), "{page}");
    assert!(
        page.contains("asa \\- a self\\-hostable Amazon Scraper API"),
        "{page}"
    );
    assert!(page.contains("asa\\-serve(1)"), "{page}");

    let dir = tempfile::tempdir().unwrap();
    let out = asa(&["man", "--out", dir.path().to_str().unwrap()]);
    assert!(out.status.success());
    for page in [
        "asa.1",
        "asa-serve.1",
        "asa-admin-backup.1",
        "asa-completions.1",
    ] {
        let text = std::fs::read_to_string(dir.path().join(page)).unwrap();
        assert!(text.starts_with(".ie") || text.contains(".TH"), "{page}");
    }
    let backup = std::fs::read_to_string(dir.path().join("asa-admin-backup.1")).unwrap();
    assert!(backup.contains("pg_dump"), "{backup}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_probe_passes_only_on_a_200() {
    let shared = support::Shared::sqlite();
    let sim = asa_sim::start_local(asa_sim::SimConfig::default())
        .await
        .unwrap();
    let node = support::start_node(&shared, &sim, &[]);
    let probe = |url: String| {
        let out = Command::new(env!("CARGO_BIN_EXE_asa"))
            .args(["probe", "--url", &url, "--timeout", "2s"])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(probe(format!("{}/healthz", node.base)).0, Some(0));
    let (code, err) = probe(format!("{}/no-such-page", node.base));
    assert_eq!(code, Some(1));
    assert!(err.contains("not ready (404)"), "{err}");
    drop(node);
    let (code, err) = probe(format!("{}/healthz", closed_base()));
    assert_eq!(code, Some(1));
    assert!(err.contains("no answer"), "{err}");
}

/// A loopback address nothing listens on: a port bound and released.
fn closed_base() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}
