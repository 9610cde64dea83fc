"""Cross-parameter rules that a per-parameter schema cannot state, applied to the cases
schemathesis generates as valid (never to those meant to be refused):

- `language` must be one of the marketplace's own languages; the table is the
  `x-asa-languages-by-domain` extension on the `language` parameter of /openapi.json.
- A product URL in `query` sets the marketplace; a `domain` naming another one is a 400.
- A batch's items follow both rules too; and its `webhook_url` must resolve to public
  addresses, which no generated host does on a machine without DNS, so valid batch cases
  go without one (webhook targets are tested by the server's own suite).
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


def fit_locale(query: Dict[str, Any], product: bool,
               table: Optional[Dict[str, List[str]]]) -> None:
    # A blank value counts as absent, as the server reads it.
    domain = str(query.get("domain") or "").strip() or "com"
    url = URL_HOST.match(str(query.get("query", "")))
    if url and product:
        domain = url.group(1).lower()
        query.pop("domain", None)
    language = str(query.get("language") or "").strip()
    if language and (table is None or language not in table.get(domain, [])):
        if table is None:
            query.pop("language", None)
        else:
            query["language"] = table[domain][0]


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    meta = getattr(case, "meta", None)
    if meta is None or not meta.generation.mode.is_positive:
        return
    if case.operation.path.endswith("/amazon/batch") and case.method.upper() == "POST":
        body = case.body
        if isinstance(body, dict):
            body.pop("webhook_url", None)
            product = body.get("endpoint") == "amazon.product"
            for item in body.get("items") or []:
                if isinstance(item, dict):
                    fit_locale(item, product, None)
        return
    if not case.query:
        return
    fit_locale(case.query, case.operation.path.endswith("/product"), languages_table(case))
