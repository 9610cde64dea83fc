//! Other languages' runtimes (`python3`, `node`, `go`, a browser) that some tests drive.
//! `cargo test --workspace` must pass on a machine with only Rust and a C compiler, so a
//! test whose runtime is missing skips that part, saying why; under CI (`CI=true`, as
//! `.ci/run` runs) a missing runtime fails the test instead, so CI never passes a check it
//! did not run. Every such test asks here, so the rule holds in one place.

use std::process::{Command, Stdio};

/// Whether `program` runs (`program --version` succeeds). When it does not: panics under
/// CI, else prints that `purpose` is skipped and returns false.
pub fn usable(program: &str, purpose: &str) -> bool {
    let runs = Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if runs {
        return true;
    }
    if under_ci() {
        panic!("{program} does not run, and {purpose} needs it (CI=true: not skipped)");
    }
    eprintln!("skipping {purpose}: {program} does not run on this machine");
    false
}

/// `CI` set to anything but empty, `0` or `false` (CI services set `true` or `1`).
fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

#[cfg(test)]
mod tests {
    use super::usable;

    #[test]
    fn a_runtime_that_runs_is_usable() {
        // `cargo` runs wherever this test does.
        assert!(usable(env!("CARGO"), "this test"));
    }

    #[test]
    fn a_missing_runtime_is_skipped_or_fails_under_ci() {
        let missing = "asa-no-such-runtime";
        let outcome = std::panic::catch_unwind(|| usable(missing, "this test"));
        if super::under_ci() {
            assert!(outcome.is_err(), "under CI a missing runtime fails");
        } else {
            assert_eq!(outcome.ok(), Some(false));
        }
    }
}
