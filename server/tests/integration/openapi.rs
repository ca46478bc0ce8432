//! The served OpenAPI document: a reviewed snapshot, and a check that it and the served
//! routes agree.

use crate::common;

use common::{Auth, TestApp};
use http::StatusCode;

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots/openapi.json");

async fn served(app: &TestApp) -> serde_json::Value {
    let res = app.api("GET", "/api/openapi.json", Auth::None, None).await;
    assert_eq!(res.status, StatusCode::OK);
    res.json()
}

/// Any change to the API shows up as a diff of `tests/snapshots/openapi.json` in review.
/// After an intended change: `UPDATE_SNAPSHOTS=1 cargo test -p server --test integration openapi`.
#[tokio::test]
async fn the_document_matches_its_reviewed_snapshot() {
    let app = TestApp::sqlite().await;
    let doc = served(&app).await;
    let pretty = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    if std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::write(SNAPSHOT, &pretty).unwrap();
    }
    let committed = std::fs::read_to_string(SNAPSHOT).expect("snapshot exists (UPDATE_SNAPSHOTS=1 writes it)");
    assert!(
        committed == pretty,
        "the served OpenAPI document differs from tests/snapshots/openapi.json; \
         if the change is intended, run UPDATE_SNAPSHOTS=1 cargo test -p server --test integration openapi and review the diff"
    );
}

#[tokio::test]
async fn every_documented_operation_is_served_and_documented_in_full() {
    let app = TestApp::sqlite().await;
    let doc = served(&app).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    assert_eq!(schemes.keys().collect::<Vec<_>>(), ["basic", "bearer", "cookie"]);
    let paths = doc["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths {
        assert!(path.starts_with("/api/v1/"), "{path}");
        for method in ["get", "post", "put", "patch", "delete"] {
            let concrete = path.replace("{id}", "abcdefghijkl");
            let Some(op) = item.get(method) else {
                // Not documented: must not be served either.
                let res = app.api(&method.to_uppercase(), &concrete, Auth::None, None).await;
                assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path} is served but not documented");
                continue;
            };
            operations += 1;
            for param in op["parameters"].as_array().into_iter().flatten() {
                let name = param["name"].as_str().unwrap();
                if path.contains(&format!("{{{name}}}")) {
                    assert_eq!((param["in"].as_str(), param["required"].as_bool()), (Some("path"), Some(true)), "{method} {path} {name}");
                } else {
                    assert_eq!(param["in"], "query", "{method} {path}: {name} is a query parameter");
                    assert_ne!(param["required"], true, "{method} {path}: {name} is optional");
                }
            }
            assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{method} {path} has no summary");
            assert!(op["tags"].as_array().is_some_and(|t| !t.is_empty()), "{method} {path} has no tag");
            let res = app.api(&method.to_uppercase(), &concrete, Auth::None, None).await;
            assert_examples(&doc, method, path, op);
            if op["security"] == serde_json::json!([{}]) {
                // Public: served to anyone (an id that names nothing is a 404 problem).
                let expected = if path.contains("{id}") { StatusCode::NOT_FOUND } else { StatusCode::OK };
                assert_eq!(res.status, expected, "{method} {path} is documented as public");
                assert!(op["responses"]["500"].is_object());
                continue;
            }
            // Served (an anonymous call is refused by authentication, not by routing).
            assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{method} {path}");
            // Documented: security, and the errors every authenticated route can give.
            assert_eq!(op["security"].as_array().unwrap().len(), 3, "{method} {path}");
            for status in ["401", "403", "500"] {
                let response = &op["responses"][status];
                assert!(
                    response["content"]["application/problem+json"]["schema"]["$ref"] == "#/components/schemas/Problem",
                    "{method} {path} does not document {status}"
                );
            }
            if op.get("requestBody").is_some() {
                for status in ["400", "413", "415", "422"] {
                    assert!(op["responses"][status].is_object(), "{method} {path} does not document {status}");
                }
            }
        }
    }
    assert_eq!(
        operations, 42,
        "whoami; account get/patch/password/export/audit; list/create/get/revoke keys, a key's usage and its rotation; the measurement catalogue; \
         list/create/get/update/delete/clone sets; list/create/get/update/delete patterns; public set and pattern; \
         list/create/get/update/delete/clone curated sets; the console's keys (list/get/limits), users (list/get/role/suspend/unsuspend), usage and log"
    );
}

/// A script writer reading the document sees an example of every request body and of every
/// successful JSON answer: on the media type, or on the schema's fields.
fn assert_examples(doc: &serde_json::Value, method: &str, path: &str, op: &serde_json::Value) {
    let has_example = |media: &serde_json::Value| media.get("example").is_some() || media.get("examples").is_some() || schema_has_example(doc, &media["schema"], 0);
    if let Some(media) = op["requestBody"]["content"].get("application/json") {
        assert!(has_example(media), "{method} {path}: the request body has no example");
    }
    for (status, response) in op["responses"].as_object().unwrap() {
        if status.starts_with('2') {
            if let Some(media) = response["content"].get("application/json") {
                assert!(has_example(media), "{method} {path}: the {status} answer has no example");
            }
        }
    }
}

/// Whether a schema, or a field of it (following references, arrays and compositions), has an example.
fn schema_has_example(doc: &serde_json::Value, schema: &serde_json::Value, depth: usize) -> bool {
    if depth > 4 {
        return false;
    }
    if let Some(name) = schema["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
        return schema_has_example(doc, &doc["components"]["schemas"][name], depth + 1);
    }
    if schema.get("example").is_some() || schema.get("examples").is_some() {
        return true;
    }
    let nested = ["allOf", "oneOf", "anyOf"].iter().filter_map(|k| schema[*k].as_array()).flatten();
    let fields = schema["properties"].as_object().into_iter().flat_map(|p| p.values());
    nested.chain(fields).chain(std::iter::once(&schema["items"]).filter(|i| i.is_object())).any(|s| {
        s.get("example").is_some() || s.get("examples").is_some() || schema_has_example(doc, s, depth + 1)
    })
}

#[tokio::test]
async fn swagger_ui_is_served_from_vendored_assets() {
    let app = TestApp::sqlite().await;
    let res = app.api("GET", "/docs/", Auth::None, None).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.text().contains("swagger-ui"));
    let res = app.api("GET", "/docs/swagger-initializer.js", Auth::None, None).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.text().contains("/api/openapi.json"));
}

/// Operation ids name one operation each (client generators turn them into function names).
#[tokio::test]
async fn operation_ids_are_unique() {
    let (_, doc) = app::router::api();
    let mut ids: Vec<String> = doc
        .paths
        .paths
        .values()
        .flat_map(|item| [&item.get, &item.post, &item.patch, &item.delete, &item.put])
        .flatten()
        .map(|op| op.operation_id.clone().expect("every operation has an id"))
        .collect();
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "duplicate operation ids among {ids:?}");
}
