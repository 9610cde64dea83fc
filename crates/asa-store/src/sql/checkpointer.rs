//! SQLite's WAL checkpoints, mostly off the write path. By default SQLite checkpoints inside
//! the commit that pushes the WAL past 1,000 pages: that commit copies the WAL's pages into
//! the database file and syncs it while it holds our one writer (`write_gate`), so every
//! reservation and charge queued behind it waits; on a database of a few hundred MB the
//! copy is scattered writes, and under load a tenth of the ledger's writes waited over
//! 25 ms for it. Here commits never checkpoint (`wal_autocheckpoint = 0`); a task of the
//! store's own does, a few times a second, in two passes:
//!
//! 1. a PASSIVE checkpoint without the writer, which SQLite runs beside writers and
//!    readers: it copies nearly all of the WAL;
//! 2. the same with the writer held, which has only the frames appended meanwhile to copy.
//!    Only a writer that begins after a checkpoint has reached the WAL's end starts the WAL
//!    over from its beginning, and with writers appending back to back none would: the
//!    first version of this ran pass 1 alone and the WAL grew to 9.6 GB in five minutes of
//!    load (`tests/store/open.rs` holds both passes to this).

use super::write_gate::{Lane, WriteGate};
use sqlx::{AnyPool, Row};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How often the WAL is copied back. At the rates a node sustains this keeps the WAL to a
/// few MB, as SQLite's default did.
const EVERY: Duration = Duration::from_millis(250);

/// The pragma every connection of a file database runs.
pub(crate) const NO_AUTOCHECKPOINT: &str = "PRAGMA wal_autocheckpoint = 0;";

/// The running task; it stops when this is dropped (with its store).
pub(crate) struct Checkpointer(JoinHandle<()>);

impl Checkpointer {
    pub(crate) fn start(pool: AnyPool, writer: Arc<WriteGate>) -> Checkpointer {
        Checkpointer(tokio::spawn(async move {
            let mut tick = tokio::time::interval(EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // The WAL's length when pass 2 last copied all of it.
            let mut done_at = 0;
            loop {
                tick.tick().await;
                if pool.is_closed() {
                    return;
                }
                match checkpoint(&pool).await {
                    // Nothing appended since pass 2 last reached the end (or the WAL has
                    // started over and is empty): the writer need not wait.
                    Ok(p) if p.frames == done_at || p.frames <= 0 => continue,
                    Ok(_) => {}
                    Err(e) => {
                        warn(e);
                        continue;
                    }
                }
                // Even when pass 1 reached the end, a writer that began before it did has
                // appended since, and only a writer that begins after a checkpoint has
                // reached the end starts the WAL over.
                let _held = writer.enter(Lane::Other).await;
                match checkpoint(&pool).await {
                    Ok(p) if p.copied >= p.frames => done_at = p.frames,
                    Ok(_) => {}
                    Err(e) => warn(e),
                }
            }
        }))
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What `PRAGMA wal_checkpoint` reports: frames in the WAL, and how many are copied back.
struct Progress {
    frames: i64,
    copied: i64,
}

async fn checkpoint(pool: &AnyPool) -> Result<Progress, sqlx::Error> {
    // `fetch_all` steps the statement to its end: a statement left after its first row
    // would hold a read transaction open, and with it the WAL.
    let rows = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_all(pool)
        .await?;
    let Some(row) = rows.first() else {
        return Ok(Progress {
            frames: 0,
            copied: 0,
        });
    };
    Ok(Progress {
        frames: row.try_get::<i64, _>(1)?,
        copied: row.try_get::<i64, _>(2)?,
    })
}

/// A failed checkpoint leaves the WAL to the next one; the database is whole either way.
fn warn(e: sqlx::Error) {
    tracing::warn!(error = %e, "WAL checkpoint failed; the next one retries");
}
