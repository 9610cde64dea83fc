//! asa-server: being built; see its issue.
