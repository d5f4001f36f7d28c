//! Test support: a daemon process guard, tiny HTTP client and target server on loopback.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_sightline");

/// Test material vendored under the repository's `tests/` (seed, peer tools, conformance
/// suites), e.g. `vendored("tools/om_scrape_suite.py")`.
pub(crate) fn vendored(rel: &str) -> PathBuf {
    sightline_tests::vendored(rel)
}

/// Percent-encodes a query parameter value.
pub(crate) fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `sightline import openmetrics FILE` into `<dir>/data` (where [`Daemon::start_in`] looks),
/// asserting success.
pub(crate) fn import_openmetrics(file: &Path, dir: &Path) {
    let out = Command::new(BIN)
        .args(["import", "openmetrics"])
        .arg(file)
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sightline import: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running daemon; killed when dropped.
pub(crate) struct Daemon {
    pub(crate) child: Child,
    pub(crate) addr: String,
    pub(crate) dir: tempfile::TempDir,
}

impl Daemon {
    /// Starts `sightline serve` with `config` (None = embedded default) and waits until
    /// `/-/ready` answers 200 (at most 30 s).
    pub(crate) fn start(config: Option<&str>, extra: &[&str]) -> Daemon {
        Daemon::start_in(tempfile::tempdir().unwrap(), config, extra)
    }

    /// Like [`Daemon::start`], in an existing directory (to restart on the same data).
    pub(crate) fn start_in(dir: tempfile::TempDir, config: Option<&str>, extra: &[&str]) -> Daemon {
        Daemon::start_in_env(dir, config, extra, &[])
    }

    /// Like [`Daemon::start_in`], with extra environment variables for the daemon.
    pub(crate) fn start_in_env(
        dir: tempfile::TempDir,
        config: Option<&str>,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Daemon {
        let mut d = Daemon::spawn_env(dir, config, extra, env);
        d.wait_ready();
        d
    }

    /// Starts `sightline serve` without waiting for it (for servers behind TLS, basic auth or
    /// a route prefix, which the caller probes itself with [`Daemon::wait_for`]).
    pub(crate) fn spawn(config: Option<&str>, extra: &[&str]) -> Daemon {
        Daemon::spawn_in(tempfile::tempdir().unwrap(), config, extra)
    }

    /// Like [`Daemon::spawn`], in a prepared directory (its `data/` is the TSDB).
    pub(crate) fn spawn_at(dir: tempfile::TempDir, config: Option<&str>, extra: &[&str]) -> Daemon {
        Daemon::spawn_in(dir, config, extra)
    }

    fn spawn_in(dir: tempfile::TempDir, config: Option<&str>, extra: &[&str]) -> Daemon {
        Daemon::spawn_env(dir, config, extra, &[])
    }

    /// Like [`Daemon::start_in_env`], with the configuration made from the daemon's own
    /// address (`config(addr)`), for a configuration that scrapes the daemon itself.
    pub(crate) fn start_with_own_addr(
        dir: tempfile::TempDir,
        config: impl FnOnce(&str) -> String,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Daemon {
        let addr = format!("127.0.0.1:{}", free_port());
        let config = config(&addr);
        let mut d = Daemon::spawn_on(addr, dir, Some(&config), extra, env);
        d.wait_ready();
        d
    }

    fn spawn_env(
        dir: tempfile::TempDir,
        config: Option<&str>,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Daemon {
        Daemon::spawn_on(
            format!("127.0.0.1:{}", free_port()),
            dir,
            config,
            extra,
            env,
        )
    }

    fn spawn_on(
        addr: String,
        dir: tempfile::TempDir,
        config: Option<&str>,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Daemon {
        let mut cmd = Command::new(BIN);
        cmd.arg("serve")
            .arg(format!("--web.listen-address={addr}"))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!(
                "--plugins.dir={}",
                dir.path().join("plugins").display()
            ));
        if let Some(c) = config {
            let p = dir.path().join("prometheus.yml");
            std::fs::write(&p, c).unwrap();
            cmd.arg(format!("--config.file={}", p.display()));
        }
        cmd.args(extra)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let child = cmd.spawn().expect("spawn sightline");
        Daemon { child, addr, dir }
    }

    fn wait_ready(&mut self) {
        self.wait_for("/-/ready to answer 200", |addr| {
            matches!(http_get(addr, "/-/ready"), Ok((200, _)))
        });
    }

    /// Waits (at most 30 s) until `probe(addr)` holds, failing early if the daemon exits.
    pub(crate) fn wait_for(&mut self, what: &str, probe: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(st)) = self.child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                panic!("sightline exited early with {st}: {err}");
            }
            if probe(&self.addr) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("sightline: no {what} within 30s");
    }

    /// Waits (at most 20 s) for the process to exit by itself.
    pub(crate) fn wait_exit(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("sightline did not exit within 20s");
    }

    pub(crate) fn config_path(&self) -> PathBuf {
        self.dir.path().join("prometheus.yml")
    }

    pub(crate) fn get_json(&self, path: &str) -> serde_json::Value {
        let (code, body) = http_get(&self.addr, path).unwrap();
        assert_eq!(code, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: bad JSON {e}: {body}"))
    }

    /// Sends a signal and waits (at most 20 s) for the exit status.
    pub(crate) fn signal_and_wait(&mut self, sig: &str) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let st = Command::new("kill")
            .args([&format!("-{sig}"), &pid])
            .status()
            .unwrap();
        assert!(st.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("sightline did not exit within 20s of SIG{sig}");
    }

    /// Stops with SIGTERM (asserting a clean exit) and hands back the directory.
    pub(crate) fn stop(mut self) -> tempfile::TempDir {
        let st = self.signal_and_wait("TERM");
        assert!(st.success(), "{st}");
        let dir = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self.dir, dir)
    }

    pub(crate) fn send_signal(&self, sig: &str) {
        let st = Command::new("kill")
            .args([&format!("-{sig}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(st.success());
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `f` every 100 ms until it returns Some, at most `secs` seconds.
pub(crate) fn eventually<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {secs}s waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Minimal HTTP/1.1 request over loopback (no keep-alive), returning status and body.
pub(crate) fn http_request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<(u16, String)> {
    http_exchange(addr, method, path, headers, body).map(|(c, _, b)| (c, b))
}

/// Like [`http_request`], also returning the response head (status line and headers).
pub(crate) fn http_exchange(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<(u16, String, String)> {
    sightline_tests::http_exchange(addr, method, path, headers, body, Duration::from_secs(10))
}

pub(crate) fn http_get(addr: &str, path: &str) -> std::io::Result<(u16, String)> {
    http_request(addr, "GET", path, &[], b"")
}

/// A loopback HTTP server answering every request with the current body and content type.
pub(crate) struct TargetServer {
    pub(crate) addr: String,
    stop: Arc<AtomicBool>,
    pub(crate) requests: Arc<Mutex<Vec<String>>>,
}

impl TargetServer {
    pub(crate) fn start(content_type: &str, body: &str) -> TargetServer {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let body = Arc::new(Mutex::new((
            content_type.to_string(),
            body.as_bytes().to_vec(),
        )));
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (b, st, rq) = (body.clone(), stop.clone(), requests.clone());
        std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                match l.accept() {
                    Ok((mut s, _)) => {
                        let _ = s.set_nonblocking(false);
                        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                        let mut buf = [0u8; 8192];
                        let n = s.read(&mut buf).unwrap_or(0);
                        rq.lock()
                            .unwrap()
                            .push(String::from_utf8_lossy(&buf[..n]).to_string());
                        let (ct, body) = b.lock().unwrap().clone();
                        let head = format!("HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
                        let _ = s.write_all(head.as_bytes());
                        let _ = s.write_all(&body);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        TargetServer {
            addr,
            stop,
            requests,
        }
    }
}

impl Drop for TargetServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Fails the test by name when a peer program is missing: the side-by-side tests need
/// Debian's `prometheus` (prometheus, promtool), `prometheus-alertmanager` (its daemon and
/// amtool), `victoria-metrics` and `python3`; `./dev test` and `.ci/run` install them.
pub(crate) fn need(cmd: &str) {
    let package = match cmd {
        "prometheus" | "promtool" => "prometheus",
        "prometheus-alertmanager" | "amtool" => "prometheus-alertmanager",
        other => other,
    };
    let ok = Command::new(cmd)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "`{cmd}` is needed by this side-by-side test: install Debian's {package} package \
         (apt-get install {package}); ./dev test and .ci/run do that"
    );
}

/// Resident set size of process `pid` in bytes (0 when it is gone).
pub(crate) fn rss(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse::<u64>().ok())
        .unwrap_or(0)
        * 1024
}

/// Starts the benchmark targets (`tests/tools/targets.py`): `targets` targets of `series`
/// series each, all behind one loopback port at `/metrics/<i>`, with counters a day old as in
/// production (near zero, the order of two steps of rate()'s extrapolation, which 3.x
/// changed, would show). Returns the process (killed when dropped) and its address, once it
/// answers.
pub(crate) fn bench_targets(targets: usize, series: usize, max_seconds: u64) -> (Proc, String) {
    need("python3");
    let port = free_port();
    let proc = Proc(
        Command::new("python3")
            .arg(vendored("tools/targets.py"))
            .args(["--targets", &targets.to_string()])
            .args(["--series-per-target", &series.to_string(), "--ports", "1"])
            .args(["--port", &port.to_string()])
            .args(["--max-seconds", &max_seconds.to_string()])
            .args([
                "--epoch",
                &(sightline_model::now_ms() / 1000 - 86_400).to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs targets.py"),
    );
    let addr = format!("127.0.0.1:{port}");
    eventually(30, "targets.py", || {
        http_get(&addr, "/-/healthy").ok().filter(|r| r.0 == 200)
    });
    (proc, addr)
}

/// Installs the first-party plugin `name` (its built component and its manifest from
/// `plugins/`) into `dir`.
pub(crate) fn install_first_party(dir: &Path, name: &str) {
    let manifest =
        std::fs::read_to_string(sightline_tests::repo_root().join(format!("plugins/{name}.toml")))
            .unwrap();
    sightline_tests::install(
        dir,
        name,
        &sightline_tests::first_party(name),
        Some(&manifest),
    );
}

/// A child process killed when dropped.
pub(crate) struct Proc(pub(crate) Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts Debian's Prometheus 2.42 on a free loopback port with `config` (written to
/// `dir/prometheus.yml`), its data in `dir/data` and `extra` flags; returns the process (killed
/// when dropped) and its address once it is ready.
pub(crate) fn start_prometheus(dir: &Path, config: &str, extra: &[&str]) -> (Proc, String) {
    let addr = format!("127.0.0.1:{}", free_port());
    let proc = start_prometheus_on(dir, &addr, config, extra);
    (proc, addr)
}

/// Like [`start_prometheus`], on `addr` (to restart a killed Prometheus where its clients
/// expect it, on the same data).
pub(crate) fn start_prometheus_on(dir: &Path, addr: &str, config: &str, extra: &[&str]) -> Proc {
    need("prometheus");
    let cfg = dir.join("prometheus.yml");
    std::fs::write(&cfg, config).unwrap();
    let proc = Proc(
        Command::new("prometheus")
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--log.level=warn")
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus"),
    );
    eventually(60, "prometheus ready", || {
        http_get(addr, "/-/ready").ok().filter(|r| r.0 == 200)
    });
    proc
}

/// Starts Debian's VictoriaMetrics (single node) on a free loopback port with its data in
/// `dir/vm`; returns the process (killed when dropped) and its address once `/health` answers.
pub(crate) fn start_victoria_metrics(dir: &Path) -> (Proc, String) {
    let addr = format!("127.0.0.1:{}", free_port());
    let proc = start_victoria_metrics_on(dir, &addr);
    (proc, addr)
}

/// Like [`start_victoria_metrics`], on `addr` (to restart it on the same port and data).
///
/// The retention is a century, so that no test's timestamps fall outside it (VictoriaMetrics
/// silently drops such samples). `-search.latencyOffset=0` makes queries see samples up to
/// now (by default the last 30 s are hidden as possibly incomplete), and
/// `-search.disableCache` keeps a retried query from being answered from the response cache.
/// Raw samples (`/api/v1/export`) become visible a few seconds after they are written, when
/// VictoriaMetrics flushes its in-memory rows: readers retry.
pub(crate) fn start_victoria_metrics_on(dir: &Path, addr: &str) -> Proc {
    need("victoria-metrics");
    let proc = Proc(
        Command::new("victoria-metrics")
            .arg(format!("-httpListenAddr={addr}"))
            .arg(format!("-storageDataPath={}", dir.join("vm").display()))
            .arg("-retentionPeriod=100y")
            .arg("-search.latencyOffset=0")
            .arg("-search.disableCache")
            .arg("-loggerLevel=ERROR")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start victoria-metrics"),
    );
    eventually(30, "victoria-metrics ready", || {
        http_get(addr, "/health").ok().filter(|r| r.0 == 200)
    });
    proc
}
