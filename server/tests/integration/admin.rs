//! The operator's console through the REST API, on both databases: usage across keys
//! (exact, counts not yet written included), per-key limits, suspension, roles and the
//! last-admin rule, and every action in the owner's audit log and the operator log.

use crate::common;

use app::levels::Role;
use common::{Auth, TestApp};
use http::StatusCode;
use serde_json::{json, Value};

backend_tests!(
    the_busiest_keys_are_counted_exactly,
    a_throttled_key_is_refused_after_its_new_limit_while_other_keys_keep_the_defaults,
    bad_key_limits_and_queries_are_refused_naming_the_field,
    suspending_stops_keys_and_sessions_and_unsuspending_restores_the_keys,
    roles_change_and_the_last_admin_stays,
    the_console_pages_are_not_found_for_non_staff,
);

async fn audit_kinds(app: &TestApp, session: &str) -> Vec<(String, String)> {
    let log = app.api("GET", "/api/v1/account/audit", Auth::Session(session), None).await.json();
    log["events"].as_array().unwrap().iter().map(|e| (e["kind"].as_str().unwrap().to_owned(), e["detail"].as_str().unwrap().to_owned())).collect()
}

fn key_in<'a>(page: &'a Value, id: &str) -> &'a Value {
    page["keys"].as_array().unwrap().iter().find(|k| k["id"] == id).unwrap_or_else(|| panic!("{id} not in {page}"))
}

async fn the_busiest_keys_are_counted_exactly(app: TestApp) {
    let ann = app.signed_up("ann").await;
    let bob = app.signed_up("bob").await;
    let busy = app.create_key(Auth::Session(&ann), json!({ "name": "busy" })).await;
    let calm = app.create_key(Auth::Session(&bob), json!({ "name": "calm" })).await;
    let idle = app.create_key(Auth::Session(&bob), json!({ "name": "idle" })).await;
    for i in 0..6 {
        app.api("GET", "/api/v1/whoami", Auth::Bearer(&busy.token), None).await;
        if i == 2 {
            // Half written, half still in memory: the console counts both.
            app.state.usage.flush(&app.state.db).await.unwrap();
        }
    }
    for _ in 0..2 {
        app.api("GET", "/api/v1/whoami", Auth::Bearer(&calm.token), None).await;
    }
    let support = app.staff("helper", Role::Support).await;
    let res = app.api("GET", "/api/v1/admin/keys?sort=calls&days=7", Auth::Session(&support), None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let page = res.json();
    assert_eq!(page["instance_calls"], 8);
    assert_eq!(page["keys"][0]["id"], busy.id.as_str(), "busiest first: {page}");
    let b = key_in(&page, &busy.id);
    assert_eq!((b["calls"].clone(), b["calls_today"].clone(), b["owner"].clone()), (json!(6), json!(6), json!("ann")));
    assert!((b["share"].as_f64().unwrap() - 0.75).abs() < 1e-9, "{b}");
    assert_eq!(b["limits"]["custom"], false);
    assert_eq!((b["rate_limit_override"].clone(), b["daily_quota_override"].clone()), (Value::Null, Value::Null));
    assert!(b.get("secret").is_none() && b.get("secret_hash").is_none() && !page.to_string().contains(&busy.secret));
    assert_eq!(key_in(&page, &calm.id)["calls"], 2);
    assert_eq!(key_in(&page, &idle.id)["calls"], 0, "live keys without use are listed too");
    // The search finds by owner and by key name.
    let found = app.api("GET", "/api/v1/admin/keys?q=BOB", Auth::Session(&support), None).await.json();
    assert_eq!(found["total"], 2, "{found}");
    let found = app.api("GET", "/api/v1/admin/keys?q=bus&limit=1", Auth::Session(&support), None).await.json();
    assert_eq!((found["total"].clone(), found["keys"][0]["id"].clone()), (json!(1), json!(busy.id)));
    // The instance's totals per day agree.
    let usage = app.api("GET", "/api/v1/admin/usage?days=3", Auth::Session(&support), None).await.json();
    assert_eq!(usage["days"].as_array().unwrap().len(), 3);
    assert_eq!(usage["days"][2]["calls"], 8);
    assert_eq!((usage["active_keys"].clone(), usage["active_users"].clone()), (json!(2), json!(2)));
    // After a flush nothing changes.
    app.state.usage.flush(&app.state.db).await.unwrap();
    let again = app.api("GET", "/api/v1/admin/keys?sort=calls&days=7", Auth::Session(&support), None).await.json();
    assert_eq!(key_in(&again, &busy.id)["calls"], 6);
    assert_eq!(again["instance_calls"], 8);
}

async fn a_throttled_key_is_refused_after_its_new_limit_while_other_keys_keep_the_defaults(app: TestApp) {
    let ann = app.signed_up("ann").await;
    let heavy = app.create_key(Auth::Session(&ann), json!({ "name": "heavy" })).await;
    let other = app.create_key(Auth::Session(&ann), json!({ "name": "other" })).await;
    let support = app.staff("helper", Role::Support).await;
    let path = format!("/api/v1/admin/keys/{}", heavy.id);
    let res = app
        .api("PATCH", &path, Auth::Session(&support), Some(json!({ "rate_limit": 2, "reason": "calls every second all day" })))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let key = res.json();
    assert_eq!(key["limits"]["rate_limit"], 2);
    assert_eq!(key["limits"]["custom"], true);
    assert_eq!(key["rate_limit_override"], 2);
    assert_eq!(key["daily_quota_override"], Value::Null, "left out: unchanged");
    for _ in 0..2 {
        let res = app.api("GET", "/api/v1/whoami", Auth::Bearer(&heavy.token), None).await;
        assert_eq!(res.status, StatusCode::OK);
        assert!(res.header("ratelimit-policy").unwrap().starts_with("\"minute\";q=2;w=60"));
    }
    let res = app.api("GET", "/api/v1/whoami", Auth::Bearer(&heavy.token), None).await;
    assert_eq!((res.status, res.json()["code"].clone()), (StatusCode::TOO_MANY_REQUESTS, json!("rate_limited")));
    // The owner's other key keeps the instance's defaults.
    let res = app.api("GET", "/api/v1/whoami", Auth::Bearer(&other.token), None).await;
    assert_eq!(res.status, StatusCode::OK);
    let default_rate = common::test_config().keys.rate_per_minute;
    assert!(res.header("ratelimit-policy").unwrap().starts_with(&format!("\"minute\";q={default_rate};")));
    // The owner sees the change and its reason, by whom; so does the operator log.
    let log = audit_kinds(&app, &ann).await;
    assert!(
        log.iter().any(|(k, d)| k == "key_limits_changed" && d.contains("by helper: calls every second all day") && d.contains("2 a minute")),
        "{log:?}"
    );
    let ops = app.api("GET", "/api/v1/admin/log", Auth::Session(&support), None).await.json();
    let entry = &ops["entries"][0];
    assert_eq!((entry["action"].clone(), entry["actor"].clone(), entry["username"].clone()), (json!("key_limits_changed"), json!("helper"), json!("ann")));
    assert_eq!(entry["reason"], "calls every second all day");
    // 0 refuses everything; null returns to the defaults.
    let res = app.api("PATCH", &path, Auth::Session(&support), Some(json!({ "rate_limit": null, "daily_quota": 0, "reason": "stop" }))).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let res = app.api("GET", "/api/v1/whoami", Auth::Bearer(&heavy.token), None).await;
    assert_eq!(res.json()["code"], "quota_exceeded");
    let res = app.api("PATCH", &path, Auth::Session(&support), Some(json!({ "daily_quota": null, "reason": "talked it over" }))).await;
    assert_eq!(res.json()["limits"]["custom"], false);
    // The owner's listing shows the key's limits as they are.
    let mine = app.api("GET", &format!("/api/v1/apikeys/{}", heavy.id), Auth::Session(&ann), None).await.json();
    assert_eq!(mine["limits"]["custom"], false);
}

async fn bad_key_limits_and_queries_are_refused_naming_the_field(app: TestApp) {
    let ann = app.signed_up("ann").await;
    let key = app.create_key(Auth::Session(&ann), json!({ "name": "k" })).await;
    let support = app.staff("helper", Role::Support).await;
    let path = format!("/api/v1/admin/keys/{}", key.id);
    for (body, field) in [
        (json!({ "rate_limit": -1, "reason": "x" }), "rate_limit"),
        (json!({ "rate_limit": 1.5, "reason": "x" }), "rate_limit"),
        (json!({ "rate_limit": "ten", "reason": "x" }), "rate_limit"),
        (json!({ "rate_limit": 2_000_000, "reason": "x" }), "rate_limit"),
        (json!({ "daily_quota": 5_000_000_000i64, "reason": "x" }), "daily_quota"),
        (json!({ "rate_limit": 5 }), "reason"),
        (json!({ "rate_limit": 5, "reason": "  " }), "reason"),
        (json!({ "reason": "nothing to change" }), "rate_limit"),
        (json!({ "rate_limit": 5, "reason": "x", "burst": 3 }), "burst"),
    ] {
        let res = app.api("PATCH", &path, Auth::Session(&support), Some(body.clone())).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", res.text());
        let problem = res.json();
        let fields: Vec<&str> = problem["errors"].as_array().map(|e| e.iter().filter_map(|f| f["field"].as_str()).collect()).unwrap_or_default();
        assert!(problem["field"] == field || fields.contains(&field), "{body}: {problem}");
    }
    let unchanged = app.api("GET", &path, Auth::Session(&support), None).await.json();
    assert_eq!(unchanged["key"]["limits"]["custom"], false, "bad input changed nothing");
    assert!(audit_kinds(&app, &ann).await.iter().all(|(k, _)| k != "key_limits_changed"));
    for (query, field) in [("sort=name", "sort"), ("days=0", "days"), ("days=100000", "days"), ("days=two", "days"), ("limit=0", "limit"), ("color=red", "color")] {
        let res = app.api("GET", &format!("/api/v1/admin/keys?{query}"), Auth::Session(&support), None).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {}", res.text());
        assert!(res.text().contains(field), "{query}: {}", res.text());
    }
    for query in ["days=0", "days=100000"] {
        let res = app.api("GET", &format!("/api/v1/admin/usage?{query}"), Auth::Session(&support), None).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
    }
    let res = app.api("PATCH", "/api/v1/admin/keys/nosuchkey123", Auth::Session(&support), Some(json!({ "rate_limit": 5, "reason": "x" }))).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);

    // Nobody changes the limits of their own keys — not by session, not with the key itself;
    // another member of staff can.
    let own = app.create_key(Auth::Session(&support), json!({ "name": "mine", "level": 7 })).await;
    let own_path = format!("/api/v1/admin/keys/{}", own.id);
    for auth in [Auth::Session(&support), Auth::Bearer(&own.token)] {
        let res = app.api("PATCH", &own_path, auth, Some(json!({ "rate_limit": 1_000_000, "reason": "my big plans" }))).await;
        assert_eq!((res.status, res.json()["code"].as_str()), (StatusCode::FORBIDDEN, Some("own_key_limits")), "{}", res.text());
    }
    let other = app.staff("other", Role::Support).await;
    let res = app.api("GET", &own_path, Auth::Session(&other), None).await.json();
    assert_eq!(res["key"]["limits"]["custom"], false, "refused changes changed nothing");
    let res = app.api("PATCH", &own_path, Auth::Session(&other), Some(json!({ "rate_limit": 600, "reason": "big plans, agreed" }))).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
}

async fn suspending_stops_keys_and_sessions_and_unsuspending_restores_the_keys(app: TestApp) {
    let ann = app.signed_up("ann").await;
    let key = app.create_key(Auth::Session(&ann), json!({ "name": "k" })).await;
    let ann_id = app.user_id("ann").await;
    let support = app.staff("helper", Role::Support).await;
    let path = format!("/api/v1/admin/users/{ann_id}");
    let res = app.api("POST", &format!("{path}/suspend"), Auth::Session(&support), Some(json!({}))).await;
    assert_eq!((res.status, res.json()["field"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("reason")));
    let res = app.api("POST", &format!("{path}/suspend"), Auth::Session(&support), Some(json!({ "reason": "scraping" }))).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.json()["suspend_reason"], "scraping");
    let res = app.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await;
    assert_eq!((res.status, res.json()["code"].clone()), (StatusCode::FORBIDDEN, json!("account_suspended")));
    let res = app.api("GET", "/api/v1/account", Auth::Session(&ann), None).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "the session ended");
    let detail = app.api("GET", &path, Auth::Session(&support), None).await.json();
    assert!(detail["user"]["suspended_at"].is_string());
    assert_eq!(detail["keys"][0]["id"], key.id.as_str());
    assert!(detail["activity"].as_array().unwrap().iter().any(|e| e["kind"] == "account_suspended" && e["detail"].as_str().unwrap().contains("by helper: scraping")));
    // Support (7) may not act on an admin (8).
    let root = app.staff("root", Role::Admin).await;
    let root_id = app.user_id("root").await;
    let res = app.api("POST", &format!("/api/v1/admin/users/{root_id}/suspend"), Auth::Session(&support), Some(json!({ "reason": "x" }))).await;
    assert_eq!((res.status, res.json()["code"].clone()), (StatusCode::FORBIDDEN, json!("level_too_low")));

    let res = app.api("POST", &format!("{path}/unsuspend"), Auth::Session(&root), Some(json!({ "reason": "promised to slow down" }))).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.json()["suspended_at"], Value::Null);
    assert_eq!(app.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await.status, StatusCode::OK, "the key works again");
    let session = app.login("ann", "a long password").await.session_token().expect("signs in again");
    let log = audit_kinds(&app, &session).await;
    let kinds: Vec<&str> = log.iter().map(|(k, _)| k.as_str()).collect();
    assert!(kinds.starts_with(&["account_unsuspended", "account_suspended"]), "{kinds:?}");
    let ops = app.api("GET", "/api/v1/admin/log", Auth::Session(&root), None).await.json();
    let actors: Vec<&str> = ops["entries"].as_array().unwrap().iter().map(|e| e["actor"].as_str().unwrap()).collect();
    assert_eq!(actors, ["root", "helper"]);
}

async fn roles_change_and_the_last_admin_stays(app: TestApp) {
    let ann = app.signed_up("ann").await;
    let ann_id = app.user_id("ann").await;
    let root = app.staff("root", Role::Admin).await;
    let root_id = app.user_id("root").await;
    let support = app.staff("helper", Role::Support).await;
    let res = app.api("PATCH", &format!("/api/v1/admin/users/{ann_id}"), Auth::Session(&support), Some(json!({ "role": "curator" }))).await;
    assert_eq!((res.status, res.json()["code"].clone()), (StatusCode::FORBIDDEN, json!("level_too_low")));
    let res = app.api("PATCH", &format!("/api/v1/admin/users/{ann_id}"), Auth::Session(&root), Some(json!({ "role": "wizard" }))).await;
    assert_eq!((res.status, res.json()["field"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("role")));
    let res = app
        .api("PATCH", &format!("/api/v1/admin/users/{ann_id}"), Auth::Session(&root), Some(json!({ "role": "curator", "reason": "runs the gallery" })))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!((res.json()["role"].clone(), res.json()["level"].clone()), (json!("curator"), json!(5)));
    assert!(audit_kinds(&app, &ann).await.iter().any(|(k, d)| k == "role_changed" && d.contains("from user to curator by root: runs the gallery")));
    // The only admin can neither lower their own role nor be suspended.
    let res = app.api("PATCH", &format!("/api/v1/admin/users/{root_id}"), Auth::Session(&root), Some(json!({ "role": "support" }))).await;
    assert_eq!((res.status, res.json()["code"].clone()), (StatusCode::CONFLICT, json!("last_admin")));
    let res = app.api("POST", &format!("/api/v1/admin/users/{root_id}/suspend"), Auth::Session(&root), Some(json!({ "reason": "x" }))).await;
    assert_eq!((res.status, res.json()["code"].clone()), (StatusCode::CONFLICT, json!("last_admin")));
    // With a second admin, the first may step down.
    let res = app.api("PATCH", &format!("/api/v1/admin/users/{ann_id}"), Auth::Session(&root), Some(json!({ "role": "admin" }))).await;
    assert_eq!(res.status, StatusCode::OK);
    let res = app.api("PATCH", &format!("/api/v1/admin/users/{root_id}"), Auth::Session(&root), Some(json!({ "role": "support" }))).await;
    assert_eq!((res.status, res.json()["role"].clone()), (StatusCode::OK, json!("support")));
    // Users are searched by name or email.
    let page = app.api("GET", "/api/v1/admin/users?q=ROO", Auth::Session(&support), None).await.json();
    assert_eq!((page["total"].clone(), page["users"][0]["username"].clone()), (json!(1), json!("root")));
}

async fn the_console_pages_are_not_found_for_non_staff(app: TestApp) {
    let ann = app.signed_up("ann").await;
    let curator = app.staff("curie", Role::Curator).await;
    for session in [None, Some(ann.as_str()), Some(curator.as_str())] {
        let res = app.get("/admin", session).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{session:?}");
        assert!(res.text().contains("Page not found"));
        assert!(!res.text().contains("Operator console"));
    }
    let support = app.staff("helper", Role::Support).await;
    let key = app.create_key(Auth::Session(&ann), json!({ "name": "k" })).await;
    app.api("GET", "/api/v1/whoami", Auth::Bearer(&key.token), None).await;
    let res = app.get("/admin", Some(&support)).await;
    assert_eq!(res.status, StatusCode::OK);
    let html = res.text();
    assert!(html.contains("Operator console") && html.contains("Busiest today"), "rendered on the server");
    assert!(html.contains(&format!("/admin/keys/{}", key.id)), "the busiest key is linked");
    let res = app.get(&format!("/admin/keys/{}", key.id), Some(&support)).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.text().contains("Set limits"), "support (7) may set limits");
    assert!(!res.text().contains("Revoke key"), "but not revoke (8)");
}
