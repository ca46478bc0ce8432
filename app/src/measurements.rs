//! The measurement catalogue (FreeSewing's names) and the rules for measurement values.
//!
//! Shared by the server and the browser, so that a set editor and the API check values the
//! same way. Values are stored in millimetres (degrees for `shoulderSlope`); unknown names are
//! refused with a suggestion of the nearest known name, never dropped.

use crate::error::FieldError;
use serde::{Deserialize, Serialize};

/// The unit a measurement is stored in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// Millimetres.
    Mm,
    /// Degrees (only `shoulderSlope`).
    Deg,
}

/// One known measurement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Measurement {
    pub name: &'static str,
    pub unit: Unit,
    pub description: &'static str,
}

const fn mm(name: &'static str, description: &'static str) -> Measurement {
    Measurement { name, unit: Unit::Mm, description }
}

/// Every known measurement, in alphabetical order.
pub const CATALOGUE: [Measurement; 38] = [
    mm("ankle", "Circumference around the ankle, over the ankle bone"),
    mm("biceps", "Circumference of the upper arm at its fullest"),
    mm("bustFront", "Front part of the bust circumference, side seam to side seam"),
    mm("bustPointToUnderbust", "From the bust point straight down to the underbust line"),
    mm("bustSpan", "Distance between the two bust points"),
    mm("chest", "Circumference of the chest at its fullest"),
    mm("crossSeam", "From the centre back waist, between the legs, to the centre front waist"),
    mm("crossSeamFront", "Front part of the cross seam, crotch point to centre front waist"),
    mm("crotchDepth", "Seated: from the waist down to the seat surface, at the side"),
    mm("head", "Circumference of the head at its widest, above the ears"),
    mm("heel", "Circumference around the heel and over the instep"),
    mm("highBust", "Circumference above the bust, under the arms"),
    mm("highBustFront", "Front part of the high bust circumference"),
    mm("hips", "Circumference at the hip bones"),
    mm("hpsToBust", "From the high point of the shoulder down to the bust point"),
    mm("hpsToWaistBack", "From the high point of the shoulder down the back to the waist"),
    mm("hpsToWaistFront", "From the high point of the shoulder over the bust down to the waist"),
    mm("inseam", "Inside leg: from the crotch down to the floor"),
    mm("knee", "Circumference around the knee"),
    mm("neck", "Circumference at the base of the neck"),
    mm("seat", "Circumference of the seat at its fullest"),
    mm("seatBack", "Back part of the seat circumference, side seam to side seam"),
    Measurement { name: "shoulderSlope", unit: Unit::Deg, description: "Angle of the shoulder line below horizontal, in degrees" },
    mm("shoulderToElbow", "From the shoulder point down to the elbow, arm bent"),
    mm("shoulderToShoulder", "Across the back, from one shoulder point to the other"),
    mm("shoulderToWrist", "From the shoulder point over the elbow down to the wrist, arm bent"),
    mm("underbust", "Circumference just under the bust"),
    mm("upperLeg", "Circumference of the thigh at its fullest, just below the crotch"),
    mm("waist", "Circumference of the natural waist"),
    mm("waistBack", "Back part of the waist circumference, side seam to side seam"),
    mm("waistToArmpit", "At the side: from the waist up to the armpit"),
    mm("waistToFloor", "At the side: from the waist down to the floor"),
    mm("waistToHips", "At the side: from the waist down to the hip line"),
    mm("waistToKnee", "At the side: from the waist down to the knee"),
    mm("waistToSeat", "At the side: from the waist down to the fullest part of the seat"),
    mm("waistToUnderbust", "From the waist up to the underbust line, at the front"),
    mm("waistToUpperLeg", "At the side: from the waist down to the upper-leg line"),
    mm("wrist", "Circumference around the wrist"),
];

/// Longest length accepted (5 m): anything longer is a typo, or a value in the wrong unit.
pub const MAX_MM: f64 = 5000.0;
/// Largest shoulder slope accepted, in degrees.
pub const MAX_DEG: f64 = 90.0;

/// The measurement maps as the API document states them (server only).
#[cfg(feature = "ssr")]
pub mod doc {
    use crate::schema::{closed_object, described, or_null, positive};
    use utoipa::openapi::schema::Object;

    /// A map of measurements sent by a client: only catalogue names, each a positive value up
    /// to its unit's maximum, or `null` (clears it in a change; means nothing in a create).
    /// See [`super::problems`].
    pub fn values() -> Object {
        let map = closed_object(super::CATALOGUE.iter().map(|m| {
            let max = match m.unit {
                super::Unit::Mm => super::MAX_MM,
                super::Unit::Deg => super::MAX_DEG,
            };
            let mut value = or_null(positive(max));
            value.description = Some(m.description.to_owned());
            (m.name.to_owned(), value.into())
        }));
        let text = format!(
            "Measurement name → value: only the names of GET /api/v1/measurements; values greater than 0, in mm (at \
             most {}) or, for shoulderSlope, degrees (at most {}). `null` clears a stored measurement in a change.",
            super::MAX_MM,
            super::MAX_DEG
        );
        described(map, text, Some(serde_json::json!({"waist": 720.0, "hips": 980.0})))
    }
}

/// The catalogue entry for `name` (exact, case-sensitive, as scripts must send it).
pub fn find(name: &str) -> Option<&'static Measurement> {
    CATALOGUE.iter().find(|m| m.name == name)
}

/// The known name closest to an unknown one, when it is close enough to be a typo.
pub fn suggest(unknown: &str) -> Option<&'static str> {
    let lower = unknown.to_lowercase();
    CATALOGUE
        .iter()
        .map(|m| (edit_distance(&lower, &m.name.to_lowercase()), m.name))
        .filter(|(d, _)| *d <= (unknown.chars().count() / 4).clamp(2, 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, name)| name)
}

/// What is wrong with `value` for the measurement `m`, if anything.
pub fn value_problem(m: &Measurement, value: f64) -> Option<String> {
    let (max, unit) = match m.unit {
        Unit::Mm => (MAX_MM, "mm"),
        Unit::Deg => (MAX_DEG, "degrees"),
    };
    if !value.is_finite() || value <= 0.0 {
        return Some(format!("Must be a positive number of {unit}."));
    }
    if value > max {
        return Some(format!("{value} {unit} is more than the largest plausible value ({max} {unit}); check the unit."));
    }
    None
}

/// Every problem with a set of measurements (`None` clears a measurement, as in a PATCH):
/// unknown names — each with a suggestion where one is close — and implausible values.
/// Field names read `measurements.<name>`.
pub fn problems<'a>(values: impl IntoIterator<Item = (&'a str, Option<f64>)>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (name, value) in values {
        let field = format!("measurements.{name}");
        match find(name) {
            None => {
                let hint = suggest(name).map(|s| format!(" Did you mean '{s}'?")).unwrap_or_default();
                errors.push(FieldError::new(field, format!("Unknown measurement '{name}'.{hint}")));
            }
            Some(m) => {
                if let Some(problem) = value.and_then(|v| value_problem(m, v)) {
                    errors.push(FieldError::new(field, problem));
                }
            }
        }
    }
    errors
}

/// Every problem with the measurements of a create or a change (`None`: none were sent).
pub fn change_problems(changes: Option<&std::collections::BTreeMap<String, Option<f64>>>) -> Vec<FieldError> {
    changes.map(|c| problems(c.iter().map(|(k, v)| (k.as_str(), *v)))).unwrap_or_default()
}

/// Merges checked measurement changes into `stored`: a value sets, `None` (`null`) clears.
pub fn merge(stored: &mut std::collections::BTreeMap<String, f64>, changes: std::collections::BTreeMap<String, Option<f64>>) {
    for (name, value) in changes {
        match value {
            Some(v) => stored.insert(name, v),
            None => stored.remove(&name),
        };
    }
}

/// The editor's sections: every catalogue name in exactly one, in the order a person
/// measures (circumferences first, then lengths).
pub const GROUPS: [(&str, &[&str]); 6] = [
    ("Head, neck & shoulders", &["head", "neck", "shoulderSlope", "shoulderToShoulder"]),
    ("Chest & bust", &["chest", "highBust", "highBustFront", "bustFront", "bustSpan", "bustPointToUnderbust", "underbust"]),
    ("Waist & hips", &["waist", "waistBack", "hips", "seat", "seatBack"]),
    ("Arms", &["biceps", "wrist", "shoulderToElbow", "shoulderToWrist"]),
    ("Legs", &["upperLeg", "knee", "ankle", "heel", "inseam", "crossSeam", "crossSeamFront", "crotchDepth"]),
    (
        "Lengths & heights",
        &[
            "hpsToBust",
            "hpsToWaistBack",
            "hpsToWaistFront",
            "waistToArmpit",
            "waistToUnderbust",
            "waistToHips",
            "waistToSeat",
            "waistToUpperLeg",
            "waistToKnee",
            "waistToFloor",
        ],
    ),
];

/// The unit a person sees and types lengths in. Storage is always millimetres; degrees
/// (`shoulderSlope`) are degrees in either.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisplayUnit {
    Mm,
    In,
}

pub const MM_PER_INCH: f64 = 25.4;

impl DisplayUnit {
    /// The unit a set's `imperial` preference starts the editor in.
    pub fn preferred(imperial: bool) -> Self {
        if imperial {
            DisplayUnit::In
        } else {
            DisplayUnit::Mm
        }
    }

    /// What a value of `m` is written in, e.g. `"in"`.
    pub fn label(self, m: &Measurement) -> &'static str {
        match (m.unit, self) {
            (Unit::Deg, _) => "°",
            (Unit::Mm, DisplayUnit::Mm) => "mm",
            (Unit::Mm, DisplayUnit::In) => "in",
        }
    }
}

/// Rounds to what is stored: 0.1 mm (0.1 degree for `shoulderSlope`).
pub fn round_stored(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// A value as typed in `shown` → the value stored: inches ×25.4; then rounded to 0.1.
pub fn to_stored(m: &Measurement, typed: f64, shown: DisplayUnit) -> f64 {
    match (m.unit, shown) {
        (Unit::Mm, DisplayUnit::In) => round_stored(typed * MM_PER_INCH),
        _ => round_stored(typed),
    }
}

/// A stored value as shown in `shown`: millimetres and degrees to 0.1, inches to 0.01,
/// without trailing zeros (`720`, `720.5`, `28.35`).
pub fn format_shown(m: &Measurement, stored: f64, shown: DisplayUnit) -> String {
    let text = match (m.unit, shown) {
        (Unit::Mm, DisplayUnit::In) => format!("{:.2}", stored / MM_PER_INCH),
        _ => format!("{:.1}", stored),
    };
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Reads a value typed in `shown`: empty clears it (`Ok(None)`), a number becomes the
/// value to store, anything else says what is wrong (the catalogue's own value rules).
pub fn parse_shown(m: &Measurement, text: &str, shown: DisplayUnit) -> Result<Option<f64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let typed: f64 = text
        .replace(',', ".")
        .parse()
        .map_err(|_| match shown.label(m) {
            "in" => "Enter a number of inches, e.g. 28.5.".to_owned(),
            "mm" => "Enter a number of millimetres, e.g. 720.5.".to_owned(),
            _ => "Enter a number of degrees, e.g. 13.".to_owned(),
        })?;
    let stored = to_stored(m, typed, shown);
    match value_problem(m, stored) {
        Some(problem) => Err(problem),
        None => Ok(Some(stored)),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_is_sorted_unique_and_complete() {
        let names: Vec<&str> = CATALOGUE.iter().map(|m| m.name).collect();
        let mut sorted = names.clone();
        sorted.sort_by_key(|n| n.to_lowercase());
        sorted.dedup();
        assert_eq!(names, sorted);
        assert_eq!(names.len(), 38);
        assert_eq!(CATALOGUE.iter().filter(|m| m.unit == Unit::Deg).map(|m| m.name).collect::<Vec<_>>(), ["shoulderSlope"]);
    }

    #[test]
    fn typos_get_the_nearest_name_and_nonsense_gets_none() {
        let cases = [
            ("wiast", Some("waist")),
            ("Waist", Some("waist")),
            ("shoulderslope", Some("shoulderSlope")),
            ("hpsToWaistFrnt", Some("hpsToWaistFront")),
            ("inseem", Some("inseam")),
            ("favouriteColour", None),
            ("x", None),
        ];
        for (typo, want) in cases {
            assert_eq!(suggest(typo), want, "{typo}");
        }
    }

    #[test]
    fn values_must_be_positive_finite_and_plausible() {
        let waist = find("waist").unwrap();
        let slope = find("shoulderSlope").unwrap();
        assert_eq!(value_problem(waist, 720.0), None);
        assert_eq!(value_problem(waist, MAX_MM), None);
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, MAX_MM + 0.1] {
            assert!(value_problem(waist, bad).is_some(), "{bad}");
        }
        assert_eq!(value_problem(slope, 13.0), None);
        assert!(value_problem(slope, 91.0).is_some());
    }

    #[test]
    fn every_measurement_is_in_exactly_one_group() {
        let mut seen: Vec<&str> = GROUPS.iter().flat_map(|(_, names)| names.iter().copied()).collect();
        for name in &seen {
            assert!(find(name).is_some(), "{name} is not in the catalogue");
        }
        let listed = seen.len();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), listed, "a name is in two groups");
        assert_eq!(seen.len(), CATALOGUE.len(), "a catalogue name is in no group");
    }

    #[test]
    fn inches_convert_to_tenths_of_a_millimetre() {
        let waist = find("waist").unwrap();
        let cases = [(30.0, 762.0), (28.35, 720.1), (1.0, 25.4), (0.01, 0.3), (33.333, 846.7)];
        for (inches, mm) in cases {
            assert_eq!(to_stored(waist, inches, DisplayUnit::In), mm, "{inches} in");
        }
        assert_eq!(to_stored(waist, 720.46, DisplayUnit::Mm), 720.5);
        assert_eq!(to_stored(waist, 720.44, DisplayUnit::Mm), 720.4);
        let slope = find("shoulderSlope").unwrap();
        assert_eq!(to_stored(slope, 13.0, DisplayUnit::In), 13.0, "degrees are degrees in both modes");
        assert_eq!(to_stored(slope, 12.96, DisplayUnit::Mm), 13.0);
    }

    #[test]
    fn values_are_shown_to_a_tenth_of_a_mm_or_a_hundredth_of_an_inch() {
        let waist = find("waist").unwrap();
        let slope = find("shoulderSlope").unwrap();
        assert_eq!(format_shown(waist, 720.0, DisplayUnit::Mm), "720");
        assert_eq!(format_shown(waist, 720.5, DisplayUnit::Mm), "720.5");
        assert_eq!(format_shown(waist, 720.0, DisplayUnit::In), "28.35");
        assert_eq!(format_shown(waist, 762.0, DisplayUnit::In), "30");
        assert_eq!(format_shown(waist, 723.9, DisplayUnit::In), "28.5");
        assert_eq!(format_shown(slope, 13.0, DisplayUnit::In), "13");
        assert_eq!(format_shown(slope, 12.5, DisplayUnit::In), "12.5");
        assert_eq!((DisplayUnit::In.label(waist), DisplayUnit::Mm.label(waist), DisplayUnit::In.label(slope)), ("in", "mm", "°"));
    }

    #[test]
    fn a_stored_value_survives_being_shown_in_mm() {
        // Every tenth of a millimetre up to 5 m reads back as itself when shown in mm.
        let waist = find("waist").unwrap();
        for tenths in 1..=50_000 {
            let stored = tenths as f64 / 10.0;
            let shown = format_shown(waist, stored, DisplayUnit::Mm);
            assert_eq!(parse_shown(waist, &shown, DisplayUnit::Mm), Ok(Some(stored)), "{stored}");
        }
    }

    #[test]
    fn typed_values_are_parsed_checked_and_cleared() {
        let waist = find("waist").unwrap();
        assert_eq!(parse_shown(waist, "", DisplayUnit::In), Ok(None));
        assert_eq!(parse_shown(waist, "  ", DisplayUnit::Mm), Ok(None));
        assert_eq!(parse_shown(waist, " 30 ", DisplayUnit::In), Ok(Some(762.0)));
        assert_eq!(parse_shown(waist, "720,5", DisplayUnit::Mm), Ok(Some(720.5)));
        assert_eq!(parse_shown(waist, "abc", DisplayUnit::In), Err("Enter a number of inches, e.g. 28.5.".to_owned()));
        assert!(parse_shown(waist, "-3", DisplayUnit::Mm).is_err());
        assert!(parse_shown(waist, "0.01", DisplayUnit::Mm).is_err(), "rounds to 0 mm");
        assert!(parse_shown(waist, "NaN", DisplayUnit::Mm).is_err());
        assert!(parse_shown(waist, "200", DisplayUnit::In).is_err(), "5080 mm is more than 5 m");
        assert_eq!(parse_shown(waist, "196.85", DisplayUnit::In), Ok(Some(5000.0)));
    }

    #[test]
    fn problems_lists_every_unknown_name_and_bad_value_and_allows_clearing() {
        let errors = problems([
            ("waist", Some(720.0)),
            ("wiast", Some(720.0)),
            ("chest", Some(-3.0)),
            ("hips", None),
            ("favouriteColour", Some(1.0)),
        ]);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["measurements.wiast", "measurements.chest", "measurements.favouriteColour"]);
        assert_eq!(errors[0].message, "Unknown measurement 'wiast'. Did you mean 'waist'?");
        assert_eq!(errors[2].message, "Unknown measurement 'favouriteColour'.");
    }
}
