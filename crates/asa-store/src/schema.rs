//! Where a database's schema stands against this build's migrations: what `/readyz`,
//! `asa migrate --check` and `asa migrate` read (`Store::schema_status`).

/// One migration of this build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationInfo {
    pub version: i64,
    pub description: String,
}

impl std::fmt::Display for MigrationInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04} {}", self.version, self.description)
    }
}

/// The database's schema compared with the migrations this build carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaStatus {
    /// Known to this build, not applied yet: oldest first.
    pub pending: Vec<MigrationInfo>,
    /// Applied, but unknown to this build: a newer asa migrated this database.
    pub unknown: Vec<i64>,
    /// Applied with other contents than this build's file of the same version.
    pub changed: Vec<i64>,
    /// A migration that started and never finished.
    pub dirty: Option<i64>,
}

impl SchemaStatus {
    /// The schema is exactly what this build expects: nothing to apply, nothing foreign.
    pub fn is_current(&self) -> bool {
        self.pending.is_empty()
            && self.unknown.is_empty()
            && self.changed.is_empty()
            && self.dirty.is_none()
    }

    /// One line saying what is wrong, or `"current"`.
    pub fn summary(&self) -> String {
        if self.is_current() {
            return "current".into();
        }
        let mut parts = Vec::new();
        if let Some(v) = self.dirty {
            parts.push(format!("migration {v} started and did not finish"));
        }
        if !self.pending.is_empty() {
            let names: Vec<String> = self.pending.iter().map(|m| m.to_string()).collect();
            parts.push(format!("pending: {}", names.join(", ")));
        }
        if !self.unknown.is_empty() {
            parts.push(format!(
                "applied by a newer asa: {}",
                join_versions(&self.unknown)
            ));
        }
        if !self.changed.is_empty() {
            parts.push(format!(
                "applied with different contents: {}",
                join_versions(&self.changed)
            ));
        }
        parts.join("; ")
    }
}

fn join_versions(v: &[i64]) -> String {
    v.iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
