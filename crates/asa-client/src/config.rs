//! Where a client finds its base URL and key: arguments first, then `ASA_BASE_URL` /
//! `ASA_API_KEY`, then the credentials file `~/.asa/credentials` that `asa login` writes.
//! The base URL defaults to the local server, `http://127.0.0.1:8080`.

use std::path::{Path, PathBuf};

pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8080";
pub const ENV_BASE_URL: &str = "ASA_BASE_URL";
pub const ENV_API_KEY: &str = "ASA_API_KEY";

/// The contents of `~/.asa/credentials`: `key = "value"` lines, `#` comments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub api_key: Option<String>,
    pub base_url: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("no home directory (HOME is not set)")]
    NoHome,
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl Credentials {
    /// `$HOME/.asa/credentials`.
    pub fn default_path() -> Option<PathBuf> {
        std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(".asa").join("credentials"))
    }

    pub fn parse(text: &str) -> Credentials {
        let mut c = Credentials::default();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with('[') {
                continue;
            }
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            let v = v.trim().trim_matches('"').trim_matches('\'').to_string();
            match k.trim() {
                "api_key" => c.api_key = Some(v),
                "base_url" => c.base_url = Some(v),
                _ => {}
            }
        }
        c
    }

    pub fn render(&self) -> String {
        let mut s = String::from("# asa credentials, written by `asa login`\n");
        if let Some(k) = &self.api_key {
            s.push_str(&format!("api_key = \"{k}\"\n"));
        }
        if let Some(b) = &self.base_url {
            s.push_str(&format!("base_url = \"{b}\"\n"));
        }
        s
    }

    /// Reads the file; a missing file is empty credentials.
    pub fn load(path: &Path) -> Result<Credentials, CredentialsError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Credentials::parse(&text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Credentials::default()),
            Err(source) => Err(CredentialsError::Io {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    /// Writes the file readable by its owner only (0600), its directory 0700.
    pub fn save(&self, path: &Path) -> Result<(), CredentialsError> {
        let io = |source| CredentialsError::Io {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
            restrict(dir, 0o700).map_err(io)?;
        }
        // Create with 0600 from the start so the key is never world-readable, even briefly.
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(path).map_err(io)?;
        std::io::Write::write_all(&mut f, self.render().as_bytes()).map_err(io)?;
        restrict(path, 0o600).map_err(io)
    }
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn restrict(_: &Path, _: u32) -> std::io::Result<()> {
    Ok(())
}

/// The base URL and key a client uses, and where each came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub base_url: String,
    pub api_key: Option<String>,
}

/// Resolves explicit values, then the environment (`env` is a lookup, e.g.
/// `|k| std::env::var(k).ok()`), then the credentials file.
pub fn resolve(
    base_url: Option<String>,
    api_key: Option<String>,
    env: impl Fn(&str) -> Option<String>,
    credentials: &Credentials,
) -> Resolved {
    let nonempty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    Resolved {
        base_url: nonempty(base_url)
            .or_else(|| nonempty(env(ENV_BASE_URL)))
            .or_else(|| nonempty(credentials.base_url.clone()))
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_string()),
        api_key: nonempty(api_key)
            .or_else(|| nonempty(env(ENV_API_KEY)))
            .or_else(|| nonempty(credentials.api_key.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_is_argument_env_file_default() {
        let file = Credentials::parse("# c\napi_key = \"asa_test_file\"\nbase_url='http://f'\n");
        let env = |k: &str| (k == ENV_API_KEY).then(|| "asa_test_env".to_string());
        let r = resolve(None, None, env, &file);
        assert_eq!(r.api_key.as_deref(), Some("asa_test_env"));
        assert_eq!(r.base_url, "http://f");
        let r = resolve(Some("http://a".into()), Some("k".into()), env, &file);
        assert_eq!(
            (r.base_url.as_str(), r.api_key.as_deref()),
            ("http://a", Some("k"))
        );
        let r = resolve(None, None, |_| None, &Credentials::default());
        assert_eq!((r.base_url.as_str(), r.api_key), (DEFAULT_BASE_URL, None));
    }

    #[test]
    fn saved_file_is_private_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".asa").join("credentials");
        let c = Credentials {
            api_key: Some("asa_test_x".into()),
            base_url: None,
        };
        c.save(&path).unwrap();
        assert_eq!(Credentials::load(&path).unwrap(), c);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }
}
