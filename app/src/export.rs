//! The account export (`GET /api/v1/account/export`): everything an account holds, as one
//! JSON document. A leaf: it reads every resource (sets, patterns, keys, the audit log) and
//! nothing depends on it but the router.

use crate::accounts::{service as accounts, Profile};
use crate::apikeys::ApiKey;
use crate::audit::{self, AuditEvent};
use crate::auth::{Account, Principal};
use crate::levels::Permission;
use crate::patterns::Pattern;
use crate::server::db::{now, rfc3339};
use crate::server::Result;
use crate::sets::MeasurementSet;
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use crate::server::json::Json;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Everything an account holds (`GET /api/v1/account/export`): never a secret, password
/// hash or session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AccountExport {
    /// The export's format version: `tapeline-export/1`.
    #[schema(example = "tapeline-export/1")]
    pub format: String,
    #[schema(format = DateTime)]
    pub exported_at: String,
    pub account: Profile,
    pub sets: Vec<MeasurementSet>,
    pub patterns: Vec<Pattern>,
    /// Every key, revoked ones included: metadata only.
    pub api_keys: Vec<ApiKey>,
    /// Oldest first.
    pub audit_events: Vec<AuditEvent>,
}

/// Everything the caller's account holds, as one document (level 2). No secret, password
/// hash or session is part of it.
pub async fn export_of(state: &AppState, principal: &Principal) -> Result<AccountExport> {
    principal.require(Permission::ReadOwnAccount)?;
    let account = Account::by_id(&state.db, principal.account.id).await?;
    Ok(AccountExport {
        format: "tapeline-export/1".to_owned(),
        exported_at: rfc3339(now()),
        account: accounts::profile(&account),
        sets: crate::sets::service::all_of(state, account.id).await?,
        patterns: crate::patterns::service::all_of(state, account.id).await?,
        api_keys: crate::apikeys::service::list_all(state, account.id).await?,
        audit_events: audit::read(&state.db, account.id, audit::Order::OldestFirst, i64::MAX).await?,
    })
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(export))
}

/// Download everything your account holds (level 2).
///
/// One JSON document: profile, measurement sets, patterns, API key metadata (never a
/// secret) and the audit log. Sent as an attachment (`Content-Disposition`).
#[utoipa::path(
    get,
    path = "/api/v1/account/export",
    tag = "account",
    responses((status = OK, description = "Everything your account holds", body = AccountExport)),
)]
pub async fn export(State(state): State<AppState>, principal: Principal) -> Result<Response> {
    let export = export_of(&state, &principal).await?;
    let day = export.exported_at.get(..10).unwrap_or("export").to_owned();
    let disposition = format!("attachment; filename=\"tapeline-{}-{day}.json\"", export.account.username);
    Ok(([(header::CONTENT_DISPOSITION, disposition)], Json(export)).into_response())
}
