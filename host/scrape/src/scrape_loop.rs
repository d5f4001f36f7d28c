//! The per-target loop: Prometheus' schedule (a stable per-target offset inside the interval,
//! so targets do not all fire together), one scrape per tick, reporting, staleness at the end.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sightline_config::redact_url_passwords;
use sightline_exposition::Format;

use crate::append::BodyFormat;
use sightline_model::{now_ms, stale_nan, Labels, SeriesRef};
use sightline_storage_api::Appendable;
use sightline_telemetry::supervise::{supervise, Backoff};
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::append::{AppendOptions, AppendOutcome, ScrapeCache};
use crate::fetch::HttpFetcher;
use crate::manager::ScrapeMetrics;
use crate::target::{Target, TargetHealth};
use crate::{Error, PluginCollector, PluginTarget};

/// Where a target's exposition comes from.
pub(crate) enum Source {
    Http(HttpFetcher),
    Plugin {
        collector: Arc<dyn PluginCollector>,
        name: String,
        target: PluginTarget,
        /// The job's `body_size_limit`, applied to the plugin's encoded output as to an
        /// HTTP body (0 = none).
        body_size_limit: u64,
    },
}

/// Everything one loop needs.
pub(crate) struct LoopSpec {
    pub(crate) target: Arc<Target>,
    pub(crate) source: Source,
    pub(crate) opts: AppendOptions,
    pub(crate) offset_seed: u64,
    /// Cancelled when the manager stops: deferred end-of-run markers are then not written.
    pub(crate) shutdown: CancellationToken,
}

/// What a loop writes when it is stopped (set before cancelling it).
pub(crate) mod stale_on_stop {
    /// Nothing: the daemon is shutting down (the data stays valid for the lookback).
    pub(crate) const NONE: u8 = 0;
    /// Stale markers now: the target was removed.
    pub(crate) const NOW: u8 = 1;
    /// Stale markers just after the loop's last scrape, written two intervals later: the
    /// configuration changed and a new loop may continue some of the same series, whose
    /// newer samples then make these markers out of order, so only the series that really
    /// ended are marked (Prometheus' `endOfRunStaleness`).
    pub(crate) const DEFERRED: u8 = 2;
}

/// Handle to a running loop.
pub(crate) struct LoopHandle {
    pub(crate) cancel: CancellationToken,
    /// One of [`stale_on_stop`]'s modes, set before cancelling.
    pub(crate) stale_on_stop: Arc<AtomicU8>,
    pub(crate) join: tokio::task::JoinHandle<()>,
}

const REPORT_NAMES: [&str; 5] = [
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
];

/// The `task` label of a scrape loop's panics.
pub(crate) const TASK: &str = "scrape_loop";

/// Starts the loop on the current runtime, supervised.
pub(crate) fn spawn(
    spec: LoopSpec,
    storage: Arc<dyn Appendable>,
    metrics: Arc<ScrapeMetrics>,
) -> LoopHandle {
    let cancel = CancellationToken::new();
    let stale_on_stop = Arc::new(AtomicU8::new(stale_on_stop::NONE));
    let spec = Arc::new(spec);
    let (c, stale) = (cancel.clone(), stale_on_stop.clone());
    // A panic (a bug: malformed input is an error value) restarts the loop with a fresh cache
    // after a backoff, so the target keeps being scraped and `up` resumes.
    let join = tokio::spawn(async move {
        supervise(TASK, Some(&c), Backoff::default(), || {
            run(
                spec.clone(),
                storage.clone(),
                metrics.clone(),
                c.clone(),
                stale.clone(),
            )
        })
        .await
    });
    LoopHandle {
        cancel,
        stale_on_stop,
        join,
    }
}

/// The delay before the first scrape: Prometheus' `Target.offset`, a stable position inside
/// the interval derived from the target's identity.
pub(crate) fn initial_offset(target: &Target, seed: u64, now_ns: u128) -> Duration {
    let interval = target.interval.as_nanos().max(1);
    let mut h = xxhash_rust::xxh64::Xxh64::new(0);
    h.update(&target.labels.stable_hash().to_le_bytes());
    h.update(target.url.as_bytes());
    let hash = h.digest() ^ seed;
    let base = interval - now_ns % interval;
    let offset = u128::from(hash) % interval;
    let mut next = base + offset;
    if next > interval {
        next -= interval;
    }
    Duration::from_nanos(next as u64)
}

/// At most this much timer jitter is taken out of scrape timestamps (Prometheus'
/// `--scrape.timestamp-tolerance`, on by default since 2.2x).
const TIMESTAMP_TOLERANCE_MS: i64 = 2;

/// Prometheus' timestamp alignment: a scrape that starts within the tolerance (at most 1 % of
/// the interval) of a slot of its schedule is stamped with the slot's time, so timestamps stay
/// exactly one interval apart and compress to one bit each. The schedule is anchored at the
/// first scrape; a tick a millisecond early (wall-clock rounding) aligns as one late does.
pub(crate) fn align_timestamp(now: i64, aligned: &mut Option<i64>, interval_ms: i64) -> i64 {
    let anchor = *aligned.get_or_insert(now);
    let k = (now - anchor + interval_ms / 2).div_euclid(interval_ms);
    let slot = anchor + k * interval_ms;
    let tolerance = (interval_ms / 100).min(TIMESTAMP_TOLERANCE_MS);
    if (now - slot).abs() <= tolerance {
        slot
    } else {
        now
    }
}

struct ReportRefs([Option<SeriesRef>; 5]);

async fn run(
    spec: Arc<LoopSpec>,
    storage: Arc<dyn Appendable>,
    metrics: Arc<ScrapeMetrics>,
    cancel: CancellationToken,
    stale_on_stop: Arc<AtomicU8>,
) {
    let target = spec.target.clone();
    let job = target.scrape_pool.clone();
    let now_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let offset = initial_offset(&target, spec.offset_seed, now_ns);
    tokio::select! {
        _ = cancel.cancelled() => return,
        _ = tokio::time::sleep(offset) => {}
    }
    let mut ticker = tokio::time::interval(target.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut cache = ScrapeCache::new();
    let mut report_refs = ReportRefs([None; 5]);
    let report_labels: Vec<Labels> = REPORT_NAMES
        .iter()
        .map(|n| {
            let mut b = Labels::from_pairs([("__name__", *n)]).builder();
            for l in spec.opts.target_labels.iter() {
                b.set(l.name.clone(), l.value.clone());
            }
            b.build()
        })
        .collect();
    let interval_ms = i64::try_from(target.interval.as_millis())
        .unwrap_or(i64::MAX)
        .max(1);
    let mut aligned: Option<i64> = None;
    // The cache's metadata version last copied into the target status.
    let mut meta_version: Option<u64> = None;
    // The last scrape's timestamp: deferred end-of-run markers go just after it.
    let mut last_ts: Option<i64> = None;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = ticker.tick() => {}
        }
        let ts = align_timestamp(now_ms(), &mut aligned, interval_ms);
        last_ts = Some(ts);
        let started = Instant::now();
        let fetched = fetch(&spec.source, target.interval.min(target.timeout)).await;
        let duration = started.elapsed();
        // A typical body is appended in well under a millisecond: on the worker thread. A
        // big one, or any when storage fsyncs every commit, hands the worker's other tasks
        // to another thread first (`block_in_place` costs two context switches, which
        // showed in the ingest profile when paid on every scrape).
        let big = storage.commit_may_block()
            || fetched
                .as_ref()
                .is_ok_and(|(body, _)| body.len() > INLINE_INGEST_BYTES);
        let run = || {
            ingest(
                &spec,
                &storage,
                &mut cache,
                &mut report_refs,
                &report_labels,
                fetched,
                ts,
                duration,
            )
        };
        let (outcome, err) = if big {
            tokio::task::block_in_place(run)
        } else {
            run()
        };
        metrics.observe(&job, duration, &outcome, err.as_ref());
        let mut st = target.status.write();
        st.last_scrape_ms = Some(ts);
        st.last_duration = duration;
        st.last_samples = outcome.scraped;
        match err {
            None => {
                st.health = TargetHealth::Up;
                st.last_error.clear();
                if meta_version != Some(cache.metadata_version()) {
                    meta_version = Some(cache.metadata_version());
                    st.metadata = cache
                        .metadata()
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                }
            }
            Some(e) => {
                let error = redact_url_passwords(&e.to_string()).into_owned();
                debug!(job = %job, url = %redact_url_passwords(&target.url), error = %error, "scrape failed");
                st.health = TargetHealth::Down;
                st.last_error = error;
            }
        }
    }
    match stale_on_stop.load(Ordering::Relaxed) {
        stale_on_stop::NOW => {
            tokio::task::block_in_place(|| {
                write_end_of_run(
                    &storage,
                    &mut cache,
                    &report_labels,
                    now_ms(),
                    &job,
                    &target.url,
                )
            });
        }
        stale_on_stop::DEFERRED => {
            // Detached: the loop's own task ends now; shutdown cancels the wait.
            let Some(last) = last_ts else { return };
            let wait = target.interval * 2 + target.interval / 10;
            let shutdown = spec.shutdown.clone();
            let url = target.url.clone();
            tokio::spawn(async move {
                tokio::select! {
                    _ = shutdown.cancelled() => {}
                    _ = tokio::time::sleep(wait) => {
                        let _ = tokio::task::spawn_blocking(move || {
                            write_end_of_run(&storage, &mut cache, &report_labels, last + 1, &job, &url);
                        })
                        .await;
                    }
                }
            });
        }
        _ => {}
    }
}

/// Stale markers at `ts` for every series of the last scrape and the report series.
/// Rejected markers (a newer sample exists: the series continues elsewhere) are skipped.
fn write_end_of_run(
    storage: &Arc<dyn Appendable>,
    cache: &mut ScrapeCache,
    report_labels: &[Labels],
    ts: i64,
    job: &str,
    url: &str,
) {
    let mut app = storage.appender();
    let mut res = cache.append_end_of_run(app.as_mut(), ts);
    for l in report_labels {
        match app.append(None, l, ts, stale_nan()) {
            Err(e) if !e.is_sample_rejection() => res = Err(e.into()),
            _ => {}
        }
    }
    let res = match res {
        Ok(()) => app.commit().map_err(Error::from),
        Err(e) => {
            let _ = app.rollback();
            Err(e)
        }
    };
    if let Err(e) = res {
        warn!(job = %job, url = %redact_url_passwords(url), error = %e, "writing end-of-run stale markers failed");
    }
}

/// Bodies up to this size are appended on the scrape task's worker thread.
const INLINE_INGEST_BYTES: usize = 256 * 1024;

async fn fetch(source: &Source, timeout: Duration) -> Result<(bytes::Bytes, BodyFormat), Error> {
    match source {
        Source::Http(f) => {
            let r = tokio::time::timeout(timeout, f.fetch(timeout))
                .await
                .map_err(|_| Error::Timeout)??;
            Ok((r.body, r.format))
        }
        Source::Plugin {
            collector,
            name,
            target,
            body_size_limit,
        } => {
            let r = tokio::time::timeout(timeout, collector.collect(name, target, timeout))
                .await
                .map_err(|_| Error::Timeout)?
                .map_err(Error::Plugin)?;
            if *body_size_limit > 0 && r.len() as u64 > *body_size_limit {
                return Err(Error::BodySizeLimit {
                    limit: *body_size_limit,
                });
            }
            Ok((r.into(), BodyFormat::Text(Format::PromText)))
        }
    }
}

/// Appends one scrape's result and its report series in one batch. Returns the counts and
/// the scrape's error, if any. A storage failure on commit is reported as the scrape error.
#[allow(clippy::too_many_arguments)]
fn ingest(
    spec: &LoopSpec,
    storage: &Arc<dyn Appendable>,
    cache: &mut ScrapeCache,
    report_refs: &mut ReportRefs,
    report_labels: &[Labels],
    fetched: Result<(bytes::Bytes, BodyFormat), Error>,
    ts: i64,
    duration: Duration,
) -> (AppendOutcome, Option<Error>) {
    let mut app = storage.appender();
    let (outcome, mut err) = match fetched {
        Ok((body, format)) => {
            match cache.append_body(app.as_mut(), &body, format, ts, &spec.opts) {
                Ok(o) => (o, None),
                Err(e) => {
                    // Parse errors and limits void the whole scrape, as in Prometheus.
                    let _ = app.rollback();
                    app = storage.appender();
                    (AppendOutcome::default(), Some(e))
                }
            }
        }
        Err(e) => (AppendOutcome::default(), Some(e)),
    };
    if err.is_some() {
        if let Err(e) = cache.append_failed(app.as_mut(), ts) {
            warn!(error = %e, "writing stale markers failed");
        }
    }
    let up = if err.is_none() { 1.0 } else { 0.0 };
    let values = [
        up,
        duration.as_secs_f64(),
        outcome.scraped as f64,
        outcome.post_relabel as f64,
        outcome.series_added as f64,
    ];
    for (i, v) in values.iter().enumerate() {
        match app.append(report_refs.0[i], &report_labels[i], ts, *v) {
            Ok(r) => report_refs.0[i] = Some(r),
            Err(e) if e.is_sample_rejection() => {}
            Err(e) => {
                err.get_or_insert(Error::Storage(e));
                break;
            }
        }
    }
    if let Err(e) = app.commit() {
        cache.batch_lost();
        err.get_or_insert(Error::Storage(e));
    }
    (outcome, err)
}

#[cfg(test)]
mod tests {
    use super::align_timestamp;

    #[test]
    fn timestamps_align_to_the_schedule_within_tolerance() {
        let mut a = None;
        assert_eq!(align_timestamp(10_000, &mut a, 1_000), 10_000);
        // Up to 1 % of the interval (at most 2 ms) off the slot: the slot's time.
        assert_eq!(align_timestamp(11_001, &mut a, 1_000), 11_000);
        assert_eq!(align_timestamp(12_002, &mut a, 1_000), 12_000);
        assert_eq!(align_timestamp(12_999, &mut a, 1_000), 13_000);
        // Further off: the real time.
        assert_eq!(align_timestamp(14_003, &mut a, 1_000), 14_003);
        assert_eq!(align_timestamp(14_996, &mut a, 1_000), 14_996);
        // A skipped tick: the schedule carries on.
        assert_eq!(align_timestamp(17_001, &mut a, 1_000), 17_000);
        // Short intervals: the tolerance is 1 % of the interval.
        let mut b = None;
        assert_eq!(align_timestamp(0, &mut b, 100), 0);
        assert_eq!(align_timestamp(101, &mut b, 100), 100);
        assert_eq!(align_timestamp(202, &mut b, 100), 202);
    }
}
