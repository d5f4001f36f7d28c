//! Shards: the tasks that batch a queue's samples and send them, one request at a time per
//! shard (so each series' samples stay in order), retrying recoverable failures with
//! exponential backoff until they succeed or the queue stops.
//!
//! Outcomes, as Prometheus 2.42 decides them: 2xx delivered; 5xx, network errors and
//! timeouts retried; 429 retried only with `retry_on_http_429` (honouring `Retry-After`);
//! any other status refused for good (counted as failed, never resent). A 2.0 request
//! answered 415 switches the queue to 1.0 (the receiver does not speak 2.0) and is resent.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE};
use sightline_config::QueueConfig;
use sightline_scrape::client::Auth;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::encode::{encode_v1, encode_v2, OutSeries, SeriesBatch};
use super::metrics::QueueMetrics;
use super::queue::{channel_chunks, ShardTx, Tracker};

/// A sample on its way: its series' index in the queue's table, its series id (for sharding and
/// grouping), and the WAL record it came from (for the delivery tracker).
#[derive(Clone)]
pub(crate) struct Pending {
    pub(crate) series: u32,
    pub(crate) id: u64,
    pub(crate) t: i64,
    pub(crate) v: f64,
    /// A native-histogram sample (then `v` is unused).
    pub(crate) h: Option<Arc<sightline_tsdb::HistValue>>,
    pub(crate) seq: u64,
    /// Read again after a restart from a WAL record the queue may already have delivered
    /// (between the saved delivered position and the saved high-water mark).
    pub(crate) replay: bool,
}

/// What every shard of a queue shares.
pub(crate) struct ShardCtx {
    pub(crate) name: String,
    pub(crate) url: url::Url,
    pub(crate) client: reqwest::Client,
    pub(crate) auth: Auth,
    pub(crate) headers: HeaderMap,
    pub(crate) timeout: Duration,
    pub(crate) queue: QueueConfig,
    /// Speaks 2.0 (until a receiver answers 415).
    pub(crate) v2: AtomicBool,
    pub(crate) metrics: QueueMetrics,
    /// Families' metadata, for 2.0's inline series metadata.
    pub(crate) meta: Arc<super::meta::MetaMap>,
    /// Every series the queue has seen, as sent; samples refer to them by index, so a
    /// sample carries no reference count that the reader and a shard would both touch.
    pub(crate) series: parking_lot::RwLock<Vec<OutSeries>>,
    /// Slots of the table freed by the reader's garbage collection, reused first.
    free_slots: Mutex<Vec<u32>>,
    highest_sent: AtomicI64,
    stats: Mutex<SendStats>,
    /// Why the last attempt failed, for [`Health`].
    last_reason: Mutex<Option<String>>,
    /// For the status API: the last delivery, the last error and whether the newest
    /// attempt failed.
    pub(crate) health: Mutex<Health>,
}

/// A queue's recent history, as the status API shows it.
#[derive(Default, Clone)]
pub(crate) struct Health {
    pub(crate) last_success_ms: Option<i64>,
    pub(crate) last_error: Option<(i64, String)>,
    pub(crate) failing: bool,
}

#[derive(Default)]
struct SendStats {
    samples: u64,
    busy: Duration,
    failing: bool,
}

impl ShardCtx {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        name: String,
        url: url::Url,
        client: reqwest::Client,
        auth: Auth,
        headers: HeaderMap,
        timeout: Duration,
        queue: QueueConfig,
        v2: bool,
        metrics: QueueMetrics,
    ) -> Self {
        ShardCtx {
            name,
            url,
            client,
            auth,
            headers,
            timeout,
            queue,
            v2: AtomicBool::new(v2),
            metrics,
            meta: Arc::default(),
            series: parking_lot::RwLock::new(Vec::new()),
            free_slots: Mutex::new(Vec::new()),
            highest_sent: AtomicI64::new(i64::MIN),
            stats: Mutex::new(SendStats::default()),
            health: Mutex::new(Health::default()),
            last_reason: Mutex::new(None),
        }
    }

    /// Samples delivered and time spent sending since the last call, and whether any send
    /// had to be retried meanwhile.
    /// Adds a series to the table; returns its index.
    pub(crate) fn add_series(&self, s: OutSeries) -> u32 {
        let mut t = self.series.write();
        if let Some(i) = self.free_slots.lock().pop() {
            t[i as usize] = s;
            return i;
        }
        t.push(s);
        (t.len() - 1) as u32
    }

    /// Frees the slots of series no sample in flight or still to read names.
    pub(crate) fn free_series(&self, slots: &[u32]) {
        let mut t = self.series.write();
        let mut free = self.free_slots.lock();
        for &i in slots {
            t[i as usize] = OutSeries::empty();
            free.push(i);
        }
    }

    /// The newest timestamp delivered (ms).
    pub(crate) fn highest_sent(&self) -> Option<i64> {
        let v = self.highest_sent.load(Ordering::Relaxed);
        (v != i64::MIN).then_some(v)
    }

    /// Notes an attempt's outcome: delivered, and whether the queue is now stuck retrying.
    fn record(&self, delivered: bool, failing: bool, error: Option<String>) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let mut h = self.health.lock();
        if delivered {
            h.last_success_ms = Some(now);
        }
        h.failing = failing;
        if let Some(e) = error {
            h.last_error = Some((now, e));
        }
    }

    pub(crate) fn take_send_stats(&self) -> (u64, Duration, bool) {
        let s = std::mem::take(&mut *self.stats.lock());
        (s.samples, s.busy, s.failing)
    }
}

/// Builds the configured extra headers.
pub(crate) fn header_map(
    h: &std::collections::BTreeMap<String, String>,
) -> Result<HeaderMap, String> {
    let mut m = HeaderMap::new();
    for (k, v) in h {
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|e| format!("invalid header name {k:?}: {e}"))?;
        let val =
            HeaderValue::from_str(v).map_err(|e| format!("invalid value for header {k:?}: {e}"))?;
        m.insert(name, val);
    }
    Ok(m)
}

/// A queue's running shards.
pub(crate) struct Shards {
    txs: Vec<ShardTx>,
    tasks: Vec<JoinHandle<()>>,
    ctx: Arc<ShardCtx>,
    tracker: Arc<Tracker>,
    cancel: CancellationToken,
}

impl Shards {
    pub(crate) fn start(
        n: usize,
        ctx: &Arc<ShardCtx>,
        tracker: &Arc<Tracker>,
        rt: &tokio::runtime::Handle,
        cancel: &CancellationToken,
    ) -> Shards {
        let depth = channel_chunks(ctx.queue.capacity, ctx.queue.max_samples_per_send);
        let mut txs = Vec::with_capacity(n);
        let mut tasks = Vec::with_capacity(n);
        for _ in 0..n.max(1) {
            let (tx, rx) = mpsc::channel(depth);
            txs.push(tx);
            tasks.push(rt.spawn(run_shard(rx, ctx.clone(), tracker.clone(), cancel.clone())));
        }
        Shards {
            txs,
            tasks,
            ctx: ctx.clone(),
            tracker: tracker.clone(),
            cancel: cancel.clone(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.txs.len()
    }

    /// Hands a chunk to shard `i`, waiting while it is full (back-pressure: the WAL keeps
    /// what the reader has not taken). False: the shard is gone (the queue is stopping).
    pub(crate) fn send(&self, i: usize, chunk: Vec<Pending>, m: &QueueMetrics) -> bool {
        let n = chunk.len() as f64;
        m.pending.add(n);
        if self.txs[i].blocking_send(chunk).is_err() {
            m.pending.add(-n);
            return false;
        }
        true
    }

    /// Lets every shard send what it holds, then starts `n` new ones (a series' shard
    /// depends on the count, so the old ones must drain first to keep order).
    pub(crate) fn reshard(self, n: usize, rt: &tokio::runtime::Handle) -> Shards {
        let (ctx, tracker, cancel) = (self.ctx.clone(), self.tracker.clone(), self.cancel.clone());
        self.close(rt);
        Shards::start(n, &ctx, &tracker, rt, &cancel)
    }

    /// Closes the channels and waits for the shards to finish (they send what they hold
    /// unless the queue is cancelled). Called only on the queue's reader thread, which is
    /// not a runtime thread, so blocking on the runtime is allowed there.
    #[allow(clippy::disallowed_methods)]
    pub(crate) fn close(self, rt: &tokio::runtime::Handle) {
        drop(self.txs);
        rt.block_on(async {
            for t in self.tasks {
                let _ = t.await;
            }
        });
    }
}

async fn run_shard(
    mut rx: mpsc::Receiver<Vec<Pending>>,
    ctx: Arc<ShardCtx>,
    tracker: Arc<Tracker>,
    cancel: CancellationToken,
) {
    let max = ctx.queue.max_samples_per_send.max(1) as usize;
    let mut batch: Vec<Pending> = Vec::with_capacity(max);
    let mut deadline: Option<tokio::time::Instant> = None;
    let mut bufs = Buffers::default();
    loop {
        let timer = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            _ = cancel.cancelled() => return,
            m = rx.recv() => match m {
                Some(chunk) => {
                    // Most chunks are a whole batch: take it as it is rather than copy it.
                    if batch.is_empty() && chunk.len() <= max {
                        let spare = std::mem::replace(&mut batch, chunk);
                        drop(spare);
                        if batch.len() >= max {
                            if !send_batch(&ctx, &tracker, &mut batch, &cancel, &mut bufs).await {
                                return;
                            }
                            deadline = None;
                        } else if deadline.is_none() {
                            deadline = Some(tokio::time::Instant::now() + ctx.queue.batch_send_deadline);
                        }
                        continue;
                    }
                    for p in chunk {
                        batch.push(p);
                        if batch.len() >= max {
                            if !send_batch(&ctx, &tracker, &mut batch, &cancel, &mut bufs).await {
                                return;
                            }
                            deadline = None;
                        }
                    }
                    if !batch.is_empty() && deadline.is_none() {
                        deadline = Some(tokio::time::Instant::now() + ctx.queue.batch_send_deadline);
                    }
                }
                None => {
                    if !batch.is_empty() {
                        send_batch(&ctx, &tracker, &mut batch, &cancel, &mut bufs).await;
                    }
                    return;
                }
            },
            _ = timer => {
                deadline = None;
                if !send_batch(&ctx, &tracker, &mut batch, &cancel, &mut bufs).await {
                    return;
                }
            }
        }
    }
}

/// Buffers a shard reuses from batch to batch.
struct Buffers {
    samples: Vec<(i64, f64)>,
    raw: Vec<u8>,
    seqs: Vec<u64>,
    /// Snappy's output, sized once (a fresh zeroed buffer a request was a tenth of the
    /// catch-up's CPU), and its encoder, whose hash table is reused.
    compressed: Vec<u8>,
    snappy: snap::raw::Encoder,
}

impl Default for Buffers {
    fn default() -> Self {
        Buffers {
            samples: Vec::new(),
            raw: Vec::new(),
            seqs: Vec::new(),
            compressed: Vec::new(),
            snappy: snap::raw::Encoder::new(),
        }
    }
}

impl Buffers {
    /// `raw` snappy-compressed, as a request body.
    fn body(&mut self) -> bytes::Bytes {
        let max = snap::raw::max_compress_len(self.raw.len());
        if self.compressed.len() < max {
            self.compressed.resize(max, 0);
        }
        match self.snappy.compress(&self.raw, &mut self.compressed) {
            Ok(n) => bytes::Bytes::copy_from_slice(&self.compressed[..n]),
            // Over snappy's 4 GiB limit, which no batch approaches: an empty body makes the
            // receiver answer 400 rather than the sender panic.
            Err(_) => bytes::Bytes::new(),
        }
    }
}

pub(crate) enum Outcome {
    /// 2xx; over 2.0, the samples and histograms the receiver says it wrote
    /// (`X-Prometheus-Remote-Write-{Samples,Histograms}-Written`), when it says.
    Delivered(Option<u64>),
    /// Refused for good, with this status.
    Refused(u16),
    Retry(Option<Duration>),
    /// The receiver does not speak 2.0: resend as 1.0 at once.
    Downgrade,
}

/// What became of a batch's samples.
#[derive(Default)]
struct Tally {
    delivered: usize,
    failed: usize,
    /// Replayed samples the receiver already had (refused alone as out of order or
    /// duplicate after a crash).
    already: usize,
    newest: Option<i64>,
}

/// The queue was cancelled mid-send: nothing of the batch is acknowledged.
struct Cancelled;

/// Sends `batch` until every sample is delivered or refused for good, then acknowledges it
/// to the tracker; false when the queue was cancelled first (nothing acknowledged: the WAL
/// still has it for the next start).
async fn send_batch(
    ctx: &ShardCtx,
    tracker: &Tracker,
    batch: &mut Vec<Pending>,
    cancel: &CancellationToken,
    bufs: &mut Buffers,
) -> bool {
    if batch.is_empty() {
        return true;
    }
    let n = batch.len();
    // The position file must say these samples may be at the receiver before they may be.
    if let Some(max_seq) = batch.iter().map(|p| p.seq).max() {
        tracker.reserve(max_seq);
    }
    // Group each series' samples, oldest first (a series has one sample per timestamp, so
    // the unstable sort, which moves less, is deterministic).
    batch.sort_unstable_by_key(|p| (p.id, p.t));
    let mut tally = Tally::default();
    if deliver(ctx, batch, cancel, bufs, &mut tally).await.is_err() {
        return false;
    }
    if tally.delivered > 0 {
        ctx.metrics.samples.inc_by(tally.delivered as f64);
        let mut st = ctx.stats.lock();
        st.samples += tally.delivered as u64;
    }
    if let Some(newest) = tally.newest {
        let prev = ctx.highest_sent.fetch_max(newest, Ordering::Relaxed);
        ctx.metrics
            .highest_sent
            .set(prev.max(newest) as f64 / 1000.0);
    }
    if tally.failed > 0 {
        ctx.metrics.failed.inc_by(tally.failed as f64);
    }
    if tally.already > 0 {
        ctx.metrics.already_delivered.inc_by(tally.already as f64);
    }
    ctx.metrics.pending.add(-(n as f64));
    bufs.seqs.clear();
    bufs.seqs.extend(batch.iter().map(|p| p.seq));
    bufs.seqs.sort_unstable();
    let mut i = 0;
    while i < bufs.seqs.len() {
        let mut j = i + 1;
        while j < bufs.seqs.len() && bufs.seqs[j] == bufs.seqs[i] {
            j += 1;
        }
        tracker.ack(bufs.seqs[i], (j - i) as u32);
        i = j;
    }
    batch.clear();
    true
}

/// Sends `items` (grouped by series) with retries. A strict receiver (Prometheus) refuses a
/// whole 1.0 request with 400 when one sample is older than what it has; after a crash the
/// queue resends samples it may already have delivered, so such a refusal of a batch
/// holding replayed samples is bisected until the samples the receiver already has are
/// isolated and set aside, and the rest is delivered.
fn deliver<'a>(
    ctx: &'a ShardCtx,
    items: &'a [Pending],
    cancel: &'a CancellationToken,
    bufs: &'a mut Buffers,
    tally: &'a mut Tally,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), Cancelled>> + Send + 'a>> {
    Box::pin(async move {
        let n = items.len();
        bufs.samples.clear();
        bufs.samples
            .extend(items.iter().filter(|p| p.h.is_none()).map(|p| (p.t, p.v)));
        // Histogram samples by reference, in the items' order (most batches have none).
        let hists: Vec<(i64, &sightline_tsdb::HistValue)> = items
            .iter()
            .filter_map(|p| p.h.as_deref().map(|h| (p.t, h)))
            .collect();
        let nhists = hists.len();
        let mut backoff = ctx.queue.min_backoff.max(Duration::from_millis(1));
        let mut encoded_v2: Option<bool> = None;
        let mut body = bytes::Bytes::new();
        loop {
            let v2 = ctx.v2.load(Ordering::Relaxed);
            if encoded_v2 != Some(v2) {
                // Held while encoding only (never across an await); the reader takes it for
                // writing only to add a series.
                let table = ctx.series.read();
                let mut series = Vec::new();
                let (mut i, mut f, mut hi) = (0, 0, 0);
                while i < n {
                    let mut j = i + 1;
                    while j < n && items[j].id == items[i].id {
                        j += 1;
                    }
                    let nh = items[i..j].iter().filter(|p| p.h.is_some()).count();
                    let nf = (j - i) - nh;
                    series.push(SeriesBatch {
                        series: &table[items[i].series as usize],
                        samples: &bufs.samples[f..f + nf],
                        histograms: &hists[hi..hi + nh],
                    });
                    f += nf;
                    hi += nh;
                    i = j;
                }
                if v2 {
                    encode_v2(&series, Some(&ctx.meta), &mut bufs.raw);
                } else {
                    encode_v1(&series, &mut bufs.raw);
                }
                body = bufs.body();
                encoded_v2 = Some(v2);
            }
            let started = Instant::now();
            let outcome = tokio::select! {
                _ = cancel.cancelled() => return Err(Cancelled),
                o = send_once(ctx, body.clone(), v2, nhists) => o,
            };
            let took = started.elapsed();
            ctx.metrics.duration.observe(took.as_secs_f64());
            ctx.metrics.bytes.inc_by(body.len() as f64);
            match outcome {
                Outcome::Delivered(written) => {
                    ctx.metrics.request("success");
                    ctx.record(true, false, None);
                    ctx.stats.lock().busy += took;
                    // A 2.0 receiver that wrote fewer than it was sent refused the rest
                    // for good (it would have answered 5xx otherwise).
                    let w = written.map_or(n, |w| (w as usize).min(n));
                    if w < n {
                        tracing::warn!(queue = %ctx.name, sent = n, written = w, "remote write 2.0: the receiver wrote fewer samples than it was sent");
                        tally.failed += n - w;
                    }
                    tally.delivered += w;
                    let newest = items.iter().map(|p| p.t).max();
                    tally.newest = tally.newest.max(newest);
                    return Ok(());
                }
                Outcome::Refused(400) if items.iter().any(|p| p.replay) => {
                    ctx.metrics.request("failed");
                    ctx.last_reason.lock().take();
                    if n == 1 {
                        tally.already += 1;
                        return Ok(());
                    }
                    let (left, right) = items.split_at(n / 2);
                    deliver(ctx, left, cancel, bufs, tally).await?;
                    return deliver(ctx, right, cancel, bufs, tally).await;
                }
                Outcome::Refused(code) => {
                    ctx.metrics.request("failed");
                    let why = ctx.last_reason.lock().take();
                    let why = why.unwrap_or_else(|| format!("HTTP {code}"));
                    ctx.record(false, false, Some(format!("{why} ({n} samples dropped)")));
                    tally.failed += n;
                    return Ok(());
                }
                Outcome::Downgrade => {
                    tracing::warn!(queue = %ctx.name, "the receiver does not accept remote write 2.0 (415); sending 1.0");
                    ctx.v2.store(false, Ordering::Relaxed);
                }
                Outcome::Retry(after) => {
                    ctx.metrics.request("retried");
                    let why = ctx.last_reason.lock().take();
                    ctx.record(false, true, why);
                    ctx.metrics.retried.inc_by(n as f64);
                    ctx.stats.lock().failing = true;
                    let wait = after
                        .unwrap_or(backoff)
                        .min(ctx.queue.max_backoff.max(backoff));
                    tokio::select! {
                        _ = cancel.cancelled() => return Err(Cancelled),
                        _ = tokio::time::sleep(wait) => {}
                    }
                    backoff =
                        (backoff * 2).min(ctx.queue.max_backoff.max(Duration::from_millis(1)));
                }
            }
        }
    })
}

/// One HTTP request and what its answer means.
/// Sends one body; `hists` is the number of histograms in it (what a 2.0 receiver that does
/// not count histograms is taken to have written).
pub(crate) async fn send_once(
    ctx: &ShardCtx,
    body: bytes::Bytes,
    v2: bool,
    hists: usize,
) -> Outcome {
    let (ct, version) = if v2 {
        (
            "application/x-protobuf;proto=io.prometheus.write.v2.Request",
            "2.0.0",
        )
    } else {
        ("application/x-protobuf", "0.1.0")
    };
    let req = ctx
        .client
        .post(ctx.url.clone())
        .timeout(ctx.timeout)
        .headers(ctx.headers.clone())
        .header(CONTENT_ENCODING, "snappy")
        .header(CONTENT_TYPE, ct)
        .header(reqwest::header::USER_AGENT, super::USER_AGENT)
        .header("X-Prometheus-Remote-Write-Version", version)
        .body(body);
    let req = match ctx.auth.apply(req).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(queue = %ctx.name, error = %e, "remote write credentials unavailable; retrying");
            *ctx.last_reason.lock() = Some(format!("credentials: {e}"));
            return Outcome::Retry(None);
        }
    };
    let resp = match req.send().await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(queue = %ctx.name, error = %e, "remote write request failed; retrying");
            *ctx.last_reason.lock() = Some(error_chain(&e));
            return Outcome::Retry(None);
        }
    };
    let status = resp.status();
    if status.is_success() {
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|s| s.trim().parse::<u64>().ok())
        };
        // Samples and histograms written, when the receiver says (a receiver that counts
        // samples only says nothing of histograms: none refused).
        let written = if v2 {
            header(crate::receiver::SAMPLES_WRITTEN)
                .map(|s| s + header(crate::receiver::HISTOGRAMS_WRITTEN).unwrap_or(hists as u64))
        } else {
            None
        };
        return Outcome::Delivered(written);
    }
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let text = resp.text().await.unwrap_or_default();
    let text: String = text.chars().take(512).collect();
    if status.as_u16() == 415 && v2 {
        return Outcome::Downgrade;
    }
    if status.is_server_error() || (status.as_u16() == 429 && ctx.queue.retry_on_http_429) {
        tracing::warn!(queue = %ctx.name, %status, body = %text.trim(), "remote write: recoverable error; retrying");
        *ctx.last_reason.lock() = Some(format!("HTTP {}: {}", status.as_u16(), text.trim()));
        return Outcome::Retry(retry_after);
    }
    tracing::error!(queue = %ctx.name, %status, body = %text.trim(), "remote write: non-recoverable error; dropping the batch");
    *ctx.last_reason.lock() = Some(format!("HTTP {}: {}", status.as_u16(), text.trim()));
    Outcome::Refused(status.as_u16())
}

/// An error and its causes, as one line (reqwest's top-level message alone says little).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
