//! The HTTP API: handlers, request and response shapes, authentication, problem+json and the
//! OpenAPI document. The only crate that knows HTTP and JSON; it holds no SQL.

mod auth;
mod canonical;
mod delivery;
mod doc;
mod error;
mod extract;
mod fallback;
mod handlers;
mod metrics;
mod mirror;
mod pagination;
mod patch;
mod request_span;
mod write;

use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, Error, web};
use dvc_store::Store;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use handlers::BearerSecurity;

pub use auth::password;
pub use auth::{Caller, TokenKeys};
pub use delivery::{DeliveryConfig, run as run_deliveries};
pub use error::{ApiError, Problem};
pub use metrics::Metrics;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub tokens: TokenKeys,
    pub metrics: Metrics,
    pub delivery: DeliveryConfig,
    /// The bound on password hashes running and waiting.
    pub hashing: password::HashGate,
}

/// The largest CSV or spreadsheet upload accepted.
pub const UPLOAD_LIMIT: usize = 16 * 1024 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "dvc",
        version = "1.0.0",
        description = "The back end of a province's drive to give every citizen an account on the National Public Service Portal."
    ),
    components(schemas(error::Problem, error::FieldError)),
    modifiers(&BearerSecurity),
    tags(
        (name = "auth", description = "Tokens and the caller's identity"),
        (name = "users", description = "Users and service accounts"),
        (name = "units", description = "The administrative tree"),
        (name = "officials", description = "Officials at the one-stop desks"),
        (name = "rosters", description = "District rosters of desk officials"),
        (name = "grants", description = "The function of creating citizen accounts, granted to officials"),
        (name = "citizen_accounts", description = "Citizen accounts opened at the desks and on the portal"),
        (name = "directives", description = "Directives and their deadlines"),
        (name = "support", description = "Support requests from units to the Service Center"),
        (name = "reports", description = "Monthly reports and their frozen snapshots"),
        (name = "audit", description = "The audit trail"),
        (name = "events", description = "The change feed: every change, in commit order"),
        (name = "webhooks", description = "Signed pushes of the change feed to other systems"),
        (name = "operations", description = "Health, readiness and metrics"),
    )
)]
struct ApiDoc;

/// Registers every documented route and collects the OpenAPI document from them.
fn documented() -> utoipa_actix_web::UtoipaApp<
    impl ServiceFactory<ServiceRequest, Config = (), Response = ServiceResponse, Error = Error, InitError = ()>,
> {
    App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .service(utoipa_actix_web::scope("/api/v1").configure(handlers::api_v1))
        .configure(handlers::operations)
}

/// The OpenAPI document of this API, as served at `/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    doc::finish(documented().split_for_parts().1)
}

/// The whole application: documented routes, Swagger UI, extractor error handling, the fallback
/// for unknown routes, metrics, and request logging with request ids.
pub fn app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl actix_web::body::MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    let metrics = state.metrics.clone();
    let (app, doc) = documented().split_for_parts();
    let doc = doc::finish(doc);
    let routes = fallback::RouteTable::from_openapi(&doc);
    app.app_data(state)
        .app_data(web::Data::new(routes))
        .app_data(extract::json_config())
        .app_data(extract::path_config())
        .app_data(web::PayloadConfig::new(UPLOAD_LIMIT))
        .service(web::redirect("/docs", "/docs/"))
        .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", doc))
        .default_service(web::to(fallback::unknown_route))
        .wrap(actix_web::middleware::from_fn(metrics::record))
        .app_data(web::Data::new(metrics))
        .wrap(actix_web::middleware::from_fn(metrics::echo_request_id))
        .wrap(tracing_actix_web::TracingLogger::<request_span::PathOnlySpan>::new())
}
