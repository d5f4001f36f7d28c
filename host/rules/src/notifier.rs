//! Sending alerts to Alertmanagers (`alerting.alertmanagers`), as Prometheus' notifier:
//! external labels are added (without overriding the alert's own), `alert_relabel_configs`
//! applied, alerts queued (`--alertmanager.notification-queue-capacity`, the oldest dropped
//! when full), and sent in batches of at most 64 to every Alertmanager at once as API v2
//! `POST /api/v2/alerts`. A failed send is counted and logged; the alerts are resent by the
//! rules' resend logic, not retried here (Prometheus' behaviour).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use serde_json::{json, Value};
use sightline_config::{AlertmanagerConfig, Config, RelabelConfig};
use sightline_model::Labels;
use sightline_telemetry::{names, Counter, CounterVec, Gauge, HistogramVec, Registry};

use crate::api::labels_json;
use crate::group::Notifier;
use crate::rule::NotifyAlert;

/// Most alerts in one request.
pub const MAX_BATCH_SIZE: usize = 64;

/// An alert manager in the same process (Sightline's built-in one): it gets every batch
/// after external labels and `alert_relabel_configs`, without HTTP.
pub trait LocalAlertmanager: Send + Sync {
    /// Receives one batch.
    fn post(&self, alerts: Vec<NotifyAlert>);
}

/// One `alertmanagers` entry with its resolved Alertmanagers.
struct AmSet {
    client: reqwest::Client,
    auth: sightline_scrape::client::Auth,
    timeout: Duration,
    alert_relabel: Vec<RelabelConfig>,
    urls: Vec<String>,
}

struct Metrics {
    latency: Arc<HistogramVec>,
    errors: Arc<CounterVec>,
    sent: Arc<CounterVec>,
    dropped: Arc<Counter>,
    queue_length: Arc<Gauge>,
    queue_capacity: Arc<Gauge>,
    discovered: Arc<Gauge>,
}

struct Inner {
    queue: Mutex<VecDeque<NotifyAlert>>,
    more: tokio::sync::Notify,
    capacity: usize,
    external_labels: RwLock<Labels>,
    alert_relabel: RwLock<Vec<RelabelConfig>>,
    sets: RwLock<Arc<Vec<AmSet>>>,
    user_agent: String,
    metrics: Metrics,
    local: RwLock<Option<Arc<dyn LocalAlertmanager>>>,
    /// `host:port` forms of this process' own listeners: configured Alertmanagers that are
    /// really the built-in one get the alerts in-process instead of over HTTP.
    own_authorities: RwLock<Vec<String>>,
}

/// The notifier of external Alertmanagers. Cheap to clone.
#[derive(Clone)]
pub struct AlertmanagerNotifier {
    inner: Arc<Inner>,
}

impl AlertmanagerNotifier {
    /// A notifier with an empty configuration; its metrics are registered in `registry`.
    pub fn new(capacity: usize, user_agent: &str, registry: &Registry) -> Self {
        let metrics = Metrics {
            latency: registry.histogram_vec(
                names::NOTIFICATIONS_LATENCY_SECONDS,
                "Latency of sending alert notifications.",
                &["alertmanager"],
                &[0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0],
            ),
            errors: registry.counter_vec(
                names::NOTIFICATIONS_ERRORS,
                "Errors sending alert notifications.",
                &["alertmanager"],
            ),
            sent: registry.counter_vec(
                names::NOTIFICATIONS_SENT,
                "Alerts sent (whether the request succeeded or not).",
                &["alertmanager"],
            ),
            dropped: registry.counter(
                names::NOTIFICATIONS_DROPPED,
                "Alerts dropped due to errors or a full queue.",
            ),
            queue_length: registry.gauge(
                names::NOTIFICATIONS_QUEUE_LENGTH,
                "The number of alert notifications in the queue.",
            ),
            queue_capacity: registry.gauge(
                names::NOTIFICATIONS_QUEUE_CAPACITY,
                "The capacity of the alert notifications queue.",
            ),
            discovered: registry.gauge(
                names::NOTIFICATIONS_ALERTMANAGERS_DISCOVERED,
                "The number of alertmanagers discovered and active.",
            ),
        };
        metrics.queue_capacity.set(capacity as f64);
        AlertmanagerNotifier {
            inner: Arc::new(Inner {
                queue: Mutex::new(VecDeque::new()),
                more: tokio::sync::Notify::new(),
                capacity: capacity.max(1),
                external_labels: RwLock::new(Labels::empty()),
                alert_relabel: RwLock::new(Vec::new()),
                sets: RwLock::new(Arc::new(Vec::new())),
                user_agent: user_agent.to_string(),
                metrics,
                local: RwLock::new(None),
                own_authorities: RwLock::new(Vec::new()),
            }),
        }
    }

    /// Applies a configuration: external labels, `alert_relabel_configs`, Alertmanagers
    /// (static and file-discovered, relabelled). Blocking (reads TLS and file SD files).
    pub fn apply_config(&self, cfg: &Config, base_dir: &std::path::Path) -> Result<(), String> {
        let mut sets = Vec::new();
        for (i, am) in cfg.alerting.alertmanagers.iter().enumerate() {
            sets.push(build_set(i, am, base_dir)?);
        }
        let discovered: usize = sets.iter().map(|s| s.urls.len()).sum();
        *self.inner.external_labels.write() = cfg.global.external_labels.clone();
        *self.inner.alert_relabel.write() = cfg.alerting.alert_relabel_configs.clone();
        *self.inner.sets.write() = Arc::new(sets);
        self.inner.metrics.discovered.set(discovered as f64);
        Ok(())
    }

    /// Sends every batch to `local` too; configured Alertmanagers whose `host:port` is one
    /// of `own_authorities` (this process' listeners) are skipped, since `local` is them.
    pub fn set_local(&self, local: Arc<dyn LocalAlertmanager>, own_authorities: Vec<String>) {
        *self.inner.local.write() = Some(local);
        *self.inner.own_authorities.write() = own_authorities;
    }

    /// The Alertmanager URLs alerts go to.
    pub fn alertmanagers(&self) -> Vec<String> {
        self.inner
            .sets
            .read()
            .iter()
            .flat_map(|s| s.urls.clone())
            .collect()
    }

    /// Sends queued alerts until `shutdown`; spawn it once.
    pub async fn run(self, shutdown: tokio_util::sync::CancellationToken) {
        loop {
            tokio::select! {
                _ = self.inner.more.notified() => {}
                _ = shutdown.cancelled() => return,
            }
            loop {
                let batch: Vec<NotifyAlert> = {
                    let mut q = self.inner.queue.lock();
                    let n = q.len().min(MAX_BATCH_SIZE);
                    let b = q.drain(..n).collect();
                    self.inner.metrics.queue_length.set(q.len() as f64);
                    b
                };
                if batch.is_empty() {
                    break;
                }
                self.send_all(&batch).await;
            }
        }
    }

    async fn send_all(&self, alerts: &[NotifyAlert]) {
        let sets = self.inner.sets.read().clone();
        let local = self.inner.local.read().clone();
        if let Some(local) = &local {
            local.post(alerts.to_vec());
        }
        let own = self.inner.own_authorities.read().clone();
        let begin = Instant::now();
        let mut sends = Vec::new();
        for set in sets.iter() {
            let relabelled: Vec<&NotifyAlert>;
            let owned: Vec<NotifyAlert>;
            let batch: Vec<&NotifyAlert> = if set.alert_relabel.is_empty() {
                relabelled = alerts.iter().collect();
                relabelled
            } else {
                owned = alerts
                    .iter()
                    .filter_map(|a| {
                        sightline_config::relabel(&a.labels, &set.alert_relabel).map(|labels| {
                            NotifyAlert {
                                labels,
                                ..a.clone()
                            }
                        })
                    })
                    .collect();
                owned.iter().collect()
            };
            if batch.is_empty() {
                continue;
            }
            let payload = match serde_json::to_vec(&payload(&batch)) {
                Ok(p) => bytes::Bytes::from(p),
                Err(e) => {
                    tracing::error!("encoding alerts for Alertmanager API v2 failed: {e}");
                    continue;
                }
            };
            for url in &set.urls {
                if local.is_some() && is_own(url, &own) {
                    continue;
                }
                let (client, auth, timeout) = (set.client.clone(), set.auth.clone(), set.timeout);
                let (url, payload, n) = (url.clone(), payload.clone(), batch.len());
                let inner = self.inner.clone();
                sends.push(async move {
                    let result = tokio::time::timeout(timeout, send_one(&client, &auth, &url, payload, &inner.user_agent)).await;
                    let m = &inner.metrics;
                    match result {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => {
                            tracing::error!(alertmanager = %url, count = n, "error sending alert: {e}");
                            m.errors.with(&[&url]).inc();
                        }
                        Err(_) => {
                            tracing::error!(alertmanager = %url, count = n, "error sending alert: context deadline exceeded");
                            m.errors.with(&[&url]).inc();
                        }
                    }
                    m.latency.with(&[&url]).observe(begin.elapsed().as_secs_f64());
                    m.sent.with(&[&url]).inc_by(n as f64);
                });
            }
        }
        futures::future::join_all(sends).await;
    }
}

impl Notifier for AlertmanagerNotifier {
    fn send(&self, _expr: &str, alerts: Vec<NotifyAlert>) {
        let external = self.inner.external_labels.read().clone();
        let relabel = self.inner.alert_relabel.read().clone();
        let mut out: Vec<NotifyAlert> = Vec::with_capacity(alerts.len());
        for mut a in alerts {
            if !external.is_empty() {
                let mut b = a.labels.builder();
                for l in external.iter() {
                    if a.labels.get(&l.name).is_none_or(str::is_empty) {
                        b.set(l.name.clone(), l.value.clone());
                    }
                }
                a.labels = b.build();
            }
            if !relabel.is_empty() {
                match sightline_config::relabel(&a.labels, &relabel) {
                    Some(l) if !l.is_empty() => a.labels = l,
                    _ => continue,
                }
            }
            out.push(a);
        }
        if out.is_empty() {
            return;
        }
        let cap = self.inner.capacity;
        let m = &self.inner.metrics;
        if out.len() > cap {
            let d = out.len() - cap;
            out.drain(..d);
            tracing::warn!(
                num_dropped = d,
                "alert batch larger than queue capacity, dropping alerts"
            );
            m.dropped.inc_by(d as f64);
        }
        {
            let mut q = self.inner.queue.lock();
            let over = (q.len() + out.len()).saturating_sub(cap);
            if over > 0 {
                q.drain(..over);
                tracing::warn!(
                    num_dropped = over,
                    "alert notification queue full, dropping alerts"
                );
                m.dropped.inc_by(over as f64);
            }
            q.extend(out);
            m.queue_length.set(q.len() as f64);
        }
        self.inner.more.notify_one();
    }
}

/// Whether `url`'s `host:port` is one of `own`.
fn is_own(url: &str, own: &[String]) -> bool {
    let Ok(u) = url::Url::parse(url) else {
        return false;
    };
    let (Some(host), Some(port)) = (u.host_str(), u.port_or_known_default()) else {
        return false;
    };
    let authority = format!("{host}:{port}");
    own.contains(&authority)
}

async fn send_one(
    client: &reqwest::Client,
    auth: &sightline_scrape::client::Auth,
    url: &str,
    payload: bytes::Bytes,
    user_agent: &str,
) -> Result<(), String> {
    let req = client
        .post(url)
        .header(reqwest::header::USER_AGENT, user_agent)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(payload);
    let req = auth.apply(req).await.map_err(|e| e.to_string())?;
    let resp = req.send().await.map_err(|e| e.to_string())?;
    let status = resp.status();
    // Drain the body so the connection can be reused.
    let _ = resp.bytes().await;
    if !status.is_success() {
        return Err(format!(
            "bad response status {} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        ));
    }
    Ok(())
}

/// The API v2 body: `[{labels, annotations, startsAt, endsAt, generatorURL}]`.
fn payload(alerts: &[&NotifyAlert]) -> Value {
    Value::Array(
        alerts
            .iter()
            .map(|a| {
                json!({
                    "annotations": labels_json(&a.annotations),
                    "endsAt": strfmt_time(a.ends_at),
                    "startsAt": strfmt_time(Some(a.starts_at)),
                    "generatorURL": a.generator_url,
                    "labels": labels_json(&a.labels),
                })
            })
            .collect(),
    )
}

/// go-openapi's `strfmt.DateTime` JSON: milliseconds, UTC (`2006-01-02T15:04:05.000Z`).
fn strfmt_time(t_ms: Option<i64>) -> String {
    match t_ms.and_then(chrono::DateTime::from_timestamp_millis) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => "0001-01-01T00:00:00.000Z".to_string(),
    }
}

fn build_set(
    i: usize,
    am: &AlertmanagerConfig,
    base_dir: &std::path::Path,
) -> Result<AmSet, String> {
    let name = format!("alertmanagers[{i}]");
    let client =
        sightline_scrape::client::build(&name, &am.http, false).map_err(|e| e.to_string())?;
    let mut groups = am.static_configs.clone();
    for sd in &am.file_sd_configs {
        let files =
            sightline_config::expand_file_sd_globs(sd, base_dir).map_err(|e| e.to_string())?;
        for f in files {
            match sightline_config::read_file_sd(&f) {
                Ok(gs) => groups.extend(gs),
                Err(e) => tracing::warn!(file = %f.display(), "reading Alertmanager file SD: {e}"),
            }
        }
    }
    let alerts_path = format!("{}/api/v2/alerts", am.path_prefix.trim_end_matches('/'));
    let mut urls = Vec::new();
    for g in &groups {
        for t in &g.targets {
            let mut b = g.labels.builder();
            for l in t.iter() {
                b.set(l.name.clone(), l.value.clone());
            }
            b.set(sightline_config::SCHEME_LABEL, am.scheme.as_str());
            b.set(sightline_config::ALERTS_PATH_LABEL, alerts_path.clone());
            let labels = b.build();
            let Some(labels) = sightline_config::relabel(&labels, &am.relabel_configs) else {
                continue;
            };
            let addr = labels.get_or_empty(sightline_config::ADDRESS_LABEL);
            if addr.is_empty() {
                continue;
            }
            urls.push(format!(
                "{}://{}{}",
                labels.get_or_empty(sightline_config::SCHEME_LABEL),
                addr,
                labels.get_or_empty(sightline_config::ALERTS_PATH_LABEL)
            ));
        }
    }
    Ok(AmSet {
        client,
        auth: sightline_scrape::client::auth(&am.http),
        timeout: am.timeout,
        alert_relabel: am.alert_relabel_configs.clone(),
        urls,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strfmt_times() {
        assert_eq!(strfmt_time(Some(0)), "1970-01-01T00:00:00.000Z");
        assert_eq!(strfmt_time(Some(1_500)), "1970-01-01T00:00:01.500Z");
        assert_eq!(strfmt_time(None), "0001-01-01T00:00:00.000Z");
    }

    #[test]
    fn own_listeners_are_recognised_by_host_and_port() {
        let own = vec!["127.0.0.1:9090".to_string(), "localhost:9093".to_string()];
        assert!(is_own("http://127.0.0.1:9090/api/v2/alerts", &own));
        assert!(is_own("http://localhost:9093/api/v2/alerts", &own));
        assert!(!is_own("http://localhost:9094/api/v2/alerts", &own));
        assert!(!is_own("http://10.0.0.1:9090/api/v2/alerts", &own));
        assert!(!is_own("not a url", &own));
    }
}
