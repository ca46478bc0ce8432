//! The access-level ladder: one scale for API keys and roles, and the pure rules over it.
//!
//! Shared by the server and the browser: the key-creation form offers exactly the levels
//! [`grantable_levels`] allows, and the service enforces the same functions.

use serde::{Deserialize, Serialize};

/// The highest level on the ladder.
pub const MAX_LEVEL: u8 = 8;

/// The level a new key gets when none is asked for: the least that reads anything.
pub const DEFAULT_KEY_LEVEL: u8 = 1;

/// What a key or session at each level may do (index = level).
pub const LEVEL_LABELS: [&str; 9] = [
    "Authenticate only (whoami)",
    "Read own measurement sets and patterns",
    "Read all own account data",
    "Write own measurement sets and patterns",
    "Write all own account data and manage API keys",
    "Read others' sets and patterns; write curated sets",
    "Read all data of other users",
    "Write others' sets and patterns; suspend users",
    "Write all data of other users; change roles; revoke any key",
];

/// The label of `level`, or `None` off the ladder.
pub fn label(level: u8) -> Option<&'static str> {
    LEVEL_LABELS.get(level as usize).copied()
}

/// One rung of the ladder, for pickers and documentation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelInfo {
    pub level: u8,
    pub label: String,
}

/// A key acts at the lower of its own level and its owner's current role level, so lowering a
/// person's role lowers every key they hold, at once.
pub fn effective_level(key_level: u8, owner_role_level: u8) -> u8 {
    key_level.min(owner_role_level)
}

/// Who is creating a key: a browser session (or the operator's command line), or an API key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Creator {
    /// A session acts at its owner's role level.
    Session { role_level: u8 },
    /// A key acts at its effective level, and may not mint a key that outlives it.
    Key { effective_level: u8, expires_at: i64 },
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

/// The level needed to manage (create, revoke) one's own keys.
pub const MANAGE_KEYS_LEVEL: u8 = 4;

/// The levels `creator` may give a new key: 0 up to its own level.
pub fn grantable_levels(creator_level: u8) -> impl Iterator<Item = LevelInfo> {
    (0..=creator_level.min(MAX_LEVEL)).map(|level| LevelInfo { level, label: LEVEL_LABELS[level as usize].to_owned() })
}

/// The rule for creating a key of `level` expiring at `expires_at` (Unix seconds).
/// Expiry bounds (minimum, maximum, past) are checked separately by the service, against the
/// operator's settings; this is only about who may mint what.
pub fn check_create(creator: Creator, level: u8, expires_at: i64) -> Result<(), CreateRefusal> {
    if level > MAX_LEVEL {
        return Err(CreateRefusal::UnknownLevel);
    }
    // Checked in order of how fundamental the refusal is: may the caller create keys at
    // all, then how strong, then how long-lived.
    let (creator_level, max_expires_at) = match creator {
        Creator::Session { role_level } => (role_level, None),
        Creator::Key { effective_level, expires_at: creator_expires } => {
            if effective_level < MANAGE_KEYS_LEVEL {
                return Err(CreateRefusal::CallerLevelTooLow { required: MANAGE_KEYS_LEVEL, actual: effective_level });
            }
            (effective_level, Some(creator_expires))
        }
    };
    if level > creator_level {
        return Err(CreateRefusal::LevelAboveCreator { max: creator_level });
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

    #[test]
    fn every_level_has_a_label_and_nothing_past_eight_does() {
        for level in 0..=MAX_LEVEL {
            assert!(label(level).is_some());
        }
        assert_eq!(label(9), None);
    }

    #[test]
    fn effective_level_is_the_lower_of_key_and_role() {
        let cases = [(0, 4, 0), (4, 4, 4), (8, 4, 4), (5, 8, 5), (8, 8, 8), (3, 5, 3)];
        for (key, role, want) in cases {
            assert_eq!(effective_level(key, role), want, "key {key}, role {role}");
        }
    }

    #[test]
    fn creation_rules() {
        const EXP: i64 = 1_000_000;
        let session = |role_level| Creator::Session { role_level };
        let key = |effective_level| Creator::Key { effective_level, expires_at: EXP };
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
        let levels: Vec<u8> = grantable_levels(4).map(|l| l.level).collect();
        assert_eq!(levels, [0, 1, 2, 3, 4]);
        assert_eq!(grantable_levels(8).count(), 9);
    }
}
