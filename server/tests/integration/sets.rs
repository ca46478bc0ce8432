//! Measurement sets through the real router, on SQLite and PostgreSQL.

use crate::common;

use app::levels::Role;
use common::{Auth, TestApp};
use http::StatusCode;
use serde_json::json;

backend_tests!(the_measurement_catalogue_is_public);

async fn the_measurement_catalogue_is_public(app: TestApp) {
    let res = app.api("GET", "/api/v1/measurements", Auth::None, None).await;
    assert_eq!(res.status, StatusCode::OK);
    let list = res.json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 38);
    assert_eq!(list[0], json!({ "name": "ankle", "unit": "mm", "description": "Circumference around the ankle, over the ankle bone", "max": 5000.0 }));
    let slope = list.iter().find(|m| m["name"] == "shoulderSlope").unwrap();
    assert_eq!((slope["unit"].as_str(), slope["max"].as_f64()), (Some("deg"), Some(90.0)));
}

backend_tests!(
    a_set_round_trips_and_patch_merges,
    invalid_sets_are_refused_whole,
    who_may_read_write_and_delete_a_set,
    public_sets_can_be_cloned_private_ones_cannot,
    listing_pages_through_your_own_sets_only,
    reads_answer_503_once_the_database_is_closed,
    reads_at_the_same_moment_each_see_only_what_they_may,
);

async fn a_set_round_trips_and_patch_merges(app: TestApp) {
    let ann = app.signed_up("ann").await;
    let auth = Auth::Session(&ann);
    let body = json!({ "name": " Me ", "notes": "tape: soft", "measurements": { "waist": 720.5, "hips": 980, "shoulderSlope": 13 } });
    let res = app.api("POST", "/api/v1/sets", auth, Some(body)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let set = res.json();
    let id = set["id"].as_i64().unwrap();
    assert_eq!(set["name"], "Me");
    assert_eq!((set["imperial"].as_bool(), set["public"].as_bool()), (Some(false), Some(false)));
    assert_eq!(set["measurements"], json!({ "hips": 980.0, "shoulderSlope": 13.0, "waist": 720.5 }));
    let path = format!("/api/v1/sets/{id}");
    assert_eq!(app.api("GET", &path, auth, None).await.json(), set);

    let res = app.api("PATCH", &path, auth, Some(json!({ "imperial": true, "measurements": { "waist": 725, "hips": null, "neck": 380 } }))).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let changed = res.json();
    assert_eq!(changed["measurements"], json!({ "neck": 380.0, "shoulderSlope": 13.0, "waist": 725.0 }));
    assert_eq!(changed["imperial"], true);
    assert_eq!((changed["name"].as_str(), changed["notes"].as_str()), (Some("Me"), Some("tape: soft")), "untouched fields stay");

    assert_eq!(app.api("DELETE", &path, auth, None).await.status, StatusCode::NO_CONTENT);
    let res = app.api("GET", &path, auth, None).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(res.json()["code"], "not_found");
    let res = app.api("GET", "/api/v1/sets/abc", auth, None).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(res.header("content-type"), Some("application/problem+json"));
}

async fn invalid_sets_are_refused_whole(app: TestApp) {
    let ann = app.signed_up("ann").await;
    let auth = Auth::Session(&ann);
    let res = app
        .api("POST", "/api/v1/sets", auth, Some(json!({ "name": "x", "measurements": { "wiast": 700, "waist": 0, "chest": -1, "neck": 9000, "colour": 1 } })))
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let errors = res.json()["errors"].clone();
    let by_field: std::collections::BTreeMap<String, String> = errors
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap().to_owned(), e["message"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(by_field.len(), 5, "{by_field:?}");
    assert_eq!(by_field["measurements.wiast"], "Unknown measurement 'wiast'. Did you mean 'waist'?");
    assert_eq!(by_field["measurements.colour"], "Unknown measurement 'colour'.");
    for field in ["measurements.waist", "measurements.chest", "measurements.neck"] {
        assert!(by_field.contains_key(field), "{field}");
    }
    for (body, field) in [
        (json!({ "name": "" }), "name"),
        (json!({ "name": "x", "measurements": { "waist": "720" } }), "measurements.waist"),
        (json!({ "name": "x", "colour": "red" }), "colour"),
    ] {
        let res = app.api("POST", "/api/v1/sets", auth, Some(body.clone())).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(res.json()["field"], field, "{body}");
    }
    assert_eq!(app.api("GET", "/api/v1/sets", auth, None).await.json()["total"], 0, "nothing stored");

    // A bad PATCH changes nothing either.
    let set = app.api("POST", "/api/v1/sets", auth, Some(json!({ "name": "ok", "measurements": { "waist": 700 } }))).await.json();
    let path = format!("/api/v1/sets/{}", set["id"]);
    let res = app.api("PATCH", &path, auth, Some(json!({ "name": "renamed", "measurements": { "waist": 710, "wiast": 1 } }))).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.api("GET", &path, auth, None).await.json(), set);
}

async fn who_may_read_write_and_delete_a_set(app: TestApp) {
    let ann = app.signed_up("ann").await;
    let bea = app.signed_up("bea").await;
    let curator = app.staff("cura", Role::Curator).await;
    let support = app.staff("supp", Role::Support).await;
    let admin = app.staff("root", Role::Admin).await;
    let key = |level: i64| {
        let ann = ann.clone();
        let app = &app;
        async move { app.create_key(Auth::Session(&ann), json!({ "name": format!("l{level}"), "level": level })).await.token }
    };
    let (k0, k1, k2, k3) = (key(0).await, key(1).await, key(2).await, key(3).await);
    let set = app.api("POST", "/api/v1/sets", Auth::Session(&ann), Some(json!({ "name": "ann's" }))).await.json();
    let path = format!("/api/v1/sets/{}", set["id"]);
    let patch = Some(json!({ "notes": "touched" }));

    // (who, GET, PATCH) — expected statuses for ann's private set.
    #[rustfmt::skip]
    let matrix: Vec<(&str, Auth, u16, u16)> = vec![
        ("anonymous",          Auth::None,              401, 401),
        ("owner, level-0 key", Auth::Bearer(&k0),       403, 403),
        ("owner, level-1 key", Auth::Bearer(&k1),       200, 403),
        ("owner, level-2 key", Auth::Bearer(&k2),       200, 403),
        ("owner, level-3 key", Auth::Bearer(&k3),       200, 200),
        ("owner, session",     Auth::Session(&ann),     200, 200),
        ("another user",       Auth::Session(&bea),     404, 404),
        // Reads others' sets but may not write them: told so (403), not "not found".
        ("curator (5)",        Auth::Session(&curator), 200, 403),
        ("support (7)",        Auth::Session(&support), 200, 200),
        ("admin (8)",          Auth::Session(&admin),   200, 200),
    ];
    for (who, auth, get, write) in matrix {
        assert_eq!(app.api("GET", &path, auth, None).await.status.as_u16(), get, "GET by {who}");
        let res = app.api("PATCH", &path, auth, patch.clone()).await;
        assert_eq!(res.status.as_u16(), write, "PATCH by {who}: {}", res.text());
        if write == 403 {
            assert_eq!(res.json()["code"], "level_too_low", "{who}");
        }
    }
    // Deleting follows the write column; the last allowed one deletes it.
    for (who, auth, status) in [
        ("another user", Auth::Session(&bea), 404),
        ("curator (5)", Auth::Session(&curator), 403),
        ("owner, level-1 key", Auth::Bearer(&k1), 403),
        ("support (7)", Auth::Session(&support), 204),
    ] {
        assert_eq!(app.api("DELETE", &path, auth, None).await.status.as_u16(), status, "DELETE by {who}");
    }
}

async fn public_sets_can_be_cloned_private_ones_cannot(app: TestApp) {
    let ann = app.signed_up("ann").await;
    let bea = app.signed_up("bea").await;
    let public = app.api("POST", "/api/v1/sets", Auth::Session(&ann), Some(json!({ "name": "shared", "public": true, "measurements": { "waist": 700 } }))).await.json();
    let private = app.api("POST", "/api/v1/sets", Auth::Session(&ann), Some(json!({ "name": "mine" }))).await.json();
    let res = app.api("POST", &format!("/api/v1/sets/{}/clone", public["id"]), Auth::Session(&bea), None).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let copy = res.json();
    assert_eq!((copy["name"].as_str(), copy["public"].as_bool()), (Some("shared (copy)"), Some(false)));
    assert_eq!(copy["measurements"], json!({ "waist": 700.0 }));
    assert_eq!(app.api("GET", &format!("/api/v1/sets/{}", copy["id"]), Auth::Session(&bea), None).await.status, StatusCode::OK);
    let res = app.api("POST", &format!("/api/v1/sets/{}/clone", private["id"]), Auth::Session(&bea), None).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // Being public does not make a set readable through another person's own routes.
    assert_eq!(app.api("GET", &format!("/api/v1/sets/{}", public["id"]), Auth::Session(&bea), None).await.status, StatusCode::NOT_FOUND);
}

async fn listing_pages_through_your_own_sets_only(app: TestApp) {
    let ann = app.signed_up("ann").await;
    let bea = app.signed_up("bea").await;
    for i in 0..3 {
        app.api("POST", "/api/v1/sets", Auth::Session(&ann), Some(json!({ "name": format!("ann {i}") }))).await;
    }
    app.api("POST", "/api/v1/sets", Auth::Session(&bea), Some(json!({ "name": "bea" }))).await;
    let page = app.api("GET", "/api/v1/sets?limit=2", Auth::Session(&ann), None).await.json();
    assert_eq!((page["total"].as_i64(), page["limit"].as_i64(), page["offset"].as_i64()), (Some(3), Some(2), Some(0)));
    let names: Vec<&str> = page["sets"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["ann 2", "ann 1"]);
    let rest = app.api("GET", "/api/v1/sets?limit=2&offset=2", Auth::Session(&ann), None).await.json();
    assert_eq!(rest["sets"][0]["name"], "ann 0");
    // Past the end: no sets, and still the total.
    let past = app.api("GET", "/api/v1/sets?offset=7", Auth::Session(&ann), None).await.json();
    assert_eq!((past["sets"].as_array().map(Vec::len), past["total"].as_i64()), (Some(0), Some(3)), "{past}");
    let none = app.api("GET", "/api/v1/sets?q=nobody", Auth::Session(&ann), None).await.json();
    assert_eq!((none["sets"].as_array().map(Vec::len), none["total"].as_i64()), (Some(0), Some(0)), "{none}");
    for query in ["limit=0", "limit=201", "offset=-1", "page=2"] {
        let res = app.api("GET", &format!("/api/v1/sets?{query}"), Auth::Session(&ann), None).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
    }
    // A listed set reads exactly as the set itself does, every field (the database writes
    // the page's JSON; the set by id is converted row by row).
    let body = json!({ "name": "ann full", "notes": "a note", "imperial": true, "public": true, "measurements": { "waist": 700, "hips": 980 } });
    let full = app.api("POST", "/api/v1/sets", Auth::Session(&ann), Some(body)).await.json();
    let listed = app.api("GET", "/api/v1/sets?q=full", Auth::Session(&ann), None).await.json();
    let read = app.api("GET", &format!("/api/v1/sets/{}", full["id"]), Auth::Session(&ann), None).await.json();
    assert_eq!(listed["sets"].as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed["sets"][0], read);
    assert_eq!(read["measurements"]["hips"], 980.0, "{read}");
}

/// A closed database refuses reads too (on SQLite they run on the request's own thread, not
/// through the pool): `503`, for a set, a page, and a public set.
async fn reads_answer_503_once_the_database_is_closed(app: TestApp) {
    let ann = app.signed_up("ann").await;
    let key = app.create_key(Auth::Session(&ann), json!({ "name": "k", "level": 3 })).await;
    let body = json!({ "name": "shared", "public": true, "measurements": { "waist": 700 } });
    let set = app.api("POST", "/api/v1/sets", Auth::Bearer(&key.token), Some(body)).await.json();
    let paths = [format!("/api/v1/sets/{}", set["id"]), "/api/v1/sets".to_owned(), format!("/api/v1/public/sets/{}", set["id"])];
    for path in &paths {
        let res = app.api("GET", path, Auth::Bearer(&key.token), None).await;
        assert_eq!(res.status, StatusCode::OK, "{path}: {}", res.text());
    }
    app.state.db.close();
    for path in &paths {
        let res = app.api("GET", path, Auth::Bearer(&key.token), None).await;
        assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE, "{path}: {}", res.text());
        assert_eq!(res.json()["code"], "service_unavailable", "{path}");
    }
}

/// Many reads of sets at once, by different people: on PostgreSQL they leave in fewer
/// statements than there are reads (`server::coalesce`), and each still gets exactly what
/// its caller may see — its own set, a public one, or `not_found`.
async fn reads_at_the_same_moment_each_see_only_what_they_may(app: TestApp) {
    let ann = app.signed_up("ann").await;
    let bob = app.signed_up("bob").await;
    let ann_key = app.create_key(Auth::Session(&ann), json!({ "name": "k", "level": 3 })).await;
    let bob_key = app.create_key(Auth::Session(&bob), json!({ "name": "k", "level": 3 })).await;
    let app = &app;
    let new_set = |token: &str, name: &str, public: bool| {
        let body = json!({ "name": name, "public": public, "measurements": { "waist": 700 } });
        let token = token.to_owned();
        async move { app.api("POST", "/api/v1/sets", Auth::Bearer(&token), Some(body)).await.json()["id"].as_i64().unwrap() }
    };
    let private = new_set(&ann_key.token, "ann's own", false).await;
    let public = new_set(&ann_key.token, "ann's shared", true).await;
    let bobs = new_set(&bob_key.token, "bob's own", false).await;
    let before = app.state.db.coalesced_counts();
    // (method, reader, path, the status and name it must get): reads of a set, and clones,
    // which read the source as the caller (a public set is anyone's to clone).
    let cases = [
        ("GET", &ann_key.token, format!("/api/v1/sets/{private}"), StatusCode::OK, Some("ann's own")),
        ("GET", &bob_key.token, format!("/api/v1/sets/{private}"), StatusCode::NOT_FOUND, None),
        ("GET", &bob_key.token, format!("/api/v1/sets/{public}"), StatusCode::NOT_FOUND, None),
        ("GET", &bob_key.token, format!("/api/v1/sets/{bobs}"), StatusCode::OK, Some("bob's own")),
        ("GET", &ann_key.token, format!("/api/v1/sets/{bobs}"), StatusCode::NOT_FOUND, None),
        ("GET", &ann_key.token, format!("/api/v1/sets/{}", bobs + 1000), StatusCode::NOT_FOUND, None),
        ("POST", &bob_key.token, format!("/api/v1/sets/{public}/clone"), StatusCode::CREATED, Some("ann's shared (copy)")),
        ("POST", &bob_key.token, format!("/api/v1/sets/{private}/clone"), StatusCode::NOT_FOUND, None),
    ];
    let all: Vec<_> = (0..8).flat_map(|_| cases.iter()).collect();
    let reads = all.iter().map(|(method, token, path, _, _)| app.api(method, path, Auth::Bearer(token), None));
    let answers = futures_util::future::join_all(reads).await;
    for (answer, (method, _, path, status, name)) in answers.iter().zip(&all) {
        let what = if *status == StatusCode::NOT_FOUND { answer.json()["code"].clone() } else { answer.json()["name"].clone() };
        let expected = name.map_or(json!("not_found"), |name| json!(name));
        assert_eq!((answer.status, what), (*status, expected), "{method} {path}");
    }
    match (before, app.state.db.coalesced_counts()) {
        (Some((reads_before, statements_before)), Some((reads, statements))) => {
            let (reads, statements) = (reads - reads_before, statements - statements_before);
            assert_eq!(reads, answers.len() as u64, "every read went through the coalesced statements");
            assert!(statements < reads, "{reads} reads in {statements} statements");
        }
        (None, None) => assert_eq!(app.state.db.backend, app::server::db::Backend::Sqlite),
        other => panic!("{other:?}"),
    }
}

/// An in-memory SQLite database has no file for reads on the request's own thread: every
/// query goes through the pool, and a page comes as rows that each carry the total
/// (`page_sql!`'s `counted_rows`, as on PostgreSQL), read the same as everywhere else.
#[tokio::test]
async fn an_in_memory_database_serves_sets_and_pages_through_the_pool() {
    let app = TestApp::start("sqlite::memory:".to_owned(), common::DbHandle::Borrowed, common::test_config()).await;
    assert!(app.state.db.sqlite_reads().is_none());
    let ann = app.signed_up("ann").await;
    for name in ["one", "two", "three"] {
        let body = json!({ "name": name, "notes": "a \"note\"", "measurements": { "waist": 700.5 } });
        assert_eq!(app.api("POST", "/api/v1/sets", Auth::Session(&ann), Some(body)).await.status, StatusCode::CREATED);
    }
    let page = app.api("GET", "/api/v1/sets?q=t&limit=1&offset=1", Auth::Session(&ann), None).await.json();
    assert_eq!((page["total"].as_i64(), page["sets"].as_array().map(Vec::len)), (Some(2), Some(1)), "{page}");
    let listed = &page["sets"][0];
    assert_eq!(listed["name"], "two");
    let read = app.api("GET", &format!("/api/v1/sets/{}", listed["id"]), Auth::Session(&ann), None).await.json();
    assert_eq!(listed, &read);
    assert_eq!(read["measurements"]["waist"], 700.5);
    // Past the last row there is no row to carry the total: it is counted on its own.
    let past = app.api("GET", "/api/v1/sets?q=t&offset=5", Auth::Session(&ann), None).await.json();
    assert_eq!((past["total"].as_i64(), past["sets"].as_array().map(Vec::len)), (Some(2), Some(0)), "{past}");
}
