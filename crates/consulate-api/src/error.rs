//! The Graph error shape, and the one place domain and service errors become HTTP statuses.
//!
//! | condition                          | status | `error.code`                 |
//! |------------------------------------|--------|------------------------------|
//! | invalid input, query or JSON        | 400    | `invalidRequest`             |
//! | missing/invalid/revoked token       | 401    | `InvalidAuthenticationToken` |
//! | missing permission or role          | 403    | `accessDenied`               |
//! | unknown object or route             | 404    | `itemNotFound`               |
//! | method not allowed on a route       | 405    | `methodNotAllowed`           |
//! | conflicting state                   | 409    | `conflict`                   |
//! | body over 1 MiB                     | 413    | `requestTooLarge`            |
//! | body not JSON                       | 415    | `unsupportedMediaType`       |
//! | a fault of ours (logged)            | 500    | `generalException`           |

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use consulate_app::ServiceError;
use consulate_core::DomainError;
use serde_json::json;

/// A Graph-shaped error response.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub target: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            target: None,
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalidRequest", message)
    }
    pub fn with_target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "itemNotFound", message)
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        let message = e.to_string();
        match e {
            DomainError::Invalid { target, .. } => ApiError {
                status: StatusCode::BAD_REQUEST,
                code: "invalidRequest",
                message,
                target,
            },
            DomainError::NotFound { .. } => {
                Self::new(StatusCode::NOT_FOUND, "itemNotFound", message)
            }
            DomainError::Conflict { .. } => Self::new(StatusCode::CONFLICT, "conflict", message),
            DomainError::Forbidden { .. } => {
                Self::new(StatusCode::FORBIDDEN, "accessDenied", message)
            }
            DomainError::Unauthenticated { .. } => Self::new(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                message,
            ),
            DomainError::Unprocessable { .. } => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unprocessableEntity",
                message,
            ),
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Domain(d) => d.into(),
            ServiceError::Internal(err) => {
                tracing::error!(error = %err, "internal error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "generalException",
                    "An internal error occurred; it has been logged.",
                )
            }
        }
    }
}

impl From<consulate_store::StoreError> for ApiError {
    fn from(e: consulate_store::StoreError) -> Self {
        ServiceError::from(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let request_id = uuid::Uuid::now_v7().to_string();
        let mut error = json!({
            "code": self.code,
            "message": self.message,
            "innerError": {
                "request-id": request_id,
                "date": jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            }
        });
        if let Some(t) = self.target {
            error["target"] = json!(t);
        }
        let mut resp = (self.status, axum::Json(json!({ "error": error }))).into_response();
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            resp.headers_mut().insert("request-id", v);
        }
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                "www-authenticate",
                HeaderValue::from_static("Bearer realm=\"consulate\""),
            );
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
