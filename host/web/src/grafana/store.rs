//! Dashboards saved through the Grafana API, durable in `<storage.tsdb.path>/dashboards/`:
//! one `<uid>.json` per dashboard, holding the model and its bookkeeping (id, version,
//! folder, times). Invariant: an acknowledged save is on disk. A file is written to
//! `<uid>.json.tmp`, fsynced, renamed over `<uid>.json`, and the directory is fsynced before
//! the save answers; a crash leaves the old file or the new one, never a torn one (a leftover
//! `.tmp` is removed at the next start). A file that does not parse is logged and skipped at
//! startup, never fatal. Each save also writes its copy to `versions/<uid>/<version>.json`
//! (the same way, before the main file), the last 20 kept as Grafana keeps them, for
//! `GET /api/dashboards/uid/<uid>/versions`.
//!
//! Grafana's save semantics (`pkg/services/dashboards/database`): a dashboard is found by
//! uid, else by id; a stale `version` is 412 `version-mismatch` unless `overwrite`; the same
//! title in the folder under another uid is 412 `name-exists` unless `overwrite` (which then
//! replaces that dashboard); a save bumps the version; new dashboards get a generated uid
//! and the next id. Plugin dashboards are read-only: a save or delete of their uid is 400.

// Every function here is called on a blocking thread (`spawn_blocking` in the handlers and at
// startup): the store's reads, writes and fsyncs are blocking by design.
#![allow(clippy::disallowed_methods)]

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::{json, Map, Value};

use crate::error::WebError;
use crate::metrics::WebMetrics;

/// A stored dashboard.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub(crate) id: i64,
    pub(crate) uid: String,
    pub(crate) title: String,
    pub(crate) folder_uid: String,
    pub(crate) version: i64,
    pub(crate) created_ms: i64,
    pub(crate) updated_ms: i64,
    pub(crate) tags: Vec<String>,
    /// The model with `id`, `uid`, `version` set to the stored ones.
    pub(crate) model: Arc<Value>,
}

/// A save request, already unwrapped from Grafana's envelope.
#[derive(Debug, Clone, Default)]
pub(crate) struct SaveCommand {
    pub(crate) dashboard: Map<String, Value>,
    pub(crate) folder_uid: String,
    pub(crate) overwrite: bool,
    pub(crate) message: String,
}

/// What a plugin provides, as far as saving needs to know: its uid. Plugin dashboards live
/// apart from the stored ones as far as titles go (a plugin's "Service Health" does not stop
/// the seed's script from saving its own "Service Health"), unlike Grafana's provisioned
/// dashboards, which share the General folder.
pub(crate) struct Provisioned<'a> {
    pub(crate) uid: &'a str,
}

/// The store. Saves and deletes are serialised by one lock, held while the file is written:
/// a save's checks and its write are one step.
pub struct DashboardStore {
    dir: PathBuf,
    inner: Mutex<Inner>,
    metrics: WebMetrics,
}

struct Inner {
    by_uid: BTreeMap<String, Stored>,
    next_id: i64,
}

/// Grafana's uid rule (`util.IsValidShortUID` and the 40-character column).
pub(crate) fn check_uid(uid: &str) -> Result<(), WebError> {
    if uid.len() > 40 {
        return Err(WebError::UidTooLong);
    }
    if !uid
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(WebError::InvalidUid);
    }
    Ok(())
}

/// A new uid in the style of Grafana 10's `util.GenerateShortUID`: 14 characters, a
/// lowercase letter first, then lowercase letters and digits.
fn generate_uid() -> String {
    const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut s = String::with_capacity(14);
    s.push(char::from(b'a' + fastrand::u8(0..26)));
    for _ in 0..13 {
        s.push(char::from(ALNUM[fastrand::usize(0..ALNUM.len())]));
    }
    s
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WebError + '_ {
    move |source| WebError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn str_field<'a>(m: &'a Map<String, Value>, k: &str) -> &'a str {
    m.get(k).and_then(Value::as_str).unwrap_or("")
}

fn tags_of(m: &Map<String, Value>) -> Vec<String> {
    m.get("tags")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

impl DashboardStore {
    /// Opens (creating) the directory and loads every dashboard in it.
    pub fn open(dir: impl Into<PathBuf>, metrics: WebMetrics) -> Result<DashboardStore, WebError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let mut by_uid = BTreeMap::new();
        for entry in std::fs::read_dir(&dir).map_err(io(&dir))? {
            let path = entry.map_err(io(&dir))?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.ends_with(".json.tmp") {
                // A save that crashed before its rename: never acknowledged.
                if let Err(e) = std::fs::remove_file(&path) {
                    tracing::warn!(file = %path.display(), error = %e, "cannot remove an unfinished dashboard file");
                }
                continue;
            }
            let Some(uid) = name.strip_suffix(".json") else {
                continue;
            };
            match load_file(&path, uid) {
                Ok(d) => {
                    by_uid.insert(d.uid.clone(), d);
                }
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = %e, "skipping an unreadable dashboard file")
                }
            }
        }
        let next_id = by_uid.values().map(|d| d.id).max().unwrap_or(0) + 1;
        metrics.dashboards.set(by_uid.len() as f64);
        tracing::info!(dir = %dir.display(), dashboards = by_uid.len(), "dashboard store loaded");
        Ok(DashboardStore {
            dir,
            inner: Mutex::new(Inner { by_uid, next_id }),
            metrics,
        })
    }

    /// Every stored dashboard.
    pub(crate) fn list(&self) -> Vec<Stored> {
        self.inner.lock().by_uid.values().cloned().collect()
    }

    /// One stored dashboard.
    pub(crate) fn get(&self, uid: &str) -> Option<Stored> {
        self.inner.lock().by_uid.get(uid).cloned()
    }

    /// Saves with Grafana's semantics; `provisioned` are the plugins' dashboards, which a
    /// save may not replace. Blocking (fsync): call it off the async workers.
    pub(crate) fn save(
        &self,
        cmd: SaveCommand,
        provisioned: &[Provisioned<'_>],
    ) -> Result<Stored, WebError> {
        let r = self.save_inner(cmd, provisioned);
        let outcome = match &r {
            Ok(_) => "success",
            Err(WebError::Io { .. }) => "error",
            Err(_) => "rejected",
        };
        self.metrics.dashboard_writes.with(&["save", outcome]).inc();
        r
    }

    fn save_inner(
        &self,
        cmd: SaveCommand,
        provisioned: &[Provisioned<'_>],
    ) -> Result<Stored, WebError> {
        let mut model = cmd.dashboard;
        let title = str_field(&model, "title").trim().to_string();
        if title.is_empty() {
            return Err(WebError::EmptyTitle);
        }
        if cmd.message.chars().count() > 500 {
            return Err(WebError::MessageTooLong);
        }
        let mut uid = str_field(&model, "uid").to_string();
        check_uid(&uid)?;
        let id = model.get("id").and_then(Value::as_i64).unwrap_or(0);
        let posted_version = model.get("version").and_then(Value::as_i64).unwrap_or(0);
        if !uid.is_empty() && provisioned.iter().any(|p| p.uid == uid) {
            return Err(WebError::ProvisionedSave);
        }
        let mut inner = self.inner.lock();
        let mut existing = if !uid.is_empty() {
            inner.by_uid.get(&uid).cloned()
        } else if id != 0 {
            let found = inner.by_uid.values().find(|d| d.id == id).cloned();
            Some(found.ok_or(WebError::SaveNotFound)?)
        } else {
            None
        };
        if let Some(ex) = &existing {
            if ex.version != posted_version && !cmd.overwrite {
                return Err(WebError::VersionMismatch);
            }
        }
        let own_uid = existing.as_ref().map_or(uid.as_str(), |e| e.uid.as_str());
        let clash = inner
            .by_uid
            .values()
            .find(|d| d.uid != own_uid && d.folder_uid == cmd.folder_uid && d.title == title)
            .cloned();
        if let Some(c) = clash {
            if !cmd.overwrite || existing.is_some() {
                return Err(WebError::NameExists);
            }
            // Grafana: overwrite by title takes over the other dashboard's id and uid.
            existing = Some(c);
        }
        if let Some(ex) = &existing {
            uid = ex.uid.clone();
        } else if uid.is_empty() {
            uid = loop {
                let u = generate_uid();
                if !inner.by_uid.contains_key(&u) && !provisioned.iter().any(|p| p.uid == u) {
                    break u;
                }
            };
        }
        let now = sightline_now_ms();
        let (id, version, created_ms) = match &existing {
            Some(ex) => (ex.id, ex.version + 1, ex.created_ms),
            None => (inner.next_id, 1, now),
        };
        model.insert("id".into(), json!(id));
        model.insert("uid".into(), json!(uid));
        model.insert("version".into(), json!(version));
        let stored = Stored {
            id,
            uid: uid.clone(),
            title,
            folder_uid: cmd.folder_uid,
            version,
            created_ms,
            updated_ms: now,
            tags: tags_of(&model),
            model: Arc::new(Value::Object(model)),
        };
        if existing.is_none() {
            let vdir = self.versions_dir(&uid);
            if vdir.exists() {
                std::fs::remove_dir_all(&vdir).map_err(io(&vdir))?;
            }
        }
        self.write_file(&stored, &cmd.message)?;
        if existing.is_none() {
            inner.next_id += 1;
        }
        inner.by_uid.insert(uid, stored.clone());
        self.metrics.dashboards.set(inner.by_uid.len() as f64);
        Ok(stored)
    }

    /// Deletes a stored dashboard. Blocking (fsync).
    pub(crate) fn delete(
        &self,
        uid: &str,
        provisioned: &[Provisioned<'_>],
    ) -> Result<Stored, WebError> {
        let r = self.delete_inner(uid, provisioned);
        let outcome = match &r {
            Ok(_) => "success",
            Err(WebError::Io { .. }) => "error",
            Err(_) => "rejected",
        };
        self.metrics
            .dashboard_writes
            .with(&["delete", outcome])
            .inc();
        r
    }

    fn delete_inner(&self, uid: &str, provisioned: &[Provisioned<'_>]) -> Result<Stored, WebError> {
        if provisioned.iter().any(|p| p.uid == uid) {
            return Err(WebError::ProvisionedDelete);
        }
        let mut inner = self.inner.lock();
        let Some(d) = inner.by_uid.get(uid).cloned() else {
            return Err(WebError::NotFound);
        };
        let path = self.dir.join(format!("{uid}.json"));
        std::fs::remove_file(&path).map_err(io(&path))?;
        sync_dir(&self.dir)?;
        inner.by_uid.remove(uid);
        // The history goes too; a leftover is removed when the uid is saved anew, so a
        // failure here is only logged.
        let vdir = self.versions_dir(uid);
        if let Err(e) = std::fs::remove_dir_all(&vdir) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(dir = %vdir.display(), error = %e, "cannot remove a deleted dashboard's versions");
            }
        }
        self.metrics.dashboards.set(inner.by_uid.len() as f64);
        Ok(d)
    }

    fn write_file(&self, d: &Stored, message: &str) -> Result<(), WebError> {
        let doc = json!({
            "format": 1,
            "id": d.id,
            "uid": d.uid,
            "folderUid": d.folder_uid,
            "version": d.version,
            "created": d.created_ms,
            "updated": d.updated_ms,
            "message": message,
            "dashboard": &*d.model,
        });
        let bytes = serde_json::to_vec_pretty(&doc).map_err(|e| WebError::Io {
            path: self.dir.clone(),
            source: std::io::Error::other(e),
        })?;
        // The version's copy first, so the history never lacks the current version.
        let vdir = self.versions_dir(&d.uid);
        if !vdir.is_dir() {
            std::fs::create_dir_all(&vdir).map_err(io(&vdir))?;
            sync_dir(&self.dir.join(VERSIONS))?;
        }
        atomic_write(&vdir, &format!("{}.json", d.version), &bytes)?;
        atomic_write(&self.dir, &format!("{}.json", d.uid), &bytes)?;
        // Grafana's `versions_to_keep` default: older copies go (their loss is harmless).
        let old = vdir.join(format!("{}.json", d.version - VERSIONS_TO_KEEP));
        if let Err(e) = std::fs::remove_file(&old) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(file = %old.display(), error = %e, "cannot remove an old dashboard version");
            }
        }
        Ok(())
    }

    fn versions_dir(&self, uid: &str) -> PathBuf {
        self.dir.join(VERSIONS).join(uid)
    }

    /// Every saved version of a stored dashboard, newest first, each as its file holds it
    /// (`version`, `updated`, `message`, `dashboard`, ...); `None` when no such dashboard is
    /// stored. Blocking: reads files.
    pub(crate) fn versions(&self, uid: &str) -> Option<Vec<Value>> {
        self.get(uid)?;
        let dir = self.versions_dir(uid);
        let mut out: Vec<Value> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_str().is_some_and(|n| n.ends_with(".json")))
            .filter_map(|e| {
                let bytes = std::fs::read(e.path()).ok()?;
                serde_json::from_slice::<Value>(&bytes).ok()
            })
            .filter(|doc| doc.get("version").and_then(Value::as_i64).is_some())
            .collect();
        out.sort_by_key(|doc| std::cmp::Reverse(doc["version"].as_i64().unwrap_or(0)));
        Some(out)
    }
}

/// The directory of the saved versions, one `<uid>/<version>.json` each.
const VERSIONS: &str = "versions";

/// How many versions of a dashboard are kept (Grafana's `versions_to_keep` default).
pub(crate) const VERSIONS_TO_KEEP: i64 = 20;

/// Writes `dir/name` so that a crash leaves the old file or the new one: a temporary file,
/// fsynced, renamed over it, and the directory fsynced.
fn atomic_write(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), WebError> {
    let path = dir.join(name);
    let tmp = dir.join(format!("{name}.tmp"));
    {
        let mut f = File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(bytes).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
    }
    std::fs::rename(&tmp, &path).map_err(io(&path))?;
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> Result<(), WebError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

fn sightline_now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Reads one dashboard file; its name must be its uid.
fn load_file(path: &Path, uid: &str) -> Result<Stored, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let doc: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    let get_i = |k: &str| doc.get(k).and_then(Value::as_i64);
    let model = doc
        .get("dashboard")
        .and_then(Value::as_object)
        .ok_or("no dashboard object")?
        .clone();
    if doc.get("uid").and_then(Value::as_str) != Some(uid) {
        return Err("the uid inside is not the file's name".into());
    }
    check_uid(uid).map_err(|e| e.to_string())?;
    let title = str_field(&model, "title").trim().to_string();
    if title.is_empty() {
        return Err("no title".into());
    }
    Ok(Stored {
        id: get_i("id").filter(|i| *i > 0).ok_or("no id")?,
        uid: uid.to_string(),
        title,
        folder_uid: doc
            .get("folderUid")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        version: get_i("version").ok_or("no version")?,
        created_ms: get_i("created").unwrap_or(0),
        updated_ms: get_i("updated").unwrap_or(0),
        tags: tags_of(&model),
        model: Arc::new(Value::Object(model)),
    })
}
