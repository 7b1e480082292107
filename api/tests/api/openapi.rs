//! The committed contract must be what the code generates. `UPDATE_OPENAPI=1` rewrites the file
//! (and still fails once, so that a stale file is never silently accepted in CI).

const CONTRACT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json");

#[test]
fn the_committed_openapi_document_is_current() {
    let generated = format!("{}\n", dvc_http::openapi().to_pretty_json().expect("the document serialises"));
    let committed = std::fs::read_to_string(CONTRACT).unwrap_or_default();
    if generated == committed {
        return;
    }
    if std::env::var("UPDATE_OPENAPI").is_ok() {
        std::fs::write(CONTRACT, &generated).expect("openapi/openapi.json is writable");
        panic!("openapi/openapi.json was stale and has been rewritten; run the tests again");
    }
    panic!("openapi/openapi.json is stale: run the tests with UPDATE_OPENAPI=1 and commit the result");
}

#[test]
fn every_operation_has_an_id_and_a_tag() {
    let document = dvc_http::openapi();
    for (path, item) in &document.paths.paths {
        for operation in [&item.get, &item.post, &item.patch, &item.delete].into_iter().flatten() {
            assert!(operation.operation_id.is_some(), "{path} has an operation without an id");
            assert!(operation.tags.as_ref().is_some_and(|tags| !tags.is_empty()), "{path} has an untagged operation");
        }
    }
}

/// The committed document as JSON, as generators read it.
fn document() -> serde_json::Value {
    serde_json::from_str(&dvc_http::openapi().to_json().expect("the document serialises")).expect("JSON")
}

/// Every operation's responses, with the operation's method and path.
fn responses(document: &serde_json::Value) -> Vec<(String, String, serde_json::Value)> {
    let mut all = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                all.push((format!("{method} {path}"), status.clone(), response.clone()));
            }
        }
    }
    all
}

#[test]
fn every_response_has_a_description() {
    for (operation, status, response) in responses(&document()) {
        let description = response["description"].as_str().unwrap_or_default();
        assert!(!description.trim().is_empty(), "{operation} {status} has no description");
    }
}

#[test]
fn each_problem_example_has_its_own_status() {
    for (operation, status, response) in responses(&document()) {
        let Some(problem) = response["content"].get("application/problem+json") else { continue };
        let example = &problem["example"];
        assert_eq!(example["status"].to_string(), status, "{operation} {status}: {example}");
        assert!(example["detail"].is_string(), "{operation} {status}");
    }
    let token = &document()["paths"]["/api/v1/auth/token"]["post"]["responses"]["401"];
    let example = &token["content"]["application/problem+json"]["example"];
    assert_eq!(example["detail"], "invalid username or password");
}

/// The schemas a request body may hold, directly or nested.
fn request_schemas(document: &serde_json::Value) -> std::collections::BTreeSet<String> {
    fn refs(value: &serde_json::Value, found: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(fields) => {
                if let Some(reference) = fields.get("$ref").and_then(|r| r.as_str()) {
                    found.push(reference.trim_start_matches("#/components/schemas/").to_owned());
                }
                fields.values().for_each(|inner| refs(inner, found));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|inner| refs(inner, found)),
            _ => {}
        }
    }
    let mut pending = Vec::new();
    for item in document["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            refs(&operation["requestBody"], &mut pending);
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    while let Some(name) = pending.pop() {
        if seen.insert(name.clone()) {
            refs(&document["components"]["schemas"][&name], &mut pending);
        }
    }
    seen
}

#[test]
fn schemas_have_names_a_generated_client_can_live_with() {
    let document = document();
    let requests = request_schemas(&document);
    let schemas = document["components"]["schemas"].as_object().unwrap();
    for (name, schema) in schemas {
        assert!(!name.ends_with("Dto"), "{name}");
        if let Some(item) = name.strip_prefix("ListResponse_") {
            assert_eq!(schema["properties"]["items"]["items"]["$ref"], format!("#/components/schemas/{item}"));
        }
        // A field the server always sends is required, and nullable where it may be null; a field
        // it may leave out is never null.
        if requests.contains(name) {
            continue;
        }
        let required: Vec<&str> =
            schema["required"].as_array().into_iter().flatten().filter_map(|field| field.as_str()).collect();
        for (field, property) in schema["properties"].as_object().into_iter().flatten() {
            let nullable = property["type"].as_array().is_some_and(|types| types.contains(&"null".into()))
                || property["oneOf"].as_array().is_some_and(|one| one.iter().any(|s| s["type"] == "null"));
            assert!(!nullable || required.contains(&field.as_str()), "{name}.{field} is sent, even as null");
        }
    }
    assert!(schemas.contains_key("UnitKind") && schemas.contains_key("PortalAccount"));
}

#[test]
fn files_are_typed_as_text_or_bytes() {
    let document = document();
    let import = &document["paths"]["/api/v1/rosters/import"]["post"]["requestBody"]["content"];
    let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    assert_eq!(import[xlsx]["schema"]["type"], "string");
    assert_eq!(import[xlsx]["schema"]["format"], "binary");
    assert_eq!(import["text/csv"]["schema"]["type"], "string");
    let template = &document["paths"]["/api/v1/rosters/template.xlsx"]["get"]["responses"]["200"]["content"];
    assert_eq!(template[xlsx]["schema"]["format"], "binary");
    let units = &document["paths"]["/api/v1/units/import"]["post"]["requestBody"]["content"];
    assert_eq!(units["text/csv"]["schema"]["type"], "string");
}

#[test]
fn the_document_cites_no_requirement_codes() {
    let text = dvc_http::openapi().to_json().expect("the document serialises");
    for code in 1..=12 {
        assert!(!text.contains(&format!("(R{code})")) && !text.contains(&format!("R{code}:")), "R{code}");
    }
}
