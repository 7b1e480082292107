//! Answers for requests no handler takes, as problem+json: 405 with `Allow` when the path exists
//! under another method, 400 when it exists under this method but a path parameter has the wrong
//! shape (an id that is not a UUID), else 404. The paths and methods come from the OpenAPI document,
//! so the table cannot drift from the routes.

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use utoipa::openapi::OpenApi;

use crate::error::problem_response;

#[derive(Debug, Default)]
pub struct RouteTable {
    routes: Vec<(Vec<String>, Vec<String>)>,
}

impl RouteTable {
    pub fn from_openapi(doc: &OpenApi) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = path.split('/').map(str::to_owned).collect();
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
                (segments, methods)
            })
            .collect();
        Self { routes }
    }

    /// The methods the path answers to, if any route matches it. A literal route (`/rosters/import`)
    /// outranks a templated one (`/rosters/{id}`), as the router ranks them.
    fn allowed(&self, path: &str) -> Vec<String> {
        let segments: Vec<&str> = path.split('/').collect();
        let matching: Vec<_> =
            self.routes.iter().filter(|(template, _)| template_matches(template, &segments)).collect();
        let most_literal = matching.iter().map(|(template, _)| literal_count(template)).max();
        let mut allowed: Vec<String> = matching
            .into_iter()
            .filter(|(template, _)| Some(literal_count(template)) == most_literal)
            .flat_map(|(_, methods)| methods.iter().cloned())
            .collect();
        allowed.sort();
        allowed.dedup();
        allowed
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
        let segments = |path: &str| path.split('/').map(str::to_owned).collect::<Vec<_>>();
        RouteTable {
            routes: vec![
                (segments("/api/v1/units"), vec!["GET".into(), "POST".into()]),
                (segments("/api/v1/units/{id}"), vec!["GET".into(), "PATCH".into(), "DELETE".into()]),
                (segments("/api/v1/units/import"), vec!["POST".into()]),
            ],
        }
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
