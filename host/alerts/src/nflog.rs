//! The notification log (`nflog`): for each aggregation group and integration, which alerts
//! were last notified as firing and as resolved, and when. The dedup stage reads it; a
//! successful delivery writes it. It is snapshotted to disk after every write, so a restart
//! neither re-pages nor forgets what it sent.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::metrics::Metrics;

/// The integration a log entry is about (`nflogpb.Receiver`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NflogReceiver {
    /// The receiver's name.
    pub group_name: String,
    /// The integration kind (`webhook`, `slack`, ...).
    pub integration: String,
    /// The integration's index in its `<kind>_configs` list.
    pub idx: u32,
}

/// One entry (`nflogpb.MeshEntry`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NflogEntry {
    /// The aggregation group's key.
    pub group_key: String,
    /// The integration.
    pub receiver: NflogReceiver,
    /// When the notification was logged (Unix ms).
    pub timestamp_ms: i64,
    /// Hashes of the alerts notified as firing.
    pub firing_alerts: Vec<u64>,
    /// Hashes of the alerts notified as resolved.
    pub resolved_alerts: Vec<u64>,
    /// When the entry may be forgotten (Unix ms).
    pub expires_at_ms: i64,
}

impl NflogEntry {
    /// Whether every alert in `firing` was notified as firing (`IsFiringSubset`).
    pub fn is_firing_subset(&self, firing: &std::collections::HashSet<u64>) -> bool {
        firing.iter().all(|h| self.firing_alerts.contains(h))
    }

    /// Whether every alert in `resolved` was notified as resolved (`IsResolvedSubset`).
    pub fn is_resolved_subset(&self, resolved: &std::collections::HashSet<u64>) -> bool {
        resolved.iter().all(|h| self.resolved_alerts.contains(h))
    }
}

fn state_key(group_key: &str, r: &NflogReceiver) -> String {
    format!("{group_key}:{}/{}/{}", r.group_name, r.integration, r.idx)
}

/// The notification log.
#[derive(Debug)]
pub struct NotificationLog {
    st: Mutex<HashMap<String, NflogEntry>>,
    retention_ms: i64,
    path: Option<PathBuf>,
    metrics: Arc<Metrics>,
    /// Bumped by every change; snapshots record the generation they include, so concurrent
    /// callers share one write instead of each writing (and racing on the temporary file).
    generation: AtomicU64,
    snapshot_lock: Mutex<u64>,
    /// Serialises [`NotificationLog::persist`] callers without holding threads: they queue
    /// here asynchronously, and one snapshot covers every change made before it began.
    persist_queue: tokio::sync::Mutex<()>,
}

impl NotificationLog {
    /// Opens the log, loading `path`'s snapshot when there is one; `retention` is
    /// Alertmanager's `--data.retention` (default 120h).
    pub fn open(path: Option<PathBuf>, retention: Duration, metrics: Arc<Metrics>) -> Result<Self> {
        let mut st = HashMap::new();
        if let Some(p) = &path {
            if let Some(bytes) = crate::persist::read_snapshot(p)? {
                let entries: Vec<NflogEntry> =
                    serde_json::from_slice(&bytes).map_err(|e| Error::Invalid {
                        source_name: p.display().to_string(),
                        message: format!("corrupt notification log: {e}"),
                    })?;
                for e in entries {
                    st.insert(state_key(&e.group_key, &e.receiver), e);
                }
            }
        }
        Ok(NotificationLog {
            st: Mutex::new(st),
            retention_ms: retention.as_millis() as i64,
            path,
            metrics,
            generation: AtomicU64::new(0),
            snapshot_lock: Mutex::new(0),
            persist_queue: tokio::sync::Mutex::new(()),
        })
    }

    /// The entry for a group and integration (`Query(QGroupKey, QReceiver)`).
    pub fn query(&self, group_key: &str, r: &NflogReceiver) -> Option<NflogEntry> {
        self.metrics.nflog_queries.inc();
        self.st.lock().get(&state_key(group_key, r)).cloned()
    }

    /// Records a notification (`Log.Log`): expiry is `expiry` when shorter than the
    /// retention (the set-notifies stage passes twice the repeat interval). An existing
    /// newer entry is kept. The snapshot is written before returning (see
    /// [`NotificationLog::record`] for the part that does no IO).
    pub fn log(
        &self,
        r: &NflogReceiver,
        group_key: &str,
        firing: Vec<u64>,
        resolved: Vec<u64>,
        expiry: Duration,
        now_ms: i64,
    ) -> Result<()> {
        self.record(r, group_key, firing, resolved, expiry, now_ms);
        self.snapshot()
    }

    /// [`NotificationLog::log`] without the snapshot; the caller writes it (off the async
    /// threads) with [`NotificationLog::snapshot`].
    pub fn record(
        &self,
        r: &NflogReceiver,
        group_key: &str,
        firing: Vec<u64>,
        resolved: Vec<u64>,
        expiry: Duration,
        now_ms: i64,
    ) {
        let key = state_key(group_key, r);
        {
            let mut st = self.st.lock();
            if let Some(prev) = st.get(&key) {
                if prev.timestamp_ms > now_ms {
                    return;
                }
            }
            let expiry_ms = expiry.as_millis() as i64;
            let expires_at_ms = if expiry_ms > 0 && self.retention_ms > expiry_ms {
                now_ms + expiry_ms
            } else {
                now_ms + self.retention_ms
            };
            st.insert(
                key,
                NflogEntry {
                    group_key: group_key.to_string(),
                    receiver: r.clone(),
                    timestamp_ms: now_ms,
                    firing_alerts: firing,
                    resolved_alerts: resolved,
                    expires_at_ms,
                },
            );
        }
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Drops expired entries (`Log.GC`); returns how many.
    pub fn gc(&self, now_ms: i64) -> usize {
        let t = Instant::now();
        let n = {
            let mut st = self.st.lock();
            let before = st.len();
            st.retain(|_, e| e.expires_at_ms > now_ms);
            before - st.len()
        };
        if n > 0 {
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
        self.metrics
            .nflog_gc_duration
            .observe(t.elapsed().as_secs_f64());
        if n > 0 {
            if let Err(e) = self.snapshot() {
                tracing::warn!(error = %e, "notification log snapshot after gc failed");
            }
        }
        n
    }

    /// Every entry, sorted by key.
    pub fn entries(&self) -> Vec<NflogEntry> {
        let st = self.st.lock();
        let mut keys: Vec<&String> = st.keys().collect();
        keys.sort();
        keys.into_iter()
            .filter_map(|k| st.get(k).cloned())
            .collect()
    }

    /// Makes every change recorded so far durable (group commit): callers wait their turn
    /// asynchronously, a caller whose change an earlier snapshot already wrote returns at
    /// once, and the write itself runs on one blocking thread at a time. A burst of
    /// thousands of flushes thus costs a few snapshots and no thread per flush.
    pub async fn persist(self: &Arc<Self>) -> Result<()> {
        if self.path.is_none() {
            return Ok(());
        }
        let wanted = self.generation.load(Ordering::SeqCst);
        let _turn = self.persist_queue.lock().await;
        if *self.snapshot_lock.lock() >= wanted {
            return Ok(());
        }
        let me = self.clone();
        tokio::task::spawn_blocking(move || me.snapshot())
            .await
            .map_err(|e| Error::Invalid {
                source_name: "notification log".into(),
                message: format!("snapshot task failed: {e}"),
            })?
    }

    /// Writes the whole log to its file crash-safely (a no-op without a file, or when a
    /// snapshot already holds every change made before the call). Blocking IO.
    pub fn snapshot(&self) -> Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let mut saved = self.snapshot_lock.lock();
        let generation = self.generation.load(Ordering::SeqCst);
        if generation == *saved && path.exists() {
            return Ok(());
        }
        let t = Instant::now();
        let bytes = serde_json::to_vec(&self.entries()).map_err(|e| Error::Invalid {
            source_name: path.display().to_string(),
            message: e.to_string(),
        })?;
        crate::persist::write_snapshot(path, &bytes)?;
        *saved = generation;
        self.metrics.nflog_snapshot_size.set(bytes.len() as f64);
        self.metrics
            .nflog_snapshot_duration
            .observe(t.elapsed().as_secs_f64());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("nflog");
        let r = NflogReceiver {
            group_name: "team".into(),
            integration: "webhook".into(),
            idx: 0,
        };
        let log = NotificationLog::open(
            Some(p.clone()),
            Duration::from_secs(3600),
            Metrics::unregistered(),
        )
        .unwrap();
        log.log(
            &r,
            "{}:{}",
            vec![1, 2],
            vec![],
            Duration::from_secs(60),
            1_000,
        )
        .unwrap();
        let again =
            NotificationLog::open(Some(p), Duration::from_secs(3600), Metrics::unregistered())
                .unwrap();
        let e = again.query("{}:{}", &r).unwrap();
        assert_eq!(
            (e.firing_alerts.clone(), e.expires_at_ms),
            (vec![1, 2], 61_000)
        );
        assert_eq!(again.gc(60_999), 0);
        assert_eq!(again.gc(61_000), 1);
        assert!(again.query("{}:{}", &r).is_none());
    }
}
