//! Request extractors of the REST API, each refusing in the project's one error shape:
//! JSON bodies ([`ApiJson`]), query strings ([`ApiQuery`]), path parameters ([`ApiPath`])
//! and the JSON/YAML choice of public reads ([`Format`]).
//!
//! Each resource declares the fields of its own request bodies ([`ApiBody`]) beside them.

use super::error::{Error, Result};
use super::json::Refusal;
use crate::error::{ErrorCode, FieldError};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use http::request::Parts;
use http::{header, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// The largest request body the API reads.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A request body the API reads: its field names, so unknown ones can all be named at once.
pub trait ApiBody: DeserializeOwned {
    const FIELDS: &'static [&'static str];
}

/// A JSON body. Failures are problem+json: 415 without a JSON content type, 413 over
/// [`BODY_LIMIT`], 400 for broken JSON or a key given twice (naming it), 422 naming every
/// unknown or mistyped field.
pub struct ApiJson<T>(pub T);

impl<T: ApiBody, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim();
                mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
            });
        if !is_json {
            return Err(Error::new(
                ErrorCode::UnsupportedMediaType,
                "Send the body as JSON, with `Content-Type: application/json`.",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Error::new(ErrorCode::PayloadTooLarge, format!("The body is larger than {} KiB.", BODY_LIMIT / 1024))
            } else {
                Error::new(ErrorCode::MalformedRequest, "The request body could not be read.")
            }
        })?;
        let value = super::json::parse(&bytes).map_err(|refusal| match refusal {
            Refusal::Syntax(e) => Error::new(ErrorCode::MalformedRequest, format!("The body is not valid JSON: {e}.")),
            Refusal::Duplicate { path, line, column } => Error::field(
                ErrorCode::MalformedRequest,
                &path,
                format!("The body gives `{path}` more than once (again at line {line} column {column}); give each key once."),
            ),
        })?;
        let Some(object) = value.as_object() else {
            return Err(Error::new(ErrorCode::ValidationFailed, "The body must be a JSON object."));
        };
        let unknown: Vec<FieldError> = object
            .keys()
            .filter(|k| !T::FIELDS.contains(&k.as_str()))
            .map(|k| FieldError::new(k.clone(), format!("Unknown field. Known fields: {}.", T::FIELDS.join(", "))))
            .collect();
        if !unknown.is_empty() {
            return Err(Error::validation(unknown));
        }
        serde_path_to_error::deserialize(value).map(ApiJson).map_err(|e| {
            let message = e.inner().to_string();
            let field = match e.path().to_string().as_str() {
                "." => message.split('`').nth(1).unwrap_or("body").to_owned(),
                path => path.to_owned(),
            };
            Error::validation(vec![FieldError::new(field, message)])
        })
    }
}

/// Query parameters, refused in the one error shape (422 naming the problem).
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self> {
        let query = parts.uri.query().unwrap_or("");
        query_from_str(query).map(ApiQuery)
    }
}

/// Reads a query string, naming the parameter at fault: the one whose value is wrong
/// (`days=7.5`), or the unknown one (`reasn=…`).
fn query_from_str<T: DeserializeOwned>(query: &str) -> Result<T> {
    let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let message = e.inner().to_string();
        let field = match e.path().to_string().as_str() {
            "." => message.split('`').nth(1).unwrap_or("query").to_owned(),
            path => path.to_owned(),
        };
        Error::validation(vec![FieldError::new(field, message)])
    })
}

/// A path parameter. One that cannot even be parsed (`/api/v1/sets/abc`) names nothing that
/// exists: `404 not_found`, in the one error shape, like any other unknown id.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|_| Error::new(ErrorCode::NotFound, format!("Nothing at {}.", parts.uri.path())))
    }
}

/// The body format of a public read: JSON unless YAML is asked for, by `?format=yaml` or
/// by an `Accept` header naming a YAML media type (`application/yaml`, `text/yaml`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
}

/// `?format=` of a public read.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FormatParams {
    /// `json` (the default) or `yaml`. Takes precedence over the `Accept` header.
    #[param(schema_with = format_schema)]
    pub format: Option<String>,
}

/// The values of `?format=`.
const FORMATS: [(&str, Format); 2] = [("json", Format::Json), ("yaml", Format::Yaml)];

fn format_schema() -> utoipa::openapi::schema::Object {
    crate::schema::one_of(FORMATS.iter().map(|(name, _)| *name))
}

const YAML_TYPES: [&str; 4] = ["application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"];

impl Format {
    /// The format an `Accept` header asks for: YAML when it names a YAML type (without `q=0`).
    pub fn from_accept(accept: &str) -> Format {
        let wants_yaml = accept.split(',').any(|part| {
            let mut pieces = part.split(';').map(str::trim);
            let mime = pieces.next().unwrap_or("").to_ascii_lowercase();
            let refused = pieces
                .filter_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")))
                .any(|q| q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0));
            YAML_TYPES.contains(&mime.as_str()) && !refused
        });
        if wants_yaml {
            Format::Yaml
        } else {
            Format::Json
        }
    }

    /// `value` in this format: its content type and its text.
    pub fn encode<T: serde::Serialize>(self, value: &T) -> Result<(&'static str, String)> {
        Ok(match self {
            Format::Json => ("application/json", serde_json::to_string(value).map_err(|e| Error::internal(format!("JSON: {e}")))?),
            Format::Yaml => ("application/yaml; charset=utf-8", serde_saphyr::to_string(value).map_err(|e| Error::internal(format!("YAML: {e}")))?),
        })
    }
}

/// The answer of a public read: in the [`Format`] asked for, with an `ETag`, and `304 Not
/// Modified` (no body) when the caller's `If-None-Match` already names it — so a script
/// that polls a shared set costs one small answer until the set changes.
pub struct PublicReply {
    format: Format,
    if_none_match: Option<String>,
}

impl PublicReply {
    /// `value` as the answer: 200 with its `ETag`, or 304 when the caller has it already.
    pub fn send<T: serde::Serialize>(self, value: &T) -> Result<axum::response::Response> {
        use axum::response::IntoResponse as _;
        use sha2::Digest as _;
        let (content_type, body) = self.format.encode(value)?;
        // The same value in the other format is another representation: another tag.
        let digest = sha2::Sha256::new().chain_update(content_type).chain_update(&body).finalize();
        let tag: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        let etag = format!("\"{tag}\"");
        let matches = self.if_none_match.as_deref().is_some_and(|header| {
            header.split(',').map(|t| t.trim().trim_start_matches("W/")).any(|t| t == etag || t == "*")
        });
        let mut response = if matches {
            (StatusCode::NOT_MODIFIED, [(header::VARY, "Accept")]).into_response()
        } else {
            ([(header::CONTENT_TYPE, content_type), (header::VARY, "Accept")], body).into_response()
        };
        let headers = response.headers_mut();
        headers.insert(header::ETAG, http::HeaderValue::from_str(&etag).expect("hex is header-safe"));
        // Anyone may keep it, but must ask again (cheaply, with the tag) before using it.
        headers.insert(header::CACHE_CONTROL, http::HeaderValue::from_static("public, no-cache"));
        Ok(response)
    }
}

/// The `If-None-Match` header a [`PublicReply`] reads, for the API document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfNoneMatch {
    /// The `ETag` of the copy you have: answered 304, without a body, while it is current
    #[param(rename = "If-None-Match")]
    pub if_none_match: Option<String>,
}

/// The `304` of a [`PublicReply`], for the API document.
#[derive(utoipa::IntoResponses)]
#[response(status = 304, description = "Your copy is current (its `ETag` was in `If-None-Match`): no body")]
pub struct NotModified;

impl<S: Send + Sync> FromRequestParts<S> for PublicReply {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        let format = Format::from_request_parts(parts, state).await?;
        let if_none_match = parts.headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).map(str::to_owned);
        Ok(PublicReply { format, if_none_match })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Format {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        let ApiQuery(params) = ApiQuery::<FormatParams>::from_request_parts(parts, state).await?;
        match params.format.as_deref() {
            Some(asked) => match FORMATS.iter().find(|(name, _)| *name == asked) {
                Some((_, format)) => Ok(*format),
                None => Err(Error::validation(vec![FieldError::new(
                    "format",
                    format!("Unknown format '{asked}'. Use format=json or format=yaml."),
                )])),
            },
            None => Ok(parts
                .headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .map(Format::from_accept)
                .unwrap_or(Format::Json)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Format;

    #[test]
    fn accept_headers() {
        for (accept, format) in [
            ("application/yaml", Format::Yaml),
            ("text/yaml;charset=utf-8", Format::Yaml),
            ("application/json, application/x-yaml;q=0.5", Format::Yaml),
            ("application/yaml;q=0", Format::Json),
            ("application/yaml; q=0.0", Format::Json),
            ("application/yaml;q=0.1", Format::Yaml),
            ("application/json", Format::Json),
            ("text/html,application/xhtml+xml,*/*;q=0.8", Format::Json),
            ("", Format::Json),
        ] {
            assert_eq!(Format::from_accept(accept), format, "{accept}");
        }
    }
}
