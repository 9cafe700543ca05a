//! Shared state of the HTTP adapter.

use consulate_app::App;
use metrics_exporter_prometheus::PrometheusHandle;

#[derive(Clone)]
pub struct ApiState {
    pub app: App,
    /// The absolute base URL clients reach this server at, without a trailing slash; used for
    /// `@odata.nextLink` and `@odata.context`.
    pub public_url: String,
    pub metrics: Option<PrometheusHandle>,
}
