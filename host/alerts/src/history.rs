//! The notification history (alertmanager#172, a Sightline extension): every delivery
//! attempt series, successful or not, with its receiver, integration, group and alerts,
//! kept for a retention period and at most `max_entries`, queryable newest first.
//!
//! On disk it is `history.jsonl`: one JSON object per line, appended as entries are
//! recorded. Appending keeps a record O(1) however long the history is; a whole-file
//! snapshot per notification would not. Entries that fall out of the retention window or
//! beyond `max_entries` stay in the file as garbage until more than half of it is garbage;
//! then the file is rewritten (temporary file, fsync, rename, directory fsync).
//!
//! Durability trade-off: each line is written with one `write` call, so a crash of the
//! process loses nothing that was recorded. An `fsync` per line would cost a disk flush per
//! notification on the delivery path; instead the file is synced at most once a second by a
//! background thread (and on drop), so a power loss can take the last second of history. A
//! power loss can also tear the last line; loading skips a torn last line with a warning and
//! cuts it off so the next append starts on a fresh line. A bad line anywhere else is
//! corruption and an error naming the file and line.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Condvar, Mutex, MutexGuard};
use serde::{Deserialize, Serialize};
use sightline_telemetry::{Counter, Gauge, Registry};

use crate::error::{Error, Result};
use crate::matchers::{LabelSet, Matcher};

/// Metric names.
const ENTRIES: &str = "sightline_alertmanager_history_entries";
const RECORDS: &str = "sightline_alertmanager_history_records";
const WRITE_FAILURES: &str = "sightline_alertmanager_history_write_failures";

/// How often the background thread syncs a file with unsynced lines.
const SYNC_INTERVAL: Duration = Duration::from_secs(1);

/// One alert of a notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryAlert {
    /// The alert's fingerprint, 16 hex digits.
    pub fingerprint: String,
    /// `firing` or `resolved`.
    pub status: String,
    /// Its labels.
    pub labels: LabelSet,
}

/// One delivery attempt series of one integration for one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    /// When the series ended (Unix ms); RFC 3339 with milliseconds in JSON.
    #[serde(rename = "at", with = "rfc3339_ms")]
    pub at_ms: i64,
    /// The receiver's name.
    pub receiver: String,
    /// The integration kind (`webhook`, `slack`, ...).
    pub integration: String,
    /// The integration's index within the receiver.
    pub index: usize,
    /// The aggregation group's key.
    pub group_key: String,
    /// The group's labels.
    pub group_labels: LabelSet,
    /// The alerts sent.
    pub alerts: Vec<HistoryAlert>,
    /// `None` when delivered; the last error's text when the series failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How many attempts the series took.
    pub attempts: u32,
    /// How long the series took.
    pub duration_ms: u64,
}

/// What [`History::query`] selects; the default selects everything.
#[derive(Debug, Clone, Default)]
pub struct HistoryQuery {
    /// Only this receiver.
    pub receiver: Option<String>,
    /// Only this group.
    pub group_key: Option<String>,
    /// Only entries with at least one alert whose labels match all of these.
    pub matchers: Vec<Matcher>,
    /// Only entries at or after this time (Unix ms).
    pub since_ms: Option<i64>,
    /// Only entries at or before this time (Unix ms).
    pub until_ms: Option<i64>,
    /// Only failed deliveries.
    pub failed_only: bool,
    /// At most this many (the newest).
    pub limit: Option<usize>,
}

impl HistoryQuery {
    fn selects(&self, e: &HistoryEntry) -> bool {
        self.receiver.as_ref().is_none_or(|r| *r == e.receiver)
            && self.group_key.as_ref().is_none_or(|g| *g == e.group_key)
            && self.since_ms.is_none_or(|t| e.at_ms >= t)
            && self.until_ms.is_none_or(|t| e.at_ms <= t)
            && (!self.failed_only || e.error.is_some())
            && (self.matchers.is_empty()
                || e.alerts
                    .iter()
                    .any(|a| self.matchers.iter().all(|m| m.matches_labels(&a.labels))))
    }
}

/// The open file and what is known about its contents.
struct Log {
    path: PathBuf,
    file: File,
    /// Lines in the file (live and garbage).
    lines: usize,
    /// Lines written since the last fsync.
    dirty: bool,
}

struct Inner {
    entries: VecDeque<HistoryEntry>,
    log: Option<Log>,
    stopping: bool,
}

struct Shared {
    inner: Mutex<Inner>,
    wake: Condvar,
}

/// The notification history. Share it behind an `Arc`; every method takes `&self`.
pub struct History {
    shared: Arc<Shared>,
    retention_ms: i64,
    max_entries: usize,
    syncer: Option<std::thread::JoinHandle<()>>,
    entries_gauge: Arc<Gauge>,
    records: Arc<Counter>,
    write_failures: Arc<Counter>,
}

impl std::fmt::Debug for History {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("History")
            .field("entries", &self.shared.inner.lock().entries.len())
            .finish()
    }
}

impl History {
    /// Opens the history kept in the file `path` (by convention `<data dir>/history.jsonl`;
    /// `None` keeps it in memory only), loading what the file holds and keeping the newest
    /// `max_entries`. Registers `sightline_alertmanager_history_*` in `registry`.
    pub fn open(
        path: Option<PathBuf>,
        retention: Duration,
        max_entries: usize,
        registry: &Registry,
    ) -> Result<History> {
        let mut entries = VecDeque::new();
        let mut log = None;
        if let Some(path) = path {
            let (loaded, lines) = load(&path)?;
            entries.extend(loaded);
            let io = |e| Error::Io {
                path: path.clone(),
                source: e,
            };
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(io)?;
            log = Some(Log {
                path,
                file,
                lines,
                dirty: false,
            });
        }
        while entries.len() > max_entries {
            entries.pop_front();
        }
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                entries,
                log,
                stopping: false,
            }),
            wake: Condvar::new(),
        });
        // Only a file needs syncing; an in-memory history has no thread.
        let has_file = shared.inner.lock().log.is_some();
        let syncer = if has_file {
            let shared = shared.clone();
            Some(
                std::thread::Builder::new()
                    .name("alert-history-sync".into())
                    .spawn(move || sync_loop(&shared))
                    .map_err(|e| Error::Io {
                        path: PathBuf::from("alert-history-sync"),
                        source: e,
                    })?,
            )
        } else {
            None
        };
        let h = History {
            shared,
            retention_ms: i64::try_from(retention.as_millis()).unwrap_or(i64::MAX),
            max_entries,
            syncer,
            entries_gauge: registry.gauge(ENTRIES, "Notification history entries kept."),
            records: registry.counter(RECORDS, "Notification history entries recorded."),
            write_failures: registry.counter(
                WRITE_FAILURES,
                "Notification history entries that could not be written to disk.",
            ),
        };
        {
            let mut inner = h.shared.inner.lock();
            h.compact_if_needed(&mut inner);
            h.entries_gauge.set(inner.entries.len() as f64);
        }
        Ok(h)
    }

    /// Records one entry: kept in memory and appended to the file. A write failure is logged
    /// and counted, not returned: losing a history line must not fail a delivery.
    pub fn record(&self, e: HistoryEntry) {
        self.records.inc();
        let mut inner = self.shared.inner.lock();
        if let Some(log) = inner.log.as_mut() {
            if let Err(err) = append(log, &e) {
                self.write_failures.inc();
                tracing::warn!(file = %log.path.display(), error = %err, "cannot append to the notification history");
            }
        }
        inner.entries.push_back(e);
        while inner.entries.len() > self.max_entries {
            inner.entries.pop_front();
        }
        self.compact_if_needed(&mut inner);
        self.entries_gauge.set(inner.entries.len() as f64);
    }

    /// Drops entries older than the retention (`at < now - retention`), compacting the file
    /// when more than half of it is garbage; returns how many were dropped.
    pub fn gc(&self, now_ms: i64) -> usize {
        let cutoff = now_ms.saturating_sub(self.retention_ms);
        let mut inner = self.shared.inner.lock();
        let n = inner.entries.len();
        inner.entries.retain(|e| e.at_ms >= cutoff);
        let dropped = n - inner.entries.len();
        self.compact_if_needed(&mut inner);
        self.entries_gauge.set(inner.entries.len() as f64);
        dropped
    }

    /// The entries `q` selects, newest first.
    pub fn query(&self, q: &HistoryQuery) -> Vec<HistoryEntry> {
        let inner = self.shared.inner.lock();
        let mut out: Vec<&HistoryEntry> = inner
            .entries
            .iter()
            .rev()
            .filter(|e| q.selects(e))
            .collect();
        // Recording order is nearly time order; a stable sort fixes the rare overtaking
        // (a long retry series recorded after a later quick one) and keeps ties newest
        // first. Only the entries returned are copied.
        out.sort_by_key(|e| std::cmp::Reverse(e.at_ms));
        if let Some(limit) = q.limit {
            out.truncate(limit);
        }
        out.into_iter().cloned().collect()
    }

    /// How many entries are kept.
    pub fn len(&self) -> usize {
        self.shared.inner.lock().entries.len()
    }

    /// Whether no entry is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Syncs the file now if it has unsynced lines.
    pub fn sync(&self) -> Result<()> {
        let mut inner = self.shared.inner.lock();
        sync_log(&mut inner)
    }

    fn compact_if_needed(&self, inner: &mut Inner) {
        let live = inner.entries.len();
        let Some(log) = inner.log.as_ref() else {
            return;
        };
        let garbage = log.lines.saturating_sub(live);
        if garbage == 0 || garbage <= live {
            return;
        }
        let path = log.path.clone();
        match rewrite(&path, &inner.entries) {
            Ok(file) => {
                inner.log = Some(Log {
                    path,
                    file,
                    lines: live,
                    dirty: false,
                });
            }
            Err(err) => {
                self.write_failures.inc();
                tracing::warn!(file = %path.display(), error = %err, "cannot compact the notification history");
            }
        }
    }
}

/// The engine's delivery outcomes go straight into the history.
impl crate::pipeline::OutcomeSink for History {
    fn record(&self, o: &crate::pipeline::NotificationOutcome) {
        History::record(
            self,
            HistoryEntry {
                at_ms: o.at_ms,
                receiver: o.receiver.clone(),
                integration: o.integration.clone(),
                index: o.index,
                group_key: o.group_key.clone(),
                group_labels: o.group_labels.clone(),
                alerts: o
                    .alerts
                    .iter()
                    .map(|a| HistoryAlert {
                        fingerprint: a.fingerprint.clone(),
                        status: a.status.clone(),
                        labels: a.labels.clone(),
                    })
                    .collect(),
                error: o.result.clone().err(),
                attempts: o.attempts,
                duration_ms: o.duration.as_millis() as u64,
            },
        );
    }
}

impl Drop for History {
    fn drop(&mut self) {
        {
            let mut inner = self.shared.inner.lock();
            inner.stopping = true;
            if let Err(e) = sync_log(&mut inner) {
                tracing::warn!(error = %e, "cannot sync the notification history");
            }
        }
        self.shared.wake.notify_all();
        if let Some(t) = self.syncer.take() {
            let _ = t.join();
        }
    }
}

fn sync_loop(shared: &Shared) {
    let mut inner = shared.inner.lock();
    while !inner.stopping {
        shared.wake.wait_for(&mut inner, SYNC_INTERVAL);
        // Sync a duplicate handle with the lock released, so `record` (on the delivery
        // path) never waits for the disk.
        let target = inner.log.as_mut().filter(|l| l.dirty).and_then(|l| {
            l.dirty = false;
            l.file.try_clone().ok().map(|f| (f, l.path.clone()))
        });
        if let Some((file, path)) = target {
            if let Err(e) = MutexGuard::unlocked(&mut inner, || file.sync_data()) {
                tracing::warn!(file = %path.display(), error = %e, "cannot sync the notification history");
                if let Some(l) = inner.log.as_mut() {
                    l.dirty = true;
                }
            }
        }
    }
}

fn sync_log(inner: &mut Inner) -> Result<()> {
    if let Some(log) = inner.log.as_mut().filter(|l| l.dirty) {
        log.file.sync_data().map_err(|e| Error::Io {
            path: log.path.clone(),
            source: e,
        })?;
        log.dirty = false;
    }
    Ok(())
}

fn line(e: &HistoryEntry) -> Result<Vec<u8>> {
    let mut b = serde_json::to_vec(e).map_err(|err| Error::Invalid {
        source_name: "history".into(),
        message: format!("cannot encode a history entry: {err}"),
    })?;
    b.push(b'\n');
    Ok(b)
}

fn append(log: &mut Log, e: &HistoryEntry) -> Result<()> {
    let b = line(e)?;
    // One write call per line, so concurrent readers and a crash see whole lines (or a
    // torn last one, which loading handles).
    log.file.write_all(&b).map_err(|err| Error::Io {
        path: log.path.clone(),
        source: err,
    })?;
    log.lines += 1;
    log.dirty = true;
    Ok(())
}

/// Rewrites the file with just `entries`, atomically; returns it opened for appending.
fn rewrite(path: &Path, entries: &VecDeque<HistoryEntry>) -> Result<File> {
    let io = |p: &Path, e| Error::Io {
        path: p.to_path_buf(),
        source: e,
    };
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    {
        let mut buf = Vec::new();
        for e in entries {
            buf.extend(line(e)?);
        }
        let mut f = File::create(&tmp).map_err(|e| io(&tmp, e))?;
        f.write_all(&buf).map_err(|e| io(&tmp, e))?;
        f.sync_all().map_err(|e| io(&tmp, e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| io(path, e))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    if let Ok(d) = File::open(dir) {
        d.sync_all().map_err(|e| io(dir, e))?;
    }
    OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|e| io(path, e))
}

/// Reads the file: its entries and its line count. A missing file is empty; a torn last
/// line is cut off with a warning; any other bad line is an error.
fn load(path: &Path) -> Result<(Vec<HistoryEntry>, usize)> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(e) => {
            return Err(Error::Io {
                path: path.to_path_buf(),
                source: e,
            })
        }
    };
    let mut entries = Vec::new();
    let mut offset = 0usize;
    let mut lines = 0usize;
    let mut good_end = 0usize;
    while offset < bytes.len() {
        let end = bytes[offset..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|i| offset + i);
        let (text, next, complete) = match end {
            Some(e) => (&bytes[offset..e], e + 1, true),
            None => (&bytes[offset..], bytes.len(), false),
        };
        lines += 1;
        let parsed = if text.iter().all(u8::is_ascii_whitespace) {
            None
        } else {
            Some(serde_json::from_slice::<HistoryEntry>(text))
        };
        match parsed {
            None => {}
            Some(Ok(e)) if complete => entries.push(e),
            Some(r) if next == bytes.len() => {
                // The last line: either unterminated or unparsable, a write cut short.
                tracing::warn!(
                    file = %path.display(),
                    line = lines,
                    error = %r.err().map(|e| e.to_string()).unwrap_or_else(|| "no newline".into()),
                    "skipping a torn last line of the notification history"
                );
                truncate(path, good_end)?;
                lines -= 1;
                break;
            }
            Some(Err(e)) => {
                return Err(Error::Invalid {
                    source_name: format!("{}:{lines}", path.display()),
                    message: format!("corrupt notification history line: {e}"),
                })
            }
            Some(Ok(_)) => {}
        }
        good_end = next;
        offset = next;
    }
    Ok((entries, lines))
}

fn truncate(path: &Path, len: usize) -> Result<()> {
    let io = |e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let f = OpenOptions::new().write(true).open(path).map_err(io)?;
    f.set_len(len as u64).map_err(io)?;
    f.sync_all().map_err(io)
}

/// `at` as API v2 formats times (`2006-01-02T15:04:05.000Z`).
mod rfc3339_ms {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::alert::rfc3339_millis(*ms))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let s = String::deserialize(d)?;
        crate::alert::parse_rfc3339(&s)
            .map_err(serde::de::Error::custom)?
            .ok_or_else(|| serde::de::Error::custom("zero time"))
    }
}
