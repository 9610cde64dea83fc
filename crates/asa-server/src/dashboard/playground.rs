//! The playground: fill in product or search parameters, run the request as the signed-in
//! key, and see the JSON, the response headers and the equivalent curl / Python / Node /
//! Go call. The request runs in process through the pipeline, as the session's caller (its
//! key was checked when the session was): the same checks, billing, headers and trace as
//! over HTTP.

use super::page::{self, json_block, notice, status_badge, Area};
use super::session::{csrf_ok, AccountSession};
use crate::envelope::{self, new_request_id};
use crate::error::Envelope;
use crate::params::RawQuery;
use crate::pipeline::{self, billing::Settlement, Call, Ctx};
use crate::record::{self, Recorded};
use crate::state::AppState;
use asa_store::batch::BatchEndpoint;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;
use std::time::Instant;

/// Largest answer the playground shows (a page with `add_html` can be megabytes).
const MAX_SHOWN_BYTES: usize = 8 * 1024 * 1024;

/// The form; empty fields are left out of the request, so the API's defaults apply.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Params {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    endpoint: String,
    #[serde(default)]
    query: String,
    #[serde(default)]
    domain: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    add_html: Option<String>,
    #[serde(default)]
    sort_by: String,
    #[serde(default)]
    start_page: String,
    #[serde(default)]
    pages: String,
}

impl Params {
    fn is_search(&self) -> bool {
        self.endpoint == "search"
    }

    /// The request's parameters in order, as the API and the snippets take them.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![("query", self.query.trim().to_string())];
        let mut put = |k: &'static str, v: &str| {
            if !v.trim().is_empty() {
                out.push((k, v.trim().to_string()));
            }
        };
        put("domain", &self.domain);
        put("language", &self.language);
        put("country", &self.country);
        if self.is_search() {
            put("sort_by", &self.sort_by);
            put("start_page", &self.start_page);
            put("pages", &self.pages);
        } else if self.add_html.is_some() {
            put("add_html", "true");
        }
        out
    }

    fn path(&self) -> &'static str {
        if self.is_search() {
            "/api/v1/amazon/search"
        } else {
            "/api/v1/amazon/product"
        }
    }

    fn query_string(&self) -> String {
        let mut url = url::Url::parse("http://x/").expect("a constant URL");
        url.query_pairs_mut().extend_pairs(self.pairs());
        url.query().unwrap_or_default().to_string()
    }
}

/// What the in-process request answered.
struct Ran {
    status: u16,
    headers: Vec<(String, String)>,
    body: serde_json::Value,
    request_id: Option<asa_model::RequestId>,
}

async fn run(state: &AppState, s: &AccountSession, p: &Params) -> Result<Ran, String> {
    let started = Instant::now();
    let id = new_request_id();
    let endpoint = if p.is_search() {
        BatchEndpoint::Search
    } else {
        BatchEndpoint::Product
    };
    let pairs = p.pairs().into_iter().map(|(k, v)| (k.to_string(), v));
    let q = RawQuery::from_pairs(pairs.collect());
    let mut ctx = Ctx::default();
    ctx.name(&s.caller);
    let answer = match Call::parse(endpoint, &q) {
        Ok(call) => pipeline::run(state, &s.caller, &id, &call, &mut ctx, &Settlement::Now).await,
        Err(e) => Err(e),
    };
    let (status, success) = match &answer {
        Ok((status, _)) => (status.as_u16(), status.is_success()),
        Err(e) => (e.code.status(), false),
    };
    let code = answer.as_ref().err().map(|e| e.code.as_str().to_string());
    let retry_after = answer.as_ref().err().and_then(|e| e.retry_after);
    let mut headers: Vec<(String, String)> =
        vec![("content-type".into(), "application/json".into())];
    let charged = if success {
        ctx.meta.cost
    } else {
        asa_model::Credits::ZERO
    };
    headers.extend(
        envelope::headers(&id, success, retry_after, ctx.meta)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v)),
    );
    let body = match answer {
        Ok((_, body)) => body,
        Err(e) => Envelope::json(&e, &id, &state.docs_base),
    };
    // The same trace and figures as the call over HTTP leaves.
    record::record(
        state,
        Recorded {
            request_id: id.clone(),
            endpoint: endpoint.as_str().to_string(),
            params: q.to_json(),
            status,
            code,
            charged,
            elapsed: started.elapsed(),
            info: ctx.info,
        },
    );
    let shown = serde_json::to_vec(&body).map_or(0, |b| b.len());
    if shown > MAX_SHOWN_BYTES {
        return Err(format!(
            "the answer is {shown} bytes, more than the {MAX_SHOWN_BYTES} shown here; request {} is in your traces",
            id
        ));
    }
    Ok(Ran {
        status,
        headers,
        body,
        request_id: Some(id),
    })
}

/// Page numbers go into the snippets as numbers when they are; anything else stays a
/// quoted string, so a snippet never turns form text into code.
fn is_number(v: &str) -> bool {
    !v.is_empty() && v.len() <= 4 && v.bytes().all(|b| b.is_ascii_digit())
}

/// The same call in curl, Python, Node and Go, with the key left as `$ASA_API_KEY`.
fn snippets(base: &str, p: &Params) -> Vec<(&'static str, String)> {
    let url = format!("{base}{}?{}", p.path(), p.query_string());
    let pairs = p.pairs();
    let (py_call, node_call, go_call) = if p.is_search() {
        ("search", "search", "Search")
    } else {
        ("product", "product", "Product")
    };
    let py_args: Vec<String> = pairs
        .iter()
        .enumerate()
        .map(|(i, (k, v))| match (i, *k) {
            (0, _) => format!("{v:?}"),
            (_, "start_page" | "pages") if is_number(v) => format!("{k}={v}"),
            (_, "add_html") => format!("{k}=True"),
            _ => format!("{k}={v:?}"),
        })
        .collect();
    let node_args: Vec<String> = pairs
        .iter()
        .map(|(k, v)| match *k {
            "start_page" | "pages" if is_number(v) => format!("{k}: {v}"),
            "add_html" => format!("{k}: true"),
            _ => format!("{k}: {v:?}"),
        })
        .collect();
    let go_field = |k: &str| match k {
        "query" => "Query",
        "domain" => "Domain",
        "language" => "Language",
        "country" => "Country",
        "sort_by" => "SortBy",
        "start_page" => "StartPage",
        "pages" => "Pages",
        _ => "AddHTML",
    };
    let go_args: Vec<String> = pairs
        .iter()
        .map(|(k, v)| match *k {
            "start_page" | "pages" if is_number(v) => format!("{}: {v}", go_field(k)),
            "add_html" => "AddHTML: true".to_string(),
            _ => format!("{}: {v:?}", go_field(k)),
        })
        .collect();
    let go_type = if p.is_search() {
        "SearchParams"
    } else {
        "ProductParams"
    };
    vec![
        (
            "curl",
            format!("curl -sS -H \"Authorization: Bearer $ASA_API_KEY\" \\\n  '{url}'"),
        ),
        (
            "Python",
            format!(
                "import os\nfrom asa import Client\n\nasa = Client(os.environ[\"ASA_API_KEY\"], base_url={base:?})\nresult = asa.{py_call}({})",
                py_args.join(", ")
            ),
        ),
        (
            "Node",
            format!(
                "import {{ AsaClient }} from \"asa-sdk\";\n\nconst asa = new AsaClient({{ apiKey: process.env.ASA_API_KEY, baseUrl: {base:?} }});\nconst result = await asa.{node_call}({{ {} }});",
                node_args.join(", ")
            ),
        ),
        (
            "Go",
            format!(
                "c := asa.New(asa.WithBaseURL({base:?}), asa.WithAPIKey(os.Getenv(\"ASA_API_KEY\")))\nresult, err := c.{go_call}(ctx, asa.{go_type}{{{}}})",
                go_args.join(", ")
            ),
        ),
    ]
}

fn form(p: &Params, csrf: &str) -> Markup {
    let text = |name: &str, label: &str, value: &str, hint: &str| {
        html! { label { (label) " " input name=(name) value=(value) placeholder=(hint); } }
    };
    html! {
        form #playground method="post" action="/dashboard/playground" {
            input type="hidden" name="csrf" value=(csrf);
            fieldset {
                legend { "Endpoint" }
                label { input type="radio" name="endpoint" value="product" checked[!p.is_search()]; " product" }
                label { input type="radio" name="endpoint" value="search" checked[p.is_search()]; " search" }
            }
            label { "query " input name="query" value=(p.query) required placeholder="B000LQXC2Q, a product URL, or search words"; }
            div.row {
                (text("domain", "domain", &p.domain, "com"))
                (text("language", "language", &p.language, "default"))
                (text("country", "exit country", &p.country, "default"))
            }
            div.row.product-only {
                label { input type="checkbox" name="add_html" value="true" checked[p.add_html.is_some()]; " add_html" }
            }
            div.row.search-only {
                (text("sort_by", "sort_by", &p.sort_by, "best_match"))
                (text("start_page", "start_page", &p.start_page, "1"))
                (text("pages", "pages", &p.pages, "1"))
            }
            button type="submit" { "Run" }
            p.hint { "Runs as this session's key: a live key is billed like any request; a sandbox key is served by the simulator for free." }
        }
    }
}

fn render(
    state: &AppState,
    s: &AccountSession,
    p: &Params,
    ran: Option<Result<Ran, String>>,
) -> Response {
    let csrf = &s.session.csrf;
    let body = html! {
        h1 { "Playground" }
        section.card { (form(p, csrf)) }
        @match &ran {
            Some(Ok(r)) => {
                section.card #result {
                    h2 { "Answer " span data-testid="playground-status" { (status_badge(r.status)) } }
                    @if let Some(id) = &r.request_id {
                        p { "Request " a href={ "/dashboard/requests/" (id) } { code { (id) } } " — open its trace." }
                    }
                    div.scroll { table #headers {
                        thead { tr { th { "header" } th { "value" } } }
                        tbody { @for (k, v) in &r.headers { tr { td { code { (k) } } td.clip { (v) } } } }
                    } }
                    div data-testid="playground-json" { (json_block(&r.body)) }
                }
                section.card #snippets {
                    h2 { "The same call" }
                    @for (i, (lang, code)) in snippets(&state.docs_base(), p).iter().enumerate() {
                        div.snippet {
                            div.snippet-head { strong { (lang) }
                                button type="button" data-copy={ "#snippet-" (i) } { "Copy" } }
                            pre id={ "snippet-" (i) } { code { (code) } }
                        }
                    }
                }
            }
            Some(Err(e)) => { (notice("error", e)) }
            None => {}
        }
    };
    let viewer = s.viewer();
    page::respond(
        StatusCode::OK,
        page::page(
            Area::Account,
            "Playground",
            "playground",
            Some(viewer),
            body,
        ),
    )
}

pub async fn show(State(state): State<AppState>, s: AccountSession) -> Response {
    render(&state, &s, &Params::default(), None)
}

pub async fn submit(
    State(state): State<AppState>,
    s: AccountSession,
    Form(p): Form<Params>,
) -> Response {
    if !csrf_ok(&s.session, &p.csrf) {
        return page::forbidden(Area::Account);
    }
    let ran = run(&state, &s, &p).await;
    render(&state, &s, &p, Some(ran))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_carry_the_same_parameters() {
        let p = Params {
            endpoint: "search".into(),
            query: "usb c".into(),
            domain: "de".into(),
            pages: "2".into(),
            ..Params::default()
        };
        assert_eq!(p.query_string(), "query=usb+c&domain=de&pages=2");
        let s = snippets("http://127.0.0.1:8080", &p);
        assert!(s[0].1.contains(
            "'http://127.0.0.1:8080/api/v1/amazon/search?query=usb+c&domain=de&pages=2'"
        ));
        assert!(s[1]
            .1
            .contains("asa.search(\"usb c\", domain=\"de\", pages=2)"));
        assert!(s[2]
            .1
            .contains("asa.search({ query: \"usb c\", domain: \"de\", pages: 2 })"));
        assert!(s[3]
            .1
            .contains("asa.SearchParams{Query: \"usb c\", Domain: \"de\", Pages: 2}"));
        assert!(s.iter().all(|(_, code)| !code.contains("asa_live_")));
        let odd = Params {
            pages: "2); import os".into(),
            ..p
        };
        let s = snippets("http://h", &odd);
        assert!(s[1].1.contains("pages=\"2); import os\""), "{}", s[1].1);
    }

    #[test]
    fn product_ignores_search_only_fields() {
        let p = Params {
            query: "B000LQXC2Q".into(),
            sort_by: "newest".into(),
            add_html: Some("true".into()),
            ..Params::default()
        };
        assert_eq!(p.path(), "/api/v1/amazon/product");
        assert_eq!(p.query_string(), "query=B000LQXC2Q&add_html=true");
    }
}
