//! The owner-or-staff condition: every query that reads or changes a person's object
//! carries `(user_id = $a OR $b >= $c)` in its `WHERE` clause — the caller's own, or anyone's
//! for a caller at the staff level of that action — so a forgotten check cannot leak another
//! person's object, and another person's private object answers 404 like a missing one.
//!
//! One refinement: a caller who can *read* an object but not *write* it (a support key at
//! level 6 changing someone's set) is told `403 level_too_low`, since it can see the object;
//! only objects the caller cannot read answer 404 ([`write_refusal`]).

use super::Principal;
use crate::levels::Permission;
use crate::server::Error;

/// Binds the three values of the owner-or-staff condition — `(user_id = $a OR $b >= $c)` —
/// in that order: the caller's account id, the level the caller acts at, and the level of
/// `staff`, the permission that reaches other people's objects.
pub trait BindScope: Sized {
    fn bind_scope(self, principal: &Principal, staff: Permission) -> Self;
}

/// The three values of the owner-or-staff condition, in the order [`BindScope`] binds them
/// (for a read on SQLite's own thread, `server::sqlite_reads`, which takes its values whole).
pub fn scope_values(principal: &Principal, staff: Permission) -> [i64; 3] {
    [principal.account.id, principal.level.get() as i64, staff.level().get() as i64]
}

type AnyArguments = <sqlx::Any as sqlx::Database>::Arguments;

impl BindScope for sqlx::query::Query<'_, sqlx::Any, AnyArguments> {
    fn bind_scope(self, principal: &Principal, staff: Permission) -> Self {
        let [account, level, staff] = scope_values(principal, staff);
        self.bind(account).bind(level).bind(staff)
    }
}

impl<O> BindScope for sqlx::query::QueryAs<'_, sqlx::Any, O, AnyArguments> {
    fn bind_scope(self, principal: &Principal, staff: Permission) -> Self {
        let [account, level, staff] = scope_values(principal, staff);
        self.bind(account).bind(level).bind(staff)
    }
}

/// The answer to a write (or delete) whose owner-or-staff condition matched nothing:
/// `403 level_too_low` for `write_others` when the caller can read the object (`readable`),
/// `not_found` otherwise — so ids the caller cannot see are still never confirmed.
pub fn write_refusal(principal: &Principal, readable: bool, write_others: Permission, not_found: Error) -> Error {
    if readable {
        principal.too_low_for(write_others)
    } else {
        not_found
    }
}
