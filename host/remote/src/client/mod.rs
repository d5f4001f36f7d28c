//! The remote-write client: one queue per `remote_write` entry, each tailing the WAL (as
//! Prometheus' WAL watcher does) and sending what it reads over protocol 1.0 or 2.0.
//!
//! Unlike Prometheus, a queue saves how far it has delivered (`<data>/remote-write/
//! <queue>.pos`) and holds the WAL segments it still needs
//! ([`sightline_tsdb::Tsdb::set_wal_hold`], bounded by the store's `wal_hold_max_age`), so a
//! receiver outage, a reload, a graceful restart or a `kill -9` all resume where delivery
//! stopped, with nothing committed lost. After a crash the queue may resend samples a
//! receiver already has: a lenient receiver (VictoriaMetrics, 2.0 receivers) keeps what it
//! can, and for a strict one (Prometheus' 1.0 handler refuses a whole request with 400 when a
//! sample is older than the series' newest) the replayed part of a refused batch is bisected
//! until the samples it already has are set aside (`shard::deliver`). A new queue starts at the end of the WAL, as in
//! Prometheus: it does not send history.
//!
//! Threads: each queue has one reader thread (blocking file reads, never on the async
//! workers) and `shards` tasks on the runtime that batch, encode, compress and send.

pub mod api;
mod encode;
mod meta;
pub mod metrics;
mod queue;
mod shard;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use sightline_config::RemoteWriteConfig;
use sightline_model::Labels;
use sightline_tsdb::Tsdb;
use tokio_util::sync::CancellationToken;

pub use meta::MetadataSource;
pub use metrics::ClientMetrics;

use crate::{Error, Result};

/// `User-Agent` of outgoing requests.
pub(crate) const USER_AGENT: &str = concat!("Sightline/", env!("CARGO_PKG_VERSION"));

/// The queues, started, replaced and stopped as the configuration changes.
pub struct RemoteWrite {
    tsdb: Arc<Tsdb>,
    dir: PathBuf,
    metrics: ClientMetrics,
    runtime: tokio::runtime::Handle,
    queues: Mutex<HashMap<String, Queue>>,
    holds: Arc<Holds>,
    metadata: Option<MetadataSource>,
}

struct Queue {
    /// Hash of the whole entry and the external labels: a change restarts the queue.
    /// The entry and external labels it runs with: any change (secrets included, which a
    /// printed form would hide) restarts the queue.
    applied: (RemoteWriteConfig, Labels),
    cancel: CancellationToken,
    thread: Option<std::thread::JoinHandle<()>>,
    metrics: metrics::QueueMetrics,
    /// Asks the reader to stop once it has handed out everything the WAL holds.
    drain: Arc<AtomicBool>,
    /// Set when the reader is done (drained, cancelled or failed).
    stopped: Arc<AtomicBool>,
    ctx: Arc<shard::ShardCtx>,
    protocol: &'static str,
}

/// Each queue's oldest needed WAL segment; their minimum is the store's hold.
struct Holds {
    tsdb: Arc<Tsdb>,
    by_queue: Mutex<HashMap<String, Arc<AtomicU64>>>,
}

impl Holds {
    fn update(&self) {
        let min = self
            .by_queue
            .lock()
            .values()
            .map(|h| h.load(Ordering::Relaxed))
            .min();
        self.tsdb.set_wal_hold(min.filter(|&m| m != u64::MAX));
    }
}

/// The queue's name as metrics and logs show it: `name`, or (unnamed, as Prometheus) the
/// first six hex digits of a hash of the entry.
fn queue_name(cfg: &RemoteWriteConfig) -> String {
    if !cfg.name.is_empty() {
        return cfg.name.clone();
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    cfg.url.as_str().hash(&mut h);
    format!("{:06x}", h.finish() & 0xff_ffff)
}

/// File-name-safe key of a queue's position: its name and URL, so a renamed or
/// re-pointed queue starts afresh while any other change resumes.
fn position_key(name: &str, url: &str) -> String {
    let h = xxhash_rust::xxh64::xxh64(format!("{name}\n{url}").as_bytes(), 0);
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    format!("{safe}-{h:016x}.pos")
}

impl RemoteWrite {
    /// The client for the store `tsdb`; positions live under `<data>/remote-write/`.
    /// `metadata` supplies metric metadata (the scrape targets'), sent per
    /// `metadata_config`. Call from within the tokio runtime.
    pub fn new(
        tsdb: Arc<Tsdb>,
        metrics: ClientMetrics,
        metadata: Option<MetadataSource>,
    ) -> Result<RemoteWrite> {
        let dir = tsdb.options().path.join("remote-write");
        // Creating one directory at startup, before any request is served.
        #[allow(clippy::disallowed_methods)]
        std::fs::create_dir_all(&dir).map_err(|e| Error::Io {
            path: dir.clone(),
            source: e,
        })?;
        Ok(RemoteWrite {
            holds: Arc::new(Holds {
                tsdb: tsdb.clone(),
                by_queue: Mutex::new(HashMap::new()),
            }),
            tsdb,
            dir,
            metrics,
            runtime: tokio::runtime::Handle::current(),
            queues: Mutex::new(HashMap::new()),
            metadata,
        })
    }

    /// Brings the queues in line with `configs`: unchanged entries keep running, changed
    /// ones restart (resuming from their saved position), removed ones stop. Errors (a bad
    /// header or TLS file) are returned before anything changes.
    pub fn apply(&self, configs: &[RemoteWriteConfig], external: &Labels) -> Result<()> {
        let mut wanted = HashMap::new();
        for cfg in configs {
            let name = queue_name(cfg);
            let fp = (cfg.clone(), external.clone());
            let keep = self
                .queues
                .lock()
                .get(&name)
                .is_some_and(|q| q.applied == fp);
            let ctx = if keep {
                None
            } else {
                Some(self.context(cfg, &name)?)
            };
            wanted.insert(name, (cfg.clone(), fp, ctx));
        }
        let mut queues = self.queues.lock();
        let stale: Vec<String> = queues
            .iter()
            .filter(|(n, q)| wanted.get(*n).is_none_or(|w| w.1 != q.applied))
            .map(|(n, _)| n.clone())
            .collect();
        for n in stale {
            if let Some(q) = queues.remove(&n) {
                let removed = !wanted.contains_key(&n);
                stop_queue(q, removed);
                if removed {
                    self.holds.by_queue.lock().remove(&n);
                }
            }
        }
        for (name, (cfg, fp, ctx)) in wanted {
            let Some(ctx) = ctx else { continue };
            let q = self.start_queue(&name, cfg, external.clone(), fp, ctx)?;
            queues.insert(name, q);
        }
        drop(queues);
        self.holds.update();
        Ok(())
    }

    fn context(&self, cfg: &RemoteWriteConfig, name: &str) -> Result<shard::ShardCtx> {
        let client = sightline_scrape::client::build(name, &cfg.http, false)
            .map_err(|e| Error::Config(format!("remote_write {name}: {e}")))?;
        let headers = shard::header_map(&cfg.headers)
            .map_err(|e| Error::Config(format!("remote_write {name}: {e}")))?;
        // `sigv4` excludes the HTTP client's credentials (the config loader checks it).
        let auth = match &cfg.sigv4 {
            Some(s) => sightline_scrape::client::Auth::sigv4(s)
                .map_err(|e| Error::Config(format!("remote_write {name}: {e}")))?,
            None => sightline_scrape::client::auth(&cfg.http),
        };
        let q = &cfg.queue_config;
        Ok(shard::ShardCtx::new(
            name.to_string(),
            cfg.url.clone(),
            client,
            auth,
            headers,
            cfg.remote_timeout,
            q.clone(),
            cfg.protobuf_message == crate::v2::MESSAGE,
            self.metrics.queue(
                name,
                // The `url` label shows the password as `xxxxx`, as Prometheus'
                // `URL.Redacted()` endpoint label does.
                &sightline_config::redact_url_passwords(cfg.url.as_str()),
                q.min_shards,
                q.max_shards,
            ),
        ))
    }

    fn start_queue(
        &self,
        name: &str,
        cfg: RemoteWriteConfig,
        external: Labels,
        applied: (RemoteWriteConfig, Labels),
        ctx: shard::ShardCtx,
    ) -> Result<Queue> {
        let cancel = CancellationToken::new();
        let metrics = ctx.metrics.clone();
        let hold = self
            .holds
            .by_queue
            .lock()
            .entry(name.to_string())
            .or_insert_with(|| Arc::new(AtomicU64::new(u64::MAX)))
            .clone();
        let holds = self.holds.clone();
        let ctx = Arc::new(ctx);
        if let Some(src) = &self.metadata {
            // Gathered even when not sent over 1.0: 2.0 carries it inline.
            if cfg.metadata_config.send || ctx.v2.load(Ordering::Relaxed) {
                self.runtime.spawn(meta::run(
                    src.clone(),
                    cfg.metadata_config.clone(),
                    ctx.clone(),
                    ctx.meta.clone(),
                    cancel.clone(),
                ));
            }
        }
        // `highest_timestamp_in_seconds` as Prometheus has it: the newest sample that came
        // into storage, not the newest the queue read (a queue held back by a failing
        // receiver stops reading, and the gap to the newest sample sent must keep growing for
        // "remote write is behind" to fire). Its own task, as the reader may be blocked.
        {
            let (tsdb, m, cancel) = (self.tsdb.clone(), metrics.clone(), cancel.clone());
            self.runtime.spawn(async move {
                loop {
                    if let Some(t) = tsdb.head_max_time() {
                        m.highest_in.set(t as f64 / 1000.0);
                    }
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                    }
                }
            });
        }
        let drain = Arc::new(AtomicBool::new(false));
        let stopped = Arc::new(AtomicBool::new(false));
        let ctx_keep = ctx.clone();
        let protocol = if cfg.protobuf_message == crate::v2::MESSAGE {
            "2.0"
        } else {
            "1.0"
        };
        let position_file = self.dir.join(position_key(name, cfg.url.as_str()));
        let (tail, replay_until) =
            queue::open_tail(name, &self.tsdb.options().path, &position_file).map_err(|e| {
                Error::Config(format!("remote_write {name}: cannot read the WAL: {e}"))
            })?;
        let setup = queue::ReaderSetup {
            position_file,
            tail: Some(tail),
            replay_until,
            cfg,
            external,
            tsdb: self.tsdb.clone(),
            metrics: metrics.clone(),
            ctx,
            cancel: cancel.clone(),
            runtime: self.runtime.clone(),
            hold,
            on_hold_change: Arc::new(move || holds.update()),
            drain: drain.clone(),
            stopped: stopped.clone(),
        };
        let thread = std::thread::Builder::new()
            .name(format!("sightline-rw-{name}"))
            .spawn(move || queue::run_reader(setup))
            .map_err(|e| Error::Config(format!("remote_write {name}: cannot start: {e}")))?;
        tracing::info!(queue = %name, "remote write queue started");
        Ok(Queue {
            applied,
            cancel,
            thread: Some(thread),
            metrics,
            drain,
            stopped,
            ctx: ctx_keep,
            protocol,
        })
    }

    /// Lets every queue deliver what the WAL holds, for at most `deadline`
    /// (`--storage.remote.flush-deadline`), then stops them all. Call after scraping and
    /// rule evaluation stopped.
    pub fn drain_and_stop(&self, deadline: std::time::Duration) {
        let until = std::time::Instant::now() + deadline;
        let queues: Vec<(Arc<AtomicBool>, Arc<shard::ShardCtx>)> = {
            let queues = self.queues.lock();
            queues
                .values()
                .map(|q| {
                    q.drain.store(true, Ordering::Relaxed);
                    (q.stopped.clone(), q.ctx.clone())
                })
                .collect()
        };
        // A queue that is retrying a failing receiver is not waited for: unlike Prometheus,
        // nothing is lost by stopping it (the WAL keeps what it has not delivered).
        let waiting = || {
            queues
                .iter()
                .filter(|(stopped, ctx)| {
                    !stopped.load(Ordering::Relaxed) && !ctx.health.lock().failing
                })
                .count()
        };
        while std::time::Instant::now() < until && waiting() > 0 {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let left = queues
            .iter()
            .filter(|(stopped, _)| !stopped.load(Ordering::Relaxed))
            .count();
        if left > 0 {
            tracing::info!(
                queues = left,
                "remote write: stopping queues that have not delivered everything; the rest is sent after the next start"
            );
        }
        self.stop();
    }

    /// Stops every queue, saving how far each delivered. What was not delivered stays in
    /// the WAL (held) for the next start.
    pub fn stop(&self) {
        let queues: Vec<Queue> = self.queues.lock().drain().map(|(_, q)| q).collect();
        for q in queues {
            stop_queue(q, false);
        }
    }
}

fn stop_queue(mut q: Queue, remove_metrics: bool) {
    q.cancel.cancel();
    if let Some(t) = q.thread.take() {
        // The reader notices within ~50 ms (or as soon as a blocked hand-off fails).
        let _ = t.join();
    }
    q.metrics.pending.set(0.0);
    if remove_metrics {
        q.metrics.remove();
    }
}

impl Drop for RemoteWrite {
    fn drop(&mut self) {
        self.stop();
    }
}
