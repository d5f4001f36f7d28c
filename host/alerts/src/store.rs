//! The alert store (`provider/mem`): the alerts the manager knows, merged as Alertmanager
//! merges re-sent alerts, with a subscription that hands every stored alert to the
//! dispatcher, garbage collection of resolved alerts, and snapshots so alerts survive a
//! restart (Alertmanager keeps them in memory only; Sightline persists them so a restart in
//! the middle of a group neither forgets nor re-pages).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use sightline_model::{Labels, MetricType};
use sightline_telemetry::{Family, FamilySample, Registry};
use tokio::sync::mpsc;

use crate::alert::{Alert, Fingerprint};
use crate::error::{Error, Result};
use crate::marker::{AlertState, Marker};
use crate::metrics::Metrics;

/// The alert store.
#[derive(Debug)]
pub struct AlertStore {
    alerts: Mutex<HashMap<Fingerprint, Alert>>,
    listeners: Mutex<Vec<mpsc::UnboundedSender<Alert>>>,
    resolve_timeout_ms: Mutex<i64>,
    marker: Arc<Marker>,
    metrics: Arc<Metrics>,
    path: Option<PathBuf>,
}

impl AlertStore {
    /// An empty store; `resolve_timeout` is `global.resolve_timeout` (Alertmanager: 5m).
    pub fn new(resolve_timeout: Duration, marker: Arc<Marker>, metrics: Arc<Metrics>) -> Self {
        AlertStore {
            alerts: Mutex::new(HashMap::new()),
            listeners: Mutex::new(Vec::new()),
            resolve_timeout_ms: Mutex::new(resolve_timeout.as_millis() as i64),
            marker,
            metrics,
            path: None,
        }
    }

    /// A store backed by a snapshot file: alerts saved there by [`AlertStore::save`] are
    /// loaded now, and later saves go there.
    pub fn open(
        path: PathBuf,
        resolve_timeout: Duration,
        marker: Arc<Marker>,
        metrics: Arc<Metrics>,
    ) -> Result<Self> {
        let mut s = AlertStore::new(resolve_timeout, marker, metrics);
        if let Some(bytes) = crate::persist::read_snapshot(&path)? {
            let alerts: Vec<Alert> =
                serde_json::from_slice(&bytes).map_err(|e| Error::Invalid {
                    source_name: path.display().to_string(),
                    message: format!("corrupt alerts snapshot: {e}"),
                })?;
            let mut m = s.alerts.lock();
            for a in alerts {
                m.insert(a.fingerprint(), a);
            }
        }
        s.path = Some(path);
        Ok(s)
    }

    /// Changes `resolve_timeout` (on reload).
    pub fn set_resolve_timeout(&self, d: Duration) {
        *self.resolve_timeout_ms.lock() = d.as_millis() as i64;
    }

    /// Registers the `alerts{state}` gauge, counting unresolved alerts by marker state as
    /// `provider/mem` does.
    pub fn register_metrics(self: &Arc<Self>, r: &Registry, clock: Arc<dyn crate::Clock>) {
        let me = Arc::downgrade(self);
        r.register_callback(move || {
            let Some(me) = me.upgrade() else {
                return Vec::new();
            };
            let now = clock.now_ms();
            let mut counts = [0usize; 3];
            for a in me.alerts.lock().values() {
                if a.resolved_at(now) {
                    continue;
                }
                let i = match me.marker.status(a.fingerprint()).state {
                    AlertState::Active => 0,
                    AlertState::Suppressed => 1,
                    AlertState::Unprocessed => 2,
                };
                counts[i] += 1;
            }
            let samples = ["active", "suppressed", "unprocessed"]
                .iter()
                .zip(counts)
                .map(|(s, n)| FamilySample {
                    suffix: "",
                    labels: Labels::from_pairs([("state", *s)]),
                    value: n as f64,
                })
                .collect();
            vec![Family {
                name: sightline_telemetry::names::AM_ALERTS.to_string(),
                help: "How many alerts by state.".to_string(),
                metric_type: MetricType::Gauge,
                samples,
            }]
        });
    }

    /// Stores alerts as the API v2 handler and `mem.Alerts.Put` do: `updated_at` is now, an
    /// alert without an end time ends `resolve_timeout` from now (`timeout`), and an alert
    /// whose time range overlaps the stored one with the same fingerprint is merged into it.
    /// Every stored alert goes to the subscribers.
    pub fn put(&self, alerts: Vec<Alert>, now_ms: i64) {
        let rt = *self.resolve_timeout_ms.lock();
        for mut a in alerts {
            a.updated_at = now_ms;
            if a.ends_at.is_none() {
                a.timeout = true;
                a.ends_at = Some(now_ms + rt);
            }
            let status = if a.resolved_at(now_ms) {
                "resolved"
            } else {
                "firing"
            };
            self.metrics.alerts_received.with(&[status]).inc();
            let fp = a.fingerprint();
            let stored = {
                let mut m = self.alerts.lock();
                if let Some(old) = m.get(&fp) {
                    if overlaps(&a, old) {
                        a = merge(old, &a, now_ms);
                    }
                }
                m.insert(fp, a.clone());
                a
            };
            let mut ls = self.listeners.lock();
            ls.retain(|l| l.send(stored.clone()).is_ok());
        }
    }

    /// One alert by fingerprint.
    pub fn get(&self, fp: Fingerprint) -> Option<Alert> {
        self.alerts.lock().get(&fp).cloned()
    }

    /// Every stored alert (resolved ones too, until collected), in no particular order.
    pub fn list(&self) -> Vec<Alert> {
        self.alerts.lock().values().cloned().collect()
    }

    /// The labels of the alerts firing at `now_ms` with their fingerprints, for inhibition.
    pub fn firing(&self, now_ms: i64) -> Vec<(Fingerprint, crate::LabelSet)> {
        let mut v: Vec<_> = self
            .alerts
            .lock()
            .iter()
            .filter(|(_, a)| !a.resolved_at(now_ms))
            .map(|(fp, a)| (*fp, a.labels.clone()))
            .collect();
        v.sort_by_key(|(fp, _)| *fp);
        v
    }

    /// A subscription (`Alerts.Subscribe`): every stored alert first, then each alert as it
    /// is stored.
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<Alert> {
        let (tx, rx) = mpsc::unbounded_channel();
        // Holding the listeners lock while copying keeps a concurrent `put` from slipping an
        // alert between the copy and the registration.
        let mut ls = self.listeners.lock();
        for a in self.alerts.lock().values() {
            let _ = tx.send(a.clone());
        }
        ls.push(tx);
        rx
    }

    /// Drops resolved alerts and their marker entries (`store.Alerts.gc` with the
    /// provider's callback); returns how many were dropped.
    pub fn gc(&self, now_ms: i64) -> usize {
        let mut m = self.alerts.lock();
        let gone: Vec<Fingerprint> = m
            .iter()
            .filter(|(_, a)| a.resolved_at(now_ms))
            .map(|(fp, _)| *fp)
            .collect();
        for fp in &gone {
            m.remove(fp);
            self.marker.delete(*fp);
        }
        gone.len()
    }

    /// Writes every alert to the store's snapshot file (a no-op for a store without one).
    pub fn save(&self) -> Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        self.save_to(path)
    }

    /// Writes every alert to `path` crash-safely.
    pub fn save_to(&self, path: &Path) -> Result<()> {
        let mut alerts = self.list();
        alerts.sort_by_key(Alert::fingerprint);
        let bytes = serde_json::to_vec(&alerts).map_err(|e| Error::Invalid {
            source_name: path.display().to_string(),
            message: e.to_string(),
        })?;
        crate::persist::write_snapshot(path, &bytes)
    }
}

/// `mem.Alerts.Put`'s overlap test: the new alert ends or starts inside the stored one.
fn overlaps(a: &Alert, old: &Alert) -> bool {
    let end = |x: &Alert| x.ends_at.unwrap_or(i64::MIN);
    let (oe, ae) = (end(old), end(a));
    (ae > old.starts_at && ae < oe) || (a.starts_at > old.starts_at && a.starts_at < oe)
}

/// `types.Alert.Merge`: the younger alert wins, with the earliest start and the latest
/// explicit end.
pub(crate) fn merge(a: &Alert, o: &Alert, now_ms: i64) -> Alert {
    if o.updated_at < a.updated_at {
        return merge(o, a, now_ms);
    }
    let mut res = o.clone();
    if a.starts_at < o.starts_at {
        res.starts_at = a.starts_at;
    }
    let end = |x: &Alert| x.ends_at.unwrap_or(i64::MIN);
    if o.resolved_at(now_ms) {
        if a.resolved_at(now_ms) && end(a) > end(o) {
            res.ends_at = a.ends_at;
        }
    } else if end(a) > end(o) && !a.timeout {
        res.ends_at = a.ends_at;
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(name: &str, starts: i64, ends: Option<i64>) -> Alert {
        Alert {
            labels: [("alertname".to_string(), name.to_string())].into(),
            annotations: Default::default(),
            starts_at: starts,
            ends_at: ends,
            generator_url: String::new(),
            updated_at: 0,
            timeout: false,
        }
    }

    fn store() -> AlertStore {
        AlertStore::new(
            Duration::from_secs(300),
            Arc::new(Marker::new()),
            Metrics::unregistered(),
        )
    }

    #[test]
    fn an_alert_without_end_times_out_and_resends_merge() {
        let s = store();
        s.put(vec![alert("A", 1_000, None)], 10_000);
        let a = s.list().pop().unwrap();
        assert_eq!(a.ends_at, Some(310_000));
        assert!(a.timeout);
        // Re-sent later with a later start: the earliest start is kept.
        s.put(vec![alert("A", 5_000, None)], 20_000);
        let a = s.list().pop().unwrap();
        assert_eq!(
            (a.starts_at, a.ends_at, a.updated_at),
            (1_000, Some(320_000), 20_000)
        );
        // Resolved explicitly: the explicit end wins.
        s.put(vec![alert("A", 1_000, Some(25_000))], 30_000);
        let a = s.list().pop().unwrap();
        assert_eq!(a.ends_at, Some(25_000));
        assert!(!a.timeout);
        assert_eq!(s.gc(30_000), 1);
        assert!(s.list().is_empty());
    }

    #[test]
    fn subscribers_see_stored_then_new_alerts_and_snapshots_round_trip() {
        let s = store();
        s.put(vec![alert("A", 1_000, None)], 2_000);
        let mut rx = s.subscribe();
        s.put(vec![alert("B", 1_000, None)], 2_000);
        assert_eq!(rx.try_recv().unwrap().labels["alertname"], "A");
        assert_eq!(rx.try_recv().unwrap().labels["alertname"], "B");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("alerts");
        s.save_to(&p).unwrap();
        let r = AlertStore::open(
            p,
            Duration::from_secs(300),
            Arc::new(Marker::new()),
            Metrics::unregistered(),
        )
        .unwrap();
        assert_eq!(r.list().len(), 2);
    }
}
