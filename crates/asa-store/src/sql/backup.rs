//! Online backup of a SQLite store: `VACUUM INTO` on one of the store's own connections.
//! It reads the database in one read transaction, so the copy is the database as of one
//! commit, and in WAL mode the ledger's writer and the checkpointer go on meanwhile (the
//! checkpointer only cannot copy back past the backup's snapshot until it ends).
//!
//! The copy is written beside `out` under a `.partial` name, synced, then renamed: a backup
//! cut short (a full disk, a kill) never leaves a file under the name an operator restores.
//! PostgreSQL has its own tool for this, `pg_dump`; the store refuses there.

use super::{Dialect, SqlStore};
use crate::error::StoreError;
use std::path::{Path, PathBuf};

impl SqlStore {
    pub(crate) async fn backup_impl(&self, out: &Path) -> Result<(), StoreError> {
        if self.dialect == Dialect::Postgres {
            return Err(StoreError::NoOnlineBackup);
        }
        let Some(target) = out.to_str() else {
            return Err(StoreError::InvalidArgument(format!(
                "backup file {}: the path must be UTF-8",
                out.display()
            )));
        };
        // VACUUM INTO refuses a file that exists; say so before it does, in our words.
        if out.exists() {
            return Err(StoreError::InvalidArgument(format!(
                "backup file {target} exists: a backup goes to a new file"
            )));
        }
        let partial = PathBuf::from(format!("{target}.partial"));
        // Left by an interrupted backup: never a file anyone restores (see above).
        match std::fs::remove_file(&partial) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&partial, e)),
        }
        let mut conn = self.pool.acquire().await?;
        let partial_name = partial.to_str().unwrap_or(target).to_string();
        sqlx::query("VACUUM INTO $1")
            .bind(partial_name)
            .execute(&mut *conn)
            .await?;
        drop(conn);
        let (partial, out) = (partial, out.to_path_buf());
        tokio::task::spawn_blocking(move || durable_rename(&partial, &out))
            .await
            .map_err(|e| StoreError::Io(format!("backup: {e}")))?
    }
}

/// Syncs `from`, renames it to `to`, and syncs the folder so the rename survives a crash.
fn durable_rename(from: &Path, to: &Path) -> Result<(), StoreError> {
    std::fs::File::open(from)
        .and_then(|f| f.sync_all())
        .map_err(|e| io(from, e))?;
    std::fs::rename(from, to).map_err(|e| io(to, e))?;
    let dir = match to.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io(dir, e))
}

fn io(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Io(format!("{}: {e}", path.display()))
}
