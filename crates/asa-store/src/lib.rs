//! asa-store: being built; see its issue.
