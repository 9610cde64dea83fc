//! asa-sim: being built; see its issue.
