//! `/openapi.json`, generated from the handlers' annotations and the model's schemas.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "asa - Amazon Scraper API",
        description = "Self-hostable Amazon Scraper API, wire-compatible with the public Amazon Scraper API."
    ),
    components(schemas(
        crate::error::Envelope,
        asa_model::Product,
        asa_model::SearchBody,
        asa_model::ErrorCode
    ))
)]
pub struct ApiDoc;

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
