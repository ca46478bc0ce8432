//! Patterns and the public (no-auth) reads of sets and patterns, through the real router on
//! SQLite and PostgreSQL. Who may call which route is in `permissions.rs`.

use crate::common;

use app::levels::Role;
use common::{Auth, TestApp};
use http::StatusCode;
use serde_json::{json, Value};

backend_tests!(
    a_pattern_round_trips,
    invalid_patterns_are_refused_whole,
    the_design_cannot_change,
    a_pattern_links_only_own_or_public_sets,
    public_sets_and_patterns_read_as_json_and_yaml,
    patterns_list_and_search_your_own_only,
);

fn field_errors(res: &common::TestResponse) -> Vec<(String, String)> {
    res.json()["errors"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|e| (e["field"].as_str().unwrap().to_owned(), e["message"].as_str().unwrap().to_owned()))
        .collect()
}

async fn a_pattern_round_trips(app: TestApp) {
    let ann = app.signed_up("ann").await;
    let auth = Auth::Session(&ann);
    let set = app.api("POST", "/api/v1/sets", auth, Some(json!({ "name": "me" }))).await.json();
    let body = json!({ "name": " Beach shirt ", "design": "aaron", "notes": "linen", "settings": { "sa": 10, "options": { "armholeDrop": 0.1, "tags": ["a", null] } }, "set_id": set["id"] });
    let res = app.api("POST", "/api/v1/patterns", auth, Some(body)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let pattern = res.json();
    assert_eq!(pattern["name"], "Beach shirt");
    assert_eq!(pattern["design"], "aaron");
    assert_eq!(pattern["settings"], json!({ "sa": 10, "options": { "armholeDrop": 0.1, "tags": ["a", null] } }));
    assert_eq!((pattern["set_id"].clone(), pattern["public"].clone()), (set["id"].clone(), json!(false)));
    let path = format!("/api/v1/patterns/{}", pattern["id"]);
    assert_eq!(app.api("GET", &path, auth, None).await.json(), pattern);

    // Settings are replaced whole; set_id: null unlinks; untouched fields stay.
    let res = app.api("PATCH", &path, auth, Some(json!({ "settings": { "sa": 12 }, "set_id": null, "design": "aaron" }))).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let changed = res.json();
    assert_eq!(changed["settings"], json!({ "sa": 12 }));
    assert_eq!(changed["set_id"], Value::Null);
    assert_eq!((changed["name"].as_str(), changed["notes"].as_str()), (Some("Beach shirt"), Some("linen")));
    assert_eq!(app.api("GET", &path, auth, None).await.json(), changed);

    // Deleting the linked set unlinks (does not delete) a pattern.
    let linked = app.api("PATCH", &path, auth, Some(json!({ "set_id": set["id"] }))).await.json();
    assert_eq!(linked["set_id"], set["id"]);
    assert_eq!(app.api("DELETE", &format!("/api/v1/sets/{}", set["id"]), auth, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.api("GET", &path, auth, None).await.json()["set_id"], Value::Null);

    assert_eq!(app.api("DELETE", &path, auth, None).await.status, StatusCode::NO_CONTENT);
    let res = app.api("GET", &path, auth, None).await;
    assert_eq!((res.status, res.json()["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
}

async fn invalid_patterns_are_refused_whole(app: TestApp) {
    let ann = app.signed_up("ann").await;
    let auth = Auth::Session(&ann);
    let huge = json!({ "blob": "x".repeat(app::patterns::SETTINGS_MAX_BYTES) });
    let res = app
        .api("POST", "/api/v1/patterns", auth, Some(json!({ "name": "", "design": "Not A Design", "settings": huge, "set_id": 999_999 })))
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text());
    let fields: Vec<String> = field_errors(&res).into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, ["name", "design", "settings", "set_id"], "every problem at once");
    assert!(field_errors(&res)[2].1.contains("16 KiB"), "{:?}", field_errors(&res));
    for (body, field) in [
        (json!({ "name": "x" }), "design"),
        (json!({ "name": "x", "design": "aaron", "settings": [1, 2] }), "settings"),
        (json!({ "name": "x", "design": "aaron", "settings": "sa=10" }), "settings"),
        (json!({ "name": "x", "design": "aaron", "set_id": "1" }), "set_id"),
        (json!({ "name": "x", "design": "aaron", "colour": "red" }), "colour"),
    ] {
        let res = app.api("POST", "/api/v1/patterns", auth, Some(body.clone())).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", res.text());
        assert_eq!(res.json()["errors"][0]["field"], field, "{body}");
    }
    assert_eq!(app.api("GET", "/api/v1/patterns", auth, None).await.json()["total"], 0, "nothing stored");

    // An oversized PATCH changes nothing either.
    let pattern = app.api("POST", "/api/v1/patterns", auth, Some(json!({ "name": "ok", "design": "aaron" }))).await.json();
    let path = format!("/api/v1/patterns/{}", pattern["id"]);
    let res = app.api("PATCH", &path, auth, Some(json!({ "name": "renamed", "settings": huge }))).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.api("GET", &path, auth, None).await.json(), pattern);
}

async fn the_design_cannot_change(app: TestApp) {
    let ann = app.signed_up("ann").await;
    let admin = app.staff("root", Role::Admin).await;
    let pattern = app.api("POST", "/api/v1/patterns", Auth::Session(&ann), Some(json!({ "name": "p", "design": "aaron" }))).await.json();
    let path = format!("/api/v1/patterns/{}", pattern["id"]);
    for who in [Auth::Session(&ann), Auth::Session(&admin)] {
        // Well formed, but not what this pattern can become: 409, naming the field.
        let res = app.api("PATCH", &path, who, Some(json!({ "design": "bella", "name": "changed" }))).await;
        assert_eq!(res.status, StatusCode::CONFLICT);
        let problem = res.json();
        assert_eq!((problem["code"].as_str(), problem["field"].as_str()), (Some("conflict"), Some("design")));
        assert!(problem["detail"].as_str().unwrap().contains("cannot change"), "{problem}");
        // Together with a malformed field: every problem at once, 422.
        let res = app.api("PATCH", &path, who, Some(json!({ "design": "bella", "name": "" }))).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        let fields: Vec<String> = field_errors(&res).into_iter().map(|e| e.0).collect();
        assert_eq!(fields, ["name", "design"]);
    }
    assert_eq!(app.api("GET", &path, Auth::Session(&ann), None).await.json(), pattern, "nothing changed");
}

async fn a_pattern_links_only_own_or_public_sets(app: TestApp) {
    let ann = app.signed_up("ann").await;
    let bea = app.signed_up("bea").await;
    let support = app.staff("supp", Role::Support).await;
    let beas_private = app.api("POST", "/api/v1/sets", Auth::Session(&bea), Some(json!({ "name": "bea's" }))).await.json();
    let beas_public = app.api("POST", "/api/v1/sets", Auth::Session(&bea), Some(json!({ "name": "bea's shared", "public": true }))).await.json();
    let supports_own = app.api("POST", "/api/v1/sets", Auth::Session(&support), Some(json!({ "name": "support's" }))).await.json();

    // A set the pattern cannot use is not found, exactly like one that does not exist (404,
    // naming the field); with anything else wrong too, it is one of every problem listed (422).
    for set_id in [beas_private["id"].clone(), json!(999_999)] {
        let res = app.api("POST", "/api/v1/patterns", Auth::Session(&ann), Some(json!({ "name": "p", "design": "aaron", "set_id": set_id }))).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text());
        let problem = res.json();
        assert_eq!((problem["code"].as_str(), problem["field"].as_str()), (Some("not_found"), Some("set_id")));
        assert!(!problem["detail"].as_str().unwrap().contains("bea"), "does not reveal the owner: {problem}");
    }
    let res = app.api("POST", "/api/v1/patterns", Auth::Session(&ann), Some(json!({ "name": "", "design": "aaron", "set_id": beas_private["id"] }))).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let errors = field_errors(&res);
    assert_eq!(errors.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(), ["name", "set_id"]);

    let res = app.api("POST", "/api/v1/patterns", Auth::Session(&ann), Some(json!({ "name": "p", "design": "aaron", "set_id": beas_public["id"] }))).await;
    assert_eq!(res.status, StatusCode::CREATED, "a public set may be linked: {}", res.text());
    let path = format!("/api/v1/patterns/{}", res.json()["id"]);
    let res = app.api("PATCH", &path, Auth::Session(&ann), Some(json!({ "set_id": beas_private["id"] }))).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);

    // Staff editing ann's pattern cannot link a set only they could use.
    let res = app.api("PATCH", &path, Auth::Session(&support), Some(json!({ "set_id": supports_own["id"] }))).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text());
    assert_eq!(app.api("GET", &path, Auth::Session(&ann), None).await.json()["set_id"], beas_public["id"]);
}

async fn public_sets_and_patterns_read_as_json_and_yaml(app: TestApp) {
    let ann = app.signed_up("ann").await;
    let auth = Auth::Session(&ann);
    let set = app
        .api("POST", "/api/v1/sets", auth, Some(json!({ "name": "Shared: ann", "public": true, "measurements": { "waist": 720.5, "shoulderSlope": 13 } })))
        .await
        .json();
    let private_set = app.api("POST", "/api/v1/sets", auth, Some(json!({ "name": "mine" }))).await.json();
    let pattern = app
        .api("POST", "/api/v1/patterns", auth, Some(json!({ "name": "Shirt", "design": "aaron", "public": true, "settings": { "sa": 10 }, "set_id": private_set["id"] })))
        .await
        .json();
    let private_pattern = app.api("POST", "/api/v1/patterns", auth, Some(json!({ "name": "secret", "design": "aaron" }))).await.json();

    // JSON, anonymously.
    let set_path = format!("/api/v1/public/sets/{}", set["id"]);
    let res = app.api("GET", &set_path, Auth::None, None).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.header("content-type"), Some("application/json"));
    assert_eq!(res.header("vary"), Some("Accept"));
    assert_eq!(res.json(), set);

    // YAML by Accept and by ?format=yaml: the same data.
    let yaml = app.send(
        http::Request::get(&set_path).header("host", common::HOST).header("accept", "application/yaml").body(axum::body::Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(yaml.status, StatusCode::OK);
    assert_eq!(yaml.header("content-type"), Some("application/yaml; charset=utf-8"));
    let parsed: Value = serde_saphyr::from_str(&yaml.text()).unwrap();
    assert_eq!(parsed["measurements"], json!({ "shoulderSlope": 13.0, "waist": 720.5 }));
    assert_eq!(parsed["name"], "Shared: ann", "a colon in a value is quoted: {}", yaml.text());
    assert_eq!(parsed, set);
    let by_query = app.api("GET", &format!("{set_path}?format=yaml"), Auth::None, None).await;
    assert_eq!(by_query.text(), yaml.text());
    let json_wins = app.send(
        http::Request::get(format!("{set_path}?format=json")).header("host", common::HOST).header("accept", "application/yaml").body(axum::body::Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(json_wins.json(), set, "?format= overrides Accept");

    // The pattern: its private set's id is not shown publicly.
    let res = app.api("GET", &format!("/api/v1/public/patterns/{}?format=yaml", pattern["id"]), Auth::None, None).await;
    assert_eq!(res.status, StatusCode::OK);
    let parsed: Value = serde_saphyr::from_str(&res.text()).unwrap();
    assert_eq!(parsed["settings"], json!({ "sa": 10 }));
    assert_eq!(parsed["set_id"], Value::Null);
    assert_eq!(parsed["design"], "aaron");

    // Private ones, unknown ids and bad formats: problem+json, also when YAML was asked for.
    for path in [
        format!("/api/v1/public/sets/{}", private_set["id"]),
        format!("/api/v1/public/patterns/{}", private_pattern["id"]),
        "/api/v1/public/sets/999999?format=yaml".to_owned(),
        "/api/v1/public/sets/abc".to_owned(),
    ] {
        let res = app.api("GET", &path, Auth::None, None).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(res.header("content-type"), Some("application/problem+json"), "{path}");
    }
    let res = app.api("GET", &format!("{set_path}?format=xml"), Auth::None, None).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json()["field"], "format");
    let res = app.api("GET", &format!("{set_path}?fmt=yaml"), Auth::None, None).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Making a set private again hides it at once.
    app.api("PATCH", &format!("/api/v1/sets/{}", set["id"]), auth, Some(json!({ "public": false }))).await;
    assert_eq!(app.api("GET", &set_path, Auth::None, None).await.status, StatusCode::NOT_FOUND);
}

async fn patterns_list_and_search_your_own_only(app: TestApp) {
    let ann = app.signed_up("ann").await;
    let bea = app.signed_up("bea").await;
    for name in ["Shirt for summer", "Trousers", "SHIRT, linen"] {
        app.api("POST", "/api/v1/patterns", Auth::Session(&ann), Some(json!({ "name": name, "design": "aaron" }))).await;
    }
    app.api("POST", "/api/v1/patterns", Auth::Session(&bea), Some(json!({ "name": "bea's shirt", "design": "aaron" }))).await;
    let page = app.api("GET", "/api/v1/patterns?q=shirt", Auth::Session(&ann), None).await.json();
    let names: Vec<&str> = page["patterns"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["SHIRT, linen", "Shirt for summer"]);
    assert_eq!(page["total"], 2);
    // LIKE wildcards in the search are plain characters.
    assert_eq!(app.api("GET", "/api/v1/patterns?q=%25", Auth::Session(&ann), None).await.json()["total"], 0);
    // Even the text that, unescaped, would be the "no search" pattern.
    assert_eq!(app.api("GET", "/api/v1/patterns?q=%25%25", Auth::Session(&ann), None).await.json()["total"], 0);
    assert_eq!(app.api("GET", "/api/v1/patterns?q=%20", Auth::Session(&ann), None).await.json()["total"], 3, "a blank search is no search");
    assert_eq!(app.api("GET", "/api/v1/patterns?q=_", Auth::Session(&ann), None).await.json()["total"], 0);
    assert_eq!(app.api("GET", "/api/v1/patterns?limit=1&offset=1", Auth::Session(&ann), None).await.json()["patterns"][0]["name"], "Trousers");
    let res = app.api("GET", &format!("/api/v1/patterns?q={}", "x".repeat(101)), Auth::Session(&ann), None).await;
    assert_eq!((res.status, res.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("q")));
}
