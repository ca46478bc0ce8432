//! A key's usage per UTC day (`/api/v1/apikeys/{id}/usage`) and the owner's activity
//! (`/api/v1/account/audit`), on both databases.

use crate::common;

use common::{Auth, TestApp};
use http::StatusCode;
use serde_json::{json, Value};

backend_tests!(daily_usage_is_exact_before_and_after_a_flush, usage_days_are_checked, the_owner_reads_their_activity);

fn today() -> String {
    app::auth::usage::day_string(app::auth::usage::day_of(app::server::db::now()))
}

async fn daily_usage_is_exact_before_and_after_a_flush(app: TestApp) {
    let session = app.signed_up("ann").await;
    let key = app.create_key(Auth::Session(&session), json!({ "name": "k", "level": 2 })).await;
    let other = app.create_key(Auth::Session(&session), json!({ "name": "other", "level": 2 })).await;
    for _ in 0..5 {
        assert_eq!(app.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await.status, StatusCode::OK);
    }
    app.api("GET", "/api/v1/whoami", Auth::Bearer(&other.token), None).await;
    let path = format!("/api/v1/apikeys/{}/usage", key.id);
    let usage = |res: common::TestResponse| -> Value {
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        res.json()
    };
    // Before any flush: the counts in memory are part of the answer.
    let before = usage(app.api("GET", &path, Auth::Session(&session), None).await);
    let days = before["days"].as_array().unwrap();
    assert_eq!(days.len(), 30, "30 days by default, today included");
    assert_eq!(days.last().unwrap(), &json!({ "day": today(), "calls": 5, "refused": 0 }));
    assert!(days[..29].iter().all(|d| d["calls"] == 0 && d["refused"] == 0), "{days:?}");
    assert!(days.windows(2).all(|w| w[0]["day"].as_str() < w[1]["day"].as_str()), "oldest first");

    // Written in one batch, the answer is the same, and the day's row holds the calls.
    app.state.usage.flush(&app.state.db).await.unwrap();
    let after = usage(app.api("GET", &format!("{path}?days=1"), Auth::Bearer(&key.token), None).await);
    // (This read is itself a call of the key: it counts.)
    assert_eq!(after["days"], json!([{ "day": today(), "calls": 6, "refused": 0 }]));
    use sqlx::Row;
    let row = sqlx::query("SELECT calls, refused FROM api_key_usage WHERE key_id = $1 AND day = $2")
        .bind(&key.id)
        .bind(today())
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!((row.get::<i64, _>("calls"), row.get::<i64, _>("refused")), (5, 0));

    // Each key counts its own calls.
    let res = app.api("GET", &format!("/api/v1/apikeys/{}/usage?days=1", other.id), Auth::Session(&session), None).await;
    assert_eq!(usage(res)["days"][0]["calls"], 1);

    // A restarted server (a fresh state over the same database) keeps today's written counts.
    let restarted = TestApp::state(&app.url, common::test_config()).await;
    let url = app.url.clone();
    let again = TestApp { router: tapeline_server::router(restarted.clone()), state: restarted, url, handle: app.handle };
    let res = again.api("GET", &format!("{path}?days=1"), Auth::Session(&session), None).await;
    assert_eq!(usage(res)["days"][0]["calls"], 5);
}

async fn usage_days_are_checked(app: TestApp) {
    let session = app.signed_up("ann").await;
    let key = app.create_key(Auth::Session(&session), json!({ "name": "k" })).await;
    let path = format!("/api/v1/apikeys/{}/usage", key.id);
    for bad in ["days=0", "days=366", "days=100000", "days=-1", "days=7.5", "days=week", "dayz=7"] {
        let res = app.api("GET", &format!("{path}?{bad}"), Auth::Session(&session), None).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {}", res.text());
        let field = res.json()["field"].as_str().unwrap().to_owned();
        assert!(field == "days" || field == "dayz", "{bad}: {field}");
    }
    let res = app.api("GET", &format!("{path}?days=365"), Auth::Session(&session), None).await;
    assert_eq!(res.json()["days"].as_array().unwrap().len(), 365);
    // A level-1 key may not read usage (level 2); another person's key is not found.
    let k1 = app.create_key(Auth::Session(&session), json!({ "name": "k1", "level": 1 })).await;
    let res = app.api("GET", &path, Auth::Bearer(&k1.token), None).await;
    assert_eq!((res.status, res.json()["code"].clone()), (StatusCode::FORBIDDEN, json!("level_too_low")));
    let bea = app.signed_up("bea").await;
    assert_eq!(app.api("GET", &path, Auth::Session(&bea), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.api("GET", "/api/v1/apikeys/nosuchkey000/usage", Auth::Session(&session), None).await.status, StatusCode::NOT_FOUND);
}

async fn the_owner_reads_their_activity(app: TestApp) {
    let session = app.signed_up("ann").await;
    let first = app.create_key(Auth::Session(&session), json!({ "name": "first" })).await;
    let second = app.create_key(Auth::Session(&session), json!({ "name": "second", "level": 2 })).await;
    app.api("DELETE", &format!("/api/v1/apikeys/{}", first.id), Auth::Session(&session), None).await;
    let res = app.api("GET", "/api/v1/account/audit", Auth::Bearer(&second.token), None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let page = res.json();
    assert_eq!((page["total"].clone(), page["limit"].clone(), page["offset"].clone()), (json!(3), json!(50), json!(0)));
    let kinds: Vec<&str> = page["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["key_revoked", "key_created", "key_created"], "newest first");
    assert_eq!(page["events"][0]["key_id"], first.id.as_str());
    assert_eq!(page["events"][0]["detail"], "revoked by the owner");
    // Paged.
    let res = app.api("GET", "/api/v1/account/audit?limit=1&offset=1", Auth::Session(&session), None).await.json();
    assert_eq!(res["events"].as_array().unwrap().len(), 1);
    assert_eq!(res["events"][0]["key_id"], second.id.as_str());
    // Bad paging is named; a level-1 key may not read it.
    let res = app.api("GET", "/api/v1/account/audit?limit=0&offset=-1", Auth::Session(&session), None).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = res.json()["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect();
    assert_eq!(fields, ["limit", "offset"]);
    let k1 = app.create_key(Auth::Session(&session), json!({ "name": "k1", "level": 1 })).await;
    assert_eq!(app.api("GET", "/api/v1/account/audit", Auth::Bearer(&k1.token), None).await.status, StatusCode::FORBIDDEN);
}
