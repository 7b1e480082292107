//! Request metrics in the Prometheus text format, and the request id echoed to the client.
//!
//! These counters describe one process, as Prometheus expects: each process is scraped on its own.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpRequest, web};
use tracing_actix_web::RequestId;

use crate::fallback::RouteTable;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Debug, Default)]
struct Series {
    count: u64,
    sum_seconds: f64,
    buckets: [u64; BUCKETS.len()],
}

/// The labels of one series: method, route pattern and status.
type Labels = (String, String, u16);

/// Requests counted by method, route pattern and status.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    series: Arc<Mutex<BTreeMap<Labels, Series>>>,
}

impl Metrics {
    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let Ok(mut series) = self.series.lock() else { return };
        let entry = series.entry((method.to_owned(), route.to_owned(), status)).or_default();
        entry.count += 1;
        entry.sum_seconds += seconds;
        for (bound, bucket) in BUCKETS.iter().zip(entry.buckets.iter_mut()) {
            if seconds <= *bound {
                *bucket += 1;
            }
        }
    }

    /// The Prometheus exposition of everything counted so far.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP dvc_http_requests_total HTTP requests answered.\n# TYPE dvc_http_requests_total counter\n",
        );
        let Ok(series) = self.series.lock() else { return out };
        for ((method, route, status), values) in series.iter() {
            let _ = writeln!(
                out,
                "dvc_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {}",
                values.count
            );
        }
        out.push_str(
            "# HELP dvc_http_request_duration_seconds Time to answer HTTP requests.\n# TYPE dvc_http_request_duration_seconds histogram\n",
        );
        for ((method, route, status), values) in series.iter() {
            let labels = format!("method=\"{method}\",route=\"{route}\",status=\"{status}\"");
            for (bound, count) in BUCKETS.iter().zip(values.buckets.iter()) {
                let _ = writeln!(out, "dvc_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}");
            }
            let _ = writeln!(out, "dvc_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", values.count);
            let _ = writeln!(out, "dvc_http_request_duration_seconds_sum{{{labels}}} {}", values.sum_seconds);
            let _ = writeln!(out, "dvc_http_request_duration_seconds_count{{{labels}}} {}", values.count);
        }
        out
    }
}

pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = req.method().to_string();
    let response = next.call(req).await?;
    if let Some(metrics) = metrics {
        let route = route_of(response.request());
        metrics.observe(&method, &route, response.status().as_u16(), started.elapsed().as_secs_f64());
    }
    Ok(response)
}

/// The route template a request is counted and logged under, not its path: ids in paths would make
/// every request a series of its own. Asked once the request is answered, so that a routed request
/// names the route the router chose (found again by its index, without matching any pattern); a
/// request the fallback answered is looked up among the documented routes, segment by segment.
/// Kept in the request for the next middleware that asks.
pub(crate) fn route_of(req: &HttpRequest) -> Rc<str> {
    if let Some(RouteLabel(route)) = req.extensions().get::<RouteLabel>() {
        return route.clone();
    }
    let route: Rc<str> = match req.match_pattern() {
        Some(pattern) => template(&pattern).into(),
        None => req
            .app_data::<web::Data<RouteTable>>()
            .and_then(|routes| routes.template(req.path()))
            .unwrap_or("unmatched")
            .into(),
    };
    req.extensions_mut().insert(RouteLabel(route.clone()));
    route
}

#[derive(Debug, Clone)]
struct RouteLabel(Rc<str>);

/// A route pattern as the OpenAPI document writes it: `/units/{id:[0-9a-fA-F-]+}` is labelled
/// `/units/{id}`, so that dashboards can be matched against the contract.
fn template(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..=open]);
        let segment = &rest[open + 1..];
        // A segment's regular expression may itself hold braces (`{2,3}`); the segment ends at the
        // brace that closes the one it opened with.
        let mut depth = 1;
        let close = segment
            .char_indices()
            .find(|(_, c)| {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                depth == 0
            })
            .map_or(segment.len(), |(index, _)| index);
        let name = &segment[..close];
        out.push_str(name.split_once(':').map_or(name, |(name, _)| name));
        out.push('}');
        rest = segment.get(close + 1..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

pub async fn echo_request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let request_id = req.extensions().get::<RequestId>().copied();
    let mut response = next.call(req).await?;
    if let Some(id) = request_id
        && let Ok(value) = HeaderValue::from_str(&id.to_string())
    {
        response.headers_mut().insert(HeaderName::from_static("x-request-id"), value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::template;

    #[test]
    fn route_labels_are_templates() {
        assert_eq!(template("/api/v1/units/{id:[0-9a-fA-F-]+}"), "/api/v1/units/{id}");
        assert_eq!(template("/api/v1/units/{id:[0-9a-fA-F-]+}/children"), "/api/v1/units/{id}/children");
        assert_eq!(template("/x/{code:[0-9]{2,3}}/{name}"), "/x/{code}/{name}");
        assert_eq!(template("/healthz"), "/healthz");
    }
}
