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
    /// Serialises snapshot writes (they share a temporary file).
    save_lock: Mutex<()>,
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
            save_lock: Mutex::new(()),
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

    /// Takes alerts posted to the API as Alertmanager 0.25's `postAlertsHandler` does:
    /// a missing start is the end (or now), a missing end is now + `resolve_timeout`
    /// (`timeout`), empty labels are dropped, invalid alerts are counted and left out, the
    /// valid ones stored. The error lists the invalid ones' reasons joined by "; " (the
    /// handler's 400 body).
    pub fn post(&self, alerts: Vec<PostedAlert>, now_ms: i64) -> std::result::Result<(), String> {
        let rt = *self.resolve_timeout_ms.lock();
        let mut valid = Vec::new();
        let mut errs = Vec::new();
        for p in alerts {
            let starts_at = p.starts_at.or(p.ends_at).unwrap_or(now_ms);
            let (ends_at, timeout) = match p.ends_at {
                Some(e) => (e, false),
                None => (now_ms + rt, true),
            };
            let mut a = Alert {
                labels: p.labels,
                annotations: p.annotations,
                starts_at,
                ends_at: Some(ends_at),
                generator_url: p.generator_url,
                updated_at: now_ms,
                timeout,
            };
            a.labels.retain(|_, v| !v.is_empty());
            match validate(&a) {
                Ok(()) => valid.push(a),
                Err(e) => {
                    self.metrics.alerts_invalid.inc();
                    errs.push(e);
                }
            }
        }
        self.put(valid, now_ms);
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs.join("; "))
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

    /// Writes every alert to `path` crash-safely (blocking IO).
    pub fn save_to(&self, path: &Path) -> Result<()> {
        let _one_at_a_time = self.save_lock.lock();
        let mut alerts = self.list();
        alerts.sort_by_key(Alert::fingerprint);
        let bytes = serde_json::to_vec(&alerts).map_err(|e| Error::Invalid {
            source_name: path.display().to_string(),
            message: e.to_string(),
        })?;
        crate::persist::write_snapshot(path, &bytes)
    }
}

/// An alert as posted to the API, before Alertmanager fills in its times.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostedAlert {
    /// Labels.
    pub labels: crate::LabelSet,
    /// Annotations.
    pub annotations: crate::LabelSet,
    /// `startsAt`, when given (and not Go's zero time).
    pub starts_at: Option<i64>,
    /// `endsAt`, when given (and not Go's zero time).
    pub ends_at: Option<i64>,
    /// `generatorURL`.
    pub generator_url: String,
}

/// `model.Alert.Validate` (prometheus/common 0.38, classic label names).
pub fn validate(a: &Alert) -> std::result::Result<(), String> {
    if let Some(e) = a.ends_at {
        if e < a.starts_at {
            return Err("start time must be before end time".into());
        }
    }
    let check = |ls: &crate::LabelSet| {
        for k in ls.keys() {
            if !crate::route::is_classic_label_name(k) {
                return Err(format!("invalid name {k:?}"));
            }
        }
        Ok(())
    };
    check(&a.labels).map_err(|e| format!("invalid label set: {e}"))?;
    if a.labels.is_empty() {
        return Err("at least one label pair required".into());
    }
    check(&a.annotations).map_err(|e| format!("invalid annotations: {e}"))?;
    Ok(())
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
    use crate::Clock;

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
    fn posted_alerts_get_times_and_invalid_ones_are_reported() {
        let s = store();
        let ok = PostedAlert {
            labels: [
                ("alertname".to_string(), "A".to_string()),
                ("empty".to_string(), String::new()),
            ]
            .into(),
            ..PostedAlert::default()
        };
        let bad = PostedAlert {
            labels: [("0bad".to_string(), "x".to_string())].into(),
            ..PostedAlert::default()
        };
        let none = PostedAlert::default();
        let err = s.post(vec![ok, bad, none], 1_000).unwrap_err();
        assert_eq!(
            err,
            "invalid label set: invalid name \"0bad\"; at least one label pair required"
        );
        let a = s.list().pop().unwrap();
        assert_eq!(a.labels.len(), 1);
        assert_eq!(
            (a.starts_at, a.ends_at, a.timeout),
            (1_000, Some(301_000), true)
        );
    }

    #[test]
    fn the_alerts_gauge_counts_unresolved_alerts_by_marker_state() {
        let r = Registry::new();
        let marker = Arc::new(Marker::new());
        let s = Arc::new(AlertStore::new(
            Duration::from_secs(300),
            marker.clone(),
            Metrics::unregistered(),
        ));
        s.register_metrics(&r, Arc::new(crate::SystemClock));
        let now = crate::SystemClock.now_ms();
        let (a, b) = (alert("A", now, None), alert("B", now, None));
        marker.set_silenced(b.fingerprint(), vec!["s".into()]);
        s.put(
            vec![a, b, alert("C", now, None), alert("D", 0, Some(1))],
            now,
        );
        let fam = r
            .gather()
            .into_iter()
            .find(|f| f.name == "sightline_alertmanager_alerts")
            .unwrap();
        let v: Vec<(String, f64)> = fam
            .samples
            .iter()
            .map(|x| (x.labels.get_or_empty("state").to_string(), x.value))
            .collect();
        assert_eq!(
            v,
            [
                ("active".to_string(), 0.0),
                ("suppressed".to_string(), 1.0),
                ("unprocessed".to_string(), 2.0)
            ]
        );
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
