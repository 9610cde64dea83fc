//! asa-extract: being built; see its issue.
