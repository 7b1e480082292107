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
