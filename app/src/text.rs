//! Rules for the free-text fields every resource has: names, notes, search text, reasons.
//!
//! Shared by the server and the browser (forms show the same messages the API returns), and
//! used by every resource, so that "a name" means the same thing for a set, a pattern, a
//! curated set and an API key. Depends only on the error shape.

use crate::error::FieldError;

/// The longest name of a set, pattern, curated set or API key.
pub const NAME_MAX: usize = 100;
/// The longest notes of a set, pattern or curated set.
pub const NOTES_MAX: usize = 10_000;
/// The longest reason staff give for acting on someone's account or key.
pub const REASON_MAX: usize = 500;

/// These rules as the API document states them (server only).
#[cfg(feature = "ssr")]
pub mod doc {
    use crate::schema::{described, multiline, trimmed_line};
    use serde_json::json;
    use utoipa::openapi::schema::Object;

    /// A name: see [`super::name_problem`].
    pub fn name() -> Object {
        let max = super::NAME_MAX;
        let text = format!("1–{max} characters once surrounding white space is trimmed; one line, no control characters.");
        described(trimmed_line(max, true), text, Some(json!("Me, autumn 2026")))
    }

    /// A reason that must be given: see [`super::reason_problem`].
    pub fn required_reason() -> Object {
        let max = super::REASON_MAX;
        let text = format!("Why (required): 1–{max} characters once trimmed, one line. The owner sees it in their activity; it goes into the operator log.");
        described(trimmed_line(max, true), text, Some(json!("Calls every second all day; asked to batch.")))
    }

    /// A reason that may be left out or empty: see [`super::reason_problem`].
    pub fn optional_reason() -> Object {
        let max = super::REASON_MAX;
        let text = format!("Why (optional): up to {max} characters once trimmed, one line. Recorded in the owner's activity.");
        described(trimmed_line(max, false), text, None)
    }

    /// Notes: see [`super::notes_problem`].
    pub fn notes() -> Object {
        let max = super::NOTES_MAX;
        let text = format!("Up to {max} characters; line breaks and tabs are kept, other control characters refused.");
        described(multiline(max), text, None)
    }
}

/// Why `text` may not be stored, if it holds a control character.
///
/// Control characters (U+0000–U+001F, U+007F–U+009F) are invisible, break terminals and
/// CSV files, and PostgreSQL cannot store U+0000 in text at all; so they are refused
/// everywhere, on every database. Multi-line fields (notes) may hold line breaks (`\n`,
/// `\r`) and tabs.
pub fn control_problem(text: &str, multiline: bool) -> Option<String> {
    let allowed = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
    text.chars().find(|c| c.is_control() && !allowed(*c)).map(|c| {
        let what = if multiline { "Line breaks and tabs are fine; other" } else { "Control" };
        format!("Remove the control character U+{:04X}. {what} control characters cannot be stored.", c as u32)
    })
}

/// What is wrong with a name, if anything: 1–[`NAME_MAX`] characters once trimmed, on one
/// line, no control characters (surrounding white space, line breaks included, is trimmed
/// before it is stored, so only what is kept is checked).
pub fn name_problem(name: &str) -> Option<String> {
    let len = name.trim().chars().count();
    if len == 0 {
        Some("Give it a name.".into())
    } else if len > NAME_MAX {
        Some(format!("Use at most {NAME_MAX} characters."))
    } else {
        control_problem(name.trim(), false)
    }
}

/// What is wrong with notes, if anything: at most [`NOTES_MAX`] characters; line breaks and
/// tabs allowed, other control characters not.
pub fn notes_problem(notes: &str) -> Option<String> {
    if notes.chars().count() > NOTES_MAX {
        Some(format!("Use at most {NOTES_MAX} characters."))
    } else {
        control_problem(notes, true)
    }
}

/// What is wrong with a (trimmed) reason, if anything: at most [`REASON_MAX`] characters, on
/// one line.
pub fn reason_problem(reason: &str) -> Option<String> {
    if reason.chars().count() > REASON_MAX {
        return Some(format!("Use at most {REASON_MAX} characters."));
    }
    control_problem(reason, false)
}

/// The name and notes rules of a create or a change (`None`: the field was not sent).
pub fn text_problems(name: Option<&str>, notes: Option<&str>) -> Vec<FieldError> {
    [("name", name.and_then(name_problem)), ("notes", notes.and_then(notes_problem))]
        .into_iter()
        .filter_map(|(field, problem)| problem.map(|m| FieldError::new(field, m)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(name_problem("Me, autumn 2026"), None);
        assert_eq!(name_problem(&"x".repeat(NAME_MAX)), None);
        assert_eq!(name_problem("  trimmed\n"), None, "surrounding white space is trimmed, not refused");
        for bad in ["", "   ", "\u{0}", "a\u{0}b", "tab\there", "two\nlines", "bell\u{7}", "del\u{7f}", "c1\u{85}c1"] {
            assert!(name_problem(bad).is_some(), "{bad:?}");
        }
        assert!(name_problem(&"x".repeat(NAME_MAX + 1)).unwrap().contains("at most"));
        assert!(name_problem("\u{0}").unwrap().contains("U+0000"));
    }

    #[test]
    fn notes_keep_line_breaks_and_tabs_only() {
        assert_eq!(notes_problem(""), None);
        assert_eq!(notes_problem("line one\nline two\r\n\tindented"), None);
        for bad in ["\u{0}", "a\u{0}", "esc\u{1b}[31m", "form\u{c}feed"] {
            assert!(notes_problem(bad).is_some(), "{bad:?}");
        }
        assert!(notes_problem(&"x".repeat(NOTES_MAX + 1)).is_some());
    }

    /// The document's patterns say exactly what the rules accept (`regex` reads the
    /// ECMAScript-style `\uXXXX` escapes the document uses).
    #[cfg(feature = "ssr")]
    #[test]
    fn the_documented_patterns_agree_with_the_rules() {
        let pattern = |schema: utoipa::openapi::schema::Object| regex::Regex::new(&schema.pattern.unwrap()).unwrap();
        let (name, required, optional, notes) =
            (pattern(doc::name()), pattern(doc::required_reason()), pattern(doc::optional_reason()), pattern(doc::notes()));
        let long = "x".repeat(NAME_MAX);
        let samples = [
            "", " ", "a", " a ", "\ta\n", "Me, autumn 2026", "two\nlines", "tab\there", "\u{0}", "a\u{0}b", "\u{85}a",
            "\u{a0}a\u{3000}", "\u{feff}a", "\u{1c}a", "a\u{7f}", "é", "日本語", &long, &format!(" {long} "), &format!("{long}x"),
            "\r\n", "\u{2028}a\u{2029}", "a\u{200b}",
        ];
        for s in samples {
            assert_eq!(name.is_match(s), name_problem(s).is_none(), "name {s:?}");
            let reason_ok = reason_problem(s.trim()).is_none();
            assert_eq!(required.is_match(s), reason_ok && !s.trim().is_empty(), "required reason {s:?}");
            assert_eq!(optional.is_match(s), reason_ok, "optional reason {s:?}");
            let notes_ok = notes_problem(s).is_none();
            assert_eq!(notes.is_match(s) && s.chars().count() <= NOTES_MAX, notes_ok, "notes {s:?}");
        }
        let long_reason = "r".repeat(REASON_MAX + 1);
        assert!(!required.is_match(&long_reason) && reason_problem(&long_reason).is_some());
    }

    #[test]
    fn every_bad_field_is_named() {
        let fields: Vec<_> = text_problems(Some("\u{0}"), Some("\u{0}")).into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["name", "notes"]);
        assert!(text_problems(None, None).is_empty());
        assert!(text_problems(Some("ok"), Some("fine\n")).is_empty());
    }
}
