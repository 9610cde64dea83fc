//! `/openapi.json`, generated from the handlers' annotations and the model's schemas, and
//! snapshot-tested.

mod params;

use crate::error::Envelope;
use asa_model::ErrorCode;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::{ContentBuilder, Ref};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "asa - Amazon Scraper API",
        description = "Self-hostable Amazon Scraper API, wire-compatible with the public Amazon Scraper API. Every non-2xx answer is the error envelope and is never billed."
    ),
    paths(
        crate::routes::product::get,
        crate::routes::search::get,
        crate::routes::batch::create,
        crate::routes::batch::read,
        crate::routes::batch::list,
        crate::routes::account::show,
        crate::routes::requests::show,
    ),
    components(schemas(
        Envelope,
        asa_model::Product,
        asa_model::SearchBody,
        ErrorCode,
        crate::routes::batch::BatchBody,
        crate::routes::batch::BatchList
    )),
    modifiers(&KeyAuth, &ErrorResponses, &Operations),
    tags((name = "amazon", description = "Product pages and searches"), (name = "account", description = "The caller's account and request traces"))
)]
pub struct ApiDoc;

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
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

/// Every error status an operation can answer, each with the envelope, from the catalog.
struct ErrorResponses;

/// The codes each operation can answer with, by method and path.
fn codes_for(method: &str, path: &str) -> Vec<ErrorCode> {
    use ErrorCode::*;
    let common = vec![
        InvalidParams,
        Unauthorized,
        Revoked,
        NotFound,
        RateLimited,
        InternalError,
    ];
    match path {
        "/api/v1/amazon/product" | "/api/v1/amazon/search" => ErrorCode::ALL.to_vec(),
        // Creating a batch checks every item like its sync call, up to the region.
        "/api/v1/amazon/batch" if method == "post" => vec![
            InvalidParams,
            Unauthorized,
            Revoked,
            NotFound,
            InsufficientCredits,
            ForbiddenRegion,
            NotImplemented,
            InternalError,
        ],
        _ => common,
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

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let fetch = path.starts_with("/api/v1/amazon/");
            for (method, op) in [("get", item.get.as_mut()), ("post", item.post.as_mut())] {
                let Some(op) = op else {
                    continue;
                };
                let mut by_status: std::collections::BTreeMap<u16, Vec<ErrorCode>> =
                    Default::default();
                for c in codes_for(method, path) {
                    by_status.entry(c.status()).or_default().push(c);
                }
                for (status, codes) in &by_status {
                    op.responses
                        .responses
                        .insert(status.to_string(), envelope_response(codes).into());
                }
                for (status, response) in op.responses.responses.iter_mut() {
                    add_headers(response, status, fetch);
                }
            }
        }
    }
}

/// Unique operation ids, the exact parameter rules, and the link from every answer's
/// `request_id` to its trace.
struct Operations;

/// The operation id of each operation.
fn operation_id(method: &str, path: &str) -> Option<&'static str> {
    Some(match (method, path) {
        ("post", "/api/v1/amazon/batch") => "create_batch",
        ("get", "/api/v1/amazon/batch") => "list_batches",
        ("get", "/api/v1/amazon/batch/{id}") => "get_batch",
        (_, "/api/v1/amazon/product") => "get_product",
        (_, "/api/v1/amazon/search") => "search",
        (_, "/api/v1/account") => "get_account",
        (_, "/api/v1/requests/{request_id}") => "get_request_trace",
        _ => return None,
    })
}

impl Modify for Operations {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            for (method, op) in [("get", item.get.as_mut()), ("post", item.post.as_mut())] {
                if let Some(op) = op {
                    refine_operation(method, path, op);
                }
            }
        }
    }
}

fn refine_operation(method: &str, path: &str, op: &mut utoipa::openapi::path::Operation) {
    use utoipa::openapi::extensions::Extensions;
    use utoipa::openapi::link::LinkBuilder;
    use utoipa::openapi::RefOr;
    if let Some(id) = operation_id(method, path) {
        op.operation_id = Some(id.to_string());
    }
    if let Some(parameters) = op.parameters.as_mut() {
        params::refine(path, parameters);
    }
    if (method, path) == ("post", "/api/v1/amazon/batch") {
        if let Some(content) = op
            .request_body
            .as_mut()
            .and_then(|b| b.content.get_mut("application/json"))
        {
            content.schema = Some(
                serde_json::from_value(params::batch_create_schema())
                    .expect("the batch body schema is valid OpenAPI"),
            );
        }
    }
    if path.starts_with("/api/v1/requests/") {
        return;
    }
    let ok_status = if method == "post" { "201" } else { "200" };
    if let Some(RefOr::T(ok)) = op.responses.responses.get_mut(ok_status) {
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
