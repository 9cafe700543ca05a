//! Request extractors: the authenticated caller, bounded JSON bodies with Graph errors, and
//! the raw OData query options.

use crate::error::ApiError;
use crate::state::ApiState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use consulate_core::access::Caller;
use consulate_odata::QueryOptions;
use serde::de::DeserializeOwned;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The caller, authenticated from the `Authorization: Bearer …` header or, without one, from
/// the session cookie (state-changing requests then pass the CSRF check).
pub struct Auth(pub Caller);

impl FromRequestParts<ApiState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if header.is_empty()
            && let Some(secret) =
                crate::session::read_cookie(&parts.headers, crate::session::session_cookie(state))
        {
            let (caller, session) = state.app.session_caller(&secret).await?;
            crate::session::check_csrf(state, &parts.method, &parts.headers, &session)?;
            return Ok(Auth(caller));
        }
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "InvalidAuthenticationToken",
                    "Access token is empty.",
                )
            })?;
        Ok(Auth(state.app.authenticate(token).await?))
    }
}

/// A JSON body: at most 1 MiB, `application/json`, decoded with the failing path named.
pub struct GraphJson<T>(pub T);

/// A [`GraphJson`] body together with its raw bytes (e.g. to fingerprint a request).
pub struct GraphJsonBytes<T>(pub T, pub Bytes);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for GraphJsonBytes<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = json_body(req, state).await?;
        Ok(GraphJsonBytes(parse_json(&bytes)?, bytes))
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for GraphJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        parse_json(&json_body(req, state).await?).map(GraphJson)
    }
}

/// Reads a bounded `application/json` body.
async fn json_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    {
        let ct = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if !(ct.starts_with("application/json") || ct.is_empty()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupportedMediaType",
                "The request body must be application/json.",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "requestTooLarge",
                    format!("The request body is larger than {MAX_BODY_BYTES} bytes."),
                )
            } else {
                ApiError::bad_request(format!("The request body could not be read: {e}"))
            }
        })?;
        Ok(bytes)
    }
}

/// Decodes JSON, naming the path of the first error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "The request body is empty; a JSON object is required.",
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let target = if path == "." {
            None
        } else {
            Some(path.clone())
        };
        let msg = match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                format!("The request body is not valid JSON: {inner}")
            }
            _ if path == "." => format!("The request body is invalid: {inner}"),
            _ => format!("Invalid value for property '{path}': {inner}"),
        };
        let mut err = ApiError::bad_request(msg);
        err.target = target;
        err
    })
}

/// The OData system query options of the request, parsed and bounded.
pub struct OData(pub QueryOptions, pub Vec<(String, String)>);

/// Splits and percent-decodes a raw query string (`+` is a space).
pub fn decode_query(raw: &str) -> Result<Vec<(String, String)>, ApiError> {
    if raw.len() > 16 * 1024 {
        return Err(ApiError::bad_request(
            "The query string is longer than 16 KiB.",
        ));
    }
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let dec = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8()
                    .map(|c| c.into_owned())
                    .map_err(|_| {
                        ApiError::bad_request(
                            "The query string is not valid UTF-8 after percent-decoding.",
                        )
                    })
            };
            Ok((dec(k)?, dec(v)?))
        })
        .collect()
}

impl<S: Send + Sync> FromRequestParts<S> for OData {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let pairs = decode_query(parts.uri.query().unwrap_or(""))?;
        let opts = consulate_odata::parse_query_options(
            pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        )
        .map_err(|e| {
            ApiError::bad_request(format!("Invalid {}: {}", e.option, e.message))
                .with_target(e.option.clone())
        })?;
        Ok(OData(opts, pairs))
    }
}
