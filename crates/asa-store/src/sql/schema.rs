//! The migrations' state in the database, read without changing it, and their application.

use super::{Dialect, SqlStore, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
use crate::error::StoreError;
use crate::schema::{MigrationInfo, SchemaStatus};
use sqlx::migrate::{Migrate, Migrator};
use sqlx::Row;

impl Dialect {
    pub(crate) fn migrator(self) -> &'static Migrator {
        match self {
            Dialect::Sqlite => &SQLITE_MIGRATIONS,
            Dialect::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// Whether sqlx's bookkeeping table exists (in the connection's schema), asked so that
    /// reading the state never creates it.
    fn migrations_table_query(self) -> &'static str {
        match self {
            Dialect::Sqlite => {
                "SELECT COUNT(*) AS n FROM sqlite_master \
                 WHERE type = 'table' AND name = '_sqlx_migrations'"
            }
            Dialect::Postgres => {
                "SELECT COUNT(*) AS n FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = '_sqlx_migrations'"
            }
        }
    }
}

impl SqlStore {
    pub(crate) async fn schema_status_impl(&self) -> Result<SchemaStatus, StoreError> {
        let migrator = self.dialect.migrator();
        let mut conn = self.pool.acquire().await?;
        let row = sqlx::query(self.dialect.migrations_table_query())
            .fetch_one(&mut *conn)
            .await?;
        let tables: i64 = row.try_get("n")?;
        let (applied, dirty) = if tables == 0 {
            (Vec::new(), None)
        } else {
            (
                conn.list_applied_migrations().await?,
                conn.dirty_version().await?,
            )
        };
        let mut status = SchemaStatus {
            dirty,
            ..Default::default()
        };
        for m in migrator
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
        {
            match applied.iter().find(|a| a.version == m.version) {
                None => status.pending.push(MigrationInfo {
                    version: m.version,
                    description: m.description.to_string(),
                }),
                Some(a) if a.checksum != m.checksum => status.changed.push(m.version),
                Some(_) => {}
            }
        }
        status.unknown = applied
            .iter()
            .map(|a| a.version)
            .filter(|v| !migrator.version_exists(*v))
            .collect();
        Ok(status)
    }

    /// Applies what is pending and returns it. A database migrated by a newer asa, or
    /// with a changed or unfinished migration, is refused by sqlx with its reason.
    pub(crate) async fn migrate_impl(&self) -> Result<Vec<MigrationInfo>, StoreError> {
        let before = self.schema_status_impl().await?;
        self.dialect.migrator().run(&self.pool).await?;
        Ok(before.pending)
    }
}
