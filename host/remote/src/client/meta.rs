//! Metric metadata for remote write, as Prometheus' metadata watcher sends it: every
//! `metadata_config.send_interval` the queue gathers the scrape targets' metadata (one entry
//! per family, type/help/unit) and sends it in 1.0 `WriteRequest.metadata`, at most
//! `metadata_config.max_samples_per_send` entries a request. Over 2.0 there are no separate
//! metadata requests: each series carries its family's metadata inline, looked up here.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use sightline_config::MetadataConfig;
use sightline_model::{Metadata, MetricType};
use tokio_util::sync::CancellationToken;

use super::shard::{send_once, Outcome, ShardCtx};

/// Where the queues get metadata from (the scrape targets' caches), as (family, metadata).
pub type MetadataSource = Arc<dyn Fn() -> Vec<(String, Metadata)> + Send + Sync>;

/// The families' metadata as of the last gathering, shared with the 2.0 encoder.
#[derive(Default)]
pub(crate) struct MetaMap(RwLock<HashMap<String, Metadata>>);

impl MetaMap {
    /// Sets a family's metadata (tests).
    #[cfg(test)]
    pub(crate) fn insert(&self, family: &str, m: Metadata) {
        self.0.write().insert(family.to_string(), m);
    }

    /// The metadata of the family a sample of `metric` belongs to: the name itself, or with
    /// a suffix of the family's types removed (`_total`, `_bucket`, `_sum`, `_count`,
    /// `_created`, `_info`).
    pub(crate) fn lookup(&self, metric: &str) -> Option<Metadata> {
        let m = self.0.read();
        if m.is_empty() {
            return None;
        }
        if let Some(x) = m.get(metric) {
            return Some(x.clone());
        }
        for suffix in ["_total", "_bucket", "_sum", "_count", "_created", "_info"] {
            if let Some(base) = metric.strip_suffix(suffix) {
                if let Some(x) = m.get(base) {
                    return Some(x.clone());
                }
            }
        }
        None
    }
}

/// The protobuf enum value of a metric type (1.0's `MetricMetadata.MetricType` and 2.0's
/// `Metadata.MetricType` number them alike).
pub(crate) fn type_code(t: MetricType) -> i32 {
    match t {
        MetricType::Unknown => 0,
        MetricType::Counter => 1,
        MetricType::Gauge => 2,
        MetricType::Histogram => 3,
        MetricType::GaugeHistogram => 4,
        MetricType::Summary => 5,
        MetricType::Info => 6,
        MetricType::StateSet => 7,
    }
}

/// Gathers metadata every interval; sends it over 1.0 when configured; keeps `map` current
/// for 2.0. Runs until `cancel`.
pub(crate) async fn run(
    source: MetadataSource,
    cfg: MetadataConfig,
    ctx: Arc<ShardCtx>,
    map: Arc<MetaMap>,
    cancel: CancellationToken,
) {
    let every = cfg.send_interval.max(Duration::from_secs(1));
    loop {
        let src = source.clone();
        let gathered = tokio::task::spawn_blocking(move || src())
            .await
            .unwrap_or_default();
        // One entry per family; the first seen wins, as Prometheus' watcher keeps one.
        let mut fams: BTreeMap<String, Metadata> = BTreeMap::new();
        for (name, m) in gathered {
            fams.entry(name).or_insert(m);
        }
        *map.0.write() = fams.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        if cfg.send && !ctx.v2.load(std::sync::atomic::Ordering::Relaxed) && !fams.is_empty() {
            let per = cfg.max_samples_per_send.max(1) as usize;
            let all: Vec<(String, Metadata)> = fams.into_iter().collect();
            for chunk in all.chunks(per) {
                let req = crate::v1::WriteRequest {
                    timeseries: Vec::new(),
                    metadata: chunk
                        .iter()
                        .map(|(name, m)| crate::v1::MetricMetadata {
                            metric_type: type_code(m.metric_type),
                            metric_family_name: name.clone(),
                            help: m.help.clone(),
                            unit: m.unit.clone(),
                        })
                        .collect(),
                };
                let body = bytes::Bytes::from(crate::compress(&req.encode()));
                let outcome = tokio::select! {
                    _ = cancel.cancelled() => return,
                    o = send_once(&ctx, body, false, 0) => o,
                };
                match outcome {
                    Outcome::Delivered(_) => ctx.metrics.metadata.inc_by(chunk.len() as f64),
                    _ => {
                        // Metadata is resent in full next interval; no retry loop here.
                        ctx.metrics.metadata_failed.inc_by(chunk.len() as f64);
                    }
                }
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_finds_its_family() {
        let m = MetaMap::default();
        m.0.write().insert(
            "http_requests".into(),
            Metadata {
                metric_type: MetricType::Counter,
                help: "h".into(),
                unit: String::new(),
            },
        );
        m.0.write().insert(
            "lat".into(),
            Metadata {
                metric_type: MetricType::Histogram,
                help: "l".into(),
                unit: "seconds".into(),
            },
        );
        assert_eq!(
            m.lookup("http_requests_total").unwrap().metric_type,
            MetricType::Counter
        );
        assert_eq!(m.lookup("lat_bucket").unwrap().unit, "seconds");
        assert_eq!(m.lookup("lat").unwrap().help, "l");
        assert!(m.lookup("other_total").is_none());
    }
}
