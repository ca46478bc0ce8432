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
