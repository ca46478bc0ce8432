//! The measurement set pages and their server functions through the real router, on SQLite
//! and PostgreSQL: what the server renders (before any JavaScript runs), and who may call
//! the server functions.

use crate::common;

use common::{Auth, TestApp, TestResponse};
use http::StatusCode;
use serde_json::{json, Value};

backend_tests!(
    the_list_shows_your_sets_and_search_narrows_them,
    visitors_are_sent_to_log_in,
    the_editor_renders_a_set_and_hides_another_persons,
    server_functions_refuse_a_visitor,
    server_functions_create_update_clone_and_delete,
    server_functions_refuse_bad_input_in_the_problem_shape,
);

/// Creates a set through the REST API with a session; returns its id.
async fn create(app: &TestApp, token: &str, body: Value) -> i64 {
    let res = app.api("POST", "/api/v1/sets", Auth::Session(token), Some(body)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    res.json()["id"].as_i64().unwrap()
}

/// The `value` attribute of the `<input>` with this id, as the server rendered it.
fn input_value(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("<input id=\"{id}\""))?;
    let tag = &html[at..at + html[at..].find('>')?];
    let start = tag.find(" value=\"")? + " value=\"".len();
    Some(tag[start..start + tag[start..].find('"')?].to_owned())
}

/// The unit shown next to a measurement's input.
fn unit_of<'a>(html: &'a str, name: &str) -> Option<&'a str> {
    let at = html.find(&format!("data-testid=\"m-{name}-unit\""))?;
    let text = &html[at + html[at..].find('>')? + 1..];
    Some(&text[..text.find('<')?])
}

fn row_ids(html: &str) -> Vec<i64> {
    html.split("data-set-id=\"").skip(1).map(|rest| rest[..rest.find('"').unwrap()].parse().unwrap()).collect()
}

fn expect_problem(res: &TestResponse, status: StatusCode, code: &str) -> Value {
    assert_eq!(res.status, status, "{}", res.text());
    let body = res.json();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status.as_u16());
    body
}

async fn the_list_shows_your_sets_and_search_narrows_them(app: TestApp) {
    let ann = app.signed_up("ann").await;
    let bob = app.signed_up("bob").await;
    let autumn = create(&app, &ann, json!({ "name": "Ann, autumn", "measurements": { "waist": 720, "hips": 980, "neck": 360 } })).await;
    let spring = create(&app, &ann, json!({ "name": "Ann, spring", "public": true, "measurements": { "waist": 710 } })).await;
    let theirs = create(&app, &bob, json!({ "name": "Bob's autumn", "measurements": { "waist": 800 } })).await;

    let res = app.get("/sets", Some(&ann)).await;
    assert_eq!(res.status, StatusCode::OK);
    let html = res.html();
    assert_eq!(row_ids(&html), [spring, autumn], "newest first, and only Ann's");
    assert!(html.contains("Ann, autumn") && html.contains("Ann, spring"));
    assert!(!html.contains("Bob&#x27;s autumn") && !html.contains("Bob's autumn"), "another person's set is not listed");
    assert!(html.contains(r#"<td data-testid="set-count">3 measurements</td>"#), "{html}");
    assert!(html.contains(r#"<td data-testid="set-count">1 measurement</td>"#));
    assert_eq!(html.matches(r#"data-testid="public-badge""#).count(), 1);
    assert!(html.contains(&format!(r#"href="/sets/{autumn}""#)));
    assert!(html.contains(r#"data-testid="new-set""#));
    // The search is a plain GET form, so it works before the page is hydrated.
    assert!(html.contains(r#"action="/sets""#) && html.contains(r#"name="q""#));

    for q in ["autumn", "AUTUMN", "%20autumn%20"] {
        let html = app.get(&format!("/sets?q={q}"), Some(&ann)).await.text();
        assert_eq!(row_ids(&html), [autumn], "q={q}");
    }
    let html = app.get("/sets?q=autumn", Some(&ann)).await.text();
    assert!(html.contains(r#"name="q" value="autumn""#), "the box keeps the search");
    let html = app.get("/sets?q=winter", Some(&ann)).await.text();
    assert!(row_ids(&html).is_empty());
    assert!(html.contains("No sets match “winter”."), "{html}");

    // Bob sees only his own; someone with no sets sees the empty state.
    assert_eq!(row_ids(&app.get("/sets", Some(&bob)).await.text()), [theirs]);
    let cy = app.signed_up("cyd").await;
    let html = app.get("/sets", Some(&cy)).await.text();
    assert!(html.contains(r#"data-testid="sets-empty""#) && html.contains("No measurement sets yet."));
    // Signed in, the header links to the sets.
    assert!(html.contains(r#"<a href="/sets""#), "{html}");
}

async fn visitors_are_sent_to_log_in(app: TestApp) {
    let ann = app.signed_up("ann").await;
    let id = create(&app, &ann, json!({ "name": "Ann" })).await;
    for path in ["/sets".to_owned(), "/sets?q=ann".to_owned(), "/sets/new".to_owned(), format!("/sets/{id}")] {
        let res = app.get(&path, None).await;
        assert_eq!(res.status, StatusCode::FOUND, "{path}");
        assert_eq!(res.header("location"), Some("/login"), "{path}");
    }
    // A visitor's header has no link to the sets.
    let html = app.get("/", None).await.text();
    assert!(!html.contains(r#"href="/sets""#));
}

async fn the_editor_renders_a_set_and_hides_another_persons(app: TestApp) {
    let ann = app.signed_up("ann").await;
    let bob = app.signed_up("bob").await;
    let metric = create(&app, &ann, json!({ "name": "Metric", "notes": "soft tape", "measurements": { "waist": 720.5, "shoulderSlope": 13 } })).await;
    let imperial = create(&app, &ann, json!({ "name": "Imperial", "imperial": true, "public": true, "measurements": { "waist": 762, "hips": 980, "shoulderSlope": 13 } })).await;
    let private = create(&app, &bob, json!({ "name": "Bob private", "measurements": { "waist": 800 } })).await;

    let res = app.get(&format!("/sets/{metric}"), Some(&ann)).await;
    assert_eq!(res.status, StatusCode::OK);
    let html = res.html();
    assert_eq!(input_value(&html, "set-name").as_deref(), Some("Metric"));
    assert!(html.contains(">soft tape</textarea>"));
    assert_eq!(input_value(&html, "m-waist").as_deref(), Some("720.5"));
    assert_eq!(input_value(&html, "m-shoulderSlope").as_deref(), Some("13"));
    assert_eq!(input_value(&html, "m-hips").as_deref(), Some(""));
    assert_eq!(unit_of(&html, "waist"), Some("mm"));
    assert_eq!(unit_of(&html, "shoulderSlope"), Some("°"));
    assert!(html.contains("Circumference of the natural waist"), "each input has its description");
    assert!(!html.contains(r#"data-testid="share-panel""#), "a private set has no share link");
    assert!(html.contains("rounded to 0.1 mm"), "the rounding rules are on the page");
    // Every catalogue measurement has exactly one input.
    for m in app::measurements::CATALOGUE {
        assert_eq!(html.matches(&format!("<input id=\"m-{}\"", m.name)).count(), 1, "{}", m.name);
    }

    // A set that prefers inches opens in inches (degrees stay degrees), with its share link.
    let html = app.get(&format!("/sets/{imperial}"), Some(&ann)).await.text();
    assert_eq!(input_value(&html, "m-waist").as_deref(), Some("30"));
    assert_eq!(input_value(&html, "m-hips").as_deref(), Some("38.58"));
    assert_eq!(input_value(&html, "m-shoulderSlope").as_deref(), Some("13"));
    assert_eq!(unit_of(&html, "waist"), Some("in"));
    assert_eq!(unit_of(&html, "shoulderSlope"), Some("°"));
    assert!(html.contains(r#"data-testid="share-panel""#));
    assert!(html.contains(&format!("/api/v1/public/sets/{imperial}?format=yaml")));

    // Bob's private set does not exist as far as Ann can tell; nor does a malformed id.
    for path in [format!("/sets/{private}"), "/sets/999999".to_owned(), "/sets/abc".to_owned()] {
        let res = app.get(&path, Some(&ann)).await;
        let html = res.html();
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}");
        assert!(html.contains(r#"data-testid="set-not-found""#), "{path}: {html}");
        assert!(!html.contains("Bob private") && !html.contains(r#"id="m-waist""#), "{path}");
    }

    // The empty editor for a new set.
    let html = app.get("/sets/new", Some(&ann)).await.text();
    assert_eq!(input_value(&html, "set-name").as_deref(), Some(""));
    assert_eq!(input_value(&html, "m-waist").as_deref(), Some(""));
    assert!(html.contains("Create set"));
}

async fn server_functions_refuse_a_visitor(app: TestApp) {
    let ann = app.signed_up("ann").await;
    let id = create(&app, &ann, json!({ "name": "Ann", "measurements": { "waist": 720 } })).await;
    let id_text = id.to_string();
    let form_calls = [
        ("/ui/sets", vec![]),
        ("/ui/sets", vec![("q", "Ann")]),
        ("/ui/sets/get", vec![("id", id_text.as_str())]),
        ("/ui/sets/delete", vec![("id", id_text.as_str())]),
        ("/ui/sets/clone", vec![("id", id_text.as_str())]),
    ];
    for (path, fields) in form_calls {
        let res = app.form(path, &fields, None).await;
        expect_problem(&res, StatusCode::UNAUTHORIZED, "not_authenticated");
        assert!(res.header("www-authenticate").is_some(), "{path}");
    }
    let json_calls = [
        ("/ui/sets/create", json!({ "set": { "name": "Visitor's", "measurements": { "waist": 700 } } })),
        ("/ui/sets/update", json!({ "id": id, "changes": { "name": "Hijacked", "measurements": { "waist": null } } })),
    ];
    for (path, body) in json_calls {
        let res = app.json_fn(path, body, None).await;
        expect_problem(&res, StatusCode::UNAUTHORIZED, "not_authenticated");
    }
    // Nothing changed, nothing was added.
    let res = app.api("GET", "/api/v1/sets", Auth::Session(&ann), None).await.json();
    assert_eq!(res["total"], 1);
    assert_eq!(res["sets"][0]["name"], "Ann");
    assert_eq!(res["sets"][0]["measurements"], json!({ "waist": 720.0 }));
}

async fn server_functions_create_update_clone_and_delete(app: TestApp) {
    let ann = app.signed_up("ann").await;
    let bob = app.signed_up("bob").await;

    let res = app
        .json_fn("/ui/sets/create", json!({ "set": { "name": " Me ", "notes": "n", "imperial": true, "public": false, "measurements": { "waist": 762, "hips": 980.4 } } }), Some(&ann))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let set = res.json();
    let id = set["id"].as_i64().unwrap();
    assert_eq!(set["name"], "Me");
    assert_eq!(set["imperial"], true);
    assert_eq!(set["measurements"], json!({ "hips": 980.4, "waist": 762.0 }));

    // Merge: only what is sent changes; null clears.
    let res = app.json_fn("/ui/sets/update", json!({ "id": id, "changes": { "public": true, "measurements": { "hips": null, "neck": 381 } } }), Some(&ann)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let changed = res.json();
    assert_eq!(changed["measurements"], json!({ "neck": 381.0, "waist": 762.0 }));
    assert_eq!((changed["public"].as_bool(), changed["name"].as_str(), changed["notes"].as_str()), (Some(true), Some("Me"), Some("n")));

    // Reading and searching through the server functions.
    let res = app.form("/ui/sets/get", &[("id", &id.to_string())], Some(&ann)).await;
    assert_eq!(res.json(), changed);
    let page = app.form("/ui/sets", &[("q", "me")], Some(&ann)).await.json();
    assert_eq!((page["total"].as_i64(), page["sets"][0]["id"].as_i64()), (Some(1), Some(id)));
    assert_eq!(app.form("/ui/sets", &[("q", "nothing")], Some(&ann)).await.json()["total"], 0);

    // Bob can neither read, change, clone nor delete Ann's private set... (it is public now:
    // make it private again first).
    app.json_fn("/ui/sets/update", json!({ "id": id, "changes": { "public": false } }), Some(&ann)).await;
    let id_text = id.to_string();
    expect_problem(&app.form("/ui/sets/get", &[("id", &id_text)], Some(&bob)).await, StatusCode::NOT_FOUND, "not_found");
    expect_problem(&app.form("/ui/sets/clone", &[("id", &id_text)], Some(&bob)).await, StatusCode::NOT_FOUND, "not_found");
    expect_problem(&app.form("/ui/sets/delete", &[("id", &id_text)], Some(&bob)).await, StatusCode::NOT_FOUND, "not_found");
    let res = app.json_fn("/ui/sets/update", json!({ "id": id, "changes": { "name": "Bob's now" } }), Some(&bob)).await;
    expect_problem(&res, StatusCode::NOT_FOUND, "not_found");

    // Ann clones it, then deletes the original.
    let res = app.form("/ui/sets/clone", &[("id", &id_text)], Some(&ann)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let copy = res.json();
    assert_ne!(copy["id"], id);
    assert_eq!(copy["name"], "Me (copy)");
    assert_eq!(copy["measurements"], changed["measurements"]);
    let res = app.form("/ui/sets/delete", &[("id", &id_text)], Some(&ann)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    expect_problem(&app.form("/ui/sets/get", &[("id", &id_text)], Some(&ann)).await, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(app.form("/ui/sets", &[], Some(&ann)).await.json()["total"], 1);
}

async fn server_functions_refuse_bad_input_in_the_problem_shape(app: TestApp) {
    let ann = app.signed_up("ann").await;
    // Every bad field named, next to which the editor shows it; nothing stored.
    let res = app
        .json_fn("/ui/sets/create", json!({ "set": { "name": "", "measurements": { "wiast": 700, "chest": -1 } } }), Some(&ann))
        .await;
    let body = expect_problem(&res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "measurements.chest", "measurements.wiast"]);
    assert_eq!(body["errors"][2]["message"], "Unknown measurement 'wiast'. Did you mean 'waist'?");
    assert_eq!(app.form("/ui/sets", &[], Some(&ann)).await.json()["total"], 0);

    let id = create(&app, &ann, json!({ "name": "Ann", "measurements": { "waist": 720 } })).await;
    let res = app.json_fn("/ui/sets/update", json!({ "id": id, "changes": { "notes": "x".repeat(10_001), "measurements": { "waist": 9000 } } }), Some(&ann)).await;
    let body = expect_problem(&res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["notes", "measurements.waist"]);

    // Arguments that cannot be read: a 400 in the problem shape, not a 500.
    let res = app.json_fn("/ui/sets/update", json!({ "id": "one" }), Some(&ann)).await;
    expect_problem(&res, StatusCode::BAD_REQUEST, "malformed_request");
    let res = app.json_fn("/ui/sets/create", json!({ "set": { "name": "x", "measurements": { "waist": "wide" } } }), Some(&ann)).await;
    expect_problem(&res, StatusCode::BAD_REQUEST, "malformed_request");
    expect_problem(&app.form("/ui/sets/get", &[], Some(&ann)).await, StatusCode::BAD_REQUEST, "malformed_request");
    expect_problem(&app.form("/ui/sets/delete", &[("id", "x")], Some(&ann)).await, StatusCode::BAD_REQUEST, "malformed_request");
    // A search that is too long.
    let long = "x".repeat(101);
    let res = app.form("/ui/sets", &[("q", &long)], Some(&ann)).await;
    let body = expect_problem(&res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(body["field"], "q");
    // The set is as it was.
    let set = app.api("GET", &format!("/api/v1/sets/{id}"), Auth::Session(&ann), None).await.json();
    assert_eq!((set["notes"].as_str(), &set["measurements"]), (Some(""), &json!({ "waist": 720.0 })));
}
