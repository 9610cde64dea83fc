//! Pages the extractor could not read, kept on disk (newest N) beside what is known of
//! their request, so the extractor can be fixed from real failures. Writes happen on the
//! blocking pool, off the answer's path; a failed write is logged, never surfaced.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What is known of a kept page (`<request_id>.json` beside `<request_id>.html`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FailureRecord {
    pub request_id: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub marketplace: String,
    /// The ASIN or search query asked for.
    pub asked: String,
    pub url: String,
    pub reason: String,
    pub extractor_version: String,
    pub bytes: u64,
}

#[derive(Debug, Clone)]
pub struct FailureKeeper {
    dir: PathBuf,
    keep: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum FailureError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("no kept page {0}")]
    Missing(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FailureError + '_ {
    move |source| FailureError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Request ids are `req_` + hex (with `.pN` for search pages); nothing else names a file.
fn valid_id(id: &str) -> bool {
    id.starts_with("req_")
        && id.len() <= 40
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
}

impl FailureKeeper {
    pub fn new(dir: impl Into<PathBuf>, keep: usize) -> FailureKeeper {
        FailureKeeper {
            dir: dir.into(),
            keep,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Keeps the page from a blocking thread; errors are logged.
    pub fn keep_in_background(&self, record: FailureRecord, body: bytes::Bytes) {
        if self.keep == 0 {
            return;
        }
        let keeper = self.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = keeper.keep(&record, &body) {
                tracing::warn!(request_id = %record.request_id, error = %e, "could not keep the failed page");
            }
        });
    }

    pub fn keep(&self, record: &FailureRecord, body: &[u8]) -> Result<(), FailureError> {
        if !valid_id(&record.request_id) {
            return Err(FailureError::Missing(record.request_id.clone()));
        }
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let html = self.dir.join(format!("{}.html", record.request_id));
        std::fs::write(&html, body).map_err(io(&html))?;
        let meta = self.dir.join(format!("{}.json", record.request_id));
        let text = serde_json::to_vec_pretty(record).map_err(|e| FailureError::Parse {
            path: meta.display().to_string(),
            message: e.to_string(),
        })?;
        std::fs::write(&meta, text).map_err(io(&meta))?;
        self.prune()
    }

    /// Drops the oldest kept pages beyond `keep`.
    fn prune(&self) -> Result<(), FailureError> {
        let mut all = self.list()?;
        if all.len() <= self.keep {
            return Ok(());
        }
        for old in all.split_off(self.keep) {
            for ext in ["html", "json"] {
                let p = self.dir.join(format!("{}.{ext}", old.request_id));
                if let Err(e) = std::fs::remove_file(&p) {
                    if e.kind() != std::io::ErrorKind::NotFound {
                        return Err(io(&p)(e));
                    }
                }
            }
        }
        Ok(())
    }

    /// Kept pages, newest first.
    pub fn list(&self) -> Result<Vec<FailureRecord>, FailureError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(io(&self.dir)(e)),
        };
        let mut out = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            match std::fs::read(&path)
                .ok()
                .and_then(|b| serde_json::from_slice::<FailureRecord>(&b).ok())
            {
                Some(r) => out.push(r),
                None => tracing::warn!(path = %path.display(), "unreadable failure record skipped"),
            }
        }
        out.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| b.request_id.cmp(&a.request_id))
        });
        Ok(out)
    }

    pub fn show(&self, request_id: &str) -> Result<(FailureRecord, PathBuf), FailureError> {
        if !valid_id(request_id) {
            return Err(FailureError::Missing(request_id.to_string()));
        }
        let meta = self.dir.join(format!("{request_id}.json"));
        let bytes =
            std::fs::read(&meta).map_err(|_| FailureError::Missing(request_id.to_string()))?;
        let record = serde_json::from_slice(&bytes).map_err(|e| FailureError::Parse {
            path: meta.display().to_string(),
            message: e.to_string(),
        })?;
        Ok((record, self.dir.join(format!("{request_id}.html"))))
    }

    /// Copies kept pages (all, or the ones named) into `out`, as `<id>.html` + `<id>.json`.
    pub fn export(&self, ids: &[String], out: &Path) -> Result<usize, FailureError> {
        std::fs::create_dir_all(out).map_err(io(out))?;
        let records = if ids.is_empty() {
            self.list()?
        } else {
            ids.iter()
                .map(|id| self.show(id).map(|(r, _)| r))
                .collect::<Result<_, _>>()?
        };
        for r in &records {
            for ext in ["html", "json"] {
                let from = self.dir.join(format!("{}.{ext}", r.request_id));
                let to = out.join(format!("{}.{ext}", r.request_id));
                std::fs::copy(&from, &to).map_err(io(&from))?;
            }
        }
        Ok(records.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, secs: i64) -> FailureRecord {
        FailureRecord {
            request_id: id.into(),
            created_at: chrono::DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap(),
            marketplace: "de".into(),
            asked: "B000LQXC2Q".into(),
            url: "https://www.amazon.de/dp/B000LQXC2Q".into(),
            reason: "no product title found".into(),
            extractor_version: "0.1.0".into(),
            bytes: 4,
        }
    }

    #[test]
    fn keeps_the_newest_n_and_exports_them() {
        let dir = tempfile::tempdir().unwrap();
        let k = FailureKeeper::new(dir.path().join("failures"), 3);
        for i in 0..5 {
            k.keep(&record(&format!("req_00000000000{i}"), i), b"<html>")
                .unwrap();
        }
        let ids: Vec<_> = k
            .list()
            .unwrap()
            .into_iter()
            .map(|r| r.request_id)
            .collect();
        assert_eq!(
            ids,
            ["req_000000000004", "req_000000000003", "req_000000000002"]
        );
        assert!(k.show("req_000000000000").is_err());
        let (r, html) = k.show("req_000000000003").unwrap();
        assert_eq!(r.asked, "B000LQXC2Q");
        assert_eq!(std::fs::read(html).unwrap(), b"<html>");
        let out = dir.path().join("export");
        assert_eq!(k.export(&[], &out).unwrap(), 3);
        assert!(out.join("req_000000000002.html").exists());
    }

    #[test]
    fn refuses_ids_that_are_not_request_ids() {
        let dir = tempfile::tempdir().unwrap();
        let k = FailureKeeper::new(dir.path(), 3);
        assert!(k.show("../etc/passwd").is_err());
        assert!(k.keep(&record("../x", 0), b"x").is_err());
    }
}
