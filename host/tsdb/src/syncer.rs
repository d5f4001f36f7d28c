//! The WAL's background fsync under [`FsyncPolicy::Interval`]: every interval a thread takes
//! the segments written since the last fsync from the WAL (a moment under its lock) and
//! fsyncs them with the lock released. A commit therefore never waits for the disk, and the
//! scrape loops that commit on async workers never block them (`FsyncPolicy::Always` is the
//! one policy whose commits wait, and `Appendable::commit_may_block` says so).

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};
use sightline_telemetry::supervise::{supervise_thread, Backoff};

use crate::wal::Wal;

/// Stops and joins its thread when dropped, after a last fsync.
pub(crate) struct WalSyncer {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl WalSyncer {
    pub(crate) fn start(wal: Arc<Mutex<Wal>>, every: Duration) -> std::io::Result<WalSyncer> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let st = stop.clone();
        let thread = std::thread::Builder::new()
            .name("sightline-wal-sync".into())
            .spawn(move || {
                // Supervised: a panic is logged, counted and the loop restarts after a
                // backoff (cut short by a stop). The WAL's lock is parking_lot's: released
                // while unwinding, never poisoned.
                let stopping = || *st.0.lock();
                supervise_thread("wal_syncer", stopping, Backoff::default(), || loop {
                    let stopping = {
                        let (m, cv) = &*st;
                        let mut stopped = m.lock();
                        if !*stopped {
                            cv.wait_for(&mut stopped, every);
                        }
                        *stopped
                    };
                    let files = wal.lock().take_sync_job();
                    for f in files {
                        if let Err(e) = f.sync_data() {
                            tracing::error!(error = %e, "WAL fsync failed");
                        }
                    }
                    if stopping {
                        return;
                    }
                })
            })?;
        Ok(WalSyncer {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for WalSyncer {
    fn drop(&mut self) {
        let (m, cv) = &*self.stop;
        *m.lock() = true;
        cv.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
