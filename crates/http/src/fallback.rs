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
    /// How many segments are literal, not templated: the rank among routes that match a path.
    literals: usize,
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
    fn matching<'a, 'p>(&'a self, path: &'p str) -> impl Iterator<Item = &'a Route> + use<'a, 'p> {
        let most_literal = self.routes.iter().filter(|route| route.matches(path)).map(|route| route.literals).max();
        self.routes.iter().filter(move |route| Some(route.literals) == most_literal && route.matches(path))
    }

    /// The methods the path answers to, if any route matches it.
    fn allowed(&self, path: &str) -> Vec<String> {
        let mut allowed: Vec<String> = self.matching(path).flat_map(|route| route.methods.iter().cloned()).collect();
        allowed.sort();
        allowed.dedup();
        allowed
    }

    /// The template of the documented route the path matches, if any.
    pub fn template(&self, path: &str) -> Option<&str> {
        self.matching(path).next().map(|route| route.template.as_str())
    }
}

impl Route {
    fn new(template: &str, methods: Vec<String>) -> Self {
        let segments: Vec<String> = template.split('/').map(str::to_owned).collect();
        let literals = segments.iter().filter(|segment| !segment.starts_with('{')).count();
        Self { template: template.to_owned(), segments, literals, methods }
    }

    /// Whether the path has this route's shape: its literal segments, and a non-empty segment for
    /// each templated one.
    fn matches(&self, path: &str) -> bool {
        let mut found = path.split('/');
        self.segments.iter().all(|expected| {
            found
                .next()
                .is_some_and(|segment| (expected.starts_with('{') && !segment.is_empty()) || expected == segment)
        }) && found.next().is_none()
    }
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
