//! The OpenAPI document's shared parts: its description, tags and common schemas
//! ([`ApiDoc`]), the three ways to authenticate, and the error responses every operation
//! shares ([`SharedResponses`]). The routes themselves, each registered with its own
//! description, are assembled in `router.rs`, which uses this module.

use crate::error::{ErrorCode, FieldError, Problem};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::header::Header;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{Content, ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};
use utoipa::Modify;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Tapeline API",
        version = "1",
        description = include_str!("../../docs/api.md"),
        license(name = "AGPL-3.0-or-later"),
    ),
    tags(
        (name = "account", description = "Who you are; your profile, password and a download of all your data."),
        (name = "apikeys", description = "Create, list and revoke API keys."),
        (name = "measurements", description = "The measurements a set can hold."),
        (name = "sets", description = "Measurement sets: yours, and (for staff) others'."),
        (name = "patterns", description = "Patterns: a design and its settings, optionally made for one of your sets."),
        (name = "curated", description = "Curated reference measurement sets: read by anyone, written by curators, cloned into your own sets."),
        (name = "admin", description = "The operator's console (staff, level 6 and above): usage across keys, key limits, suspensions, roles, the operator log."),
        (name = "public", description = "Sets and patterns their owners made public: no key needed, JSON or YAML."),
    ),
    components(schemas(Problem, ErrorCode, FieldError)),
)]
pub struct ApiDoc;

/// Adds the three ways to authenticate, and to every operation that does not declare its own
/// (public ones declare an empty requirement): the security requirement and the error
/// responses any authenticated route can give.
///
/// Applied once the routes are merged (a modifier on [`ApiDoc`] itself would run before
/// there are any operations to modify).
pub struct SharedResponses;

impl Modify for SharedResponses {
    fn modify(&self, doc: &mut OpenApi) {
        document_auth_and_errors(doc);
        document_query_refusals(doc);
        document_closed_bodies(doc);
        document_links(doc);
    }
}

/// Query strings are read by `ApiQuery`, which refuses an unknown or invalid parameter with a
/// 422 naming it: every operation that takes query parameters says so.
fn document_query_refusals(doc: &mut OpenApi) {
    for op in operations_mut(doc) {
        let has_query = op.parameters.iter().flatten().any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Query));
        if has_query && !op.responses.responses.contains_key("422") {
            let refusal = ResponseBuilder::new()
                .description("`validation_failed`: a query parameter is unknown or invalid (named in `field`).")
                .content(
                    "application/problem+json",
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
                )
                .build();
            op.responses.responses.insert("422".into(), refusal.into());
        }
    }
}

/// Every JSON request body is read by `ApiJson`, which refuses unknown fields (each named,
/// 422): so each body's schema says `additionalProperties: false`. Its optional fields are
/// Rust `Option`s, which read `null` as "not given": so each also admits `null`.
fn document_closed_bodies(doc: &mut OpenApi) {
    let bodies: Vec<String> = operations(doc)
        .filter_map(|(_, _, op)| match &op.request_body {
            Some(RefOr::T(body)) => Some(body),
            _ => None,
        })
        .flat_map(|body| body.content.values())
        .filter_map(|content| match content {
            RefOr::T(Content { schema: Some(RefOr::Ref(r)), .. }) => r.ref_location.rsplit('/').next().map(str::to_owned),
            _ => None,
        })
        .collect();
    let Some(components) = doc.components.as_mut() else { return };
    for name in bodies {
        if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(&name) {
            object.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
            let required = object.required.clone();
            for (field, schema) in object.properties.iter_mut() {
                if let (false, RefOr::T(Schema::Object(field))) = (required.contains(field), schema) {
                    if let SchemaType::Type(t) = field.schema_type.clone() {
                        if t != Type::Null {
                            field.schema_type = SchemaType::from_iter([t, Type::Null]);
                        }
                    }
                }
            }
        }
    }
}

/// OpenAPI links from each create operation to the operations on what it created, so that a
/// client generator or a stateful tester can follow them: a `POST` on `/api/v1/x` that
/// answers 201 links to every operation on `/api/v1/x/{id}` and below, and to its public read
/// `/api/v1/public/x/{id}` where there is one, with `id` taken from the created object's
/// `id`. Derived from the paths, so a new resource gets its links by its routes.
fn document_links(doc: &mut OpenApi) {
    let targets: Vec<(String, &str, String)> = operations(doc)
        .filter_map(|(path, method, op)| Some((path.to_owned(), method, op.operation_id.clone()?)))
        .collect();
    for (path, item) in doc.paths.paths.iter_mut() {
        let Some(create) = item.post.as_mut() else { continue };
        let Some(RefOr::T(created)) = create.responses.responses.get_mut("201") else { continue };
        let prefix = format!("{path}/{{id}}");
        let public = path.strip_prefix("/api/v1/").map(|rest| format!("/api/v1/public/{rest}/{{id}}"));
        for (target_path, method, operation_id) in &targets {
            let on_it = target_path == &prefix || target_path.starts_with(&format!("{prefix}/"));
            if !on_it && public.as_ref() != Some(target_path) {
                continue;
            }
            let link = LinkBuilder::new()
                .operation_id(operation_id)
                .parameter("id", "$response.body#/id")
                .description(format!("{method} {target_path} on the object just created"))
                .build();
            created.links.insert(operation_id.clone(), RefOr::T(link));
        }
    }
}

/// Every operation of the document: its path, method (upper case) and the operation.
fn operations(doc: &OpenApi) -> impl Iterator<Item = (&str, &'static str, &Operation)> {
    doc.paths.paths.iter().flat_map(|(path, item)| {
        [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
        ]
        .into_iter()
        .filter_map(move |(method, op)| op.as_ref().map(|op| (path.as_str(), method, op)))
    })
}

/// Every operation of the document, to change.
fn operations_mut(doc: &mut OpenApi) -> impl Iterator<Item = &mut Operation> {
    doc.paths.paths.values_mut().flat_map(|item| {
        [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete].into_iter().flatten()
    })
}

fn document_auth_and_errors(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("tpl_ token")
                .description(Some("`Authorization: Bearer tpl_…` with the token shown when the key was created."))
                .build(),
        ),
    );
    components.add_security_scheme(
        "basic",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Basic)
                .description(Some("HTTP Basic with the key's `id` as user name and its `secret` as password."))
                .build(),
        ),
    );
    components.add_security_scheme(
        "cookie",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            crate::server::cookie::COOKIE_NAME,
            "The browser session of a signed-in person (used by Tapeline's own pages).",
        ))),
    );
    let problem = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/problem+json",
                ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
            )
            .build()
    };
    let common = [
        ("401", "`not_authenticated`, `invalid_credentials`, `key_expired` (with `expired_at`) or `key_revoked`. Carries `WWW-Authenticate`."),
        ("403", "`level_too_low` (the key's level is below what this needs), `account_suspended`, or — when creating keys — `level_above_creator` / `expiry_after_creator`."),
        ("500", "`internal`: something went wrong on the server; it has been logged."),
    ];
    let body = [
        ("400", "`malformed_request`: the body is not valid JSON, or gives a key twice (named in `field`)."),
        ("413", "`payload_too_large`: the body is over 64 KiB."),
        ("415", "`unsupported_media_type`: send `Content-Type: application/json`."),
        ("422", "`validation_failed` (unknown or invalid fields, each named in `errors`), `unknown_level`, `expiry_too_short`, `expiry_too_long` or `expiry_in_past`."),
    ];
    let security: Vec<SecurityRequirement> = ["bearer", "basic", "cookie"]
        .into_iter()
        .map(|name| SecurityRequirement::new(name, Vec::<String>::new()))
        .collect();
    // 429s carry how long to wait and the state of the limits (draft-ietf-httpapi-ratelimit-headers-11).
    let limited = |description: &str| {
        let header = |kind: SchemaType, text: &str| {
            let mut h = Header::new(ObjectBuilder::new().schema_type(kind).build());
            h.description = Some(text.to_owned());
            utoipa::openapi::RefOr::T(h)
        };
        let mut response = problem(description);
        response.headers.insert(
            "Retry-After".into(),
            header(SchemaType::Type(Type::Integer), "Whole seconds until a call will succeed (never earlier)."),
        );
        response.headers.insert(
            "RateLimit-Policy".into(),
            header(SchemaType::Type(Type::String), "The policies, e.g. `\"minute\";q=60;w=60, \"day\";q=10000;w=86400` (`\"anonymous\";q=60;w=60` without a key)."),
        );
        response.headers.insert(
            "RateLimit".into(),
            header(SchemaType::Type(Type::String), "What is left of each policy, e.g. `\"minute\";r=0;t=20, \"day\";r=9940;t=35000`."),
        );
        response
    };
    let keyed_429 = "`rate_limited`: the key is over its per-minute rate; or `quota_exceeded`: it has used its daily quota (`Retry-After` points at the next UTC midnight). Every key-authenticated answer carries `RateLimit-Policy`, `RateLimit` and `Tapeline-Key-Expires`.";
    let anonymous_429 = "`rate_limited`: too many calls without an API key (or with keys that fail to authenticate) from your address.";
    // Two shared responses, referenced by every operation (one document entry each).
    let components = doc.components.get_or_insert_with(Default::default);
    components.responses.insert("KeyRateLimited".into(), limited(keyed_429).into());
    components.responses.insert("AnonymousRateLimited".into(), limited(anonymous_429).into());
    let shared = |name: &str| utoipa::openapi::RefOr::<utoipa::openapi::Response>::Ref(Ref::from_response_name(name));
    for op in operations_mut(doc) {
        if op.security.is_some() {
            // Public: the per-address limit, and the server's own failure.
            op.responses.responses.entry("429".into()).or_insert_with(|| shared("AnonymousRateLimited"));
            op.responses.responses.entry("500".into()).or_insert_with(|| problem(common[2].1).into());
            continue;
        }
        op.responses.responses.entry("429".into()).or_insert_with(|| shared("KeyRateLimited"));
        op.security = Some(security.clone());
        let has_body = op.request_body.is_some();
        for (status, description) in common.iter().chain(if has_body { body.iter() } else { [].iter() }) {
            op.responses.responses.entry(status.to_string()).or_insert_with(|| problem(description).into());
        }
    }
}
