//! Answers for requests no handler takes, as problem+json: 405 with `Allow` when the path exists
//! under another method, 400 when it exists under this method but a path parameter has the wrong
//! shape (an id that is not a UUID), else 404. The paths and methods come from the OpenAPI document,
//! so the table cannot drift from the routes.

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use utoipa::openapi::OpenApi;

use crate::error::problem_response;

/// The documented routes, matched segment by segment: the answer for a request no handler takes,
/// and the route template that labels a request's metrics, without the router's regular
/// expressions.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: Vec<Route>,
}

#[derive(Debug)]
struct Route {
    /// As the OpenAPI document writes it: `/api/v1/units/{id}`.
    template: String,
    segments: Vec<String>,
    methods: Vec<String>,
}

impl RouteTable {
    pub fn from_openapi(doc: &OpenApi) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    ("GET", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ]
                .into_iter()
                .filter(|(_, present)| *present)
                .map(|(method, _)| method.to_owned())
                .collect();
                Route::new(path, methods)
            })
            .collect();
        Self { routes }
    }

    /// The routes the path matches that outrank the others: a literal route (`/rosters/import`)
    /// outranks a templated one (`/rosters/{id}`), as the router ranks them.
    fn matching(&self, path: &str) -> Vec<&Route> {
        let segments: Vec<&str> = path.split('/').collect();
        let matching: Vec<&Route> =
            self.routes.iter().filter(|route| template_matches(&route.segments, &segments)).collect();
        let most_literal = matching.iter().map(|route| literal_count(&route.segments)).max();
        matching.into_iter().filter(|route| Some(literal_count(&route.segments)) == most_literal).collect()
    }

    /// The methods the path answers to, if any route matches it.
    fn allowed(&self, path: &str) -> Vec<String> {
        let mut allowed: Vec<String> =
            self.matching(path).into_iter().flat_map(|route| route.methods.iter().cloned()).collect();
        allowed.sort();
        allowed.dedup();
        allowed
    }

    /// The template of the documented route the path matches, if any.
    pub fn template(&self, path: &str) -> Option<&str> {
        self.matching(path).first().map(|route| route.template.as_str())
    }
}

impl Route {
    fn new(template: &str, methods: Vec<String>) -> Self {
        Self { template: template.to_owned(), segments: template.split('/').map(str::to_owned).collect(), methods }
    }
}

fn literal_count(template: &[String]) -> usize {
    template.iter().filter(|segment| !segment.starts_with('{')).count()
}

fn template_matches(template: &[String], segments: &[&str]) -> bool {
    template.len() == segments.len()
        && template
            .iter()
            .zip(segments)
            .all(|(expected, found)| (expected.starts_with('{') && !found.is_empty()) || expected == found)
}

pub async fn unknown_route(req: HttpRequest, routes: web::Data<RouteTable>) -> HttpResponse {
    let allowed = routes.allowed(req.path());
    if allowed.is_empty() {
        return problem_response(StatusCode::NOT_FOUND, "not-found", "Not found", "no such resource".to_owned());
    }
    if allowed.iter().any(|method| Method::from_bytes(method.as_bytes()).ok().as_ref() == Some(req.method())) {
        let detail = "a path parameter is not valid: ids are UUIDs".to_owned();
        return problem_response(StatusCode::BAD_REQUEST, "bad-request", "Bad request", detail);
    }
    let mut response = problem_response(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        format!("this resource answers to {}", allowed.join(", ")),
    );
    if let Ok(value) = header::HeaderValue::from_str(&allowed.join(", ")) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> RouteTable {
        RouteTable {
            routes: vec![
                Route::new("/api/v1/units", vec!["GET".into(), "POST".into()]),
                Route::new("/api/v1/units/{id}", vec!["GET".into(), "PATCH".into(), "DELETE".into()]),
                Route::new("/api/v1/units/import", vec!["POST".into()]),
            ],
        }
    }

    #[test]
    fn finds_the_template_of_a_path() {
        assert_eq!(table().template("/api/v1/units/abc"), Some("/api/v1/units/{id}"));
        assert_eq!(table().template("/api/v1/units/import"), Some("/api/v1/units/import"));
        assert_eq!(table().template("/docs/index.html"), None);
    }

    #[test]
    fn finds_the_methods_of_a_templated_path() {
        assert_eq!(table().allowed("/api/v1/units/abc"), vec!["DELETE", "GET", "PATCH"]);
        assert_eq!(table().allowed("/api/v1/units"), vec!["GET", "POST"]);
        assert!(table().allowed("/api/v1/unknown").is_empty());
        assert!(table().allowed("/api/v1/units/abc/def").is_empty());
        assert_eq!(table().allowed("/api/v1/units/import"), vec!["POST"], "a literal route outranks a template");
    }
}
