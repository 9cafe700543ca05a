//! Operational endpoints: liveness, readiness, Prometheus metrics and the OpenAPI document.

use crate::state::ApiState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Liveness: the process serves requests.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness: the database answers.
pub async fn readyz(State(state): State<ApiState>) -> Response {
    match state.app.store.ping().await {
        Ok(()) => Json(json!({ "status": "ready" })).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "reason": "database unreachable" })),
            )
                .into_response()
        }
    }
}

/// Prometheus text exposition: request counts and latencies per route, the database pool and
/// the outbox queue depth.
pub async fn metrics(State(state): State<ApiState>) -> Response {
    let (size, idle) = state.app.store.pool_stats();
    metrics::gauge!("consulate_db_pool_connections").set(f64::from(size));
    metrics::gauge!("consulate_db_pool_idle_connections").set(f64::from(idle));
    if let Ok(depth) = state.app.store.outbox_depth().await {
        metrics::gauge!("consulate_outbox_pending").set(depth as f64);
    }
    match &state.metrics {
        Some(h) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            h.render(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "metrics are disabled").into_response(),
    }
}

/// The OpenAPI document of this API.
pub async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::document_json(),
    )
        .into_response()
}
