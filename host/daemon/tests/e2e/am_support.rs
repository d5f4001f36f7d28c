//! Support for the Alertmanager side-by-side tests (issue 16): a real Alertmanager 0.25 on
//! loopback, the same role played by `sightline serve --alertmanager.config.file`, webhook
//! sinks that record every notification, a timed alert scenario posted to several targets at
//! the same moments, and a normaliser that keeps what must be identical between the two.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::*;

/// The Alertmanager under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// Debian's Alertmanager 0.25 (`prometheus-alertmanager`).
    RealAm,
    /// `sightline serve --alertmanager.config.file=...`.
    Sightline,
}

impl Target {
    /// The targets every test runs against: the real Alertmanager (which fails by name when
    /// the package is missing) and Sightline.
    pub(crate) fn enabled(_test: &str) -> Vec<Target> {
        need("prometheus-alertmanager");
        need("amtool");
        vec![Target::RealAm, Target::Sightline]
    }
}

/// Kills a peer process when dropped.
pub(crate) struct Peer(pub(crate) Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Peer {
    /// Stops with SIGTERM (so Alertmanager writes its final snapshots) and waits (≤ 20 s).
    pub(crate) fn terminate(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("alertmanager did not exit within 20s of SIGTERM");
    }
}

/// Starts a real Alertmanager 0.25 on `addr` with `config`, state in `storage`, clustering
/// off, and waits (≤ 30 s) until `/-/ready` answers 200.
pub(crate) fn start_real_am(config: &Path, storage: &Path, addr: &str) -> Peer {
    let peer = Peer(
        Command::new("prometheus-alertmanager")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.path={}", storage.display()))
            .arg(format!("--web.listen-address={addr}"))
            .arg(format!("--web.external-url=http://{addr}/"))
            .arg("--cluster.listen-address=")
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start alertmanager"),
    );
    eventually(30, "alertmanager ready", || {
        http_get(addr, "/-/ready").ok().filter(|r| r.0 == 200)
    });
    peer
}

/// The process behind an [`Am`].
enum Proc {
    Real(Peer),
    Ours(Daemon),
    Stopped,
}

/// One Alertmanager under test (either kind), with its config file and state kept in a
/// directory of its own so it can be restarted on the same state.
pub(crate) struct Am {
    pub(crate) target: Target,
    /// `127.0.0.1:<port>`; the API v2 is under `http://<addr>/api/v2/`.
    pub(crate) addr: String,
    pub(crate) config: PathBuf,
    proc: Proc,
    /// Sightline's run directory (its `data/` and `plugins/`), handed from run to run.
    ours_dir: Option<tempfile::TempDir>,
    work: PathBuf,
}

impl Am {
    /// Starts `target` on the Alertmanager config text `yaml`, with its files under `work`.
    pub(crate) fn start(target: Target, yaml: &str, work: &Path) -> Am {
        // A directory per instance: a test may run two of the same kind side by side.
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let work = work.join(format!("{target:?}-{n}"));
        std::fs::create_dir_all(&work).unwrap();
        let config = work.join("alertmanager.yml");
        std::fs::write(&config, yaml).unwrap();
        let mut am = Am {
            target,
            addr: String::new(),
            config,
            proc: Proc::Stopped,
            ours_dir: None,
            work,
        };
        if target == Target::Sightline {
            let dir = tempfile::tempdir().unwrap();
            let plugins = dir.path().join("plugins");
            std::fs::create_dir_all(&plugins).unwrap();
            // The first-party receivers, as `./dev run` installs them.
            for name in [
                "webhook",
                "slack",
                "pagerduty",
                "discord",
                "opsgenie",
                "victorops",
                "webex",
                "telegram",
                "msteams",
                "email",
            ] {
                crate::support::install_first_party(&plugins, name);
            }
            am.ours_dir = Some(dir);
        }
        am.run();
        am
    }

    fn run(&mut self) {
        match self.target {
            Target::RealAm => {
                // A fresh port each run: the old socket may linger briefly after a restart.
                self.addr = format!("127.0.0.1:{}", free_port());
                self.proc = Proc::Real(start_real_am(
                    &self.config,
                    &self.work.join("storage"),
                    &self.addr,
                ));
            }
            Target::Sightline => {
                let dir = self.ours_dir.take().expect("sightline run directory");
                let flag = format!("--alertmanager.config.file={}", self.config.display());
                // No scrape targets and no rules: the embedded default config's rules would
                // otherwise be able to raise alerts of their own beside the scenario's.
                let d = Daemon::start_in(dir, Some("scrape_configs: []\n"), &[&flag]);
                self.addr = d.addr.clone();
                self.proc = Proc::Ours(d);
            }
        }
    }

    /// Stops gracefully (SIGTERM) and starts again on the same config and state.
    pub(crate) fn restart(&mut self) {
        match std::mem::replace(&mut self.proc, Proc::Stopped) {
            Proc::Real(p) => p.terminate(),
            Proc::Ours(d) => self.ours_dir = Some(d.stop()),
            Proc::Stopped => {}
        }
        self.run();
    }

    /// Writes a new config and sends SIGHUP (which both Alertmanager and `sightline serve`
    /// take as "reload the configuration").
    pub(crate) fn reload(&mut self, yaml: &str) {
        std::fs::write(&self.config, yaml).unwrap();
        let pid = match &self.proc {
            Proc::Real(p) => p.0.id(),
            Proc::Ours(d) => d.child.id(),
            Proc::Stopped => panic!("reload of a stopped target"),
        };
        let st = Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status()
            .unwrap();
        assert!(st.success());
    }

    /// Kills with SIGKILL (no chance to write anything) and starts again on the same state.
    pub(crate) fn crash_restart(&mut self) {
        match std::mem::replace(&mut self.proc, Proc::Stopped) {
            Proc::Real(p) => drop(p),
            Proc::Ours(mut d) => {
                let _ = d.child.kill();
                let _ = d.child.wait();
                self.ours_dir = Some(std::mem::replace(&mut d.dir, tempfile::tempdir().unwrap()));
            }
            Proc::Stopped => {}
        }
        self.run();
    }

    /// POSTs API v2 alerts, asserting 200.
    pub(crate) fn post_alerts(&self, alerts: &Value) {
        post_alerts(&self.addr, alerts);
    }

    /// GET `path` as JSON, asserting 200.
    pub(crate) fn get(&self, path: &str) -> Value {
        let (code, body) = http_get(&self.addr, path).unwrap();
        assert_eq!(code, 200, "{:?} GET {path}: {body}", self.target);
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
    }
}

/// POSTs `alerts` (an API v2 JSON array) to the Alertmanager at `addr`, asserting 200.
pub(crate) fn post_alerts(addr: &str, alerts: &Value) {
    let body = alerts.to_string();
    let (code, text) = http_request(
        addr,
        "POST",
        "/api/v2/alerts",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
    .unwrap();
    assert_eq!(code, 200, "POST /api/v2/alerts to {addr}: {text}\n{body}");
}

/// One request a sink received.
#[derive(Clone, Debug)]
pub(crate) struct Received {
    pub(crate) at: Instant,
    pub(crate) path: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Value,
    /// The body's bytes as sent.
    pub(crate) raw: Vec<u8>,
}

/// The Bot API's answer to `sendMessage`, which a sink gives for a path ending in it.
const TELEGRAM_OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 92\r\nConnection: close\r\n\r\n{\"ok\":true,\"result\":{\"message_id\":1,\"chat\":{\"id\":-1001,\"type\":\"group\"},\"date\":1,\"text\":\"x\"}}";

/// A loopback webhook receiver that records every request and answers 200.
pub(crate) struct Sink {
    pub(crate) addr: String,
    got: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
}

impl Sink {
    pub(crate) fn start() -> Sink {
        Sink::start_with_delay(Duration::ZERO)
    }

    /// A sink that holds each request `delay` before answering (a hanging receiver); it
    /// answers one request at a time, so later ones wait in the listen backlog meanwhile.
    pub(crate) fn start_with_delay(delay: Duration) -> Sink {
        Sink::start_with(delay, 0)
    }

    /// A sink that answers its first `fail_first` requests with 500 (a failing receiver,
    /// which Alertmanager retries), then 200; each after `delay`.
    pub(crate) fn start_with(delay: Duration, fail_first: usize) -> Sink {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let got = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (g, st) = (got.clone(), stop.clone());
        std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                let Ok((mut s, _)) = l.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let at = Instant::now();
                let _ = s.set_nonblocking(false);
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let Some((head, body)) = read_request(&mut s) else {
                    continue;
                };
                let mut lines = head.lines();
                let path = lines
                    .next()
                    .and_then(|l| l.split_whitespace().nth(1))
                    .unwrap_or("")
                    .to_string();
                let telegram = path.ends_with("/sendMessage");
                let headers = lines
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                    .collect();
                let raw = body;
                let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
                g.lock().unwrap().push(Received {
                    at,
                    path,
                    headers,
                    body,
                    raw,
                });
                let n = g.lock().unwrap().len();
                std::thread::sleep(delay);
                let answer: &[u8] = if n <= fail_first {
                    b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\nConnection: close\r\n\r\nfail"
                } else if telegram {
                    // Telegram's Bot API answer: Alertmanager's client fails any other.
                    TELEGRAM_OK
                } else {
                    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                };
                let _ = s.write_all(answer);
            }
        });
        Sink { addr, got, stop }
    }

    /// Everything received so far, in arrival order.
    pub(crate) fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Reads one HTTP/1.1 request (head, body by Content-Length).
pub(crate) fn read_request(s: &mut std::net::TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..i]).to_string();
            let len = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            while buf.len() < i + 4 + len {
                let n = s.read(&mut chunk).ok()?;
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Some((head, buf[i + 4..].to_vec()));
        }
    }
}

/// One webhook sink per receiver name; a config template names a receiver's URL as
/// `@sink:<name>@`, replaced by `http://<sink addr>/<name>`.
pub(crate) struct Sinks(pub(crate) BTreeMap<String, Sink>);

impl Sinks {
    pub(crate) fn new(receivers: &[&str]) -> Sinks {
        Sinks(
            receivers
                .iter()
                .map(|r| (r.to_string(), Sink::start()))
                .collect(),
        )
    }

    /// Like [`Sinks::new`], with the sink of `slow` holding every request `delay`.
    pub(crate) fn with_slow(receivers: &[&str], slow: &str, delay: Duration) -> Sinks {
        let mut sinks = Sinks::new(receivers);
        sinks
            .0
            .insert(slow.to_string(), Sink::start_with_delay(delay));
        sinks
    }

    /// `template` with every `@sink:<name>@` replaced by that sink's URL.
    pub(crate) fn render(&self, template: &str) -> String {
        let mut out = template.to_string();
        for (name, s) in &self.0 {
            out = out.replace(
                &format!("@sink:{name}@"),
                &format!("http://{}/{name}", s.addr),
            );
        }
        assert!(!out.contains("@sink:"), "a sink is missing for {out}");
        out
    }

    /// Every notification, per receiver, as (ms since `t0`, normalised payload), sorted as
    /// [`by_tick`] says.
    pub(crate) fn notifications(&self, t0: Instant, tick_ms: u64) -> Notifications {
        self.0
            .iter()
            .map(|(name, s)| {
                let mut v: Vec<(u64, Value)> = s
                    .received()
                    .into_iter()
                    .map(|r| {
                        assert_eq!(r.path, format!("/{name}"), "sink of {name}");
                        let ct = r
                            .headers
                            .iter()
                            .find(|(k, _)| k == "content-type")
                            .map(|(_, v)| v.as_str())
                            .unwrap_or("");
                        assert!(ct.starts_with("application/json"), "content type {ct}");
                        (
                            r.at.saturating_duration_since(t0).as_millis() as u64,
                            normalise(&r.body),
                        )
                    })
                    .collect();
                by_tick(&mut v, tick_ms);
                (name.clone(), v)
            })
            .collect()
    }
}

/// Notifications per receiver: (ms since the scenario began, normalised payload).
pub(crate) type Notifications = BTreeMap<String, Vec<(u64, Value)>>;

/// Orders notifications by the group-interval tick they fall in, then by group key: several
/// groups of one receiver flushing on the same tick arrive in no defined order (Alertmanager
/// runs each group in its own goroutine), while the order of ticks is what must match. The
/// scenarios post on even seconds and use `group_wait: 1s`, `group_interval: 2s`, so every
/// flush lands mid-bucket, a second away from either edge.
pub(crate) fn by_tick(v: &mut [(u64, Value)], tick_ms: u64) {
    v.sort_by(|a, b| {
        (a.0 / tick_ms).cmp(&(b.0 / tick_ms)).then_with(|| {
            a.1["groupKey"]
                .to_string()
                .cmp(&b.1["groupKey"].to_string())
        })
    });
}

/// Alertmanager's webhook payload (version 4) without what legitimately differs between two
/// servers or two runs: timestamps (`startsAt`, `endsAt`) keep only their shape (`<zero>` for
/// Go's zero time, `<time>` for a valid RFC 3339 time, anything else as it is) and URLs
/// (`externalURL`, `generatorURL`) only whether they are empty. Everything else is kept:
/// receiver, status, groupKey, groupLabels, commonLabels, commonAnnotations, truncatedAlerts,
/// version, and each alert's status, labels, annotations and fingerprint, in the order sent;
/// `fields` lists the payload's and each alert's keys, so a field added or missing shows.
pub(crate) fn normalise(payload: &Value) -> Value {
    let time = |v: &Value| -> Value {
        match v.as_str() {
            Some("0001-01-01T00:00:00Z") => json!("<zero>"),
            Some(t) if chrono::DateTime::parse_from_rfc3339(t).is_ok() => json!("<time>"),
            _ => v.clone(),
        }
    };
    let url = |v: &Value| -> Value {
        match v.as_str() {
            Some("") => json!(""),
            Some(_) => json!("<url>"),
            None => v.clone(),
        }
    };
    let keys = |v: &Value| -> Value {
        let mut k: Vec<&String> = v
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        k.sort();
        json!(k)
    };
    let alerts: Vec<Value> = payload["alerts"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| {
                    json!({
                        "fields": keys(x),
                        "status": x["status"],
                        "labels": x["labels"],
                        "annotations": x["annotations"],
                        "fingerprint": x["fingerprint"],
                        "startsAt": time(&x["startsAt"]),
                        "endsAt": time(&x["endsAt"]),
                        "generatorURL": url(&x["generatorURL"]),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "fields": keys(payload),
        "receiver": payload["receiver"],
        "status": payload["status"],
        "groupKey": payload["groupKey"],
        "groupLabels": payload["groupLabels"],
        "commonLabels": payload["commonLabels"],
        "commonAnnotations": payload["commonAnnotations"],
        "truncatedAlerts": payload["truncatedAlerts"],
        "version": payload["version"],
        "externalURL": url(&payload["externalURL"]),
        "alerts": alerts,
    })
}

/// An alert of a scenario: labels and annotations; firing or resolved when posted.
#[derive(Clone, Debug)]
pub(crate) struct ScenarioAlert {
    pub(crate) labels: Vec<(&'static str, &'static str)>,
    pub(crate) annotations: Vec<(&'static str, &'static str)>,
}

/// One step of a timed scenario: at `at_ms` after the start, post these alerts firing and
/// resolve those (by their index in the scenario's alert list).
pub(crate) struct Step {
    pub(crate) at_ms: u64,
    pub(crate) fire: Vec<usize>,
    pub(crate) resolve: Vec<usize>,
}

/// How long after each step the API is snapshotted (ms): after the first flush of the groups
/// a step created (group_wait 1 s), before the next step.
pub(crate) const SNAPSHOT_AFTER_MS: u64 = 1_500;

/// Runs the timed scenario against every target at the same moments (each target in turn,
/// milliseconds apart), then waits until `end_ms`. Firing alerts keep the `startsAt` of their
/// first post; a resolution posts the same `startsAt` with `endsAt` = now, as Prometheus
/// does. [`SNAPSHOT_AFTER_MS`] after each step every target's API is read
/// ([`api_snapshot`]). Returns the scenario's start and, per target, the snapshots.
pub(crate) fn run_scenario(
    targets: &[&Am],
    alerts: &[ScenarioAlert],
    steps: &[Step],
    end_ms: u64,
) -> (Instant, Vec<Vec<Value>>) {
    let t0 = Instant::now();
    let mut starts: BTreeMap<usize, String> = BTreeMap::new();
    let mut snapshots = vec![Vec::new(); targets.len()];
    let sleep_until = |ms: u64| {
        let at = t0 + Duration::from_millis(ms);
        std::thread::sleep(at.saturating_duration_since(Instant::now()));
    };
    for step in steps {
        sleep_until(step.at_ms);
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut batch = Vec::new();
        for &i in &step.fire {
            let s = starts.entry(i).or_insert_with(|| now.clone());
            batch.push(alert_json(&alerts[i], s, None));
        }
        for &i in &step.resolve {
            let s = starts.get(&i).cloned().unwrap_or_else(|| now.clone());
            batch.push(alert_json(&alerts[i], &s, Some(&now)));
        }
        let batch = Value::Array(batch);
        for t in targets {
            t.post_alerts(&batch);
        }
        sleep_until(step.at_ms + SNAPSHOT_AFTER_MS);
        for (i, t) in targets.iter().enumerate() {
            snapshots[i].push(api_snapshot(t));
        }
    }
    sleep_until(end_ms);
    (t0, snapshots)
}

/// What the API v2 says, normalised for comparing two servers: `/api/v2/alerts` (active,
/// silenced and inhibited alike, with status and receivers), `/api/v2/alerts/groups`,
/// `/api/v2/receivers`, and of `/api/v2/status` the cluster status. Timestamps, URLs and ids
/// are dropped ([`normalise_json`]). Not compared: the status' `config.original`, which
/// Alertmanager 0.25 fills with its re-marshalled config (every default spelled out, secrets
/// as `<secret>`), not the file's text; amtool only parses it (`config routes`).
pub(crate) fn api_snapshot(am: &Am) -> Value {
    let status = am.get("/api/v2/status");
    normalise_json(&json!({
        "alerts": am.get("/api/v2/alerts"),
        "groups": am.get("/api/v2/alerts/groups"),
        "receivers": am.get("/api/v2/receivers"),
        "cluster": status["cluster"]["status"],
    }))
}

/// A JSON document with ids, timestamps and URLs dropped and keys sorted.
pub(crate) fn normalise_json(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .filter(|k| {
                        !["id", "startsAt", "endsAt", "updatedAt", "generatorURL"]
                            .contains(&k.as_str())
                    })
                    .map(|k| (k.clone(), normalise_json(&m[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(normalise_json).collect()),
        other => other.clone(),
    }
}

fn alert_json(a: &ScenarioAlert, starts_at: &str, ends_at: Option<&str>) -> Value {
    let obj = |kv: &[(&str, &str)]| -> Value {
        Value::Object(
            kv.iter()
                .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                .collect(),
        )
    };
    let mut v = json!({
        "labels": obj(&a.labels),
        "annotations": obj(&a.annotations),
        "startsAt": starts_at,
        "generatorURL": "http://127.0.0.1:9090/graph",
    });
    if let Some(e) = ends_at {
        v["endsAt"] = json!(e);
    }
    v
}

/// Notifications stripped of their times, for comparing sequences.
pub(crate) fn sequences(n: &Notifications) -> BTreeMap<String, Vec<Value>> {
    n.iter()
        .map(|(r, v)| (r.clone(), v.iter().map(|(_, p)| p.clone()).collect()))
        .collect()
}

/// Asserts that `who`'s notifications are the real Alertmanager's: per receiver the same
/// payloads in the same order, each within one `group_interval` of Alertmanager's.
pub(crate) fn assert_same_notifications(
    am: &Notifications,
    who: Target,
    ours: &Notifications,
    interval_ms: u64,
) {
    let (a, o) = (sequences(am), sequences(ours));
    assert_eq!(
        serde_json::to_string_pretty(&o).unwrap(),
        serde_json::to_string_pretty(&a).unwrap(),
        "{who:?}'s notifications (left) differ from Alertmanager 0.25's (right)"
    );
    for (r, list) in am {
        for (i, ((ta, _), (to, _))) in list.iter().zip(&ours[r]).enumerate() {
            assert!(
                ta.abs_diff(*to) <= interval_ms,
                "receiver {r}, notification {i}: Alertmanager at {ta} ms, {who:?} at {to} ms \
                 (more than one group_interval, {interval_ms} ms, apart)"
            );
        }
    }
}

/// Compares `got` (the real Alertmanager's normalised sequences) with the recorded
/// expectation `tests/alertmanager/<name>`; with `AM_RECORD=1` writes it instead.
pub(crate) fn assert_recorded(name: &str, got: &Value) {
    let path = sightline_tests::repo_root()
        .join("tests/alertmanager")
        .join(name);
    let text = serde_json::to_string_pretty(got).unwrap() + "\n";
    if std::env::var("AM_RECORD").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &text).unwrap();
        println!("recorded {}", path.display());
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with AM_RECORD=1 to record)", path.display()));
    assert_eq!(
        text,
        want,
        "Alertmanager 0.25's notifications (left) differ from the recording {}",
        path.display()
    );
}

/// Runs `amtool` with `args`, returning (exit code, stdout, stderr).
pub(crate) fn amtool(args: &[&str]) -> (i32, String, String) {
    let out = Command::new("amtool")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run amtool");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// The sum of the samples of Alertmanager's metric `name` (e.g. `notifications_total`) whose
/// labels include every `key="value"` of `labels`, from the target's `/metrics`. Sightline
/// exposes Alertmanager's metrics with its own prefix: `sightline_alertmanager_<name>`.
pub(crate) fn metric(am: &Am, name: &str, labels: &[(&str, &str)]) -> f64 {
    let full = match am.target {
        Target::RealAm => format!("alertmanager_{name}"),
        Target::Sightline => format!("sightline_alertmanager_{name}"),
    };
    let (code, text) = http_get(&am.addr, "/metrics").unwrap();
    assert_eq!(code, 200, "{:?} /metrics", am.target);
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            let series = l.rsplit_once(' ').map(|(s, _)| s).unwrap_or("");
            let metric = series.split('{').next().unwrap_or("");
            metric == full
                && labels
                    .iter()
                    .all(|(k, v)| series.contains(&format!("{k}=\"{v}\"")))
        })
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}

/// The counters a scenario moves, as the target exposes them: notifications sent and failed
/// (webhook), alerts received firing and resolved.
pub(crate) fn scenario_counters(am: &Am) -> [f64; 4] {
    [
        metric(am, "notifications_total", &[("integration", "webhook")]),
        metric(
            am,
            "notifications_failed_total",
            &[("integration", "webhook")],
        ),
        metric(am, "alerts_received_total", &[("status", "firing")]),
        metric(am, "alerts_received_total", &[("status", "resolved")]),
    ]
}
