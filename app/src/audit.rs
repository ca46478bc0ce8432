//! An account's audit log: what happened to it and its keys, by whom. One typed kind per
//! event ([`AuditKind`]), one way to write an entry ([`record`], [`record_unless_recent`])
//! and one way to read them ([`read`]); every resource writes through these.
//!
//! The types are shared with the browser (the account's activity); the storage is
//! server-only and depends only on the database plumbing.

use serde::{Deserialize, Serialize};

/// What an audit entry records. Stored and sent as its snake_case name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    /// An API key was created (by a session, a key, or the operator).
    KeyCreated,
    /// An API key was regenerated: a new key replaces it, the old one lives on for the grace.
    KeyRotated,
    /// An API key was revoked (by its owner, staff with a reason, or the operator).
    KeyRevoked,
    /// A revoked or expired key was used and refused (at most once an hour per key).
    KeyUseRefused,
    /// A key's calls started being refused by its rate limit or daily quota (at most once a
    /// day per key).
    KeyLimited,
    /// The username or email address changed.
    ProfileChanged,
    /// The password changed (and other sessions were signed out).
    PasswordChanged,
    /// Staff (or the operator) set or cleared a key's own rate limit and daily quota.
    KeyLimitsChanged,
    /// Staff (or the operator) suspended the account: its keys are refused, its sessions ended.
    AccountSuspended,
    /// Staff (or the operator) lifted the suspension.
    AccountUnsuspended,
    /// An admin (or the operator) changed the account's role.
    RoleChanged,
}

impl AuditKind {
    pub const ALL: [AuditKind; 11] = [
        AuditKind::KeyCreated,
        AuditKind::KeyRotated,
        AuditKind::KeyRevoked,
        AuditKind::KeyUseRefused,
        AuditKind::KeyLimited,
        AuditKind::ProfileChanged,
        AuditKind::PasswordChanged,
        AuditKind::KeyLimitsChanged,
        AuditKind::AccountSuspended,
        AuditKind::AccountUnsuspended,
        AuditKind::RoleChanged,
    ];

    /// The name stored in the database and sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::KeyCreated => "key_created",
            AuditKind::KeyRotated => "key_rotated",
            AuditKind::KeyRevoked => "key_revoked",
            AuditKind::KeyUseRefused => "key_use_refused",
            AuditKind::KeyLimited => "key_limited",
            AuditKind::ProfileChanged => "profile_changed",
            AuditKind::PasswordChanged => "password_changed",
            AuditKind::KeyLimitsChanged => "key_limits_changed",
            AuditKind::AccountSuspended => "account_suspended",
            AuditKind::AccountUnsuspended => "account_unsuspended",
            AuditKind::RoleChanged => "role_changed",
        }
    }
}

impl AuditKind {
    /// What the entry says to the account's owner, in a word or two.
    pub fn label(self) -> &'static str {
        match self {
            AuditKind::KeyCreated => "Key created",
            AuditKind::KeyRotated => "Key regenerated",
            AuditKind::KeyRevoked => "Key revoked",
            AuditKind::KeyUseRefused => "Dead key used",
            AuditKind::KeyLimited => "Key hit its limits",
            AuditKind::ProfileChanged => "Profile changed",
            AuditKind::PasswordChanged => "Password changed",
            AuditKind::KeyLimitsChanged => "Key limits changed",
            AuditKind::AccountSuspended => "Account suspended",
            AuditKind::AccountUnsuspended => "Suspension lifted",
            AuditKind::RoleChanged => "Role changed",
        }
    }
}

impl std::str::FromStr for AuditKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        AuditKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| format!("unknown audit kind '{s}'"))
    }
}

/// Stored kinds are text; an unknown one is a broken row, not a default.
impl TryFrom<String> for AuditKind {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

/// One entry of an account's audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, sqlx::FromRow))]
pub struct AuditEvent {
    /// What happened.
    #[cfg_attr(feature = "ssr", schema(example = "key_created"))]
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub kind: AuditKind,
    /// The key concerned, if any.
    pub key_id: Option<String>,
    pub detail: String,
    #[cfg_attr(feature = "ssr", schema(format = DateTime))]
    #[cfg_attr(feature = "ssr", sqlx(skip))]
    pub at: String,
}

/// One page of an account's audit log (`GET /api/v1/account/audit`), newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    /// How many entries the log holds.
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// One entry of the operator log: an action staff (or the operator on the command line) took
/// on someone else's account or key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OperatorAction {
    /// What was done (the same kinds as the owner's audit log).
    #[cfg_attr(feature = "ssr", schema(example = "key_limits_changed"))]
    pub action: AuditKind,
    /// Who did it: a staff member's username, or `operator` for the command line.
    #[cfg_attr(feature = "ssr", schema(example = "grace"))]
    pub actor: String,
    /// Whose account or key, by username (as it was then).
    #[cfg_attr(feature = "ssr", schema(example = "ada"))]
    pub username: String,
    /// The account's id (`null` once the account is deleted).
    pub user_id: Option<i64>,
    /// The key concerned, if any.
    pub key_id: Option<String>,
    /// Why, as the actor said.
    pub reason: Option<String>,
    pub detail: String,
    #[cfg_attr(feature = "ssr", schema(format = DateTime))]
    pub at: String,
}

/// One page of the operator log, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OperatorLogPage {
    pub entries: Vec<OperatorAction>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

#[cfg(feature = "ssr")]
pub use store::*;

#[cfg(feature = "ssr")]
mod store {
    use super::{AuditEvent, AuditKind, OperatorAction};
    use crate::server::db::{rfc3339, Db};
    use crate::server::Result;
    use sqlx::{Any, Executor, Row};

    /// One entry to write.
    #[derive(Clone, Copy, Debug)]
    pub struct Entry<'a> {
        /// Whose log it goes into.
        pub user_id: i64,
        pub kind: AuditKind,
        /// The key concerned, if any.
        pub key_id: Option<&'a str>,
        /// The staff member who acted on someone else's account, if one did.
        pub actor: Option<i64>,
        pub detail: &'a str,
        /// When (Unix seconds).
        pub at: i64,
    }

    /// Writes `entry` (inside the caller's transaction when given one).
    pub async fn record<'c, E: Executor<'c, Database = Any>>(executor: E, entry: Entry<'_>) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_events (user_id, kind, key_id, actor_user_id, detail, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(entry.user_id)
        .bind(entry.kind.as_str())
        .bind(entry.key_id)
        .bind(entry.actor)
        .bind(entry.detail)
        .bind(entry.at)
        .execute(executor)
        .await?;
        Ok(())
    }

    /// Writes `entry` unless an entry of the same kind for the same key was written within
    /// `window_secs` before it — so a script hammering with a dead key cannot flood the log
    /// (or the database). One statement; two writes racing may both land, which is harmless.
    pub async fn record_unless_recent<'c, E: Executor<'c, Database = Any>>(
        executor: E,
        entry: Entry<'_>,
        window_secs: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_events (user_id, kind, key_id, actor_user_id, detail, created_at) \
             SELECT $1, $2, $3, $4, $5, $6 WHERE NOT EXISTS \
             (SELECT 1 FROM audit_events WHERE key_id = $3 AND kind = $2 AND created_at > $7)",
        )
        .bind(entry.user_id)
        .bind(entry.kind.as_str())
        .bind(entry.key_id)
        .bind(entry.actor)
        .bind(entry.detail)
        .bind(entry.at)
        .bind(entry.at - window_secs)
        .execute(executor)
        .await?;
        Ok(())
    }

    /// Which end of the log comes first.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Order {
        OldestFirst,
        NewestFirst,
    }

    /// The audit log of `user_id`, at most `limit` entries from the chosen end.
    pub async fn read(db: &Db, user_id: i64, order: Order, limit: i64) -> Result<Vec<AuditEvent>> {
        read_page(db, user_id, order, limit, 0).await
    }

    /// The audit log of `user_id`, `limit` entries after skipping `offset` from the chosen end.
    pub async fn read_page(db: &Db, user_id: i64, order: Order, limit: i64, offset: i64) -> Result<Vec<AuditEvent>> {
        let sql = match order {
            Order::OldestFirst => {
                "SELECT kind, key_id, COALESCE(detail, '') AS detail, created_at FROM audit_events \
                 WHERE user_id = $1 ORDER BY id LIMIT $2 OFFSET $3"
            }
            Order::NewestFirst => {
                "SELECT kind, key_id, COALESCE(detail, '') AS detail, created_at FROM audit_events \
                 WHERE user_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3"
            }
        };
        let rows = sqlx::query(sql).bind(user_id).bind(limit).bind(offset).fetch_all(db).await?;
        rows.iter()
            .map(|r| {
                use sqlx::FromRow;
                let mut event = AuditEvent::from_row(r)?;
                event.at = rfc3339(r.try_get("created_at")?);
                Ok(event)
            })
            .collect()
    }

    /// An action taken on someone else's account or key: who acted (`actor_id` is `None` for
    /// the operator on the command line), whose account, why.
    #[derive(Clone, Copy, Debug)]
    pub struct StaffAction<'a> {
        pub actor_id: Option<i64>,
        pub actor: &'a str,
        pub kind: AuditKind,
        pub user_id: i64,
        pub username: &'a str,
        pub key_id: Option<&'a str>,
        pub reason: Option<&'a str>,
        /// What changed, e.g. "rate limit 60 → 10 a minute".
        pub detail: &'a str,
        pub at: i64,
    }

    /// Writes a staff action twice, in the caller's transaction: into the owner's audit log
    /// (saying who and why) and into the operator log.
    pub async fn record_staff_action(tx: &mut sqlx::Transaction<'_, Any>, action: StaffAction<'_>) -> Result<()> {
        let owner_detail = match action.reason {
            Some(reason) => format!("{} by {}: {reason}", action.detail, action.actor),
            None => format!("{} by {}", action.detail, action.actor),
        };
        let entry = Entry {
            user_id: action.user_id,
            kind: action.kind,
            key_id: action.key_id,
            actor: action.actor_id,
            detail: &owner_detail,
            at: action.at,
        };
        record(&mut **tx, entry).await?;
        sqlx::query(
            "INSERT INTO operator_log (actor_user_id, actor, action, user_id, username, key_id, reason, detail, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(action.actor_id)
        .bind(action.actor)
        .bind(action.kind.as_str())
        .bind(action.user_id)
        .bind(action.username)
        .bind(action.key_id)
        .bind(action.reason)
        .bind(action.detail)
        .bind(action.at)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// The operator log, newest first: `limit` entries after `offset`, optionally only those
    /// about `user_id`, and how many there are in all.
    pub async fn operator_log(db: &Db, user_id: Option<i64>, limit: i64, offset: i64) -> Result<(Vec<OperatorAction>, i64)> {
        let rows = sqlx::query(
            "SELECT action, actor, username, user_id, key_id, reason, detail, created_at FROM operator_log \
             WHERE ($1 IS NULL OR user_id = $1) ORDER BY id DESC LIMIT $2 OFFSET $3",
        )
        .bind(user_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(db)
        .await?;
        let entries = rows
            .iter()
            .map(|r| {
                let action: String = r.try_get("action")?;
                Ok(OperatorAction {
                    action: action.parse().map_err(|e: String| crate::server::Error::new(crate::error::ErrorCode::Internal, e))?,
                    actor: r.try_get("actor")?,
                    username: r.try_get("username")?,
                    user_id: r.try_get("user_id")?,
                    key_id: r.try_get("key_id")?,
                    reason: r.try_get("reason")?,
                    detail: r.try_get("detail")?,
                    at: rfc3339(r.try_get("created_at")?),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let total: i64 = sqlx::query("SELECT COUNT(*) AS n FROM operator_log WHERE ($1 IS NULL OR user_id = $1)")
            .bind(user_id)
            .fetch_one(db)
            .await?
            .try_get("n")?;
        Ok((entries, total))
    }

    /// How many entries the audit log of `user_id` holds.
    pub async fn count(db: &Db, user_id: i64) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM audit_events WHERE user_id = $1").bind(user_id).fetch_one(db).await?;
        Ok(row.try_get("n")?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_stored_name() {
        for kind in AuditKind::ALL {
            assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{}\"", kind.as_str()));
            assert_eq!(kind.as_str().parse::<AuditKind>(), Ok(kind));
        }
        assert!("key_stolen".parse::<AuditKind>().is_err());
    }
}
