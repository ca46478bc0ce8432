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
                    // Query parameters, and the one request header a public read takes.
                    let place = if name == "If-None-Match" { "header" } else { "query" };
                    assert_eq!(param["in"], place, "{method} {path}: {name} is a {place} parameter");
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

/// The document states the rules the server enforces, from the constants that enforce them:
/// a generator that trusts it sends only what the server accepts. (Schemathesis checks the
/// whole claim against a running server in scripts/contract.sh; these pin the main ones.)
#[tokio::test]
async fn the_document_states_the_servers_rules() {
    let app = TestApp::sqlite().await;
    let doc = served(&app).await;
    let schemas = &doc["components"]["schemas"];
    let param = |path: &str, method: &str, name: &str| -> serde_json::Value {
        let params = doc["paths"][path][method]["parameters"].as_array().unwrap_or_else(|| panic!("{method} {path}"));
        params.iter().find(|p| p["name"] == name).unwrap_or_else(|| panic!("{method} {path} ?{name}"))["schema"].clone()
    };

    // Every request body refuses unknown fields, as ApiJson does.
    let mut bodies = 0;
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            if let Some(r) = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str() {
                let name = r.rsplit('/').next().unwrap();
                assert_eq!(schemas[name]["additionalProperties"], false, "{name}");
                bodies += 1;
            }
        }
    }
    assert!(bodies >= 13, "{bodies} bodies");

    // Paging, search and formats.
    for (path, method) in [("/api/v1/sets", "get"), ("/api/v1/patterns", "get"), ("/api/v1/curated-sets", "get"), ("/api/v1/admin/keys", "get")] {
        let limit = param(path, method, "limit");
        assert_eq!((limit["minimum"].as_i64(), limit["maximum"].as_i64()), (Some(1), Some(app::server::paging::PAGE_MAX)), "{path}");
        assert_eq!(param(path, method, "offset")["minimum"], 0, "{path}");
        assert_eq!(param(path, method, "q")["maxLength"].as_u64(), Some(app::server::paging::SEARCH_MAX as u64), "{path}");
    }
    for path in ["/api/v1/public/sets/{id}", "/api/v1/public/patterns/{id}", "/api/v1/curated-sets/{id}"] {
        assert_eq!(param(path, "get", "format")["enum"], serde_json::json!(["json", "yaml"]), "{path}");
    }
    assert_eq!(param("/api/v1/admin/keys", "get", "sort")["enum"], serde_json::json!(["calls", "refused", "jump"]));
    assert_eq!(param("/api/v1/apikeys/{id}/usage", "get", "days")["maximum"].as_i64(), Some(app::apikeys::USAGE_DAYS_MAX));

    // Measurement maps: exactly the catalogue's names, each with its own maximum, null allowed.
    for schema in ["NewSet", "SetChanges", "NewCuratedSet", "CuratedSetChanges"] {
        let map = &schemas[schema]["properties"]["measurements"];
        assert_eq!(map["additionalProperties"], false, "{schema}");
        let names: Vec<&String> = map["properties"].as_object().unwrap().keys().collect();
        let catalogue: Vec<&str> = app::measurements::CATALOGUE.iter().map(|m| m.name).collect();
        assert_eq!(names, catalogue, "{schema}");
        let slope = &map["properties"]["shoulderSlope"];
        assert_eq!((slope["exclusiveMinimum"].as_f64(), slope["maximum"].as_f64()), (Some(0.0), Some(app::measurements::MAX_DEG)));
        assert_eq!(map["properties"]["waist"]["maximum"].as_f64(), Some(app::measurements::MAX_MM));
        assert_eq!(map["properties"]["waist"]["type"], serde_json::json!(["number", "null"]), "{schema}");
    }

    // Levels, roles, lengths.
    let level = &schemas["NewKey"]["properties"]["level"];
    assert_eq!((level["minimum"].as_i64(), level["maximum"].as_i64()), (Some(0), Some(8)));
    assert_eq!(schemas["RoleChange"]["properties"]["role"]["enum"], serde_json::json!(["user", "curator", "support", "admin"]));
    assert_eq!(schemas["Reason"]["required"], serde_json::json!(["reason"]));
    assert_eq!(schemas["PasswordChange"]["properties"]["new_password"]["minLength"].as_u64(), Some(app::accounts::PASSWORD_MIN as u64));
    let name = schemas["NewSet"]["properties"]["name"]["pattern"].as_str().unwrap();
    assert!(name.contains(&format!("{{0,{}}}", app::text::NAME_MAX - 2)), "{name}");
    assert!(schemas["NewSet"]["properties"]["name"]["description"].as_str().unwrap().contains("1–100 characters"));

    // Links from each create to the operations on what it created.
    let links = |path: &str| -> Vec<String> {
        let mut ids: Vec<String> = doc["paths"][path]["post"]["responses"]["201"]["links"]
            .as_object()
            .unwrap_or_else(|| panic!("POST {path} has no links"))
            .values()
            .map(|l| {
                assert_eq!(l["parameters"]["id"], "$response.body#/id");
                l["operationId"].as_str().unwrap().to_owned()
            })
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(links("/api/v1/sets"), ["clone_set", "delete_set", "get_set", "public_set", "update_set"]);
    assert_eq!(links("/api/v1/patterns"), ["delete_pattern", "get_pattern", "public_pattern", "update_pattern"]);
    assert_eq!(links("/api/v1/curated-sets"), ["clone_curated", "delete_curated", "get_curated", "update_curated"]);
    assert_eq!(links("/api/v1/apikeys"), ["get_key", "key_usage", "revoke_key", "rotate_key"]);
}
