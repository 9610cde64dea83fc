//! `/openapi.json`: its frame, and what each route's registration adds to the paths its
//! handler's annotation gives (error responses, headers, exact parameter and body rules,
//! links). It knows no route: `crate::routes` describes each where it registers it.

mod params;

pub use params::{batch_create_schema, ParamRules};

use crate::error::Envelope;
use asa_model::ErrorCode;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::{ContentBuilder, Ref};
use utoipa::{Modify, OpenApi};

/// The document's frame: info, security, the shared schemas and tags. The paths come from
/// the routes' registrations (`crate::routes`), each described by [`describe`].
#[derive(OpenApi)]
#[openapi(
    info(
        title = "asa - Amazon Scraper API",
        description = "Self-hostable Amazon Scraper API, wire-compatible with the public Amazon Scraper API. Every non-2xx answer is the error envelope and is never billed."
    ),
    components(schemas(Envelope, ErrorCode)),
    modifiers(&KeyAuth),
    tags((name = "amazon", description = "Product pages and searches"), (name = "account", description = "The caller's account and request traces"), (name = "ops", description = "Probes for load balancers and orchestrators: liveness and readiness"))
)]
struct ApiDoc;

pub fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// What the document says of an operation beyond its `#[utoipa::path]` attribute, given
/// where the route is registered.
pub struct Described {
    /// Every error code it can answer with (each status gets the envelope).
    pub errors: &'static [ErrorCode],
    /// The exact rules of its query parameters.
    pub params: ParamRules,
    /// It fetches pages: its answers carry the `Asa-*` fetch headers.
    pub fetches: bool,
    /// Its success carries a `request_id` whose trace can be read.
    pub links_to_trace: bool,
    /// Its exact JSON request body schema, where it takes one.
    pub body: Option<fn() -> serde_json::Value>,
}

impl Described {
    pub fn new(errors: &'static [ErrorCode], params: ParamRules) -> Described {
        Described {
            errors,
            params,
            fetches: false,
            links_to_trace: true,
            body: None,
        }
    }
}

/// Adds to every operation of `paths` what `how` says: parameter rules, error responses,
/// headers, the body schema and the link to the trace.
pub fn describe(paths: &mut utoipa::openapi::path::Paths, how: &Described) {
    for item in paths.paths.values_mut() {
        for op in [item.get.as_mut(), item.post.as_mut()]
            .into_iter()
            .flatten()
        {
            if let Some(parameters) = op.parameters.as_mut() {
                params::refine(how.params, parameters);
            }
            error_responses(op, how);
            refine_operation(op, how);
        }
    }
}

/// The three places a key may be sent.
struct KeyAuth;

impl Modify for KeyAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "header",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
        components.add_security_scheme(
            "query",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::new("api_key"))),
        );
        openapi.security = Some(vec![
            SecurityRequirement::new("bearer", Vec::<String>::new()),
            SecurityRequirement::new("header", Vec::<String>::new()),
            SecurityRequirement::new("query", Vec::<String>::new()),
        ]);
    }
}

fn envelope_response(codes: &[ErrorCode]) -> Response {
    let names: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
    let mut description = format!("Error envelope; `error` is one of: {}", names.join(", "));
    if codes.contains(&ErrorCode::NotImplemented) {
        // They are not listed as parameters: nothing a client can send in them is served.
        description.push_str(
            " (the reserved parameters `render_js` or `screenshot` were given, whatever the value)",
        );
    }
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Envelope")))
                .build(),
        )
        .build()
}

/// Headers every response carries, and those of a fetch (product, search).
const ALWAYS: &[(&str, &str)] = &[
    (
        "X-Request-Id",
        "The request id (also `request_id` in the body)",
    ),
    (
        "Asa-Cost",
        "Credits charged for this response; 0 on every non-2xx",
    ),
];
const FETCH: &[(&str, &str)] = &[
    ("Asa-Attempts", "Upstream attempts made"),
    ("Asa-Source-Status", "The last upstream HTTP status"),
    ("Asa-Resolved-Url", "The final upstream URL after redirects"),
    (
        "Asa-Extractor-Version",
        "Version of the extractor that built the body",
    ),
    ("Asa-Concurrency", "in_flight/allowed for the account"),
    ("Asa-Rps", "recent_rps/allowed_rps for the account"),
];
const RETRY_AFTER: &[(&str, &str)] = &[(
    "Retry-After",
    "Integer seconds to wait: exact on 429/503, advised on 408/422/500/502",
)];

fn add_headers(response: &mut utoipa::openapi::RefOr<Response>, status: &str, fetch: bool) {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    use utoipa::openapi::{HeaderBuilder, RefOr};
    let RefOr::T(r) = response else { return };
    let fetch_headers: &[(&str, &str)] = if fetch { FETCH } else { &[] };
    let retry: &[(&str, &str)] = if matches!(status, "408" | "422" | "429" | "500" | "502" | "503")
    {
        RETRY_AFTER
    } else {
        &[]
    };
    for (name, description) in ALWAYS.iter().chain(fetch_headers).chain(retry) {
        let integer = matches!(
            *name,
            "Asa-Cost" | "Asa-Attempts" | "Asa-Source-Status" | "Retry-After"
        );
        let schema =
            ObjectBuilder::new().schema_type(if integer { Type::Integer } else { Type::String });
        let header = HeaderBuilder::new()
            .schema(schema)
            .description(Some(*description))
            .build();
        r.headers.insert((*name).to_string(), header);
    }
}

/// Every error status an operation can answer, each with the envelope, from the catalog;
/// and the headers of every response.
fn error_responses(op: &mut utoipa::openapi::path::Operation, how: &Described) {
    let mut by_status: std::collections::BTreeMap<u16, Vec<ErrorCode>> = Default::default();
    for c in how.errors {
        by_status.entry(c.status()).or_default().push(*c);
    }
    for (status, codes) in &by_status {
        op.responses
            .responses
            .insert(status.to_string(), envelope_response(codes).into());
    }
    for (status, response) in op.responses.responses.iter_mut() {
        add_headers(response, status, how.fetches);
    }
}

/// The exact body schema, and the link from every answer's `request_id` to its trace.
fn refine_operation(op: &mut utoipa::openapi::path::Operation, how: &Described) {
    use utoipa::openapi::extensions::Extensions;
    use utoipa::openapi::link::LinkBuilder;
    use utoipa::openapi::RefOr;
    if let Some(body) = how.body {
        if let Some(content) = op
            .request_body
            .as_mut()
            .and_then(|b| b.content.get_mut("application/json"))
        {
            content.schema =
                Some(serde_json::from_value(body()).expect("the body schemas are valid OpenAPI"));
        }
    }
    if !how.links_to_trace {
        return;
    }
    let success = op
        .responses
        .responses
        .iter_mut()
        .find(|(status, _)| status.starts_with('2'));
    if let Some((_, RefOr::T(ok))) = success {
        let mut link = LinkBuilder::new()
            .parameter("request_id", "$response.body#/request_id")
            .description("The stored trace of this request")
            .build();
        // utoipa 5 serialises `Link::operation_id` as `operation_id`, which no OpenAPI
        // reader knows: the field goes in under its real name instead.
        let mut named = Extensions::default();
        named.insert("operationId".into(), "get_request_trace".into());
        link.extensions = Some(named);
        ok.links.insert("GetRequestTrace".to_string(), link.into());
    }
}
