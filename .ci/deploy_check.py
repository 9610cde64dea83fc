#!/usr/bin/env python3
"""Checks what can be checked of the container setup without a container engine.

- compose.yaml against the Compose Specification's JSON schema, as the docker-compose
  package on PyPI ships it (fetched into target/ on first use, never copied into this
  repository), then: every `depends_on` names a
  service, every service built from this repository shares one image, and nginx's
  upstreams (deploy/nginx.conf) are the asa nodes on the port they listen on.
- Dockerfile: several stages, a non-root USER, a HEALTHCHECK through `asa probe`, and the
  port it exposes is the one ASA_LISTEN binds.

Needs PyYAML and jsonschema. Exits 1 naming each problem.
"""

import glob
import json
import pathlib
import re
import subprocess
import sys
import zipfile

import jsonschema
import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent

# The last docker-compose release on PyPI: a pure-Python wheel that carries the Compose
# Specification's schema, downloaded (not installed) from the package registry.
COMPOSE_WHEEL = "docker-compose==1.29.2"


def compose_schema():
    into = ROOT / "target" / "compose-spec"
    wheels = glob.glob(str(into / "docker_compose-*.whl"))
    if not wheels:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
             "--no-deps", "-d", str(into), COMPOSE_WHEEL],
            check=True,
        )
        wheels = glob.glob(str(into / "docker_compose-*.whl"))
    schema = json.loads(zipfile.ZipFile(wheels[0]).read("compose/config/compose_spec.json"))
    # That schema predates the top-level `name` (the project's name) that Compose v2 reads.
    schema["properties"].setdefault(
        "name", {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"}
    )
    return schema


def port_of(listen):
    return int(str(listen).rsplit(":", 1)[1])


def check_compose(problems):
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    schema = compose_schema()
    # The schema names draft-07 without the trailing "#" that jsonschema looks it up by.
    validator = jsonschema.Draft7Validator(schema)
    for error in sorted(validator.iter_errors(compose), key=lambda e: list(e.path)):
        where = "/".join(str(p) for p in error.path) or "(top)"
        problems.append(f"compose.yaml {where}: {error.message}")

    services = compose.get("services", {})
    for name, service in services.items():
        for dep in service.get("depends_on", {}) or {}:
            if dep not in services:
                problems.append(f"compose.yaml {name}: depends on {dep}, no such service")
    images = {s.get("image") for s in services.values() if s.get("build") == "."}
    if len(images) != 1:
        problems.append(f"compose.yaml: services built here use images {images}, want one")

    nodes = {
        name: s
        for name, s in services.items()
        if s.get("build") == "." and "ASA_REDIS_URL" in (s.get("environment") or {})
        and s.get("command") is None
    }
    if len(nodes) < 2:
        problems.append(f"compose.yaml: {len(nodes)} asa node(s), want two behind the proxy")
    upstreams = re.findall(r"^\s*server\s+([\w.-]+):(\d+)", (ROOT / "deploy/nginx.conf").read_text(), re.M)
    for host, port in upstreams:
        node = nodes.get(host)
        if node is None:
            problems.append(f"deploy/nginx.conf: upstream {host} is not an asa node of compose.yaml")
        elif port_of(node["environment"]["ASA_LISTEN"]) != int(port):
            problems.append(f"deploy/nginx.conf: {host}:{port}, but {host} listens elsewhere")
    missing = set(nodes) - {h for h, _ in upstreams}
    if missing:
        problems.append(f"deploy/nginx.conf: nodes {sorted(missing)} are not upstreams")


def check_dockerfile(problems):
    text = (ROOT / "Dockerfile").read_text()
    # Instructions with their continuation lines joined.
    lines = re.sub(r"\\\n\s*", " ", text).splitlines()
    instructions = [l.strip() for l in lines if l.strip() and not l.strip().startswith("#")]
    stages = [i for i in instructions if i.upper().startswith("FROM ")]
    if len(stages) < 2:
        problems.append("Dockerfile: one stage; build and runtime should be separate")
    last = max(i for i, l in enumerate(instructions) if l.upper().startswith("FROM "))
    runtime = instructions[last:]
    users = [l.split()[1] for l in runtime if l.upper().startswith("USER ")]
    if not users or users[-1] in ("root", "0"):
        problems.append("Dockerfile: the runtime stage must run as a non-root USER")
    health = [l for l in runtime if l.upper().startswith("HEALTHCHECK ")]
    if not health or '"asa", "probe"' not in health[-1]:
        problems.append("Dockerfile: HEALTHCHECK should run `asa probe` (the image has no curl)")
    listen = re.search(r"ASA_LISTEN=(\S+)", " ".join(runtime))
    exposed = [int(p) for l in runtime if l.upper().startswith("EXPOSE ") for p in l.split()[1:]]
    if not listen or port_of(listen.group(1)) not in exposed:
        problems.append("Dockerfile: EXPOSE should name the port ASA_LISTEN binds")


def main():
    problems = []
    check_compose(problems)
    check_dockerfile(problems)
    for p in problems:
        print(p)
    if problems:
        return 1
    print("compose.yaml matches the Compose Specification; Dockerfile and nginx.conf agree with it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
