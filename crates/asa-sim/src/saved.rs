//! A directory of saved pages (e.g. the corpus): a request for an ASIN or a query that
//! has a saved page in that marketplace is answered with the file verbatim.
//!
//! Naming: a file serves product `X` when its name contains `X`; it serves a search when
//! its name contains `search_<slug>` (the query lower-cased, runs of other characters as
//! `_`), for page N when it also contains `_p<N>`, else for page 1. A name starting with a
//! marketplace prefix (`com_`, `uk_`, `de_`, `co.jp_`, `jp_`, `es-pt_`...) limits the file
//! to that marketplace.

use asa_model::Marketplace;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
struct Entry {
    /// Lower-case file name.
    name: String,
    path: PathBuf,
    marketplace: Option<Marketplace>,
}

/// An index of the saved pages of a directory and its subdirectories.
#[derive(Debug, Clone, Default)]
pub struct SavedPages {
    entries: Vec<Entry>,
}

fn marketplace_prefix(name: &str) -> Option<Marketplace> {
    let prefix = name.split(['_', '-']).next()?;
    match prefix {
        "com" | "us" => Some(Marketplace::Us),
        "uk" => Some(Marketplace::Uk),
        "jp" => Some(Marketplace::Jp),
        "br" => Some(Marketplace::Br),
        "mx" => Some(Marketplace::Mx),
        "au" => Some(Marketplace::Au),
        "tr" => Some(Marketplace::Tr),
        p => Marketplace::from_domain(p),
    }
}

/// The slug a query's saved search page is named by: `Portable  Charger!` -> `portable_charger`.
pub fn query_slug(query: &str) -> String {
    let mut out = String::new();
    for c in query.trim().to_lowercase().chars() {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

impl SavedPages {
    /// Indexes `dir` (two levels deep, `.html`/`.htm`/`.txt`/`.response` files).
    pub fn load(dir: &Path) -> std::io::Result<SavedPages> {
        let mut entries = Vec::new();
        let mut dirs = vec![(dir.to_path_buf(), 0)];
        while let Some((d, depth)) = dirs.pop() {
            for item in std::fs::read_dir(&d)? {
                let item = item?;
                let path = item.path();
                if item.file_type()?.is_dir() {
                    if depth < 2 {
                        dirs.push((path, depth + 1));
                    }
                    continue;
                }
                let name = item.file_name().to_string_lossy().to_lowercase();
                let page_like = [".html", ".htm", ".txt", ".response"]
                    .iter()
                    .any(|e| name.ends_with(e));
                if page_like && !name.contains(".expected.") {
                    entries.push(Entry {
                        marketplace: marketplace_prefix(&name),
                        name,
                        path,
                    });
                }
            }
        }
        // Later captures sort last; the last match wins.
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(SavedPages { entries })
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn fits(e: &Entry, m: Marketplace) -> bool {
        e.marketplace.is_none() || e.marketplace == Some(m)
    }

    /// The saved page for product `asin` on `m`.
    pub fn product(&self, m: Marketplace, asin: &str) -> Option<&Path> {
        let needle = asin.to_lowercase();
        self.entries
            .iter()
            .rfind(|e| Self::fits(e, m) && e.name.contains(&needle) && !e.name.contains("search"))
            .map(|e| e.path.as_path())
    }

    /// The saved page for result page `page` of `query` on `m`.
    pub fn search(&self, m: Marketplace, query: &str, page: u32) -> Option<&Path> {
        let slug = query_slug(query);
        if slug.is_empty() {
            return None;
        }
        let needle = format!("search_{slug}");
        let page_tag = format!("_p{page}");
        self.entries
            .iter()
            .filter(|e| Self::fits(e, m) && e.name.contains(&needle))
            .rfind(|e| {
                let rest = &e.name[e.name.find(&needle).map_or(0, |i| i + needle.len())..];
                let has_page = rest.split(['_', '.']).any(|t| {
                    t.len() > 1 && t.starts_with('p') && t[1..].bytes().all(|b| b.is_ascii_digit())
                });
                if has_page {
                    rest.contains(&format!("{page_tag}.")) || rest.contains(&format!("{page_tag}_"))
                } else {
                    page == 1
                }
            })
            .map(|e| e.path.as_path())
    }
}

/// A saved file's body: a leading raw HTTP header block (`HTTP/1.1 200 OK ...`) is cut.
pub fn strip_http_header(raw: &[u8]) -> &[u8] {
    if !raw.starts_with(b"HTTP/") {
        return raw;
    }
    for (sep, len) in [(&b"\r\n\r\n"[..], 4), (&b"\n\n"[..], 2)] {
        if let Some(i) = raw.windows(len).position(|w| w == sep) {
            return &raw[i + len..];
        }
    }
    raw
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_headers() {
        assert_eq!(query_slug("  Portable  Charger! "), "portable_charger");
        assert_eq!(query_slug("Katzenfutter"), "katzenfutter");
        assert_eq!(
            strip_http_header(b"HTTP/1.1 200 OK\r\nA: b\r\n\r\n<html>"),
            b"<html>"
        );
        assert_eq!(
            strip_http_header(b"HTTP/1.0 200 OK\nA: b\n\n<html>"),
            b"<html>"
        );
        assert_eq!(strip_http_header(b"<html>HTTP/"), b"<html>HTTP/");
    }

    #[test]
    fn lookup_by_asin_query_and_marketplace() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "de_B000LQXC2Q_2015.html",
            "com_search_portable_charger_2026.html",
            "de_search_katzenfutter_p2.html",
            "B0ANYWHERE.html",
            "x.expected.json",
        ] {
            std::fs::write(dir.path().join(name), "<html></html>").unwrap();
        }
        let s = SavedPages::load(dir.path()).unwrap();
        assert_eq!(s.len(), 4);
        assert!(s.product(Marketplace::De, "B000LQXC2Q").is_some());
        assert!(s.product(Marketplace::Us, "B000LQXC2Q").is_none());
        assert!(s.product(Marketplace::Jp, "B0ANYWHERE").is_some());
        assert!(s.search(Marketplace::Us, "Portable Charger", 1).is_some());
        assert!(s.search(Marketplace::Us, "Portable Charger", 2).is_none());
        assert!(s.search(Marketplace::De, "katzenfutter", 2).is_some());
        assert!(s.search(Marketplace::De, "katzenfutter", 1).is_none());
    }
}
