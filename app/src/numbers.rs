//! Whole numbers in request bodies, as JSON means them: `6` and `6.0` are the same number,
//! and the API document's `"type": "integer"` (JSON Schema) accepts both. serde reads `6.0`
//! into an `i64` as an error, so the integer fields of request bodies read through these
//! (`#[serde(default, deserialize_with = "…")]`): a whole number in either spelling is
//! accepted, `6.5` or `"6"` is refused naming the field, as before.

use serde::de::{self, Deserializer, Visitor};
use std::fmt;

struct Whole;

impl Visitor<'_> for Whole {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a whole number")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
        // Exactly representable and within range: -2^63 ≤ v < 2^63.
        const LIMIT: f64 = 9_223_372_036_854_775_808.0;
        if v.fract() == 0.0 && (-LIMIT..LIMIT).contains(&v) {
            Ok(v as i64)
        } else {
            Err(E::invalid_type(de::Unexpected::Float(v), &self))
        }
    }
}

/// A required whole number.
pub fn whole<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    d.deserialize_any(Whole)
}

/// An optional whole number: left out or `null` is `None` (with `#[serde(default)]`).
pub fn optional_whole<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    struct Optional;
    impl<'de> Visitor<'de> for Optional {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a whole number or null")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            whole(d).map(Some)
        }
    }
    d.deserialize_option(Optional)
}

/// A whole number whose `null` means something (with `#[serde(default)]`): left out is
/// `None`, `null` is `Some(None)`, a number is `Some(Some(n))`.
pub fn present_whole<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    optional_whole(d).map(Some)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Body {
        #[serde(deserialize_with = "super::whole")]
        required: i64,
        #[serde(default, deserialize_with = "super::optional_whole")]
        optional: Option<i64>,
        #[serde(default, deserialize_with = "super::present_whole")]
        nullable: Option<Option<i64>>,
    }

    fn read(text: &str) -> Result<Body, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn whole_numbers_in_either_spelling() {
        assert_eq!(read(r#"{"required": 6}"#).unwrap(), Body { required: 6, optional: None, nullable: None });
        assert_eq!(
            read(r#"{"required": 6.0, "optional": -2.0, "nullable": null}"#).unwrap(),
            Body { required: 6, optional: Some(-2), nullable: Some(None) }
        );
        assert_eq!(read(r#"{"required": 1e3, "optional": null, "nullable": 5}"#).unwrap(), Body { required: 1000, optional: None, nullable: Some(Some(5)) });
    }

    #[test]
    fn anything_else_is_refused() {
        for text in [
            r#"{"required": 6.5}"#,
            r#"{"required": "6"}"#,
            r#"{"required": null}"#,
            r#"{"required": 1e19}"#,
            r#"{"required": 18446744073709551615}"#,
            r#"{"required": 1, "optional": 0.1}"#,
            r#"{"required": 1, "nullable": true}"#,
        ] {
            assert!(read(text).is_err(), "{text}");
        }
        assert!(read(r#"{"required": 6.5}"#).unwrap_err().contains("whole number"));
    }
}
