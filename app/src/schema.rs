//! Builders for the constraints the API document states (server only; a leaf: it uses
//! nothing else in the crate), so that each field's schema is made
//! from the same constant the code enforcing it uses — never a second, hand-written copy of
//! a number. Each rule's module names its fields' schemas beside the rule (a `doc` module:
//! the name of a set, say, beside the name rule), and the request types point at them with
//! `#[schema(schema_with = …)]` or `#[param(schema_with = …)]`.

use utoipa::openapi::schema::{AdditionalProperties, Object, ObjectBuilder, SchemaType, Type};
use utoipa::openapi::RefOr;

/// Characters that no stored text may hold (the text rules refuse them everywhere): C0 and
/// C1 control characters, as a regular-expression class body.
pub const CONTROL: &str = r"\u0000-\u001F\u007F-\u009F";
/// What Rust's `str::trim` removes (Unicode's White_Space), spelled out: `\s` means
/// slightly different things to different regular-expression engines.
pub const WHITE: &str = r"\t\n\u000B\u000C\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";

/// One line of text that is trimmed before it is checked and stored: white space around it
/// is allowed (and dropped); what is left is at most `max` characters with no control
/// characters, and at least one when `required` (otherwise nothing left means "not given").
/// The pattern says all of that, so a generator's valid examples are the ones the server
/// accepts, and its invalid ones the ones it refuses.
pub fn trimmed_line(max: usize, required: bool) -> Object {
    assert!(max >= 2);
    let inner = format!("[^{CONTROL}]");
    let edge = format!("[^{WHITE}{CONTROL}]");
    let kept = format!("{edge}(?:{inner}{{0,{}}}{edge})?", max - 2);
    let kept = if required { kept } else { format!("(?:{kept})?") };
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!("^[{WHITE}]*{kept}[{WHITE}]*$")))
        .build()
}

/// One line of at most `max` characters, taken as it is: no control characters.
pub fn plain_line(max: usize) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(max))
        .pattern(Some(format!("^[^{CONTROL}]*$")))
        .build()
}

/// Free text of at most `max` characters that may hold line breaks and tabs, but no other
/// control characters.
pub fn multiline(max: usize) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(max))
        .pattern(Some(r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"))
        .build()
}

/// Text matching `pattern` (which carries its own length rules) or, with `max`, at most
/// `max` characters as well.
pub fn matching(pattern: &str, max: Option<usize>) -> Object {
    ObjectBuilder::new().schema_type(Type::String).max_length(max).pattern(Some(pattern)).build()
}

/// A whole number from `min` to `max`, both included.
pub fn integer(min: i64, max: i64) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Int64)))
        .minimum(Some(min))
        .maximum(Some(max))
        .build()
}

/// A number greater than 0 and at most `max`.
pub fn positive(max: f64) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Number)
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Double)))
        .exclusive_minimum(Some(0.0))
        .maximum(Some(max))
        .build()
}

/// One of `values`, exactly.
pub fn one_of<I: IntoIterator<Item = S>, S: Into<String>>(values: I) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.into_iter().map(|v| serde_json::Value::String(v.into()))))
        .build()
}

/// An object holding only the named properties (each optional), nothing else.
pub fn closed_object<I: IntoIterator<Item = (String, RefOr<utoipa::openapi::Schema>)>>(properties: I) -> Object {
    let mut builder = ObjectBuilder::new().schema_type(Type::Object);
    for (name, schema) in properties {
        builder = builder.property(name, schema);
    }
    builder.additional_properties(Some(AdditionalProperties::FreeForm(false))).build()
}

/// `schema` with its description for people, and an example. A field whose schema is made
/// here loses its doc comment in the document (utoipa takes the whole schema from the
/// function), so the rule's function describes the field itself, from the same constants.
pub fn described(mut schema: Object, description: impl Into<String>, example: Option<serde_json::Value>) -> Object {
    schema.description = Some(description.into());
    schema.examples = example.into_iter().collect();
    schema
}

/// `schema`, or `null` as well.
pub fn or_null(mut schema: Object) -> Object {
    schema.schema_type = match schema.schema_type {
        SchemaType::Type(t) => SchemaType::from_iter([t, Type::Null]),
        other => other,
    };
    schema
}
