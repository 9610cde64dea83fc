//! asa-upstream: being built; see its issue.
