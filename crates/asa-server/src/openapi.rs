//! `/openapi.json`, generated from the handlers' annotations and the model's schemas, and
//! snapshot-tested.

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
        crate::routes::account::show,
        crate::routes::requests::show,
    ),
    components(schemas(Envelope, asa_model::Product, asa_model::SearchBody, ErrorCode)),
    modifiers(&KeyAuth, &ErrorResponses),
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

/// The codes each operation can answer with, by path.
fn codes_for(path: &str) -> Vec<ErrorCode> {
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
        _ => common,
    }
}

fn envelope_response(codes: &[ErrorCode]) -> Response {
    let names: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
    ResponseBuilder::new()
        .description(format!(
            "Error envelope; `error` is one of: {}",
            names.join(", ")
        ))
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
            let mut by_status: std::collections::BTreeMap<u16, Vec<ErrorCode>> = Default::default();
            for c in codes_for(path) {
                by_status.entry(c.status()).or_default().push(c);
            }
            let fetch = path.starts_with("/api/v1/amazon/");
            if let Some(op) = item.get.as_mut() {
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
