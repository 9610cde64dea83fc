//! asa-limits: being built; see its issue.
