//! `/docs/guides/errors`: the error table, generated from the catalog, one row and anchor
//! per code so every `docs_url` lands on its row; and `/docs/api`, Swagger UI over
//! `/openapi.json`, its assets compiled into the binary (nothing is loaded from elsewhere).

use asa_model::ErrorCode;
use axum::response::Html;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn errors_page() -> String {
    let mut rows = String::new();
    for code in ErrorCode::ALL {
        rows.push_str(&format!(
            "<tr id=\"{c}\"><td>{status}</td><td><a href=\"#{c}\"><code>{c}</code></a></td><td>{when}</td><td>{retry}</td><td>{retryable}</td></tr>\n",
            c = code.as_str(),
            status = code.status(),
            when = escape(code.when()),
            retry = escape(code.retry_text()),
            retryable = code.retryable(),
        ));
    }
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Error codes &amp; retry semantics - asa</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;line-height:1.45;color:#1b1f24}}
table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #d0d7de;padding:.45rem;text-align:left;vertical-align:top}}
tr:target{{background:#fff8c5}}code,pre{{background:#f6f8fa;padding:.1rem .3rem;border-radius:4px}}pre{{padding:1rem;overflow:auto}}
</style></head><body>
<h1>Error codes &amp; retry semantics</h1>
<p>Every non-2xx response is free: if we did not give you a clean result, you did not pay for it
(<code>Asa-Cost: 0</code>). Every error has the same JSON shape:</p>
<pre>{{
  "error": "string_code",
  "message": "human-readable explanation",
  "docs_url": "&lt;docs base&gt;/docs/guides/errors#string_code",
  "request_id": "req_9f2c8a1b3e4d",
  "retryable": false
}}</pre>
<p>Keep the <code>request_id</code>: the full trace of the request (every upstream attempt, its
latency and outcome, and what the extractor found) is kept at least 7 days and can be read with
<code>GET /api/v1/requests/{{request_id}}</code>.</p>
<h2>Error table</h2>
<table><thead><tr><th>HTTP</th><th>error code</th><th>When it happens</th><th>Retry?</th><th>retryable</th></tr></thead>
<tbody>
{rows}</tbody></table>
<h2 id="retry-policy">Retry policy</h2>
<p>The SDKs and the <code>asa</code> CLI apply it by default, decided by the error code and not
only the status: never retry 400, 401, 402, 403, 404, 501, <code>asin_mismatch</code> or
<code>generic_gallery_page</code>; <code>upstream_timeout</code> up to 3 times with 2 s backoff;
<code>rate_limited</code> and <code>capacity</code> after <code>Retry-After</code>;
<code>internal_error</code> after about 5 s; <code>blocked_by_amazon</code> and
<code>target_unreachable</code> after 60 s or more; <code>extraction_failed</code> with
exponential backoff. At most 4 attempts by default, with full jitter.</p>
</body></html>
"#
    )
}

pub async fn errors() -> Html<String> {
    Html(errors_page())
}

/// Swagger UI at `/docs/api/` (and `/docs/api` redirecting there), reading `/openapi.json`.
pub fn api_viewer() -> axum::Router<crate::state::AppState> {
    utoipa_swagger_ui::SwaggerUi::new("/docs/api")
        .config(utoipa_swagger_ui::Config::from("/openapi.json"))
        .into()
}
