//! The permission matrix: every REST route, called by every kind of caller, on SQLite and
//! PostgreSQL.
//!
//! Callers: anonymous; the owner by session, and by key at the level just below and at the
//! level the route needs; another user; and staff (curator 5, support 7, admin 8) by session
//! and by key just below and at the level needed to reach someone else's object. Each cell
//! gets a fresh target object, so writes and deletes never depend on the order of cells.
//!
//! The expected status of each cell comes from the route's row in [`routes`] (the levels of
//! the ladder, as `app/src/levels.rs` defines it and the API description at `/docs` shows it)
//! through [`expect`], a dozen lines that restate the ladder's rules.

use crate::common;

use app::levels::Role;
use common::{Auth, TestApp};
use serde_json::{json, Value};
use std::collections::HashMap;

/// What a route acts on.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    /// Nothing by id (a listing, a create, the caller's own account).
    Nothing,
    /// The owner's private set / pattern / key.
    Set,
    Pattern,
    Key,
    /// The owner's public set / pattern, through the public routes.
    PublicSet,
    PublicPattern,
    /// A curated set.
    Curated,
    /// Through the operator's routes: a key of the owner's, and a fresh account of its own
    /// (suspending or demoting it must not touch the callers' accounts).
    AdminKey,
    Account,
}

struct Route {
    method: &'static str,
    /// `{id}` is replaced by the target's id.
    path: &'static str,
    body: Option<Value>,
    target: Target,
    /// The level a caller needs at all (None: public, no authentication).
    needs: Option<u8>,
    /// The level that reaches another person's object (None: nobody's but one's own).
    others: Option<u8>,
    /// The status of success.
    ok: u16,
}

fn routes() -> Vec<Route> {
    let r = |method, path, body: Option<Value>, target, needs: Option<u8>, others: Option<u8>, ok| Route {
        method,
        path,
        body,
        target,
        needs,
        others,
        ok,
    };
    let set = json!({ "name": "m", "measurements": { "waist": 700 } });
    let pattern = json!({ "name": "m", "design": "aaron", "settings": { "sa": 10 } });
    // A key acting at level 4 may create a key only below its own expiry: ask for an hour.
    let key = json!({ "name": "m", "level": 0, "expires_in": 3600 });
    use Target::*;
    #[rustfmt::skip]
    let table = vec![
        r("GET",    "/api/v1/whoami",                None,                                     Nothing,       Some(0), None,    200),
        r("GET",    "/api/v1/account",               None,                                     Nothing,       Some(2), None,    200),
        r("PATCH",  "/api/v1/account",               Some(json!({})),                          Nothing,       Some(4), None,    200),
        r("GET",    "/api/v1/account/export",        None,                                     Nothing,       Some(2), None,    200),
        r("GET",    "/api/v1/account/audit",         None,                                     Nothing,       Some(2), None,    200),
        r("GET",    "/api/v1/apikeys",               None,                                     Nothing,       Some(2), None,    200),
        r("POST",   "/api/v1/apikeys",               Some(key),                                Nothing,       Some(4), None,    201),
        r("GET",    "/api/v1/apikeys/{id}",          None,                                     Key,           Some(2), Some(6), 200),
        r("DELETE", "/api/v1/apikeys/{id}?reason=matrix", None,                                Key,           Some(4), Some(8), 204),
        r("GET",    "/api/v1/apikeys/{id}/usage",    None,                                     Key,           Some(2), Some(6), 200),
        r("POST",   "/api/v1/apikeys/{id}/rotate",   Some(json!({ "grace_period": 60, "expires_in": 3600 })), Key, Some(4), None, 201),
        r("GET",    "/api/v1/measurements",          None,                                     Nothing,       None,    None,    200),
        r("GET",    "/api/v1/sets",                  None,                                     Nothing,       Some(1), None,    200),
        r("POST",   "/api/v1/sets",                  Some(set),                                Nothing,       Some(3), None,    201),
        r("GET",    "/api/v1/sets/{id}",             None,                                     Set,           Some(1), Some(5), 200),
        r("PATCH",  "/api/v1/sets/{id}",             Some(json!({ "notes": "x" })),            Set,           Some(3), Some(7), 200),
        r("DELETE", "/api/v1/sets/{id}",             None,                                     Set,           Some(3), Some(7), 204),
        r("POST",   "/api/v1/sets/{id}/clone",       None,                                     Set,           Some(3), Some(5), 201),
        r("GET",    "/api/v1/patterns",              None,                                     Nothing,       Some(1), None,    200),
        r("POST",   "/api/v1/patterns",              Some(pattern),                            Nothing,       Some(3), None,    201),
        r("GET",    "/api/v1/patterns/{id}",         None,                                     Pattern,       Some(1), Some(5), 200),
        r("PATCH",  "/api/v1/patterns/{id}",         Some(json!({ "notes": "x" })),            Pattern,       Some(3), Some(7), 200),
        r("DELETE", "/api/v1/patterns/{id}",         None,                                     Pattern,       Some(3), Some(7), 204),
        r("GET",    "/api/v1/public/sets/{id}",      None,                                     PublicSet,     None,    None,    200),
        r("GET",    "/api/v1/public/patterns/{id}",  None,                                     PublicPattern, None,    None,    200),
        r("GET",    "/api/v1/curated-sets",          None,                                     Nothing,       None,    None,    200),
        r("GET",    "/api/v1/curated-sets/{id}",     None,                                     Curated,       None,    None,    200),
        r("POST",   "/api/v1/curated-sets",          Some(json!({ "name": "c" })),             Nothing,       Some(5), None,    201),
        r("PATCH",  "/api/v1/curated-sets/{id}",     Some(json!({ "notes": "x" })),            Curated,       Some(5), None,    200),
        r("DELETE", "/api/v1/curated-sets/{id}",     None,                                     Curated,       Some(5), None,    204),
        r("POST",   "/api/v1/curated-sets/{id}/clone", None,                                   Curated,       Some(3), None,    201),
        r("GET",    "/api/v1/admin/keys",            None,                                     Nothing,       Some(6), None,    200),
        r("GET",    "/api/v1/admin/keys/{id}",       None,                                     AdminKey,      Some(6), None,    200),
        r("PATCH",  "/api/v1/admin/keys/{id}",       Some(json!({ "rate_limit": 100, "reason": "matrix" })), AdminKey, Some(7), None, 200),
        r("GET",    "/api/v1/admin/users",           None,                                     Nothing,       Some(6), None,    200),
        r("GET",    "/api/v1/admin/users/{id}",      None,                                     Account,       Some(6), None,    200),
        r("PATCH",  "/api/v1/admin/users/{id}",      Some(json!({ "role": "curator" })),       Account,       Some(8), None,    200),
        r("POST",   "/api/v1/admin/users/{id}/suspend", Some(json!({ "reason": "matrix" })),   Account,       Some(7), None,    200),
        r("POST",   "/api/v1/admin/users/{id}/unsuspend", Some(json!({ "reason": "matrix" })), Account,       Some(7), None,    200),
        r("GET",    "/api/v1/admin/usage",           None,                                     Nothing,       Some(6), None,    200),
        r("GET",    "/api/v1/admin/log",             None,                                     Nothing,       Some(6), None,    200),
    ];
    table
}

/// Who calls.
#[derive(Clone, Copy, Debug)]
enum Caller {
    Anonymous,
    OwnerSession,
    OwnerKey(u8),
    OtherUser,
    StaffSession(Role),
    StaffKey(Role, u8),
}

impl Caller {
    /// The level the call acts at (a key: the lower of its level and its owner's role).
    fn level(self) -> u8 {
        match self {
            Caller::Anonymous => 0,
            Caller::OwnerSession | Caller::OtherUser => Role::User.level().get(),
            Caller::OwnerKey(l) => l.min(Role::User.level().get()),
            Caller::StaffSession(role) => role.level().get(),
            Caller::StaffKey(role, l) => l.min(role.level().get()),
        }
    }

    fn is_owner(self) -> bool {
        matches!(self, Caller::OwnerSession | Caller::OwnerKey(_))
    }
}

impl Target {
    /// The level at which staff read another person's object of this kind (sets and
    /// patterns at 5, keys at 6), if it is anybody's.
    fn staff_reads_at(self) -> Option<u8> {
        match self {
            Target::Set | Target::Pattern => Some(5),
            Target::Key => Some(6),
            _ => None,
        }
    }
}

/// The status a call should get. The ladder's rules, restated: public routes answer anyone;
/// otherwise no credentials is 401, too low a level is 403, and someone else's object is
/// out of reach unless the caller reaches others' objects at this route's staff level —
/// 403 when the caller can still read it (it sees the object), 404 when it cannot.
fn expect(route: &Route, caller: Caller) -> u16 {
    let Some(needs) = route.needs else { return route.ok };
    if matches!(caller, Caller::Anonymous) {
        return 401;
    }
    if caller.level() < needs {
        return 403;
    }
    let owned_target = matches!(route.target, Target::Set | Target::Pattern | Target::Key);
    if owned_target && !caller.is_owner() && route.others.is_none_or(|o| caller.level() < o) {
        let sees = route.target.staff_reads_at().is_some_and(|r| caller.level() >= r);
        return if sees { 403 } else { 404 };
    }
    route.ok
}

/// The callers of one route: the fixed ones, plus keys just below and at each level that
/// matters to it.
fn callers(route: &Route) -> Vec<Caller> {
    let mut callers = vec![Caller::Anonymous, Caller::OwnerSession, Caller::OtherUser];
    let below_and_at = |l: u8| if l == 0 { vec![0] } else { vec![l - 1, l] };
    if let Some(needs) = route.needs {
        callers.extend(below_and_at(needs).into_iter().filter(|l| *l <= 4).map(Caller::OwnerKey));
    } else {
        callers.push(Caller::OwnerKey(0));
    }
    for role in [Role::Curator, Role::Support, Role::Admin] {
        callers.push(Caller::StaffSession(role));
        let levels = match (route.others, route.needs) {
            (Some(others), _) => below_and_at(others),
            (None, Some(needs)) => below_and_at(needs),
            (None, None) => vec![0],
        };
        callers.extend(levels.into_iter().filter(|l| *l <= role.level().get()).map(|l| Caller::StaffKey(role, l)));
    }
    callers
}

struct World<'a> {
    app: &'a TestApp,
    /// Accounts made as targets so far.
    accounts: u32,
    sessions: HashMap<String, String>,
    keys: HashMap<(String, u8), String>,
}

impl<'a> World<'a> {
    async fn new(app: &'a TestApp) -> World<'a> {
        let mut sessions = HashMap::new();
        sessions.insert("owner".to_owned(), app.signed_up("owner").await);
        sessions.insert("other".to_owned(), app.signed_up("other").await);
        for role in [Role::Curator, Role::Support, Role::Admin] {
            sessions.insert(role.as_str().to_owned(), app.staff(role.as_str(), role).await);
        }
        World { app, accounts: 0, sessions, keys: HashMap::new() }
    }

    fn session(&self, who: &str) -> &str {
        &self.sessions[who]
    }

    async fn key(&mut self, who: &str, level: u8) -> String {
        if let Some(token) = self.keys.get(&(who.to_owned(), level)) {
            return token.clone();
        }
        let key = self
            .app
            .create_key(Auth::Session(&self.sessions[who]), json!({ "name": format!("{who} {level}"), "level": level }))
            .await;
        self.keys.insert((who.to_owned(), level), key.token.clone());
        key.token
    }

    /// A fresh object for one cell, owned by "owner" (curated sets: made by the admin).
    async fn target(&mut self, target: Target) -> String {
        let (who, path, body) = match target {
            Target::Nothing => return String::new(),
            Target::Account => {
                self.accounts += 1;
                let name = format!("target{}", self.accounts);
                self.app.signed_up(&name).await;
                use sqlx::Row;
                let row = sqlx::query("SELECT id FROM users WHERE username = $1").bind(&name).fetch_one(&self.app.state.db).await.unwrap();
                return row.get::<i64, _>("id").to_string();
            }
            Target::AdminKey => ("owner", "/api/v1/apikeys", json!({ "name": "target", "level": 0 })),
            Target::Set => ("owner", "/api/v1/sets", json!({ "name": "private set" })),
            Target::PublicSet => ("owner", "/api/v1/sets", json!({ "name": "public set", "public": true })),
            Target::Pattern => ("owner", "/api/v1/patterns", json!({ "name": "p", "design": "aaron" })),
            Target::PublicPattern => ("owner", "/api/v1/patterns", json!({ "name": "p", "design": "aaron", "public": true })),
            Target::Key => ("owner", "/api/v1/apikeys", json!({ "name": "target", "level": 0 })),
            Target::Curated => ("admin", "/api/v1/curated-sets", json!({ "name": "curated" })),
        };
        let res = self.app.api("POST", path, Auth::Session(self.session(who)), Some(body)).await;
        assert_eq!(res.status.as_u16(), 201, "setting up {path}: {}", res.text());
        let id = res.json()["id"].clone();
        id.as_str().map(str::to_owned).unwrap_or_else(|| id.to_string())
    }

    async fn call(&mut self, route: &Route, caller: Caller) -> (u16, Value) {
        let id = self.target(route.target).await;
        let path = route.path.replace("{id}", &id);
        let token;
        let auth = match caller {
            Caller::Anonymous => Auth::None,
            Caller::OwnerSession => Auth::Session(self.session("owner")),
            Caller::OtherUser => Auth::Session(self.session("other")),
            Caller::StaffSession(role) => Auth::Session(self.session(role.as_str())),
            Caller::OwnerKey(level) => {
                token = self.key("owner", level).await;
                Auth::Bearer(&token)
            }
            Caller::StaffKey(role, level) => {
                token = self.key(role.as_str(), level).await;
                Auth::Bearer(&token)
            }
        };
        let res = self.app.api(route.method, &path, auth, route.body.clone()).await;
        let body = if res.body.is_empty() { Value::Null } else { res.json() };
        (res.status.as_u16(), body)
    }
}

backend_tests!(every_route_answers_every_caller_as_the_ladder_says);

async fn every_route_answers_every_caller_as_the_ladder_says(app: TestApp) {
    let mut world = World::new(&app).await;
    let mut cells = 0;
    let mut wrong = Vec::new();
    for route in routes() {
        for caller in callers(&route) {
            let expected = expect(&route, caller);
            let (status, body) = world.call(&route, caller).await;
            cells += 1;
            let code_ok = match expected {
                401 => body["code"] == "not_authenticated",
                403 => body["code"] == "level_too_low",
                404 => body["code"] == "not_found",
                _ => true,
            };
            if status != expected || !code_ok {
                wrong.push(format!("{} {} by {caller:?}: expected {expected}, got {status} {body}", route.method, route.path));
            }
        }
    }
    assert!(wrong.is_empty(), "{} of {cells} cells wrong:\n{}", wrong.len(), wrong.join("\n"));
    assert!(cells > 300, "the matrix shrank to {cells} cells");
}

/// The oracle itself, on a few cells worked out by hand from the ladder.
#[test]
fn the_oracle_matches_hand_worked_cells() {
    let all = routes();
    let route = |method: &str, path: &str| all.iter().find(|r| r.method == method && r.path == path).unwrap();
    let get_set = route("GET", "/api/v1/sets/{id}");
    assert_eq!(expect(get_set, Caller::Anonymous), 401);
    assert_eq!(expect(get_set, Caller::OwnerKey(0)), 403);
    assert_eq!(expect(get_set, Caller::OwnerKey(1)), 200);
    assert_eq!(expect(get_set, Caller::OtherUser), 404);
    assert_eq!(expect(get_set, Caller::StaffKey(Role::Admin, 4)), 404);
    assert_eq!(expect(get_set, Caller::StaffKey(Role::Admin, 5)), 200);
    let patch_set = route("PATCH", "/api/v1/sets/{id}");
    // A caller who can read the set (5 and up) but not write it (7) is told so, not 404.
    assert_eq!(expect(patch_set, Caller::OtherUser), 404);
    assert_eq!(expect(patch_set, Caller::StaffKey(Role::Curator, 4)), 404);
    assert_eq!(expect(patch_set, Caller::StaffSession(Role::Curator)), 403);
    assert_eq!(expect(patch_set, Caller::StaffKey(Role::Support, 6)), 403);
    assert_eq!(expect(patch_set, Caller::StaffKey(Role::Support, 7)), 200);
    let write_curated = route("POST", "/api/v1/curated-sets");
    assert_eq!(expect(write_curated, Caller::OwnerSession), 403);
    assert_eq!(expect(write_curated, Caller::StaffKey(Role::Admin, 4)), 403);
    assert_eq!(expect(write_curated, Caller::StaffSession(Role::Curator)), 201);
    let public = route("GET", "/api/v1/public/sets/{id}");
    assert_eq!(expect(public, Caller::Anonymous), 200);
    let revoke = route("DELETE", "/api/v1/apikeys/{id}?reason=matrix");
    assert_eq!(expect(revoke, Caller::StaffSession(Role::Support)), 403);
    assert_eq!(expect(revoke, Caller::StaffSession(Role::Curator)), 404);
    assert_eq!(expect(revoke, Caller::StaffKey(Role::Admin, 8)), 204);
    assert_eq!(expect(revoke, Caller::OwnerKey(3)), 403);
}

/// Every route the API documents is in the matrix (and nothing the matrix calls is
/// undocumented), so a new route cannot skip it.
#[tokio::test]
async fn the_matrix_covers_every_documented_route() {
    let (_, doc) = app::router::api();
    let mut documented: Vec<String> = Vec::new();
    for (path, item) in &doc.paths.paths {
        for (method, op) in [("GET", &item.get), ("POST", &item.post), ("PATCH", &item.patch), ("DELETE", &item.delete), ("PUT", &item.put)] {
            if op.is_some() {
                documented.push(format!("{method} {path}"));
            }
        }
    }
    let mut in_matrix: Vec<String> =
        routes().iter().map(|r| format!("{} {}", r.method, r.path.split('?').next().unwrap())).collect();
    // One route outside the matrix, tested on its own: changing the password signs other
    // sessions out, which would pull the sessions the matrix uses from under it.
    in_matrix.push("POST /api/v1/account/password".to_owned());
    documented.sort();
    in_matrix.sort();
    assert_eq!(documented, in_matrix);
}
