//! What a page loads from the server: [`load`] makes a [`Loaded`] resource, Leptos's
//! `Resource` with a JSON codec of Tapeline's own, [`Json`].
//!
//! A value reaches the browser as JSON by two roads: a server function's answer, which
//! `server_fn` decodes with `serde_json::from_slice`, and a resource's value rendered into the
//! page, which Leptos's default codec (`JsonSerdeCodec`) decodes with `serde_json::from_str`.
//! serde_json's decoder is generic over what it reads from, so each type came into the
//! WebAssembly twice, once per road: the two copies were about a tenth of the compiled front
//! end, each about half of that. [`Json`] decodes
//! a resource's text as bytes, as a server function's answer is decoded, so each type has one
//! decoder. The JSON written and read is the same as with Leptos's codec.

use leptos::prelude::*;
use leptos::server::codee::{Decoder, Encoder};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::future::Future;

/// JSON, written as text and read as bytes (see the module's documentation).
pub struct Json;

impl<T: Serialize> Encoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(value)
    }
}

impl<T: DeserializeOwned> Decoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(text: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(text.as_bytes())
    }
}

/// A resource loaded through [`Json`].
pub type Loaded<T> = Resource<T, Json>;

/// `Resource::new`, with [`Json`]: loads `fetcher(source())` on the server, which renders the
/// value into the page, and again in the browser whenever `source()` changes.
#[track_caller]
pub fn load<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Loaded<T>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: PartialEq + Clone + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use leptos::server::codee::string::JsonSerdeCodec;
    use std::collections::BTreeMap;

    /// What Leptos's own codec reads from the same text, for comparison.
    fn leptos_reads<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
        <JsonSerdeCodec as Decoder<T>>::decode(text)
    }

    #[test]
    fn reads_what_it_writes_and_what_leptos_would_read() {
        type Value = Result<Option<BTreeMap<String, f64>>, String>;
        let values: Vec<Value> = vec![
            Ok(Some(BTreeMap::from([("chest".into(), 96.5), ("taille, épaule ✂".into(), -0.25)]))),
            Ok(None),
            Err("a \"quoted\" line\nand a tab\t\u{1F9F5}".into()),
        ];
        for value in values {
            let text = <Json as Encoder<Value>>::encode(&value).unwrap();
            assert_eq!(text, serde_json::to_string(&value).unwrap(), "the same JSON as Leptos's codec writes");
            let read: Value = <Json as Decoder<Value>>::decode(&text).unwrap();
            assert_eq!(read, value);
            assert_eq!(read, leptos_reads::<Value>(&text).unwrap());
        }
        // Escapes another writer may use read the same as well.
        let escaped = r#"{"Ok":{"\u00e9paule":1e2}}"#;
        let ours: Value = <Json as Decoder<Value>>::decode(escaped).unwrap();
        assert_eq!(ours, leptos_reads::<Value>(escaped).unwrap());
        assert_eq!(ours, Ok(Some(BTreeMap::from([("épaule".into(), 100.0)]))));
    }

    /// Every page loads through [`load`] and reads JSON as bytes: a `Resource::new` or a
    /// `serde_json::from_str` in a page would bring the text decoders back into the
    /// WebAssembly for every type it reads.
    #[test]
    fn pages_read_json_only_as_bytes() {
        fn sources(dir: &std::path::Path, found: &mut Vec<(String, String)>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    sources(&path, found);
                } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("pages/load.rs") {
                    found.push((path.display().to_string(), std::fs::read_to_string(&path).unwrap()));
                }
            }
        }
        let mut files = Vec::new();
        sources(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/pages"), &mut files);
        assert!(files.len() > 10, "the pages' sources were not found");
        let mut offences = Vec::new();
        for (path, text) in &files {
            for (number, line) in text.lines().enumerate() {
                if ["Resource::new", "serde_json::from_str"].iter().any(|banned| line.contains(banned)) {
                    offences.push(format!("{path}:{}: {}", number + 1, line.trim()));
                }
            }
        }
        assert!(offences.is_empty(), "use pages::load (load, Json; from_slice):\n{}", offences.join("\n"));
    }

    #[test]
    fn refuses_what_is_not_json_of_the_type() {
        for text in ["", "{", "[1, 2]", r#"{"Ok": "ninety"}"#] {
            assert!(<Json as Decoder<Result<Option<BTreeMap<String, f64>>, String>>>::decode(text).is_err(), "{text:?}");
        }
    }
}
