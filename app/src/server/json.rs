//! Reading a JSON request body without losing anything: `serde_json` keeps the last of
//! `{"chest": 900, "chest": 901}` and drops the first without a word, so a script that builds
//! its body by concatenation would never learn that half of it was ignored. [`parse`] reads
//! the same documents as `serde_json::from_slice::<Value>`, and refuses any object that
//! names a key twice, at any depth, saying which key and where.
//!
//! And writing one: [`Json`], every JSON answer of the REST API.

use super::error::Error;
use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue};
use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt;

/// A JSON answer (`200`, or the status it is given beside: `(StatusCode::CREATED, Json(x))`),
/// as `application/json`.
///
/// Used instead of axum's `Json`, which has serde_json write through `bytes`'s `io::Write`
/// adapter: there every piece serde_json writes — each quote, key, colon and comma — goes
/// through the standard library's generic `write_all` loop and the adapter's bounds checks,
/// and a page of 50 sets is thousands of such pieces. Written into a `Vec`, each is one
/// `extend_from_slice`, and the body takes the `Vec` without copying it (README, "What the
/// profile showed").
#[derive(Clone, Copy, Debug, Default)]
#[must_use]
pub struct Json<T>(pub T);

/// The buffer an answer starts with: most answers fit (a set, whoami); a page grows it.
const INITIAL_CAPACITY: usize = 1024;

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        let mut body = Vec::with_capacity(INITIAL_CAPACITY);
        match serde_json::to_writer(&mut body, &self.0) {
            Ok(()) => ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response(),
            // Only a type whose `Serialize` can fail (a map with keys that are not strings,
            // say): a bug of the server's, logged, and answered in the one error shape.
            Err(e) => Error::internal(format!("could not write a JSON answer: {e}")).into_response(),
        }
    }
}

/// Why a body could not be read.
#[derive(Debug)]
pub enum Refusal {
    /// Not JSON at all (or not UTF-8, or trailing data): serde_json's own explanation.
    Syntax(serde_json::Error),
    /// A key given twice in one object: its dotted path (`measurements.chest`), and where
    /// the second occurrence ends (line and column, 1-based).
    Duplicate { path: String, line: usize, column: usize },
}

/// Parses `bytes` as one JSON document, refusing repeated keys.
pub fn parse(bytes: &[u8]) -> Result<Value, Refusal> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = Node { path: String::new() }.deserialize(&mut deserializer).map_err(classify)?;
    deserializer.end().map_err(Refusal::Syntax)?;
    Ok(value)
}

/// The custom error text [`Node`] raises, recognised again by [`classify`].
const DUPLICATE: &str = "duplicate key ";

fn classify(e: serde_json::Error) -> Refusal {
    // Our own error comes back as a data error with serde_json's position appended; any
    // other data error (a number out of range, say) stays a syntax refusal.
    let text = e.to_string();
    match text.strip_prefix(DUPLICATE).filter(|_| e.is_data()) {
        Some(rest) => {
            let path = rest.rsplit_once(" at line ").map_or(rest, |(path, _)| path).to_owned();
            Refusal::Duplicate { path, line: e.line(), column: e.column() }
        }
        None => Refusal::Syntax(e),
    }
}

/// One value of the document, at `path` (empty for the whole body).
struct Node {
    path: String,
}

impl Node {
    fn child(&self, key: &str) -> Node {
        let path = if self.path.is_empty() { key.to_owned() } else { format!("{}.{key}", self.path) };
        Node { path }
    }
}

impl<'de> DeserializeSeed<'de> for Node {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // JSON has no NaN or infinity, so serde_json never hands one over; `from` maps them
        // to null all the same.
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.child(&items.len().to_string()))? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let child = self.child(&key);
            if object.contains_key(&key) {
                return Err(A::Error::custom(format_args!("{DUPLICATE}{}", child.path)));
            }
            let value = map.next_value_seed(child)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::{parse, Json, Refusal};
    use axum::response::IntoResponse;
    use http::{header, StatusCode};
    use serde_json::json;

    /// The answer's body, read whole.
    async fn body_of(response: axum::response::Response) -> Vec<u8> {
        axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("an in-memory body").to_vec()
    }

    #[tokio::test]
    async fn an_answer_is_what_serde_json_writes_as_application_json() {
        // Longer than the first buffer, with text that needs escaping.
        let value = json!({ "sets": (0..100).map(|i| json!({ "name": format!("set \"{i}\"\n"), "hips": i as f64 + 0.5 })).collect::<Vec<_>>() });
        let response = Json(&value).into_response();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(body_of(response).await, serde_json::to_vec(&value).unwrap());

        let created = (StatusCode::CREATED, Json(json!({ "id": 7 }))).into_response();
        assert_eq!(created.status(), StatusCode::CREATED);
        assert_eq!(body_of(created).await, br#"{"id":7}"#);
    }

    #[tokio::test]
    async fn a_value_that_cannot_be_written_is_a_problem_not_a_broken_body() {
        // A map whose keys are not strings: serde_json refuses it.
        let map: std::collections::BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into();
        let response = Json(map).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/problem+json");
        let problem: serde_json::Value = serde_json::from_slice(&body_of(response).await).unwrap();
        assert_eq!(problem["code"], "internal");
    }

    #[test]
    fn reads_what_serde_json_reads() {
        for text in [
            r#"{"name":"a","measurements":{"chest":900.5,"waist":-1},"tags":[1,2,{"x":null}],"ok":true}"#,
            "[]",
            "3",
            r#""text with \"escapes\" and \u00e9""#,
            "18446744073709551615",
            "-9223372036854775808",
            "1e308",
        ] {
            let ours = parse(text.as_bytes()).unwrap_or_else(|e| panic!("{text}: {e:?}"));
            let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(ours, theirs, "{text}");
        }
    }

    #[test]
    fn refuses_a_repeated_key_naming_it() {
        let cases = [
            (r#"{"chest": 900, "chest": 901}"#, "chest"),
            (r#"{"name": "a", "measurements": {"waist": 1, "chest": 2, "chest": 3}}"#, "measurements.chest"),
            (r#"[{"a": 1}, {"b": 1, "b": 2}]"#, "1.b"),
        ];
        for (text, expected) in cases {
            match parse(text.as_bytes()) {
                Err(Refusal::Duplicate { path, line, column }) => {
                    assert_eq!(path, expected, "{text}");
                    assert_eq!(line, 1, "{text}");
                    assert!(column > 0 && column <= text.len(), "{text}: column {column}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        // The same key in two different objects is no repeat.
        assert_eq!(parse(br#"{"a": {"x": 1}, "b": {"x": 2}}"#).unwrap(), json!({"a": {"x": 1}, "b": {"x": 2}}));
    }

    #[test]
    fn broken_json_stays_a_syntax_refusal() {
        for text in [r#"{"chest": }"#, r#"{"a": 1} trailing"#, "", r#"{"a": 1e999}"#] {
            assert!(matches!(parse(text.as_bytes()), Err(Refusal::Syntax(_))), "{text}");
        }
        // A key whose text merely starts like our message is not mistaken for a repeat.
        assert!(parse(br#"{"duplicate key x": 1}"#).is_ok());
    }
}
