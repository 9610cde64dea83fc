#!/usr/bin/env python3
"""The workspace's `rust-version` holds for what Cargo.lock pins.

Every crate of the workspace must inherit `rust-version` from `[workspace.package]` (a
crate that does not has no declared minimum at all, and clippy's `incompatible_msrv`, which
holds the code itself to that version, would not look at it). Then every locked package
the workspace builds (normal and build dependencies, every feature, every platform) must
declare a `rust-version` no newer than the workspace's: a `cargo update` that pulls in a
release needing a newer compiler fails here, naming it, until `rust-version` is raised
knowingly.

Exits 1 naming each offender.
"""

import json
import pathlib
import subprocess
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def version(text):
    """`1.88` or `1.88.0` as a comparable tuple (a missing patch is 0)."""
    parts = [int(p) for p in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def main():
    with open(ROOT / "Cargo.toml", "rb") as f:
        ours = tomllib.load(f)["workspace"]["package"]["rust-version"]
    problems = []

    for manifest in sorted(ROOT.glob("crates/*/Cargo.toml")):
        with open(manifest, "rb") as f:
            package = tomllib.load(f)["package"]
        if package.get("rust-version") != {"workspace": True}:
            problems.append(
                f"{manifest.relative_to(ROOT)}: set `rust-version.workspace = true`"
            )

    meta = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--locked", "--all-features"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    packages = {p["id"]: p for p in meta["packages"]}
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    members = set(meta["workspace_members"])

    # What building the workspace compiles: normal and build edges only (dev-dependencies
    # of a dependency are never built; the workspace's own are checked with its tests).
    built, todo = set(), list(members)
    while todo:
        node = todo.pop()
        if node in built:
            continue
        built.add(node)
        for dep in nodes[node]["deps"]:
            kinds = {k["kind"] for k in dep["dep_kinds"]}
            if kinds & {None, "build"}:
                todo.append(dep["pkg"])

    newest = (None, (0, 0, 0))
    for node in sorted(built - members):
        p = packages[node]
        declared = p.get("rust_version")
        if not declared:
            continue
        if version(declared) > newest[1]:
            newest = (f"{p['name']} {p['version']}", version(declared))
        if version(declared) > version(ours):
            problems.append(
                f"{p['name']} {p['version']} needs Rust {declared}, the workspace says {ours}"
            )

    for p in problems:
        print(p)
    if problems:
        return 1
    print(
        f"rust-version {ours}: {len(built - members)} locked packages, the newest need "
        f"{'.'.join(map(str, newest[1]))} ({newest[0]})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
