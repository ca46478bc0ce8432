//! Curated reference sets through the real router, on SQLite and PostgreSQL. Who may call
//! which route is in `permissions.rs`.

use crate::common;

use app::levels::Role;
use common::{Auth, TestApp};
use http::StatusCode;
use serde_json::{json, Value};

backend_tests!(
    a_new_instance_ships_valid_curated_sets,
    curators_write_curated_sets,
    anyone_clones_a_curated_set_into_their_own,
);

async fn a_new_instance_ships_valid_curated_sets(app: TestApp) {
    let res = app.api("GET", "/api/v1/curated-sets", Auth::None, None).await;
    assert_eq!(res.status, StatusCode::OK);
    let page = res.json();
    let sets = page["sets"].as_array().unwrap();
    assert!(sets.len() >= 4, "seeds: {page}");
    assert_eq!(page["total"].as_u64(), Some(sets.len() as u64));
    let names: Vec<&str> = sets.iter().map(|s| s["name"].as_str().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "alphabetical");
    for set in sets {
        let values = set["measurements"].as_object().unwrap();
        assert!(values.len() >= 20, "{} has only {} measurements", set["name"], values.len());
        // Every seed passes the same rules a person's set must.
        let problems = app::measurements::problems(values.iter().map(|(k, v)| (k.as_str(), v.as_f64())));
        assert!(problems.is_empty(), "{}: {problems:?}", set["name"]);
        assert!(!set["notes"].as_str().unwrap().is_empty());
        // Plausible bodies: a waist smaller than the seat, a chest larger than the neck.
        assert!(values["waist"].as_f64() < values["seat"].as_f64(), "{}", set["name"]);
        assert!(values["neck"].as_f64() < values["chest"].as_f64(), "{}", set["name"]);
    }
    let first = &sets[0];
    let res = app.api("GET", &format!("/api/v1/curated-sets/{}", first["id"]), Auth::None, None).await;
    assert_eq!(res.json(), *first);
    let yaml = app.api("GET", &format!("/api/v1/curated-sets/{}?format=yaml", first["id"]), Auth::None, None).await;
    assert_eq!(serde_saphyr::from_str::<Value>(&yaml.text()).unwrap(), *first);
    let narrowed = app.api("GET", "/api/v1/curated-sets?q=child", Auth::None, None).await.json();
    assert_eq!(narrowed["total"], 1);
    // Every page reports the whole listing's total: one in the middle, one past the end
    // (no row there to carry it), and a search that matches nothing.
    let second = app.api("GET", "/api/v1/curated-sets?limit=1&offset=1", Auth::None, None).await.json();
    assert_eq!((second["sets"].as_array().unwrap().len(), second["total"].as_u64()), (1, Some(sets.len() as u64)));
    assert_eq!(second["sets"][0], sets[1]);
    let past = app.api("GET", "/api/v1/curated-sets?offset=100", Auth::None, None).await.json();
    assert_eq!((past["sets"].as_array().unwrap().len(), past["total"].as_u64()), (0, Some(sets.len() as u64)));
    let none = app.api("GET", "/api/v1/curated-sets?q=no%20such%20body", Auth::None, None).await.json();
    assert_eq!((none["sets"].as_array().unwrap().len(), none["total"].as_u64()), (0, Some(0)));
}

async fn curators_write_curated_sets(app: TestApp) {
    let curator = app.staff("cura", Role::Curator).await;
    let auth = Auth::Session(&curator);
    let res = app
        .api("POST", "/api/v1/curated-sets", auth, Some(json!({ "name": " Men's EU 52 ", "notes": "from a chart", "measurements": { "chest": 1040, "waist": 920 } })))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let set = res.json();
    assert_eq!(set["name"], "Men's EU 52");
    let path = format!("/api/v1/curated-sets/{}", set["id"]);
    let res = app.api("PATCH", &path, auth, Some(json!({ "measurements": { "waist": 925, "chest": null, "neck": 410 } }))).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.json()["measurements"], json!({ "neck": 410.0, "waist": 925.0 }));
    assert_eq!(res.json()["notes"], "from a chart");

    // Invalid input changes nothing, and names every problem.
    let res = app.api("PATCH", &path, auth, Some(json!({ "name": "", "measurements": { "wasit": 1, "neck": -4 } }))).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.json();
    let mut fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    fields.sort();
    assert_eq!(fields, ["measurements.neck", "measurements.wasit", "name"]);
    assert_eq!(app.api("GET", &path, Auth::None, None).await.json()["measurements"], json!({ "neck": 410.0, "waist": 925.0 }));
    let res = app.api("POST", "/api/v1/curated-sets", auth, Some(json!({ "name": "x", "measurements": { "waist": 9000 } }))).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);

    assert_eq!(app.api("DELETE", &path, auth, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.api("GET", &path, Auth::None, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.api("DELETE", &path, auth, None).await.status, StatusCode::NOT_FOUND);
}

async fn anyone_clones_a_curated_set_into_their_own(app: TestApp) {
    let ann = app.signed_up("ann").await;
    let curated = app.api("GET", "/api/v1/curated-sets?q=EU%2038", Auth::None, None).await.json()["sets"][0].clone();
    let clone_path = format!("/api/v1/curated-sets/{}/clone", curated["id"]);

    let low = app.create_key(Auth::Session(&ann), json!({ "name": "reader", "level": 1 })).await;
    let res = app.api("POST", &clone_path, Auth::Bearer(&low.token), None).await;
    assert_eq!((res.status, res.json()["code"].as_str()), (StatusCode::FORBIDDEN, Some("level_too_low")));

    let writer = app.create_key(Auth::Session(&ann), json!({ "name": "writer", "level": 3 })).await;
    let res = app.api("POST", &clone_path, Auth::Bearer(&writer.token), None).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let mine = res.json();
    assert_eq!(mine["name"], curated["name"]);
    assert_eq!(mine["measurements"], curated["measurements"]);
    assert_eq!(mine["public"], false);
    let res = app.api("GET", &format!("/api/v1/sets/{}", mine["id"]), Auth::Bearer(&low.token), None).await;
    assert_eq!(res.json(), mine, "the copy is an ordinary set of ann's");

    // The copy is independent: changing it leaves the curated set as it was.
    app.api("PATCH", &format!("/api/v1/sets/{}", mine["id"]), Auth::Session(&ann), Some(json!({ "measurements": { "waist": 1 } }))).await;
    assert_eq!(app.api("GET", &format!("/api/v1/curated-sets/{}", curated["id"]), Auth::None, None).await.json(), curated);
    assert_eq!(app.api("POST", "/api/v1/curated-sets/999999/clone", Auth::Session(&ann), None).await.status, StatusCode::NOT_FOUND);
}
