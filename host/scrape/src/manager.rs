//! Scrape pools: one per job, holding the job's targets (static and file-discovered), their
//! loops, and the dropped targets. [`ScrapeManager::apply_config`] diffs a new configuration
//! against the running one: unchanged jobs and targets keep their loops (and their caches and
//! staleness state); removed targets end with stale markers.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use parking_lot::{Mutex, RwLock};
use sightline_config::{Config, ScrapeConfig};
use sightline_model::Labels;
use sightline_storage_api::Appendable;
use sightline_telemetry::supervise::{supervise, Backoff};
use sightline_telemetry::{names, CounterVec, GaugeVec, HistogramVec, Registry};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::append::AppendOptions;
use crate::fetch::HttpFetcher;
use crate::scrape_loop::{self, LoopHandle, LoopSpec, Source};
use crate::target::{Target, TargetStatus};
use crate::{
    AppendOutcome, DroppedTarget, Error, PluginCollector, PluginTarget, Result, TargetSnapshot,
};

/// The scrape subsystem's own metrics.
pub struct ScrapeMetrics {
    scrapes: Arc<CounterVec>,
    failures: Arc<CounterVec>,
    duration: Arc<HistogramVec>,
    samples: Arc<CounterVec>,
    sample_limit: Arc<CounterVec>,
    out_of_order: Arc<CounterVec>,
    duplicate: Arc<CounterVec>,
    out_of_bounds: Arc<CounterVec>,
    targets: Arc<GaugeVec>,
}

impl ScrapeMetrics {
    /// Registers the scrape metrics.
    pub fn new(r: &Registry) -> Self {
        ScrapeMetrics {
            scrapes: r.counter_vec(names::SCRAPES, "Scrapes attempted, by job.", &["job"]),
            failures: r.counter_vec(
                names::SCRAPE_FAILURES,
                "Scrapes that failed, by job.",
                &["job"],
            ),
            duration: r.histogram_vec(
                names::SCRAPE_DURATION_SECONDS,
                "Duration of scrapes, by job.",
                &["job"],
                sightline_telemetry::DEFAULT_BUCKETS,
            ),
            samples: r.counter_vec(names::SCRAPE_SAMPLES, "Samples scraped, by job.", &["job"]),
            sample_limit: r.counter_vec(
                names::SCRAPE_SAMPLE_LIMIT_EXCEEDED,
                "Scrapes that hit the sample limit and were rejected, by job.",
                &["job"],
            ),
            out_of_order: r.counter_vec(
                names::SCRAPE_SAMPLES_OUT_OF_ORDER,
                "Samples rejected as out of order, by job.",
                &["job"],
            ),
            duplicate: r.counter_vec(
                names::SCRAPE_SAMPLES_DUPLICATE,
                "Samples rejected as duplicates with a different value, by job.",
                &["job"],
            ),
            out_of_bounds: r.counter_vec(
                names::SCRAPE_SAMPLES_OUT_OF_BOUNDS,
                "Samples rejected as out of bounds, by job.",
                &["job"],
            ),
            targets: r.gauge_vec(names::SCRAPE_TARGETS, "Active targets, by job.", &["job"]),
        }
    }

    pub(crate) fn observe(&self, job: &str, d: Duration, o: &AppendOutcome, err: Option<&Error>) {
        let j = [job];
        self.scrapes.with(&j).inc();
        self.duration.with(&j).observe(d.as_secs_f64());
        self.samples.with(&j).inc_by(o.scraped as f64);
        let c = |v: &Arc<CounterVec>, n: usize| {
            if n > 0 {
                v.with(&j).inc_by(n as f64)
            }
        };
        c(&self.out_of_order, o.out_of_order);
        c(&self.duplicate, o.duplicate);
        c(&self.out_of_bounds, o.out_of_bounds);
        if let Some(e) = err {
            self.failures.with(&j).inc();
            if matches!(e, Error::SampleLimit) {
                self.sample_limit.with(&j).inc();
            }
        }
    }
}

struct RunningTarget {
    target: Arc<Target>,
    handle: LoopHandle,
}

struct Pool {
    cfg: ScrapeConfig,
    /// Decides whether a reload restarts the pool.
    fingerprint: Fingerprint,
    client: reqwest::Client,
    /// The job's credentials, shared by its targets (one `oauth2` token per job, as
    /// Prometheus has one client per scrape pool).
    auth: crate::client::Auth,
    /// Target groups by discovery source (`static/<i>`, or a file path).
    groups: BTreeMap<String, Vec<sightline_config::TargetGroup>>,
    running: HashMap<u64, RunningTarget>,
    dropped: Vec<DroppedTarget>,
    sd_cancel: Option<CancellationToken>,
}

/// What decides whether a job's pool restarts on reload: its configuration by value (secrets
/// included: their `Debug` form is `<secret>`, so comparing printed configurations missed a
/// rotated password), and the contents of the TLS files it names (a certificate rotated
/// under the same path takes effect on reload). Secret files for authentication are re-read
/// on every scrape and need no restart.
#[derive(PartialEq)]
struct Fingerprint {
    cfg: ScrapeConfig,
    tls_files: Vec<Option<Vec<u8>>>,
}

impl Fingerprint {
    // Called by `apply_config`, which runs on a blocking thread.
    #[allow(clippy::disallowed_methods)]
    fn of(sc: &ScrapeConfig) -> Fingerprint {
        let t = &sc.http.tls_config;
        Fingerprint {
            cfg: sc.clone(),
            tls_files: [&t.ca_file, &t.cert_file, &t.key_file]
                .into_iter()
                .map(|f| f.as_ref().and_then(|f| std::fs::read(f).ok()))
                .collect(),
        }
    }
}

struct Inner {
    pools: BTreeMap<String, Pool>,
    order: Vec<String>,
    external_labels: Labels,
}

/// Owns every scrape pool and loop.
pub struct ScrapeManager {
    storage: Arc<dyn Appendable>,
    metrics: Arc<ScrapeMetrics>,
    plugins: Option<Arc<dyn PluginCollector>>,
    rt: tokio::runtime::Handle,
    /// Where HTTP loops run (`None`: on `rt`).
    shards: Option<Arc<crate::shards::Shards>>,
    inner: Arc<Mutex<Inner>>,
    offset_seed: u64,
    stopped: RwLock<bool>,
    /// Cancelled by [`ScrapeManager::stop`]: deferred end-of-run markers are not written
    /// after it.
    shutdown: CancellationToken,
}

impl ScrapeManager {
    /// A manager appending to `storage`. Must be called inside a tokio runtime: file_sd
    /// watchers and exporter-plugin loops run on it, HTTP loops on the scrape shards
    /// (`shards.rs`; on this runtime if the shards' threads cannot be started).
    pub fn new(
        storage: Arc<dyn Appendable>,
        registry: &Registry,
        plugins: Option<Arc<dyn PluginCollector>>,
    ) -> Self {
        // procfs answers from memory, once per daemon.
        #[allow(clippy::disallowed_methods)]
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let seed = xxhash_rust::xxh64::xxh64(host.trim().as_bytes(), 0);
        ScrapeManager {
            storage,
            metrics: Arc::new(ScrapeMetrics::new(registry)),
            plugins,
            rt: tokio::runtime::Handle::current(),
            shards: crate::shards::Shards::new().map(Arc::new),
            inner: Arc::new(Mutex::new(Inner {
                pools: BTreeMap::new(),
                order: Vec::new(),
                external_labels: Labels::empty(),
            })),
            offset_seed: seed,
            shutdown: CancellationToken::new(),
            stopped: RwLock::new(false),
        }
    }

    /// Applies a (new) configuration. Jobs whose configuration is unchanged keep running
    /// untouched; changed jobs restart their loops; removed jobs stop with stale markers.
    /// Fails without changing anything when a job's HTTP client cannot be built. Blocking
    /// (it reads the TLS files jobs name): call it from a blocking thread.
    pub fn apply_config(&self, cfg: &Config) -> Result<()> {
        if *self.stopped.read() {
            return Ok(());
        }
        // Build every client first so a bad config changes nothing.
        let mut clients = HashMap::new();
        for sc in &cfg.scrape_configs {
            clients.insert(sc.job_name.clone(), build_client(sc)?);
        }
        let mut inner = self.inner.lock();
        inner.external_labels = cfg.global.external_labels.clone();
        inner.order = cfg
            .scrape_configs
            .iter()
            .map(|s| s.job_name.clone())
            .collect();
        // Remove pools that are gone.
        let gone: Vec<String> = inner
            .pools
            .keys()
            .filter(|k| !inner.order.contains(k))
            .cloned()
            .collect();
        for job in gone {
            if let Some(mut p) = inner.pools.remove(&job) {
                info!(job = %job, "stopping scrape pool");
                stop_pool(&mut p, scrape_loop::stale_on_stop::NOW);
                self.metrics.targets.remove(&[&job]);
            }
        }
        for sc in &cfg.scrape_configs {
            let fingerprint = Fingerprint::of(sc);
            if inner
                .pools
                .get(&sc.job_name)
                .is_some_and(|p| p.fingerprint == fingerprint)
            {
                continue;
            }
            let client = clients.remove(&sc.job_name).ok_or_else(|| Error::Client {
                job: sc.job_name.clone(),
                message: "client missing".into(),
            })?;
            if let Some(mut old) = inner.pools.remove(&sc.job_name) {
                info!(job = %sc.job_name, "scrape config changed, restarting its targets");
                // Series that continue under the new loops must not go stale in between;
                // those that ended (changed target labels or relabelling) must: the old
                // loops mark them two intervals later, where a continuing series' newer
                // samples make the markers out of order.
                stop_pool(&mut old, scrape_loop::stale_on_stop::DEFERRED);
            }
            let mut pool = Pool {
                cfg: sc.clone(),
                fingerprint,
                client,
                auth: crate::client::auth(&sc.http),
                groups: BTreeMap::new(),
                running: HashMap::new(),
                dropped: Vec::new(),
                sd_cancel: None,
            };
            for (i, g) in sc.static_target_groups().into_iter().enumerate() {
                pool.groups.insert(format!("static/{i}"), vec![g]);
            }
            let has_file_sd = !sc.file_sd_configs.is_empty();
            self.sync_pool(&mut pool);
            if has_file_sd {
                let cancel = CancellationToken::new();
                pool.sd_cancel = Some(cancel.clone());
                let (h, job, sc) = (self.clone_handle(), sc.job_name.clone(), sc.clone());
                self.rt.spawn(async move {
                    supervise("file_sd", Some(&cancel), Backoff::default(), || {
                        file_sd_task(h.clone(), job.clone(), sc.clone(), cancel.clone())
                    })
                    .await
                });
            }
            inner.pools.insert(sc.job_name.clone(), pool);
        }
        Ok(())
    }

    fn clone_handle(&self) -> ManagerHandle {
        ManagerHandle {
            storage: self.storage.clone(),
            metrics: self.metrics.clone(),
            plugins: self.plugins.clone(),
            rt: self.rt.clone(),
            shards: self.shards.clone(),
            inner: self.inner.clone(),
            offset_seed: self.offset_seed,
            shutdown: self.shutdown.clone(),
        }
    }

    fn sync_pool(&self, pool: &mut Pool) {
        self.clone_handle().sync_pool(pool)
    }

    /// Snapshots of every active target.
    pub fn active_targets(&self) -> Vec<TargetSnapshot> {
        let inner = self.inner.lock();
        inner
            .pools
            .values()
            .flat_map(|p| p.running.values().map(|r| r.target.snapshot()))
            .collect()
    }

    /// Targets dropped by relabelling.
    pub fn dropped_targets(&self) -> Vec<DroppedTarget> {
        let inner = self.inner.lock();
        inner
            .pools
            .values()
            .flat_map(|p| p.dropped.iter().cloned())
            .collect()
    }

    /// Job names in configuration order.
    pub fn pools(&self) -> Vec<String> {
        self.inner.lock().order.clone()
    }

    /// Stops every loop and waits for them (bounded by 10 s), without stale markers: the
    /// data stays valid until the lookback window expires, as in Prometheus.
    pub async fn stop(&self) {
        *self.stopped.write() = true;
        self.shutdown.cancel();
        let mut joins = Vec::new();
        {
            let mut inner = self.inner.lock();
            for p in inner.pools.values_mut() {
                if let Some(c) = p.sd_cancel.take() {
                    c.cancel();
                }
                for (_, r) in p.running.drain() {
                    r.handle.cancel.cancel();
                    joins.push(r.handle.join);
                }
            }
        }
        let all = futures::future::join_all(joins);
        if tokio::time::timeout(Duration::from_secs(10), all)
            .await
            .is_err()
        {
            warn!("some scrape loops did not stop within 10s");
        }
    }
}

/// The parts of the manager that background tasks need.
#[derive(Clone)]
struct ManagerHandle {
    storage: Arc<dyn Appendable>,
    metrics: Arc<ScrapeMetrics>,
    plugins: Option<Arc<dyn PluginCollector>>,
    rt: tokio::runtime::Handle,
    shards: Option<Arc<crate::shards::Shards>>,
    inner: Arc<Mutex<Inner>>,
    offset_seed: u64,
    shutdown: CancellationToken,
}

impl ManagerHandle {
    /// Recomputes the pool's targets from its groups and starts/stops loops to match.
    fn sync_pool(&self, pool: &mut Pool) {
        let sc = &pool.cfg;
        let mut desired: HashMap<u64, Arc<Target>> = HashMap::new();
        let mut dropped = Vec::new();
        for groups in pool.groups.values() {
            for g in groups {
                for t in &g.targets {
                    match sightline_config::populate_labels(sc, t, &g.labels) {
                        Ok(pt) => match pt.labels {
                            Some(full) => match resolve_target(sc, &full, pt.discovered_labels) {
                                Ok(target) => {
                                    let target = Arc::new(target);
                                    desired.entry(target_key(&target)).or_insert(target);
                                }
                                Err(e) => {
                                    warn!(job = %sc.job_name, error = %e, "invalid target, skipping")
                                }
                            },
                            None => dropped.push(DroppedTarget {
                                scrape_pool: sc.job_name.clone(),
                                discovered_labels: pt.discovered_labels,
                            }),
                        },
                        Err(e) => {
                            warn!(job = %sc.job_name, target = %t, error = %e, "invalid target, skipping");
                        }
                    }
                }
            }
        }
        pool.dropped = dropped;
        let gone: Vec<u64> = pool
            .running
            .keys()
            .filter(|k| !desired.contains_key(k))
            .copied()
            .collect();
        for k in gone {
            if let Some(r) = pool.running.remove(&k) {
                r.handle
                    .stale_on_stop
                    .store(scrape_loop::stale_on_stop::NOW, Ordering::Relaxed);
                r.handle.cancel.cancel();
            }
        }
        for (k, target) in desired {
            if pool.running.contains_key(&k) {
                continue;
            }
            let source = match (&sc.plugin, &target.plugin_target) {
                (Some(name), Some(plugin_target)) => Source::Plugin {
                    collector: match &self.plugins {
                        Some(c) => c.clone(),
                        None => Arc::new(NoPlugins),
                    },
                    name: name.clone(),
                    target: plugin_target.clone(),
                    body_size_limit: sc.body_size_limit,
                },
                _ => Source::Http(HttpFetcher::new(
                    pool.client.clone(),
                    &target.url,
                    pool.auth.clone(),
                    sc.body_size_limit,
                    concat!("Sightline/", env!("CARGO_PKG_VERSION")),
                    crate::fetch::Negotiation::of(sc),
                )),
            };
            let spec = LoopSpec {
                target: target.clone(),
                source,
                opts: append_options(sc, &target.labels),
                offset_seed: self.offset_seed,
                shutdown: self.shutdown.clone(),
            };
            // Plugin loops stay on the daemon's runtime, where the plugin host runs.
            let rt = match (&spec.source, &self.shards) {
                (Source::Http(_), Some(s)) => s.handle_for(k),
                _ => &self.rt,
            };
            let _g = rt.enter();
            let handle = scrape_loop::spawn(spec, self.storage.clone(), self.metrics.clone());
            pool.running.insert(k, RunningTarget { target, handle });
        }
        self.metrics
            .targets
            .with(&[&sc.job_name])
            .set(pool.running.len() as f64);
    }
}

fn stop_pool(p: &mut Pool, staleness: u8) {
    if let Some(c) = p.sd_cancel.take() {
        c.cancel();
    }
    for (_, r) in p.running.drain() {
        r.handle.stale_on_stop.store(staleness, Ordering::Relaxed);
        r.handle.cancel.cancel();
    }
}

fn target_key(t: &Target) -> u64 {
    let mut h = xxhash_rust::xxh64::Xxh64::new(0);
    h.update(&t.labels.stable_hash().to_le_bytes());
    h.update(t.url.as_bytes());
    h.update(&(t.interval.as_millis() as u64).to_le_bytes());
    h.update(&(t.timeout.as_millis() as u64).to_le_bytes());
    h.digest()
}

/// Reports plugin jobs as failing when the daemon runs without a plugin runtime.
struct NoPlugins;

impl PluginCollector for NoPlugins {
    fn collect<'a>(
        &'a self,
        plugin: &'a str,
        _target: &'a PluginTarget,
        _timeout: Duration,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = std::result::Result<Vec<u8>, String>> + Send + 'a>,
    > {
        Box::pin(async move {
            Err(format!(
                "plugin {plugin:?} is not loaded: no plugin runtime is configured"
            ))
        })
    }
}

/// Watches a job's file_sd files: re-reads them when their modification time or size changes
/// (checked every second, which also catches editors that replace files by renaming) and at
/// least every `refresh_interval`. Every filesystem call runs on a blocking thread.
async fn file_sd_task(m: ManagerHandle, job: String, sc: ScrapeConfig, cancel: CancellationToken) {
    let mut seen: FileSdSeen = HashMap::new();
    let refresh = sc
        .file_sd_configs
        .iter()
        .map(|f| f.refresh_interval)
        .min()
        .unwrap_or(Duration::from_secs(300));
    let mut last_full = tokio::time::Instant::now();
    let mut first = true;
    loop {
        let cfgs = sc.file_sd_configs.clone();
        let force = first || last_full.elapsed() >= refresh;
        let prev = std::mem::take(&mut seen);
        let job2 = job.clone();
        let scan =
            tokio::task::spawn_blocking(move || scan_file_sd(&job2, &cfgs, &prev, force)).await;
        match scan {
            Ok((now_seen, read)) => {
                seen = now_seen;
                if let Some(read) = read {
                    apply_file_sd(&m, &job, read);
                    last_full = tokio::time::Instant::now();
                    first = false;
                }
            }
            Err(e) => warn!(job = %job, error = %e, "file_sd: scan task failed"),
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// Modification time and size of each file_sd file, as last seen.
type FileSdSeen = HashMap<std::path::PathBuf, (Option<SystemTime>, u64)>;

/// Each file_sd file's target groups, or why it could not be read.
type FileSdRead = Vec<(
    std::path::PathBuf,
    std::result::Result<Vec<sightline_config::TargetGroup>, String>,
)>;

/// Expands the patterns and stats every file (blocking); reads them all when anything
/// changed or `force` is set. Runs on a blocking thread.
#[allow(clippy::disallowed_methods)]
fn scan_file_sd(
    job: &str,
    cfgs: &[sightline_config::FileSdConfig],
    seen: &FileSdSeen,
    force: bool,
) -> (FileSdSeen, Option<FileSdRead>) {
    let mut files = Vec::new();
    for f in cfgs {
        match sightline_config::expand_file_sd_globs(f, std::path::Path::new("")) {
            Ok(v) => files.extend(v),
            Err(e) => warn!(job = %job, error = %e, "file_sd: bad pattern"),
        }
    }
    let mut changed = force || files.len() != seen.len();
    let mut now_seen = HashMap::new();
    for f in &files {
        let meta = std::fs::metadata(f).ok();
        let key = (
            meta.as_ref().and_then(|m| m.modified().ok()),
            meta.as_ref().map(|m| m.len()).unwrap_or(0),
        );
        if seen.get(f) != Some(&key) {
            changed = true;
        }
        now_seen.insert(f.clone(), key);
    }
    let read = changed.then(|| {
        files
            .into_iter()
            .map(|f| {
                let g = sightline_config::read_file_sd(&f).map_err(|e| e.to_string());
                (f, g)
            })
            .collect()
    });
    (now_seen, read)
}

/// Replaces the pool's file_sd groups with what was read, keeping the last good content of
/// a broken file, as Prometheus does.
fn apply_file_sd(m: &ManagerHandle, job: &str, read: FileSdRead) {
    let mut inner = m.inner.lock();
    let Some(pool) = inner.pools.get_mut(job) else {
        return;
    };
    let mut groups = BTreeMap::new();
    for (f, g) in read {
        let key = format!("file/{}", f.display());
        match g {
            Ok(g) => {
                groups.insert(key, g);
            }
            Err(e) => {
                warn!(job = %job, file = %f.display(), error = %e, "file_sd: cannot read file");
                if let Some(old) = pool.groups.get(&key) {
                    groups.insert(key, old.clone());
                }
            }
        }
    }
    pool.groups.retain(|k, _| !k.starts_with("file/"));
    pool.groups.extend(groups);
    m.sync_pool(pool);
}

/// Turns populated (post-relabel) labels into a target: URL from `__scheme__`,
/// `__address__`, `__metrics_path__` and the params (each `__param_<k>` label overrides the
/// first value of `k`), interval and timeout from their labels, and the public labels
/// (everything not starting with `__`). A plugin job's target keeps its address and params
/// for the plugin instead (its URL, `plugin://<name>[/<address>][?<params>]`, is only shown).
fn resolve_target(sc: &ScrapeConfig, full: &Labels, discovered: Labels) -> Result<Target> {
    let bad = |m: String| Error::Discovery(m);
    let interval =
        sightline_model::parse_duration(full.get_or_empty(sightline_config::SCRAPE_INTERVAL_LABEL))
            .map_err(|e| bad(e.to_string()))?;
    let timeout =
        sightline_model::parse_duration(full.get_or_empty(sightline_config::SCRAPE_TIMEOUT_LABEL))
            .map_err(|e| bad(e.to_string()))?;
    let mut params = sc.params.clone();
    for l in full.iter() {
        if let Some(k) = l.name.strip_prefix(sightline_config::PARAM_LABEL_PREFIX) {
            let e = params.entry(k.to_string()).or_default();
            if e.is_empty() {
                e.push(l.value.to_string());
            } else {
                e[0] = l.value.to_string();
            }
        }
    }
    let query = || {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, vs) in &params {
            for v in vs {
                q.append_pair(k, v);
            }
        }
        q.finish()
    };
    let address = full.get_or_empty(sightline_config::ADDRESS_LABEL);
    let (url, plugin_target) = match &sc.plugin {
        Some(p) => {
            let mut url = format!("plugin://{p}");
            // The implicit target of a job without targets has the plugin's name as address.
            if address != p.as_str() {
                url.push('/');
                url.push_str(address);
            }
            if !params.is_empty() {
                url.push('?');
                url.push_str(&query());
            }
            let mut public = full.builder();
            public.retain(|l| !l.name.starts_with("__"));
            let target = PluginTarget {
                address: address.to_string(),
                params: params.clone(),
                labels: public.build(),
            };
            (url, Some(target))
        }
        None => {
            let mut u = url::Url::parse(&format!(
                "{}://{address}",
                full.get_or_empty(sightline_config::SCHEME_LABEL),
            ))
            .map_err(|e| bad(format!("invalid target address: {e}")))?;
            u.set_path(full.get_or_empty(sightline_config::METRICS_PATH_LABEL));
            if !params.is_empty() {
                u.set_query(Some(&query()));
            }
            (u.to_string(), None)
        }
    };
    let mut b = full.builder();
    b.retain(|l| !l.name.starts_with("__"));
    Ok(Target {
        scrape_pool: sc.job_name.clone(),
        labels: b.build(),
        discovered,
        url,
        plugin_target,
        interval,
        timeout,
        status: Arc::new(RwLock::new(TargetStatus::default())),
    })
}

fn append_options(sc: &ScrapeConfig, target_labels: &Labels) -> AppendOptions {
    let relabel = sc.metric_relabel_configs.clone();
    AppendOptions {
        target_labels: target_labels.clone(),
        honor_labels: sc.honor_labels,
        honor_timestamps: sc.honor_timestamps,
        metric_relabel: (!relabel.is_empty()).then(|| {
            Arc::new(move |l: &Labels| sightline_config::relabel(l, &relabel))
                as crate::append::Relabel
        }),
        sample_limit: sc.sample_limit as usize,
        label_limit: sc.label_limit as usize,
        label_name_length_limit: sc.label_name_length_limit as usize,
        label_value_length_limit: sc.label_value_length_limit as usize,
        histograms: crate::append::HistogramOptions {
            native: sc.scrape_native_histograms,
            always_classic: sc.always_scrape_classic_histograms,
            nhcb: sc.convert_classic_histograms_to_nhcb,
            bucket_limit: usize::try_from(sc.native_histogram_bucket_limit).unwrap_or(usize::MAX),
            max_schema: crate::histograms::pick_schema(sc.native_histogram_min_bucket_factor),
        },
    }
}

/// Builds the job's HTTP client (see [`crate::client::build`]).
fn build_client(sc: &ScrapeConfig) -> Result<reqwest::Client> {
    crate::client::build(&sc.job_name, &sc.http, sc.enable_compression)
}

#[cfg(test)]
mod tests;
