//! Whole-record writes for the outputs of a bulk run (results, `--failures`): each record
//! (an NDJSON line, the CSV rows of one body) goes out in one write and is flushed before
//! the next request's result is handled, so an interrupt between records loses nothing.
//! When a write fails (a closed pipe, a full disk), a file is cut back to its last
//! complete record, and the error says which it was. `--summary` is written whole through
//! a temporary file and a rename.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Why an output could not be written, in words.
#[derive(Debug)]
pub struct WriteError {
    pub what: String,
    pub why: &'static str,
    pub source: std::io::Error,
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot write {}: {} ({})",
            self.what, self.why, self.source
        )
    }
}

impl std::error::Error for WriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl WriteError {
    fn new(what: &str, source: std::io::Error) -> WriteError {
        WriteError {
            what: what.to_string(),
            why: cause(&source),
            source,
        }
    }
}

/// The cause a user can act on.
pub fn cause(e: &std::io::Error) -> &'static str {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::BrokenPipe => "the reading end of the pipe was closed",
        K::StorageFull => "the disk is full",
        K::QuotaExceeded => "the disk quota is exceeded",
        K::PermissionDenied => "permission denied",
        K::NotFound => "no such file or directory",
        _ => "write error",
    }
}

enum Target {
    File(File),
    Stdout,
}

/// A file or stdout that takes whole records.
pub struct RecordOut {
    target: Target,
    /// What error messages call it: the path, or `stdout`.
    what: String,
    /// Bytes of complete records in the file.
    committed: u64,
}

impl RecordOut {
    pub fn stdout() -> RecordOut {
        RecordOut {
            target: Target::Stdout,
            what: "stdout".to_string(),
            committed: 0,
        }
    }

    /// A new, empty file.
    pub fn create(path: &Path) -> Result<RecordOut, WriteError> {
        let what = path.display().to_string();
        let f = File::create(path).map_err(|e| WriteError::new(&what, e))?;
        Ok(RecordOut {
            target: Target::File(f),
            what,
            committed: 0,
        })
    }

    /// An existing file, kept up to `keep` bytes (its complete records), written after them.
    pub fn continue_after(path: &Path, keep: u64) -> Result<RecordOut, WriteError> {
        let what = path.display().to_string();
        let open = || -> std::io::Result<File> {
            let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
            f.set_len(keep)?;
            f.seek(SeekFrom::Start(keep))?;
            Ok(f)
        };
        Ok(RecordOut {
            target: Target::File(open().map_err(|e| WriteError::new(&what, e))?),
            what,
            committed: keep,
        })
    }

    /// Writes one complete record and flushes it. On error a file is cut back to the end
    /// of its last complete record.
    pub fn record(&mut self, bytes: &[u8]) -> Result<(), WriteError> {
        let written = match &mut self.target {
            Target::File(f) => f.write_all(bytes).and_then(|_| f.flush()),
            Target::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(bytes).and_then(|_| out.flush())
            }
        };
        match written {
            Ok(()) => {
                self.committed += bytes.len() as u64;
                Ok(())
            }
            Err(e) => {
                if let Target::File(f) = &mut self.target {
                    // Best effort: a device such as /dev/full cannot be cut, and has no
                    // partial record to cut either.
                    let _ = f.set_len(self.committed);
                    let _ = f.seek(SeekFrom::Start(self.committed));
                }
                Err(WriteError::new(&self.what, e))
            }
        }
    }
}

/// Writes `text` to `path` whole: a temporary file beside it, then a rename over it.
pub fn write_whole(path: &Path, text: &str) -> Result<(), WriteError> {
    let what = path.display().to_string();
    let tmp = temp_beside(path);
    let done = std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, path));
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done.map_err(|e| WriteError::new(&what, e))
}

fn temp_beside(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}.tmp", std::process::id()));
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuing_drops_a_partial_tail() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.ndjson");
        let mut out = RecordOut::create(&p).unwrap();
        out.record(b"{\"a\":1}\n").unwrap();
        drop(out);
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"{\"a\":").unwrap();
        drop(f);
        let mut again = RecordOut::continue_after(&p, 8).unwrap();
        again.record(b"{\"a\":3}\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "{\"a\":1}\n{\"a\":3}\n"
        );
    }

    #[test]
    fn a_full_disk_is_named() {
        let Ok(mut out) = RecordOut::create(Path::new("/dev/full")) else {
            return;
        };
        let e = out.record(b"x\n").unwrap_err();
        assert_eq!(e.why, "the disk is full");
    }

    #[test]
    fn whole_files_replace_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sum.json");
        write_whole(&p, "{}\n").unwrap();
        write_whole(&p, "{\"a\":1}\n").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "{\"a\":1}\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
