//! Installs the process's observability in the right order: tracing is
//! prepared first (it only reads the environment), then the subscriber with
//! the hclog layer and the tracing layer goes in before anything logs, and
//! warnings found on the way are logged once someone listens.

use crate::buildinfo::BuildInfo;

/// What [`Telemetry::install`] set up, to be flushed on exit.
#[derive(Debug)]
pub(crate) struct Telemetry {
    #[cfg(feature = "otel")]
    tracing: Option<crate::otel::Tracing>,
}

impl Telemetry {
    /// Installs logging (unless `install_logger` is false) and, with feature
    /// `otel`, tracing as `GF_INSTANCE_OTLP_*` configures it.
    #[cfg_attr(not(feature = "otel"), allow(unused_variables))]
    pub(crate) fn install(plugin_id: &str, build_info: &BuildInfo, install_logger: bool) -> Self {
        #[allow(unused_mut)]
        let mut layers = Vec::new();
        #[allow(unused_mut)]
        let mut warnings: Vec<String> = Vec::new();

        #[cfg(feature = "otel")]
        let tracing = {
            let setup = crate::otel::setup_from_env(plugin_id, build_info);
            warnings.extend(setup.warnings);
            if let Some(layer) = setup.layer {
                layers.push(layer);
            }
            setup.tracing
        };

        if install_logger && !crate::log::install(layers) {
            tracing::debug!("a tracing subscriber is installed already; leaving logging to it");
        }
        for warning in warnings {
            tracing::warn!("{warning}");
        }
        Telemetry {
            #[cfg(feature = "otel")]
            tracing,
        }
    }

    /// Flushes what is buffered (spans) before the process exits.
    pub(crate) async fn shutdown(self) {
        #[cfg(feature = "otel")]
        if let Some(tracing) = self.tracing {
            tracing.shutdown().await;
        }
    }
}
