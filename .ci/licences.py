#!/usr/bin/env python3
"""One licence for the whole repository: the root LICENSE file, and every package's metadata
naming the same SPDX id as the workspace (`[workspace.package] license`).

Packages: the Rust crates (crates/*, fuzz), the Python SDK (pyproject.toml), the Node SDK
(package.json and its lock file) and the dashboard's end-to-end suite. The Go SDK has no
licence field: Go tools take the repository's LICENSE file. The dashboard's assets are files
of the asa-server crate and carry its licence.

Exits 1 naming each package that disagrees.
"""

import json
import pathlib
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def toml(path):
    with open(ROOT / path, "rb") as f:
        return tomllib.load(f)


def main():
    expected = toml("Cargo.toml")["workspace"]["package"]["license"]
    problems = []

    text = (ROOT / "LICENSE").read_text() if (ROOT / "LICENSE").exists() else ""
    if expected == "Apache-2.0" and not (
        "Apache License" in text and "Version 2.0, January 2004" in text
    ):
        problems.append("LICENSE: missing or not the Apache License 2.0 text")

    def agree(where, found):
        if found != expected:
            problems.append(f"{where}: licence {found!r}, the workspace says {expected!r}")

    for manifest in sorted(ROOT.glob("crates/*/Cargo.toml")) + [ROOT / "fuzz/Cargo.toml"]:
        package = toml(manifest.relative_to(ROOT))["package"]
        found = package.get("license")
        if found == {"workspace": True}:
            found = expected
        agree(manifest.relative_to(ROOT), found)

    agree("sdk/python/pyproject.toml", toml("sdk/python/pyproject.toml")["project"].get("license"))
    for path in ["sdk/node/package.json", "e2e/dashboard/package.json"]:
        agree(path, json.loads((ROOT / path).read_text()).get("license"))
        lock = ROOT / path.replace("package.json", "package-lock.json")
        if lock.exists():
            root_entry = json.loads(lock.read_text())["packages"][""]
            agree(lock.relative_to(ROOT), root_entry.get("license"))

    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"every package is {expected}, as LICENSE says")
    return 0


if __name__ == "__main__":
    sys.exit(main())
