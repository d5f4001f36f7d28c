//! The silence store: Alertmanager 0.25's `silence.Silences` (set, expire, query, gc and the
//! state snapshot) for one node, plus two Sightline extensions.
//!
//! Semantics follow `silence/silence.go` and `api/v2/api.go`:
//! - [`Silences::set`] with an empty id creates a silence with a new UUID v4, its start moved
//!   up to now; with an unknown id it fails with "silence not found"; with a known id it
//!   updates in place when the edit does not rewrite history (same matchers; an active
//!   silence keeps its start second and does not end in the past; a pending one does not
//!   start in the past), and otherwise expires the old silence and creates a new one.
//! - [`Silences::expire`] ends an active silence now, moves a pending one's start and end to
//!   now and leaves an expired one as it is (idempotent, as in 0.25).
//! - An ended silence stays queryable until `ends_at + retention`, then [`Silences::gc`]
//!   drops it (`--data.retention`, 120h by default).
//!
//! One deliberate difference: the state is the API's `CalcSilenceState`, `[starts_at,
//! ends_at)`, everywhere. Alertmanager's internal `getState` counts `ends_at` itself as
//! active, a nanosecond that does not matter there; with millisecond times it would keep an
//! expired silence muting for the rest of the millisecond it was expired in.
//!
//! Extensions (alertmanager#1860, #5459):
//! - An **until-resolved** silence (`until_resolved`) also ends once it has muted a firing
//!   alert and no firing alert matches it any more ([`Silences::expire_resolved`]).
//! - An **acknowledgement** ([`Silences::acknowledge`]) is an until-resolved silence whose
//!   matchers are the firing alert's labels, all with `=`: it mutes that alert until it
//!   resolves. Like any equality matchers it would also mute an alert carrying those labels
//!   and more (a different alert of the same rule with an extra label), which is rare.
//!
//! Durability: every change is written as a whole snapshot through
//! [`crate::persist::write_snapshot`] before the call returns, so a silence the API
//! acknowledged survives a crash. A failed write undoes the change and returns the error.

mod snapshot;
mod validate;

pub(crate) use validate::go_regex_error;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use sightline_model::{Labels, MetricType};
use sightline_telemetry::{Counter, Family, FamilySample, Gauge, Histogram, Registry};

use crate::error::{Error, Result};
use crate::matchers::{LabelSet, MatchType, Matcher};

pub use validate::{build_matchers, MatcherSpec};

/// Go's zero time (0001-01-01T00:00:00Z) in Unix milliseconds: the API's "not set". Any
/// time at or before it counts as zero.
pub const ZERO_TIME_MS: i64 = -62_135_596_800_000;

/// The end given to until-resolved silences created without one, and to acknowledgements:
/// 9999-12-31T23:59:59Z, "no end" for clients that require one.
pub const UNTIL_RESOLVED_END_MS: i64 = 253_402_300_799_000;

/// Metric names (Alertmanager's `alertmanager_silences_*` under our prefix).
const SILENCES: &str = "sightline_alertmanager_silences";
const QUERIES: &str = "sightline_alertmanager_silences_queries";
const QUERY_ERRORS: &str = "sightline_alertmanager_silences_query_errors";
const GC_DURATION: &str = "sightline_alertmanager_silences_gc_duration_seconds";
const SNAPSHOT_SIZE: &str = "sightline_alertmanager_silences_snapshot_size_bytes";

/// One silence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Silence {
    /// UUID v4; empty when asking [`Silences::set`] to create one.
    pub id: String,
    /// All must match for the silence to apply.
    pub matchers: Vec<Matcher>,
    /// Start (Unix ms; [`ZERO_TIME_MS`] = not set).
    pub starts_at: i64,
    /// End (Unix ms; [`ZERO_TIME_MS`] = not set).
    pub ends_at: i64,
    /// Last change (Unix ms), set by the store.
    pub updated_at: i64,
    /// Who made it.
    pub created_by: String,
    /// Why.
    pub comment: String,
    /// Sightline extension: also ends when the alerts it silenced resolve.
    pub until_resolved: bool,
}

/// `types.SilenceState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SilenceState {
    /// Running now: `starts_at <= now < ends_at`.
    Active,
    /// Not started yet.
    Pending,
    /// Ended.
    Expired,
}

impl SilenceState {
    /// `active`, `pending` or `expired`, as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            SilenceState::Active => "active",
            SilenceState::Pending => "pending",
            SilenceState::Expired => "expired",
        }
    }
}

impl Silence {
    /// Its state at `now_ms` (`CalcSilenceState`).
    pub fn state(&self, now_ms: i64) -> SilenceState {
        if now_ms < self.starts_at {
            SilenceState::Pending
        } else if now_ms < self.ends_at {
            SilenceState::Active
        } else {
            SilenceState::Expired
        }
    }

    /// Whether every matcher holds on `labels` (whatever the state).
    pub fn matches(&self, labels: &LabelSet) -> bool {
        self.matchers.iter().all(|m| m.matches_labels(labels))
    }

    /// Whether it is active at `now_ms` and matches `labels`.
    pub fn mutes(&self, labels: &LabelSet, now_ms: i64) -> bool {
        self.state(now_ms) == SilenceState::Active && self.matches(labels)
    }
}

/// A silence as API v2's `POST /api/v2/silences` receives it, matchers not yet compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SilenceRequest {
    /// Empty to create; an id to update (or replace) that silence.
    pub id: String,
    /// The matchers.
    pub matchers: Vec<MatcherSpec>,
    /// Start (Unix ms).
    pub starts_at: i64,
    /// End (Unix ms); with `until_resolved`, [`ZERO_TIME_MS`] means no end.
    pub ends_at: i64,
    /// Who.
    pub created_by: String,
    /// Why.
    pub comment: String,
    /// Sightline extension.
    pub until_resolved: bool,
}

/// What [`Silences::query`] selects. The default selects every silence.
#[derive(Debug, Clone, Default)]
pub struct SilenceQuery {
    /// Only these ids (`None`: all).
    pub ids: Option<Vec<String>>,
    /// API v2's `filter`: each must equal (name, operator and value) one of the silence's
    /// matchers (`CheckSilenceMatchesFilterLabels`).
    pub matchers: Vec<Matcher>,
    /// Only these states (empty: all).
    pub states: Vec<SilenceState>,
}

/// A silence in the store with what Alertmanager keeps beside it.
#[derive(Debug, Clone)]
struct Entry {
    sil: Silence,
    /// `MeshSilence.ExpiresAt`: `ends_at + retention`, when gc may drop it.
    expires_at: i64,
    /// For until-resolved silences: whether a firing alert has matched it while active.
    seen_firing: bool,
}

#[derive(Debug, Default, Clone)]
struct State {
    map: HashMap<String, Entry>,
    /// Bumped on every change, so a mutation knows whether to write a snapshot.
    version: u64,
}

struct Metrics {
    queries: Arc<Counter>,
    /// Registered for parity with Alertmanager; a query here cannot fail.
    _query_errors: Arc<Counter>,
    gc_duration: Arc<Histogram>,
    snapshot_size: Arc<Gauge>,
}

/// The silence store. Cheap to share behind an `Arc`; every method takes `&self`.
pub struct Silences {
    state: Arc<RwLock<State>>,
    /// Serialises mutations with their snapshot writes, so snapshots land in order and a
    /// failed write can be undone without losing a concurrent change.
    write: Mutex<()>,
    path: Option<PathBuf>,
    retention_ms: i64,
    metrics: Metrics,
}

impl std::fmt::Debug for Silences {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Silences")
            .field("path", &self.path)
            .field("silences", &self.state.read().map.len())
            .finish()
    }
}

impl Silences {
    /// Opens the store, loading `state_file` when it exists (a missing file is an empty
    /// store; a corrupt one is an error naming it). Without a file nothing is persisted.
    /// Registers the `sightline_alertmanager_silences*` metrics in `registry` (so open one
    /// store per registry; a configuration reload keeps the store).
    pub fn open(
        state_file: Option<PathBuf>,
        retention: Duration,
        registry: &Registry,
    ) -> Result<Silences> {
        let mut state = State::default();
        let mut loaded_bytes = 0;
        if let Some(path) = &state_file {
            if let Some(bytes) = crate::persist::read_snapshot(path)? {
                loaded_bytes = bytes.len();
                for e in snapshot::decode(path, &bytes)? {
                    state.map.insert(e.sil.id.clone(), e);
                }
            }
        }
        let state = Arc::new(RwLock::new(state));
        let counted = state.clone();
        registry.register_callback(move || vec![count_family(&counted.read())]);
        let metrics = Metrics {
            queries: registry.counter(QUERIES, "How many silence queries were received."),
            _query_errors: registry.counter(
                QUERY_ERRORS,
                "How many silence received queries did not succeed.",
            ),
            gc_duration: registry.histogram(
                GC_DURATION,
                "Duration of the last silence garbage collection cycle.",
                &[0.0001, 0.001, 0.01, 0.1, 1.0],
            ),
            snapshot_size: registry
                .gauge(SNAPSHOT_SIZE, "Size of the last silence snapshot in bytes."),
        };
        metrics.snapshot_size.set(loaded_bytes as f64);
        Ok(Silences {
            state,
            write: Mutex::new(()),
            path: state_file,
            retention_ms: i64::try_from(retention.as_millis()).unwrap_or(i64::MAX),
            metrics,
        })
    }

    /// Applies `f` to the state and, if it changed anything, writes the snapshot. The change
    /// is kept even when `f` fails afterwards (Alertmanager's `Set` leaves a replaced
    /// silence expired when the new one is invalid); it is undone when the write fails.
    fn mutate<R>(&self, f: impl FnOnce(&mut State) -> Result<R>) -> Result<R> {
        let _w = self.write.lock();
        // The copy to undo a failed write is only needed when there is a file to write.
        let before = self.path.as_ref().map(|_| self.state.read().clone());
        let (r, payload) = {
            let mut st = self.state.write();
            let version = st.version;
            let r = f(&mut st);
            let payload =
                (st.version != version && self.path.is_some()).then(|| snapshot::encode(&st));
            (r, payload)
        };
        if let (Some(path), Some(payload)) = (&self.path, payload) {
            let written = payload.and_then(|p| {
                crate::persist::write_snapshot(path, &p)?;
                Ok(p.len())
            });
            match written {
                Ok(n) => self.metrics.snapshot_size.set(n as f64),
                Err(e) => {
                    if let Some(before) = before {
                        *self.state.write() = before;
                    }
                    return Err(e);
                }
            }
        }
        r
    }

    /// Creates, updates or replaces a silence (`Silences.Set`); returns its id, which is new
    /// unless it was updated in place.
    pub fn set(&self, s: Silence, now_ms: i64) -> Result<String> {
        let retention = self.retention_ms;
        self.mutate(|st| set_locked(st, s, now_ms, retention, false))
    }

    /// `POST /api/v2/silences`: the handler's time checks, matcher compilation with
    /// Alertmanager's messages, then [`Silences::set`].
    pub fn post(&self, req: SilenceRequest, now_ms: i64) -> Result<String> {
        let ends_at = if req.until_resolved && validate::is_zero(req.ends_at) {
            UNTIL_RESOLVED_END_MS
        } else {
            req.ends_at
        };
        validate::check_post(req.starts_at, ends_at, now_ms)?;
        let matchers = match build_matchers(&req.matchers) {
            Ok(m) => m,
            Err(invalid) => {
                // `Set` looks the id up and replaces (expiring the old silence) before it
                // validates; uncompilable matchers never equal the stored ones, so that is
                // what happens to an existing id here.
                let retention = self.retention_ms;
                return self.mutate(|st| {
                    if !req.id.is_empty() {
                        let prev = st.map.get(&req.id).ok_or(Error::SilenceNotFound)?;
                        if prev.sil.state(now_ms) != SilenceState::Expired {
                            expire_locked(st, &req.id, now_ms, retention).map_err(|e| {
                                Error::SilenceInvalid(format!("expire previous silence: {e}"))
                            })?;
                        }
                    }
                    Err(invalid)
                });
            }
        };
        self.set(
            Silence {
                id: req.id,
                matchers,
                starts_at: req.starts_at,
                ends_at,
                updated_at: now_ms,
                created_by: req.created_by,
                comment: req.comment,
                until_resolved: req.until_resolved,
            },
            now_ms,
        )
    }

    /// Ends the silence now (`Silences.Expire`); "silence not found" for an unknown id; an
    /// already expired silence is left alone and is not an error.
    pub fn expire(&self, id: &str, now_ms: i64) -> Result<()> {
        let retention = self.retention_ms;
        self.mutate(|st| expire_locked(st, id, now_ms, retention))
    }

    /// The silence with this id, if the store still holds it.
    pub fn get(&self, id: &str) -> Option<Silence> {
        self.state.read().map.get(id).map(|e| e.sil.clone())
    }

    /// The silences `q` selects with their states at `now_ms`, in API v2's order
    /// (`SortSilences`: active by soonest end, pending by soonest start, expired by latest
    /// end; ties by id).
    pub fn query(&self, q: &SilenceQuery, now_ms: i64) -> Vec<(Silence, SilenceState)> {
        self.metrics.queries.inc();
        let st = self.state.read();
        let base: Vec<&Entry> = match &q.ids {
            Some(ids) => ids.iter().filter_map(|id| st.map.get(id)).collect(),
            None => st.map.values().collect(),
        };
        let mut out: Vec<(Silence, SilenceState)> = base
            .into_iter()
            .map(|e| (e.sil.clone(), e.sil.state(now_ms)))
            .filter(|(s, state)| {
                (q.states.is_empty() || q.states.contains(state))
                    && q.matchers.iter().all(|f| s.matchers.iter().any(|m| m == f))
            })
            .collect();
        out.sort_by(|(a, sa), (b, sb)| {
            sa.cmp(sb)
                .then_with(|| match sa {
                    SilenceState::Active => a.ends_at.cmp(&b.ends_at),
                    SilenceState::Pending => a.starts_at.cmp(&b.starts_at),
                    SilenceState::Expired => b.ends_at.cmp(&a.ends_at),
                })
                .then_with(|| a.id.cmp(&b.id))
        });
        out
    }

    /// The ids, sorted, of the silences active at `now_ms` that match `labels`: what the
    /// dispatcher's silencer (and the marker's `silencedBy`) needs.
    pub fn mutes(&self, labels: &LabelSet, now_ms: i64) -> Vec<String> {
        self.metrics.queries.inc();
        let st = self.state.read();
        let mut ids: Vec<String> = st
            .map
            .values()
            .filter(|e| e.sil.mutes(labels, now_ms))
            .map(|e| e.sil.id.clone())
            .collect();
        ids.sort();
        ids
    }

    /// How many silences are in each state at `now_ms`.
    pub fn count(&self, state: SilenceState, now_ms: i64) -> usize {
        let st = self.state.read();
        st.map
            .values()
            .filter(|e| e.sil.state(now_ms) == state)
            .count()
    }

    /// Acknowledges a firing alert: an until-resolved silence whose matchers are `labels`,
    /// all with `=`, starting now. Acknowledging an alert that an active acknowledgement
    /// already covers returns that silence's id instead of adding another.
    pub fn acknowledge(
        &self,
        labels: &LabelSet,
        created_by: &str,
        comment: &str,
        now_ms: i64,
    ) -> Result<String> {
        let matchers = labels
            .iter()
            .map(|(k, v)| Matcher::new(MatchType::Equal, k, v))
            .collect::<Result<Vec<_>>>()?;
        let retention = self.retention_ms;
        self.mutate(|st| {
            if let Some(e) = st.map.values().find(|e| {
                e.sil.until_resolved
                    && e.sil.matchers == matchers
                    && e.sil.state(now_ms) == SilenceState::Active
            }) {
                return Ok(e.sil.id.clone());
            }
            let sil = Silence {
                id: String::new(),
                matchers,
                starts_at: now_ms,
                ends_at: UNTIL_RESOLVED_END_MS,
                updated_at: now_ms,
                created_by: created_by.to_string(),
                comment: comment.to_string(),
                until_resolved: true,
            };
            // The alert is firing now, so the acknowledgement has already seen it fire.
            set_locked(st, sil, now_ms, retention, true)
        })
    }

    /// Ends the until-resolved silences that no firing alert matches any more. `firing` is
    /// the label sets of every firing alert (silenced or not). An until-resolved silence
    /// that has never matched a firing alert while active is kept (it waits for its alert),
    /// so creating one ahead of the alert works. Returns the ids it expired.
    pub fn expire_resolved(&self, firing: &[LabelSet], now_ms: i64) -> Result<Vec<String>> {
        // The caller runs this on every change of the alerts; the common case changes
        // nothing and is decided under the read lock, without `mutate`'s copy of the state.
        let (seen, ended) = resolved_changes(&self.state.read(), firing, now_ms);
        if seen.is_empty() && ended.is_empty() {
            return Ok(Vec::new());
        }
        let retention = self.retention_ms;
        self.mutate(|st| {
            let (seen, mut ended) = resolved_changes(st, firing, now_ms);
            for id in &seen {
                if let Some(e) = st.map.get_mut(id) {
                    e.seen_firing = true;
                    st.version += 1;
                }
            }
            ended.sort();
            for id in &ended {
                expire_locked(st, id, now_ms, retention)?;
            }
            Ok(ended)
        })
    }

    /// Drops the silences whose retention has passed (`ends_at + retention <= now`);
    /// returns how many.
    pub fn gc(&self, now_ms: i64) -> Result<usize> {
        let start = Instant::now();
        let r = self.mutate(|st| {
            let n = st.map.len();
            st.map.retain(|_, e| e.expires_at > now_ms);
            let removed = n - st.map.len();
            if removed > 0 {
                st.version += 1;
            }
            Ok(removed)
        });
        self.metrics
            .gc_duration
            .observe(start.elapsed().as_secs_f64());
        r
    }

    /// Writes the snapshot now (a no-op without a state file); returns its size in bytes.
    pub fn snapshot(&self) -> Result<usize> {
        let Some(path) = &self.path else {
            return Ok(0);
        };
        let _w = self.write.lock();
        let payload = snapshot::encode(&self.state.read())?;
        crate::persist::write_snapshot(path, &payload)?;
        self.metrics.snapshot_size.set(payload.len() as f64);
        Ok(payload.len())
    }
}

/// For [`Silences::expire_resolved`]: the active until-resolved silences that now see a
/// firing alert for the first time, and those that saw one and see none any more.
fn resolved_changes(st: &State, firing: &[LabelSet], now_ms: i64) -> (Vec<String>, Vec<String>) {
    let mut seen = Vec::new();
    let mut ended = Vec::new();
    for e in st.map.values() {
        if !e.sil.until_resolved || e.sil.state(now_ms) != SilenceState::Active {
            continue;
        }
        let matched = firing.iter().any(|ls| e.sil.matches(ls));
        if matched && !e.seen_firing {
            seen.push(e.sil.id.clone());
        } else if !matched && e.seen_firing {
            ended.push(e.sil.id.clone());
        }
    }
    (seen, ended)
}

/// `Silences.Set` under the lock. `seen` is the new silence's `seen_firing`.
fn set_locked(
    st: &mut State,
    mut sil: Silence,
    now_ms: i64,
    retention: i64,
    seen: bool,
) -> Result<String> {
    if sil.until_resolved && validate::is_zero(sil.ends_at) {
        sil.ends_at = UNTIL_RESOLVED_END_MS;
    }
    if !sil.id.is_empty() {
        let prev = st.map.get(&sil.id).ok_or(Error::SilenceNotFound)?.clone();
        if validate::can_update(&prev.sil, &sil, now_ms) {
            let id = sil.id.clone();
            put(st, sil, now_ms, retention, prev.seen_firing)?;
            return Ok(id);
        }
        if prev.sil.state(now_ms) != SilenceState::Expired {
            expire_locked(st, &prev.sil.id, now_ms, retention)
                .map_err(|e| Error::SilenceInvalid(format!("expire previous silence: {e}")))?;
        }
    }
    sil.id = validate::new_uuid()?;
    if sil.starts_at < now_ms {
        sil.starts_at = now_ms;
    }
    let id = sil.id.clone();
    put(st, sil, now_ms, retention, seen)?;
    Ok(id)
}

/// `setSilence`: stamps, validates and stores.
fn put(st: &mut State, mut sil: Silence, now_ms: i64, retention: i64, seen: bool) -> Result<()> {
    sil.updated_at = now_ms;
    validate::validate(&sil).map_err(|m| Error::SilenceInvalid(format!("silence invalid: {m}")))?;
    let entry = Entry {
        expires_at: sil.ends_at.saturating_add(retention),
        sil,
        seen_firing: seen,
    };
    st.map.insert(entry.sil.id.clone(), entry);
    st.version += 1;
    Ok(())
}

/// `Silences.expire` under the lock.
fn expire_locked(st: &mut State, id: &str, now_ms: i64, retention: i64) -> Result<()> {
    let e = st.map.get(id).ok_or(Error::SilenceNotFound)?;
    let mut sil = e.sil.clone();
    let seen = e.seen_firing;
    match sil.state(now_ms) {
        SilenceState::Expired => return Ok(()),
        SilenceState::Active => sil.ends_at = now_ms,
        SilenceState::Pending => {
            sil.starts_at = now_ms;
            sil.ends_at = now_ms;
        }
    }
    put(st, sil, now_ms, retention, seen)
}

/// `sightline_alertmanager_silences{state}` at gather time, by the wall clock.
fn count_family(st: &State) -> Family {
    let now = sightline_model::now_ms();
    let mut counts = [0usize; 3];
    for e in st.map.values() {
        counts[e.sil.state(now) as usize] += 1;
    }
    let samples = [
        SilenceState::Active,
        SilenceState::Expired,
        SilenceState::Pending,
    ]
    .into_iter()
    .map(|s| FamilySample {
        suffix: "",
        labels: Labels::from_pairs([("state", s.as_str())]),
        value: counts[s as usize] as f64,
    })
    .collect();
    Family {
        name: SILENCES.to_string(),
        help: "How many silences by state.".to_string(),
        metric_type: MetricType::Gauge,
        samples,
    }
}

/// The silence store is the pipeline's silencer.
impl crate::pipeline::Silencer for Silences {
    fn mutes(&self, labels: &LabelSet, now_ms: i64) -> Vec<String> {
        Silences::mutes(self, labels, now_ms)
    }
}
