//! The access-level ladder: one scale for API keys and roles, the roles on it, the
//! permissions each action needs, and the pure rules over them.
//!
//! Shared by the server and the browser: the key-creation form offers exactly the levels
//! [`grantable_levels`] allows, and the service enforces the same functions. Every level an
//! action needs is written once, as a [`Permission`]; services ask
//! `principal.require(Permission::…)`, never a bare number.

use serde::{Deserialize, Serialize};

/// The ladder and the roles as the API document states them (server only).
#[cfg(feature = "ssr")]
pub mod doc {
    use utoipa::openapi::schema::Object;

    /// A level on the ladder: see [`super::Level::from_i64`].
    pub fn level() -> Object {
        let (min, max) = (super::Level::MIN.get(), super::Level::MAX.get());
        let range = crate::schema::integer(i64::from(min), i64::from(max));
        let text = format!("An access level, {min}–{max} (the ladder is in the API description); at most your own. Default {}.", super::DEFAULT_KEY_LEVEL.get());
        crate::schema::described(range, text, Some(serde_json::json!(1)))
    }

    /// A role's name: see [`super::Role`]'s `FromStr`.
    pub fn role() -> Object {
        let names = crate::schema::one_of(super::Role::ALL.iter().map(|r| r.as_str()));
        crate::schema::described(names, "The role, and with it the level the account acts at.", Some(serde_json::json!("support")))
    }
}

/// One rung of the ladder, 0 (authenticate only) to 8 (write all data of other users).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Level(u8);

impl Level {
    /// The lowest level: a key that can only say who it is.
    pub const MIN: Level = Level(0);
    /// The highest level on the ladder.
    pub const MAX: Level = Level(8);

    /// `level` when it is on the ladder (0–8).
    pub const fn new(level: u8) -> Option<Level> {
        if level <= Self::MAX.0 {
            Some(Level(level))
        } else {
            None
        }
    }

    /// `level` from a stored or requested integer, when it is on the ladder.
    pub fn from_i64(level: i64) -> Option<Level> {
        u8::try_from(level).ok().and_then(Level::new)
    }

    /// The number on the wire.
    pub const fn get(self) -> u8 {
        self.0
    }

    /// What a key or session at this level may do.
    pub fn label(self) -> &'static str {
        LEVEL_LABELS[self.0 as usize]
    }

    /// Every level, 0 to 8.
    pub fn all() -> impl Iterator<Item = Level> {
        (0..=Self::MAX.0).map(Level)
    }
}

impl TryFrom<u8> for Level {
    type Error = String;
    fn try_from(level: u8) -> Result<Self, String> {
        Level::new(level).ok_or_else(|| format!("there is no access level {level} (levels run from 0 to 8)"))
    }
}

impl From<Level> for u8 {
    fn from(level: Level) -> u8 {
        level.0
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The highest level on the ladder, as a number.
pub const MAX_LEVEL: u8 = Level::MAX.get();

/// The level a new key gets when none is asked for: the least that reads anything.
pub const DEFAULT_KEY_LEVEL: Level = Level(1);

/// What a key or session at each level may do (index = level).
pub const LEVEL_LABELS: [&str; 9] = [
    "Authenticate only (whoami)",
    "Read own measurement sets and patterns",
    "Read all own account data",
    "Write own measurement sets and patterns",
    "Write all own account data and manage API keys",
    "Read others' sets and patterns; write curated sets",
    "Read all data of other users",
    "Write others' sets and patterns; suspend users; set key limits",
    "Write all data of other users; change roles; revoke any key",
];

/// The label of `level`, or `None` off the ladder.
pub fn label(level: u8) -> Option<&'static str> {
    LEVEL_LABELS.get(level as usize).copied()
}

/// What an action needs. Each permission names the rung it sits on, once; two permissions
/// may share a rung (curators write curated sets at the level that reads others' sets).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Say who you are (`whoami`).
    Authenticate,
    /// Read one's own measurement sets and patterns.
    ReadOwnData,
    /// Read all of one's own account data: profile, keys, usage, audit log, export.
    ReadOwnAccount,
    /// Write one's own measurement sets and patterns.
    WriteOwnData,
    /// Write all of one's own account data: profile, password, API keys.
    WriteOwnAccount,
    /// Read other people's sets and patterns.
    ReadOthersData,
    /// Create, change and delete curated sets.
    WriteCurated,
    /// Read all data of other people (their keys included).
    ReadAllData,
    /// Write other people's sets and patterns.
    WriteOthersData,
    /// Suspend and unsuspend people.
    SuspendUsers,
    /// Set a key's own rate limit and daily quota (throttle or raise it).
    SetKeyLimits,
    /// Write all data of other people: change roles, revoke any key.
    WriteAllData,
}

impl Permission {
    /// The rung this permission sits on.
    pub const fn level(self) -> Level {
        Level(match self {
            Permission::Authenticate => 0,
            Permission::ReadOwnData => 1,
            Permission::ReadOwnAccount => 2,
            Permission::WriteOwnData => 3,
            Permission::WriteOwnAccount => 4,
            Permission::ReadOthersData | Permission::WriteCurated => 5,
            Permission::ReadAllData => 6,
            Permission::WriteOthersData | Permission::SuspendUsers | Permission::SetKeyLimits => 7,
            Permission::WriteAllData => 8,
        })
    }
}

/// Managing (creating, revoking) one's own keys is writing one's own account data.
pub const MANAGE_KEYS: Permission = Permission::WriteOwnAccount;

/// A person's role; each role acts at one level of the ladder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Curator,
    Support,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::User, Role::Curator, Role::Support, Role::Admin];

    /// The access level this role acts at.
    pub const fn level(self) -> Level {
        Level(match self {
            Role::User => 4,
            Role::Curator => 5,
            Role::Support => 7,
            Role::Admin => 8,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Curator => "curator",
            Role::Support => "support",
            Role::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role '{s}' (expected user, curator, support or admin)"))
    }
}

/// Stored roles are text; an unknown one is a broken row, not a default.
impl TryFrom<String> for Role {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

/// One rung of the ladder, for pickers and documentation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelInfo {
    pub level: u8,
    pub label: String,
}

/// A key acts at the lower of its own level and its owner's current role level, so lowering a
/// person's role lowers every key they hold, at once.
pub fn effective_level(key_level: Level, owner_role_level: Level) -> Level {
    key_level.min(owner_role_level)
}

/// Who is creating a key: a browser session (or the operator's command line), or an API key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Creator {
    /// A session acts at its owner's role level.
    Session { role_level: Level },
    /// A key acts at its effective level, and may not mint a key that outlives it.
    Key { effective_level: Level, expires_at: i64 },
}

/// Why a key may not be created as asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreateRefusal {
    /// The level is not on the ladder.
    UnknownLevel,
    /// The caller is a key below level 4 (managing keys needs level 4).
    CallerLevelTooLow { required: u8, actual: u8 },
    /// The new key would be stronger than its creator.
    LevelAboveCreator { max: u8 },
    /// The new key would outlive the key creating it.
    OutlivesCreator { max_expires_at: i64 },
}

/// The levels `creator` may give a new key: 0 up to its own level.
pub fn grantable_levels(creator_level: Level) -> impl Iterator<Item = LevelInfo> {
    Level::all()
        .take_while(move |l| *l <= creator_level)
        .map(|level| LevelInfo { level: level.get(), label: level.label().to_owned() })
}

/// The rule for creating a key of the requested `level` expiring at `expires_at` (Unix
/// seconds). Expiry bounds (minimum, maximum, past) are checked separately by the service,
/// against the operator's settings; this is only about who may mint what.
pub fn check_create(creator: Creator, level: u8, expires_at: i64) -> Result<(), CreateRefusal> {
    let Some(level) = Level::new(level) else {
        return Err(CreateRefusal::UnknownLevel);
    };
    // Checked in order of how fundamental the refusal is: may the caller create keys at
    // all, then how strong, then how long-lived.
    let (creator_level, max_expires_at) = match creator {
        Creator::Session { role_level } => (role_level, None),
        Creator::Key { effective_level, expires_at: creator_expires } => {
            let required = MANAGE_KEYS.level();
            if effective_level < required {
                return Err(CreateRefusal::CallerLevelTooLow { required: required.get(), actual: effective_level.get() });
            }
            (effective_level, Some(creator_expires))
        }
    };
    if level > creator_level {
        return Err(CreateRefusal::LevelAboveCreator { max: creator_level.get() });
    }
    match max_expires_at {
        Some(max) if expires_at > max => Err(CreateRefusal::OutlivesCreator { max_expires_at: max }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CreateRefusal::*;

    fn lv(level: u8) -> Level {
        Level::new(level).unwrap()
    }

    #[test]
    fn every_level_has_a_label_and_nothing_past_eight_does() {
        for level in 0..=MAX_LEVEL {
            assert!(label(level).is_some());
        }
        assert_eq!(label(9), None);
        assert_eq!(Level::new(9), None);
        assert_eq!(Level::from_i64(-1), None);
        assert_eq!(Level::from_i64(256), None);
        assert_eq!(serde_json::from_str::<Level>("9").ok(), None);
        assert_eq!(serde_json::to_string(&lv(3)).unwrap(), "3");
    }

    #[test]
    fn each_permission_sits_on_the_ladder_of_product_md() {
        use Permission::*;
        let rungs = [
            (Authenticate, 0),
            (ReadOwnData, 1),
            (ReadOwnAccount, 2),
            (WriteOwnData, 3),
            (WriteOwnAccount, 4),
            (ReadOthersData, 5),
            (WriteCurated, 5),
            (ReadAllData, 6),
            (WriteOthersData, 7),
            (SuspendUsers, 7),
            (SetKeyLimits, 7),
            (WriteAllData, 8),
        ];
        for (permission, level) in rungs {
            assert_eq!(permission.level().get(), level, "{permission:?}");
        }
    }

    #[test]
    fn effective_level_is_the_lower_of_key_and_role() {
        let cases = [(0, 4, 0), (4, 4, 4), (8, 4, 4), (5, 8, 5), (8, 8, 8), (3, 5, 3)];
        for (key, role, want) in cases {
            assert_eq!(effective_level(lv(key), lv(role)), lv(want), "key {key}, role {role}");
        }
    }

    #[test]
    fn creation_rules() {
        const EXP: i64 = 1_000_000;
        let session = |role_level| Creator::Session { role_level: lv(role_level) };
        let key = |effective_level| Creator::Key { effective_level: lv(effective_level), expires_at: EXP };
        #[rustfmt::skip]
        let cases: &[(Creator, u8, i64, Result<(), CreateRefusal>)] = &[
            // A session grants up to its role level; level 0 is valid.
            (session(4), 0, EXP, Ok(())),
            (session(4), 4, EXP, Ok(())),
            (session(4), 5, EXP, Err(LevelAboveCreator { max: 4 })),
            (session(8), 8, EXP * 9, Ok(())),
            (session(8), 9, EXP, Err(UnknownLevel)),
            // A key needs level 4 to create keys at all.
            (key(0), 0, EXP, Err(CallerLevelTooLow { required: 4, actual: 0 })),
            (key(3), 0, EXP, Err(CallerLevelTooLow { required: 4, actual: 3 })),
            // ... and may not mint a stronger key ...
            (key(4), 4, EXP, Ok(())),
            (key(4), 5, EXP, Err(LevelAboveCreator { max: 4 })),
            (key(7), 7, EXP - 1, Ok(())),
            // ... or a longer-lived one.
            (key(4), 1, EXP + 1, Err(OutlivesCreator { max_expires_at: EXP })),
            // Too strong and too long: the level is reported first.
            (key(4), 5, EXP + 1, Err(LevelAboveCreator { max: 4 })),
            (key(4), 9, EXP, Err(UnknownLevel)),
        ];
        for (creator, level, expires, want) in cases {
            assert_eq!(check_create(*creator, *level, *expires), *want, "{creator:?} level {level} expiring {expires}");
        }
    }

    #[test]
    fn grantable_levels_stop_at_the_creator() {
        let levels: Vec<u8> = grantable_levels(lv(4)).map(|l| l.level).collect();
        assert_eq!(levels, [0, 1, 2, 3, 4]);
        assert_eq!(grantable_levels(lv(8)).count(), 9);
    }

    #[test]
    fn role_levels_follow_the_ladder() {
        let levels: Vec<_> = Role::ALL.iter().map(|r| r.level().get()).collect();
        assert_eq!(levels, [4, 5, 7, 8]);
        assert_eq!("support".parse::<Role>(), Ok(Role::Support));
        assert!("root".parse::<Role>().is_err());
    }
}
