"""Cross-parameter rules that a per-parameter schema cannot state, applied to the cases
schemathesis generates as valid (never to those meant to be refused):

- `language` must be one of the marketplace's own languages; the table is the
  `x-asa-languages-by-domain` extension on the `language` parameter of /openapi.json.
- A product URL in `query` sets the marketplace; a `domain` naming another one is a 400.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

import schemathesis

URL_HOST = re.compile(r"^https?://(?:www\.)?amazon\.([a-z.]+)/", re.IGNORECASE)


def languages_table(case: Any) -> Optional[Dict[str, List[str]]]:
    for param in case.operation.definition.raw.get("parameters", []):
        if param.get("name") == "language":
            return param.get("x-asa-languages-by-domain")
    return None


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    meta = getattr(case, "meta", None)
    if meta is None or not meta.generation.mode.is_positive or not case.query:
        return
    query = case.query
    # A blank value counts as absent, as the server reads it.
    domain = str(query.get("domain") or "").strip() or "com"
    url = URL_HOST.match(str(query.get("query", "")))
    if url and case.operation.path.endswith("/product"):
        domain = url.group(1).lower()
        query.pop("domain", None)
    table = languages_table(case)
    language = str(query.get("language") or "").strip()
    if table and language and language not in table.get(domain, []):
        query["language"] = table[domain][0]
