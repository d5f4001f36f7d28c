//! Synthetic scrape targets on loopback, shaped like the benchmark's (`http_requests_total`
//! by method, endpoint and status; a latency histogram per method and endpoint; four process
//! gauges; `app_queue_depth` padding each target to exactly M series), plus churn: a tenth of
//! each target's series carry a `pod` label that changes every churn period, as pods come
//! and go. Pod names are drawn from a bounded pool (they come back after `POD_POOL` periods,
//! well inside the soak's warm-up), so the set of series the daemon's head holds stops
//! growing early and RSS growth after warm-up is a leak, not legitimate head growth (with
//! unbounded churn the head grows until its partition is sealed, as Prometheus' head does
//! until compaction).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const METHODS: [&str; 4] = ["GET", "POST", "PUT", "DELETE"];
const ENDPOINTS: [&str; 9] = [
    "/api/users",
    "/api/orders",
    "/api/search",
    "/api/items",
    "/api/cart",
    "/api/login",
    "/api/payments",
    "/healthz",
    "/api/reports",
];
const STATUSES: [(&str, f64); 6] = [
    ("200", 0.90),
    ("304", 0.03),
    ("400", 0.02),
    ("404", 0.03),
    ("500", 0.012),
    ("503", 0.008),
];
const BUCKETS: [&str; 10] = [
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5",
];
/// Counters + buckets + `+Inf` + `_sum` + `_count` of one (method, endpoint) pair.
const SERIES_PER_PAIR: usize = STATUSES.len() + BUCKETS.len() + 3;
const FIXED_SERIES: usize = 4;
/// How many churn periods before a pod name comes back.
pub(crate) const POD_POOL: u64 = 3;

/// A small deterministic generator (splitmix64), so every run serves the same shapes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next()
    }
}

struct Pair {
    method: &'static str,
    endpoint: &'static str,
    rate: f64,
    /// Cumulative share of requests at or under each bucket bound (increasing, last < 1).
    cdf: [f64; BUCKETS.len()],
    mean_s: f64,
}

/// The layout of one target.
struct Shape {
    pairs: Vec<Pair>,
    n_churn: usize,
    n_queues: usize,
    phase: f64,
}

impl Shape {
    fn new(idx: usize, m: usize) -> Shape {
        let mut rnd = Rng(idx as u64 * 1_000_003 + 42);
        let n_churn = m / 10;
        let n_pairs = m.saturating_sub(FIXED_SERIES + n_churn) / SERIES_PER_PAIR;
        let n_pairs = n_pairs.min(METHODS.len() * ENDPOINTS.len());
        let pairs = (0..n_pairs)
            .map(|k| {
                let mut acc = 0.0;
                let mut cdf = [0.0; BUCKETS.len()];
                for c in cdf.iter_mut() {
                    acc += rnd.uniform(0.01, 0.09);
                    *c = acc;
                }
                Pair {
                    method: METHODS[k % METHODS.len()],
                    endpoint: ENDPOINTS[k / METHODS.len()],
                    rate: rnd.uniform(2.0, 40.0),
                    cdf,
                    mean_s: rnd.uniform(0.02, 0.5),
                }
            })
            .collect();
        let n_queues = m.saturating_sub(FIXED_SERIES + n_churn + n_pairs * SERIES_PER_PAIR);
        Shape {
            pairs,
            n_churn,
            n_queues,
            phase: rnd.uniform(0.0, std::f64::consts::TAU),
        }
    }

    /// The exposition at `t` seconds since the start, in churn period `generation`.
    fn render(&self, idx: usize, t: f64, generation: u64) -> String {
        use std::fmt::Write as _;
        let mut out = String::with_capacity(64 * 1024);
        let wave = |w: f64| 1.0 + 0.5 * (t / w + self.phase).sin();
        if !self.pairs.is_empty() {
            out.push_str(
                "# HELP http_requests_total Total requests.\n# TYPE http_requests_total counter\n",
            );
            for p in &self.pairs {
                for (status, share) in STATUSES {
                    let v = (p.rate * share * t).floor();
                    let _ = writeln!(
                        out,
                        "http_requests_total{{method=\"{}\",endpoint=\"{}\",status=\"{status}\"}} {v}",
                        p.method, p.endpoint
                    );
                }
            }
            out.push_str("# HELP http_request_duration_seconds Request latency.\n# TYPE http_request_duration_seconds histogram\n");
            for p in &self.pairs {
                let total = (p.rate * t).floor();
                for (le, share) in BUCKETS.iter().zip(p.cdf) {
                    let _ = writeln!(
                        out,
                        "http_request_duration_seconds_bucket{{method=\"{}\",endpoint=\"{}\",le=\"{le}\"}} {}",
                        p.method,
                        p.endpoint,
                        (total * share).floor()
                    );
                }
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_bucket{{method=\"{}\",endpoint=\"{}\",le=\"+Inf\"}} {total}",
                    p.method, p.endpoint
                );
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_sum{{method=\"{}\",endpoint=\"{}\"}} {}",
                    p.method,
                    p.endpoint,
                    total * p.mean_s
                );
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_count{{method=\"{}\",endpoint=\"{}\"}} {total}",
                    p.method, p.endpoint
                );
            }
        }
        let _ = write!(
            out,
            "# HELP http_requests_active Active requests.\n# TYPE http_requests_active gauge\nhttp_requests_active {}\n\
             # HELP process_resident_memory_bytes Resident memory size in bytes.\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes {}\n\
             # HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total {}\n\
             # HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds 1700000000\n",
            (12.0 * wave(37.0)).round(),
            (200e6 * wave(90.0) + 4096.0 * t).floor(),
            0.1 * t,
        );
        if self.n_churn > 0 {
            out.push_str("# HELP app_pod_requests_total Requests served by a pod.\n# TYPE app_pod_requests_total counter\n");
            let slot = generation % POD_POOL;
            for k in 0..self.n_churn {
                let _ = writeln!(
                    out,
                    "app_pod_requests_total{{pod=\"t{idx}-p{slot}-{k}\"}} {}",
                    (3.0 * t).floor()
                );
            }
        }
        if self.n_queues > 0 {
            out.push_str("# HELP app_queue_depth Items waiting in a work queue.\n# TYPE app_queue_depth gauge\n");
            for j in 0..self.n_queues {
                let _ = writeln!(
                    out,
                    "app_queue_depth{{queue=\"q{j}\"}} {}",
                    (20.0 * wave(30.0 + j as f64)).floor()
                );
            }
        }
        out
    }
}

/// `n_targets` targets of `n_series` series each, target i on its own loopback port at
/// `/metrics`; stopped (listeners closed, connection threads ending) when dropped.
pub(crate) struct Targets {
    pub(crate) addrs: Vec<String>,
    /// The churn period the targets are in; the soak driver advances it.
    pub(crate) generation: Arc<AtomicU64>,
    pub(crate) scrapes: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Targets {
    pub(crate) fn start(n_targets: usize, n_series: usize) -> Targets {
        let stop = Arc::new(AtomicBool::new(false));
        let generation = Arc::new(AtomicU64::new(0));
        let scrapes = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let mut addrs = Vec::new();
        let mut threads = Vec::new();
        for idx in 0..n_targets {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.set_nonblocking(true).unwrap();
            addrs.push(l.local_addr().unwrap().to_string());
            let shape = Arc::new(Shape::new(idx, n_series));
            let (stop, generation, scrapes) = (stop.clone(), generation.clone(), scrapes.clone());
            threads.push(std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match l.accept() {
                        Ok((s, _)) => {
                            let (shape, stop, generation, scrapes) = (
                                shape.clone(),
                                stop.clone(),
                                generation.clone(),
                                scrapes.clone(),
                            );
                            std::thread::spawn(move || {
                                serve_conn(s, &stop, |_| {
                                    scrapes.fetch_add(1, Ordering::Relaxed);
                                    let t = started.elapsed().as_secs_f64();
                                    shape.render(idx, t, generation.load(Ordering::Relaxed))
                                })
                            });
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(20)),
                    }
                }
            }));
        }
        Targets {
            addrs,
            generation,
            scrapes,
            stop,
            threads,
        }
    }
}

impl Drop for Targets {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Serves HTTP/1.1 requests on one keep-alive connection until the peer closes it, an error
/// occurs, or `stop` is set (noticed within the 1 s read timeout).
fn serve_conn(s: TcpStream, stop: &AtomicBool, body: impl Fn(&str) -> String) {
    let _ = s.set_nonblocking(false);
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    let mut w = match s.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut r = BufReader::new(s);
    let mut line = String::new();
    while !stop.load(Ordering::Relaxed) {
        line.clear();
        match r.read_line(&mut line) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue
            }
            Err(_) => return,
        }
        let path = line.split(' ').nth(1).unwrap_or("/").to_string();
        // Headers up to the blank line; a GET has no body worth reading.
        let mut content_length = 0usize;
        loop {
            let mut h = String::new();
            match r.read_line(&mut h) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if h == "\r\n" || h == "\n" {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    content_length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        if content_length > 0 {
            let mut sink = vec![0u8; content_length];
            if r.read_exact(&mut sink).is_err() {
                return;
            }
        }
        let b = body(&path);
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
            b.len()
        );
        if w.write_all(head.as_bytes()).is_err() || w.write_all(b.as_bytes()).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every target serves exactly M series that our own parser accepts.
    #[test]
    fn shape_has_exactly_m_valid_series() {
        for m in [10, 100, 250, 1000] {
            let body = Shape::new(3, m).render(3, 1234.5, 7);
            let mut n = 0;
            for e in
                sightline_exposition::parse(body.as_bytes(), sightline_exposition::Format::PromText)
            {
                if let sightline_exposition::Entry::Series(_) = e.unwrap() {
                    n += 1;
                }
            }
            assert_eq!(n, m, "{body}");
        }
    }
}
