//! The crate's layering, checked: no module imports one that imports it back, whether the
//! modules are files (`routes::batch`) or whole trees (`routes`, `pipeline`, `dashboard`).
//! A parent and its own children may use each other (`mod` and `super::`); anything else
//! that closes a circle fails here with the circle named.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path (`routes::batch`) to its source text, for every file under `src/`.
fn modules() -> BTreeMap<String, String> {
    fn walk(dir: &Path, prefix: &[String], out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).expect("src is readable") {
            let path = entry.expect("a directory entry").path();
            let name = path.file_stem().unwrap().to_string_lossy().to_string();
            let mut here = prefix.to_vec();
            if path.is_dir() {
                here.push(name);
                walk(&path, &here, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                if name != "mod" && name != "lib" {
                    here.push(name);
                }
                let text = std::fs::read_to_string(&path).expect("a source file is readable");
                out.insert(here.join("::"), text);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &[],
        &mut out,
    );
    out
}

/// The text without comments, so a doc link is not an import.
fn code(text: &str) -> String {
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `crate::a::b`, `super::a` and `self::a` path in `text`, with the items of
/// `use crate::{a, b::c}` groups spelt out.
fn paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    for root in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(at) = text[from..].find(root) {
            let start = from + at;
            from = start + root.len();
            if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
                continue;
            }
            let rest = &text[start..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(rest.len());
            let path = rest[..end].trim_end_matches(':').to_string();
            if rest[end..].starts_with('{') {
                group(&path, &rest[end + 1..], &mut out);
            }
            out.push(path);
        }
    }
    out
}

/// The items of a `use` group that starts after `{` in `text`, each prefixed with `prefix`;
/// a nested group's items with its own prefix too.
fn group(prefix: &str, text: &str, out: &mut Vec<String>) {
    let (mut depth, mut item_start) = (0usize, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '{' if depth == 0 => {
                let inner = text[item_start..i].trim().trim_end_matches(':');
                group(&format!("{prefix}::{inner}"), &text[i + 1..], out);
                depth += 1;
            }
            '{' => depth += 1,
            '}' if depth == 0 => {
                push_item(prefix, &text[item_start..i], out);
                return;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                push_item(prefix, &text[item_start..i], out);
                item_start = i + 1;
            }
            _ => {}
        }
    }
}

fn push_item(prefix: &str, item: &str, out: &mut Vec<String>) {
    let item = item.trim().split(" as ").next().unwrap_or("").trim();
    if !item.is_empty() && item != "self" && !item.contains('{') && !item.contains('}') {
        out.push(format!("{prefix}::{item}"));
    }
}

/// The longest module `path` (as written in module `from`) names.
fn resolve(from: &str, path: &str, known: &BTreeMap<String, String>) -> Option<String> {
    let mut segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let mut base: Vec<&str> = if from.is_empty() {
        vec![]
    } else {
        from.split("::").collect()
    };
    match segs.first().copied() {
        Some("crate") => {
            base.clear();
            segs.remove(0);
        }
        Some("self") => {
            segs.remove(0);
        }
        Some("super") => {
            while segs.first() == Some(&"super") {
                base.pop();
                segs.remove(0);
            }
        }
        _ => return None,
    }
    base.extend(segs);
    (1..=base.len())
        .rev()
        .map(|n| base[..n].join("::"))
        .find(|m| known.contains_key(m))
}

fn related(a: &str, b: &str) -> bool {
    a.is_empty()
        || b.is_empty()
        || a.starts_with(&format!("{b}::"))
        || b.starts_with(&format!("{a}::"))
}

/// Module to the modules it imports, at `depth` segments (`usize::MAX`: files).
fn graph(depth: usize) -> BTreeMap<String, BTreeSet<String>> {
    let known = modules();
    let cut = |m: &str| m.split("::").take(depth).collect::<Vec<_>>().join("::");
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, text) in &known {
        for p in paths(&code(text)) {
            let Some(to) = resolve(from, &p, &known) else {
                continue;
            };
            if to == *from || related(from, &to) {
                continue;
            }
            let (a, b) = (cut(from), cut(&to));
            if a != b && !related(&a, &b) {
                edges.entry(a).or_default().insert(b);
            }
        }
    }
    edges
}

/// A circle through `start`, if there is one.
fn circle(edges: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    fn dfs(
        edges: &BTreeMap<String, BTreeSet<String>>,
        start: &str,
        at: &str,
        trail: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in edges.get(at).into_iter().flatten() {
            if next == start {
                return true;
            }
            if seen.insert(next.clone()) {
                trail.push(next.clone());
                if dfs(edges, start, next, trail, seen) {
                    return true;
                }
                trail.pop();
            }
        }
        false
    }
    let mut trail = vec![start.to_string()];
    dfs(edges, start, start, &mut trail, &mut BTreeSet::new()).then_some(trail)
}

fn assert_acyclic(depth: usize) {
    let edges = graph(depth);
    for m in edges.keys() {
        if let Some(c) = circle(&edges, m) {
            panic!(
                "modules import each other in a circle: {} -> {m}",
                c.join(" -> ")
            );
        }
    }
}

#[test]
fn no_module_tree_imports_one_that_imports_it_back() {
    assert_acyclic(1);
}

#[test]
fn no_file_imports_one_that_imports_it_back() {
    assert_acyclic(usize::MAX);
}

#[test]
fn the_check_sees_a_circle() {
    let known: BTreeMap<String, String> = [("a", ""), ("b", ""), ("a::x", "")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(
        resolve("a::x", "super::super::b::f", &known).as_deref(),
        Some("b")
    );
    assert_eq!(
        resolve("b", "crate::a::x::T", &known).as_deref(),
        Some("a::x")
    );
    let found = paths("use crate::{a::x::T, b as c, d::{e, f::g}, h};\nlet v = super::b::f();");
    for nested in ["crate::d::e", "crate::d::f::g", "crate::h"] {
        assert!(found.contains(&nested.to_string()), "{nested} in {found:?}");
    }
    assert!(found.contains(&"crate::a::x::T".to_string()), "{found:?}");
    assert!(found.contains(&"crate::b".to_string()), "{found:?}");
    assert!(found.contains(&"super::b::f".to_string()), "{found:?}");
    let edges: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_string(), BTreeSet::from(["b".to_string()])),
        ("b".to_string(), BTreeSet::from(["a".to_string()])),
    ]
    .into();
    assert_eq!(
        circle(&edges, "a"),
        Some(vec!["a".to_string(), "b".to_string()])
    );
}
