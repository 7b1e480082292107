//! The span every request is logged in, and its access log line. The span names the path but never
//! the query string: a query may carry a personal number (`/citizen-accounts?id_number=…`), and
//! logs must not.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};

use crate::metrics::route_of;

/// Builds the request span with the fields the default builder fills at the end (status, errors),
/// and `http.target` without the query.
#[derive(Debug)]
pub struct PathOnlySpan;

impl RootSpanBuilder for PathOnlySpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request.extensions().get::<RequestId>().map(ToString::to_string).unwrap_or_default();
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = tracing::field::Empty,
            http.target = %request.path(),
            http.client_ip = %request.connection_info().realip_remote_addr().unwrap_or(""),
            http.status_code = tracing::field::Empty,
            otel.name = tracing::field::Empty,
            otel.kind = "server",
            otel.status_code = tracing::field::Empty,
            request_id = %request_id,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    /// Records the route and the outcome, and writes the access log line, within the request's span.
    /// The route is known once the router has chosen it, so it is recorded here, not at the start.
    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        if let Ok(response) = outcome
            && !span.is_disabled()
        {
            let request = response.request();
            let route = route_of(request);
            span.record("http.route", &*route);
            span.record("otel.name", format!("{} {route}", request.method()));
        }
        let status = match outcome {
            Ok(response) => response.response().status(),
            Err(error) => error.as_response_error().status_code(),
        };
        span.in_scope(|| tracing::info!(status = status.as_u16(), "request finished"));
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}
