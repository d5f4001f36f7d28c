//! A small driver of real headless Chromium over the Chrome DevTools Protocol, for the web UI's
//! end-to-end tests: launch Debian's `chromium`, open pages, navigate and wait for network
//! idle, evaluate JavaScript, click and type like a user, take screenshots, and collect every
//! console error and uncaught exception so that a test can fail on them.
//!
//! Every wait is bounded. A missing Chromium is an error that names the package to install:
//! the UI tests never skip themselves. Chromium (it forks a process tree) runs in its own
//! process group, killed as a whole on drop, and its profile lives in a temporary directory
//! removed on drop.

mod cdp;

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use cdp::Conn;

/// Bound of one DevTools command (an evaluation included).
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Bound of Chromium's start, until it writes `DevToolsActivePort`.
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(30);
/// Bound of a navigation, until the page is network idle.
const NAV_TIMEOUT: Duration = Duration::from_secs(30);
/// How long `click` and `type_into` wait for their element to be shown.
const ELEMENT_TIMEOUT: Duration = Duration::from_secs(10);
/// The viewport of every page (the launch's `--window-size` too).
const VIEWPORT: (u32, u32) = (1400, 900);
/// Full-page screenshots are cut at this height, so an endless page cannot fill the disk.
const MAX_SCREENSHOT_HEIGHT: f64 = 6000.0;

/// What can go wrong driving Chromium.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "chromium not found: install Debian's `chromium` (apt-get install chromium); \
         or set CHROMIUM to a Chromium or Chrome binary (./dev test and .ci/run install it)"
    )]
    NotFound,
    #[error("chromium failed to start: {0}")]
    Launch(String),
    #[error("DevTools protocol: {0}")]
    Protocol(String),
    #[error("timed out: {0}")]
    Timeout(String),
    #[error("JavaScript: {0}")]
    Js(String),
    #[error("navigation to {url} failed: {reason}")]
    Navigation { url: String, reason: String },
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("WebSocket: {0}")]
    WebSocket(#[from] tungstenite::Error),
}

pub type Result<T> = std::result::Result<T, Error>;

/// Where screenshots go: `target/ui-screenshots/` of the workspace (or of `CARGO_TARGET_DIR`),
/// kept as test artifacts.
pub fn screenshots_dir() -> PathBuf {
    let root = crate::repo_root();
    let root = root.canonicalize().unwrap_or(root);
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| if t.is_absolute() { t } else { root.join(t) })
        .unwrap_or_else(|| root.join("target"));
    target.join("ui-screenshots")
}

/// The Chromium binary: `$CHROMIUM`, else the first of `chromium`, `chromium-browser`,
/// `google-chrome`, `google-chrome-stable` on `PATH`.
pub fn find_chromium() -> Result<PathBuf> {
    find_chromium_in(
        std::env::var_os("CHROMIUM"),
        &std::env::var_os("PATH").unwrap_or_default(),
    )
}

/// [`find_chromium`] with the values of `CHROMIUM` and `PATH` given.
pub fn find_chromium_in(chromium: Option<OsString>, path: &OsStr) -> Result<PathBuf> {
    if let Some(p) = chromium.filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(Error::Launch(format!(
                "CHROMIUM={} is not a file",
                p.display()
            )))
        };
    }
    for name in [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ] {
        for dir in std::env::split_paths(path) {
            let p = dir.join(name);
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    Err(Error::NotFound)
}

/// A headless Chromium with its own profile; killed (its whole process group) on drop.
pub struct Browser {
    child: Child,
    root: Option<tempfile::TempDir>,
    port: u16,
    conn: Mutex<Conn>,
}

impl Browser {
    /// Launches headless Chromium on a free loopback DevTools port and connects to it.
    pub fn launch() -> Result<Browser> {
        let bin = find_chromium()?;
        let root = tempfile::Builder::new()
            .prefix("sightline-chromium-")
            .tempdir()?;
        let profile = root.path().join("profile");
        std::fs::create_dir_all(&profile)?;
        let log = std::fs::File::create(root.path().join("chromium.log"))?;
        let child = Command::new(&bin)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                // Tests talk to 127.0.0.1 only: no update checks, sync, extensions or
                // other background traffic.
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-default-apps",
                "--disable-extensions",
                "--disable-sync",
                "--password-store=basic",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(format!("--window-size={},{}", VIEWPORT.0, VIEWPORT.1))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            // Its own process group, so that drop can kill the renderers and helpers too.
            .process_group(0)
            .spawn()
            .map_err(|e| Error::Launch(format!("{}: {e}", bin.display())))?;
        // From here on, drop cleans up whatever happens.
        let mut guard = Launching {
            child: Some(child),
            root: Some(root),
        };
        let (port, path) = guard.wait_devtools_port()?;
        let conn = Conn::connect(port, &path, CALL_TIMEOUT)?;
        let (child, root) = guard.take();
        Ok(Browser {
            child,
            root: Some(root),
            port,
            conn: Mutex::new(conn),
        })
    }

    /// The DevTools port (for diagnostics).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The temporary directory holding the profile (removed on drop).
    pub fn dir(&self) -> PathBuf {
        self.root
            .as_ref()
            .map(|r| r.path().to_path_buf())
            .unwrap_or_default()
    }

    /// Opens a new page (tab) at `about:blank`, with the console, exceptions, the log and
    /// lifecycle events enabled and a fixed 1400×900 viewport.
    pub fn page(&self) -> Result<Page<'_>> {
        let target = self.browser_call("Target.createTarget", json!({"url": "about:blank"}))?;
        let target_id = target["targetId"]
            .as_str()
            .ok_or_else(|| Error::Protocol(format!("Target.createTarget: {target}")))?
            .to_string();
        let conn = Conn::connect(
            self.port,
            &format!("/devtools/page/{target_id}"),
            CALL_TIMEOUT,
        )?;
        let mut page = Page {
            browser: self,
            conn,
            target_id,
            messages: Vec::new(),
            idle: Vec::new(),
        };
        page.call("Page.enable", json!({}))?;
        page.call("Page.setLifecycleEventsEnabled", json!({"enabled": true}))?;
        page.call("Runtime.enable", json!({}))?;
        page.call("Log.enable", json!({}))?;
        page.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": VIEWPORT.0, "height": VIEWPORT.1, "deviceScaleFactor": 1, "mobile": false}),
        )?;
        Ok(page)
    }

    fn browser_call(&self, method: &str, params: Value) -> Result<Value> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| Error::Protocol("browser connection poisoned".into()))?;
        conn.call(method, params, CALL_TIMEOUT)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        kill_group(&mut self.child);
        if let Some(root) = self.root.take() {
            remove_profile(root);
        }
    }
}

/// Chromium while it starts: killed and cleaned up if the launch fails half-way.
struct Launching {
    child: Option<Child>,
    root: Option<tempfile::TempDir>,
}

impl Launching {
    /// Waits (bounded) for `DevToolsActivePort`: the port on its first line, the browser's
    /// WebSocket path on its second.
    fn wait_devtools_port(&mut self) -> Result<(u16, String)> {
        let (Some(child), Some(root)) = (self.child.as_mut(), self.root.as_ref()) else {
            return Err(Error::Launch("no process".into()));
        };
        let file = root.path().join("profile/DevToolsActivePort");
        let deadline = Instant::now() + LAUNCH_TIMEOUT;
        loop {
            if let Ok(s) = std::fs::read_to_string(&file) {
                let mut lines = s.lines();
                if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                    if let Ok(port) = port.trim().parse::<u16>() {
                        return Ok((port, path.trim().to_string()));
                    }
                }
            }
            if let Some(st) = child.try_wait()? {
                return Err(Error::Launch(format!(
                    "exited with {st}: {}",
                    log_tail(root.path())
                )));
            }
            if Instant::now() >= deadline {
                return Err(Error::Launch(format!(
                    "no {} within {LAUNCH_TIMEOUT:?}: {}",
                    file.display(),
                    log_tail(root.path())
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn take(&mut self) -> (Child, tempfile::TempDir) {
        match (self.child.take(), self.root.take()) {
            (Some(c), Some(r)) => (c, r),
            // `take` is called once, after both were set by `launch`.
            _ => unreachable!("Launching::take called twice"),
        }
    }
}

impl Drop for Launching {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            kill_group(&mut c);
        }
        if let Some(r) = self.root.take() {
            remove_profile(r);
        }
    }
}

fn kill_group(child: &mut Child) {
    let _ = rustix::process::kill_process_group(
        rustix::process::Pid::from_child(child),
        rustix::process::Signal::KILL,
    );
    let _ = child.kill();
    let _ = child.wait();
}

/// Removes the profile; the killed helpers may still hold files for a moment, so retry
/// briefly (bounded).
fn remove_profile(root: tempfile::TempDir) {
    let path = root.keep();
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::fs::remove_dir_all(&path).is_err() && path.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn log_tail(root: &Path) -> String {
    let s = std::fs::read_to_string(root.join("chromium.log")).unwrap_or_default();
    let tail: Vec<&str> = s.lines().rev().take(20).collect();
    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
}

/// One console message, exception or log entry of a page.
#[derive(Debug, Clone)]
pub struct ConsoleMessage {
    /// `exception`, `console.<type>` (`console.error`, `console.log`, ...) or `log.<level>`.
    pub kind: String,
    pub text: String,
    /// Where it came from (`url:line`), when Chromium says.
    pub source: String,
}

impl ConsoleMessage {
    /// Whether a test should fail on it: uncaught exceptions, `console.error`,
    /// `console.assert` and error-level log entries (failed loads among them).
    pub fn is_error(&self) -> bool {
        matches!(
            self.kind.as_str(),
            "exception" | "console.error" | "console.assert" | "log.error"
        )
    }
}

impl fmt::Display for ConsoleMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.kind, self.text)?;
        if !self.source.is_empty() {
            write!(f, " ({})", self.source)?;
        }
        Ok(())
    }
}

/// Navigation timing of the current document, from `performance` (milliseconds since the
/// navigation started).
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadTiming {
    pub dom_content_loaded_ms: f64,
    pub load_ms: f64,
    /// When the last resource fetched so far (scripts, styles, API calls) finished: the
    /// network-idle point without Chromium's 500 ms quiet window.
    pub last_response_ms: f64,
    pub resources: u64,
    /// First contentful paint (0 when there was none yet).
    pub first_contentful_paint_ms: f64,
}

/// One page (tab) of a [`Browser`], with its own DevTools connection.
pub struct Page<'b> {
    browser: &'b Browser,
    conn: Conn,
    target_id: String,
    messages: Vec<ConsoleMessage>,
    /// `networkIdle` lifecycle events seen: the loader and when the event arrived.
    idle: Vec<(String, Instant)>,
}

/// A navigation started by [`Page::navigate`].
#[derive(Debug, Clone)]
pub struct Navigation {
    pub url: String,
    loader: Option<String>,
    start: Instant,
}

impl Navigation {
    /// When it started.
    pub fn start(&self) -> Instant {
        self.start
    }
}

impl Page<'_> {
    /// Sends a DevTools command to this page.
    pub fn call(&mut self, method: &str, params: Value) -> Result<Value> {
        self.conn.call(method, params, CALL_TIMEOUT)
    }

    /// Navigates to `url` and waits (at most 30 s) until the new document is loaded and
    /// network idle (Chromium's `networkIdle` lifecycle event: no request for 500 ms).
    /// Returns the time from the navigation's start to that event.
    pub fn goto(&mut self, url: &str) -> Result<Duration> {
        let nav = self.navigate(url)?;
        let idle = self.wait_network_idle(&nav)?;
        let left = NAV_TIMEOUT.saturating_sub(nav.start.elapsed());
        self.wait_for("document.readyState === 'complete'", left)?;
        Ok(idle)
    }

    /// Starts a navigation to `url` and returns once Chromium has committed to it (its
    /// document loads on): to measure something else first, then [`Page::wait_network_idle`].
    pub fn navigate(&mut self, url: &str) -> Result<Navigation> {
        let start = Instant::now();
        let r = self.call("Page.navigate", json!({"url": url}))?;
        if let Some(e) = r["errorText"].as_str().filter(|e| !e.is_empty()) {
            return Err(Error::Navigation {
                url: url.into(),
                reason: e.into(),
            });
        }
        Ok(Navigation {
            url: url.to_string(),
            // A same-document navigation (a fragment) has no loader and no lifecycle.
            loader: r["loaderId"].as_str().map(str::to_string),
            start,
        })
    }

    /// Waits (at most 30 s from the navigation's start) until the navigation's document is
    /// network idle, and returns the time from the navigation's start to that event.
    pub fn wait_network_idle(&mut self, nav: &Navigation) -> Result<Duration> {
        let Some(loader) = &nav.loader else {
            return Ok(nav.start.elapsed());
        };
        let deadline = nav.start + NAV_TIMEOUT;
        loop {
            if let Some((_, at)) = self.idle.iter().find(|(l, _)| l == loader) {
                return Ok(at.duration_since(nav.start));
            }
            match self.conn.next_event(deadline)? {
                Some(ev) => self.record(&ev),
                None => {
                    return Err(Error::Timeout(format!(
                        "{} not network idle within {NAV_TIMEOUT:?}{}",
                        nav.url,
                        self.describe()
                    )))
                }
            }
        }
    }

    /// Evaluates `js` (an expression; a promise is awaited) and returns its value as JSON
    /// deserialized into `T` (`undefined` is `null`). A thrown exception is `Error::Js`.
    pub fn eval<T: DeserializeOwned>(&mut self, js: &str) -> Result<T> {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": js, "returnByValue": true, "awaitPromise": true, "userGesture": true}),
        )?;
        if let Some(ex) = r.get("exceptionDetails") {
            let msg = ex["exception"]["description"]
                .as_str()
                .or(ex["text"].as_str())
                .unwrap_or("exception");
            return Err(Error::Js(format!(
                "{msg} (evaluating `{}`)",
                short(js, 200)
            )));
        }
        let v = r["result"].get("value").cloned().unwrap_or(Value::Null);
        serde_json::from_value(v.clone())
            .map_err(|e| Error::Js(format!("`{}` returned {v}: {e}", short(js, 200))))
    }

    /// Polls the JavaScript condition `cond` every 50 ms until it is truthy, at most
    /// `timeout`. On timeout the error holds the page's URL, its visible text and every
    /// console message so far; an exception while evaluating counts as false (and is shown).
    pub fn wait_for(&mut self, cond: &str, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let mut last_err = String::new();
        loop {
            match self.eval::<bool>(&format!("Boolean({cond})")) {
                Ok(true) => return Ok(()),
                Ok(false) => last_err.clear(),
                Err(e @ (Error::Js(_) | Error::Protocol(_))) => last_err = e.to_string(),
                Err(e) => return Err(e),
            }
            if Instant::now() >= deadline {
                let last = if last_err.is_empty() {
                    String::new()
                } else {
                    format!(" (last evaluation: {last_err})")
                };
                return Err(Error::Timeout(format!(
                    "`{cond}` not true within {timeout:?}{last}{}",
                    self.describe()
                )));
            }
            self.pump(Duration::from_millis(50))?;
        }
    }

    /// Waits (at most 10 s) for `selector` to be shown, scrolls it into view and clicks its
    /// centre with real mouse events; fails when another element covers that point.
    pub fn click(&mut self, selector: &str) -> Result<()> {
        let sel = js_string(selector);
        self.wait_shown(selector)?;
        let js = format!(
            "(() => {{ const el = document.querySelector({sel}); el.scrollIntoView({{block: 'center'}});
               const r = el.getBoundingClientRect(); const x = r.left + r.width / 2, y = r.top + r.height / 2;
               const hit = document.elementFromPoint(x, y);
               return [x, y, !!hit && (el === hit || el.contains(hit)), hit ? hit.outerHTML.slice(0, 200) : ''];
             }})()"
        );
        let (x, y, ok, hit): (f64, f64, bool, String) = self.eval(&js)?;
        if !ok {
            return Err(Error::Js(format!(
                "cannot click {selector}: covered by {hit}"
            )));
        }
        for (kind, buttons) in [("mouseMoved", 0), ("mousePressed", 1), ("mouseReleased", 0)] {
            let mut p = json!({"type": kind, "x": x, "y": y, "buttons": buttons});
            if kind != "mouseMoved" {
                p["button"] = json!("left");
                p["clickCount"] = json!(1);
            }
            self.call("Input.dispatchMouseEvent", p)?;
        }
        Ok(())
    }

    /// Waits (at most 10 s) for `selector` to be shown, focuses it, selects its content and
    /// types `text` over it (`Input.insertText`: the page sees `beforeinput`/`input` events
    /// as from a keyboard).
    pub fn type_into(&mut self, selector: &str, text: &str) -> Result<()> {
        let sel = js_string(selector);
        self.wait_shown(selector)?;
        self.eval::<Value>(&format!(
            "(() => {{ const el = document.querySelector({sel}); el.focus();
               if (typeof el.select === 'function') el.select();
               else document.execCommand('selectAll'); }})()"
        ))?;
        self.call("Input.insertText", json!({"text": text}))?;
        Ok(())
    }

    /// Presses and releases one key on the focused element: `Enter`, `Escape`, `Tab` or a
    /// single printable character.
    pub fn press(&mut self, key: &str) -> Result<()> {
        let (code, vk, text) = match key {
            "Enter" => ("Enter".to_string(), 13, "\r".to_string()),
            "Escape" => ("Escape".to_string(), 27, String::new()),
            "Tab" => ("Tab".to_string(), 9, String::new()),
            k if k.chars().count() == 1 => {
                let c = k.chars().next().unwrap_or(' ');
                let vk = c.to_ascii_uppercase() as u32;
                (String::new(), vk, k.to_string())
            }
            other => return Err(Error::Js(format!("press: unsupported key {other:?}"))),
        };
        let mut down =
            json!({"type": "keyDown", "key": key, "code": code, "windowsVirtualKeyCode": vk});
        if !text.is_empty() {
            down["text"] = json!(text);
        }
        self.call("Input.dispatchKeyEvent", down)?;
        self.call(
            "Input.dispatchKeyEvent",
            json!({"type": "keyUp", "key": key, "code": code, "windowsVirtualKeyCode": vk}),
        )?;
        Ok(())
    }

    /// Saves a PNG of the whole page (at most 6,000 px high) as
    /// `target/ui-screenshots/<name>.png` and returns its path.
    pub fn screenshot(&mut self, name: &str) -> Result<PathBuf> {
        let m = self.call("Page.getLayoutMetrics", json!({}))?;
        let size = &m["cssContentSize"];
        let w = size["width"].as_f64().unwrap_or(f64::from(VIEWPORT.0));
        let h = size["height"]
            .as_f64()
            .unwrap_or(f64::from(VIEWPORT.1))
            .clamp(1.0, MAX_SCREENSHOT_HEIGHT);
        let r = self.call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true,
                   "clip": {"x": 0, "y": 0, "width": w.max(1.0), "height": h, "scale": 1}}),
        )?;
        let data = r["data"]
            .as_str()
            .ok_or_else(|| Error::Protocol("Page.captureScreenshot: no data".into()))?;
        let png = {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .decode(data)
                .map_err(|e| Error::Protocol(format!("screenshot base64: {e}")))?
        };
        let dir = screenshots_dir();
        std::fs::create_dir_all(&dir)?;
        let file = dir.join(format!("{name}.png"));
        std::fs::write(&file, png)?;
        Ok(file)
    }

    /// Emulates the system's colour scheme preference (`prefers-color-scheme`).
    pub fn emulate_color_scheme(&mut self, dark: bool) -> Result<()> {
        let value = if dark { "dark" } else { "light" };
        self.call(
            "Emulation.setEmulatedMedia",
            json!({"features": [{"name": "prefers-color-scheme", "value": value}]}),
        )?;
        Ok(())
    }

    /// Every console message, exception and log entry of this page so far.
    pub fn console_messages(&mut self) -> Result<Vec<ConsoleMessage>> {
        self.pump(Duration::ZERO)?;
        Ok(self.messages.clone())
    }

    /// The errors among them: uncaught exceptions, `console.error`/`console.assert`, and
    /// error-level log entries (a failed resource load among them). Nothing is filtered out.
    pub fn console_errors(&mut self) -> Result<Vec<ConsoleMessage>> {
        Ok(self
            .console_messages()?
            .into_iter()
            .filter(ConsoleMessage::is_error)
            .collect())
    }

    /// Fails (listing them and the page's URL) when the page had any console error.
    pub fn assert_no_console_errors(&mut self) -> Result<()> {
        let errors = self.console_errors()?;
        if errors.is_empty() {
            return Ok(());
        }
        let url = self.url().unwrap_or_default();
        let list: Vec<String> = errors.iter().map(|m| format!("  {m}")).collect();
        Err(Error::Js(format!(
            "{} console error(s) on {url}:\n{}",
            errors.len(),
            list.join("\n")
        )))
    }

    /// Forgets the messages collected so far (to check one step of a test on its own).
    pub fn clear_console(&mut self) -> Result<()> {
        self.pump(Duration::ZERO)?;
        self.messages.clear();
        Ok(())
    }

    /// The page's current URL.
    pub fn url(&mut self) -> Result<String> {
        self.eval("location.href")
    }

    /// The navigation timing of the current document.
    pub fn load_timing(&mut self) -> Result<LoadTiming> {
        let v: Value = self.eval(
            "(() => { const n = performance.getEntriesByType('navigation')[0] || {};
               const r = performance.getEntriesByType('resource');
               return {dcl: n.domContentLoadedEventEnd || 0, load: n.loadEventEnd || 0,
                       last: Math.max(n.responseEnd || 0, ...r.map(e => e.responseEnd)),
                       n: r.length,
                       fcp: (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || 0}; })()",
        )?;
        Ok(LoadTiming {
            dom_content_loaded_ms: v["dcl"].as_f64().unwrap_or(0.0),
            load_ms: v["load"].as_f64().unwrap_or(0.0),
            last_response_ms: v["last"].as_f64().unwrap_or(0.0),
            resources: v["n"].as_u64().unwrap_or(0),
            first_contentful_paint_ms: v["fcp"].as_f64().unwrap_or(0.0),
        })
    }

    fn wait_shown(&mut self, selector: &str) -> Result<()> {
        let sel = js_string(selector);
        self.wait_for(
            &format!(
                "(el => !!el && el.getClientRects().length > 0)(document.querySelector({sel}))"
            ),
            ELEMENT_TIMEOUT,
        )
    }

    /// Reads events for `for_at_least` (or only those already there, for zero), recording
    /// console messages.
    fn pump(&mut self, for_at_least: Duration) -> Result<()> {
        let deadline = Instant::now() + for_at_least;
        while let Some(ev) = self.conn.next_event(deadline)? {
            self.record(&ev);
        }
        Ok(())
    }

    fn record(&mut self, ev: &Value) {
        let p = &ev["params"];
        let msg = match ev["method"].as_str().unwrap_or("") {
            "Runtime.exceptionThrown" => {
                let d = &p["exceptionDetails"];
                let text = d["exception"]["description"]
                    .as_str()
                    .or(d["text"].as_str())
                    .unwrap_or("uncaught exception");
                ConsoleMessage {
                    kind: "exception".into(),
                    text: text.into(),
                    source: location(d["url"].as_str(), d["lineNumber"].as_u64()),
                }
            }
            "Runtime.consoleAPICalled" => {
                let args: Vec<String> = p["args"]
                    .as_array()
                    .map(|a| a.iter().map(remote_object_text).collect())
                    .unwrap_or_default();
                let frame = &p["stackTrace"]["callFrames"][0];
                ConsoleMessage {
                    kind: format!("console.{}", p["type"].as_str().unwrap_or("log")),
                    text: args.join(" "),
                    source: location(frame["url"].as_str(), frame["lineNumber"].as_u64()),
                }
            }
            "Log.entryAdded" => {
                let e = &p["entry"];
                ConsoleMessage {
                    kind: format!("log.{}", e["level"].as_str().unwrap_or("info")),
                    text: e["text"].as_str().unwrap_or("").into(),
                    source: location(e["url"].as_str(), e["lineNumber"].as_u64()),
                }
            }
            "Page.lifecycleEvent" => {
                if p["name"] == "networkIdle" {
                    if let Some(l) = p["loaderId"].as_str() {
                        self.idle.push((l.to_string(), Instant::now()));
                    }
                }
                return;
            }
            _ => return,
        };
        self.messages.push(msg);
    }

    /// The page's URL, visible text and console messages, for a failure message.
    fn describe(&mut self) -> String {
        let url = self.url().unwrap_or_else(|e| format!("? ({e})"));
        let text: String = self
            .eval("document.body ? document.body.innerText : ''")
            .unwrap_or_else(|e| format!("? ({e})"));
        let _ = self.pump(Duration::ZERO);
        let msgs: Vec<String> = self.messages.iter().map(|m| format!("    {m}")).collect();
        format!(
            "\n  url: {url}\n  page text: {}\n  console ({}):\n{}",
            short(&text, 1500),
            msgs.len(),
            msgs.join("\n")
        )
    }
}

impl Drop for Page<'_> {
    fn drop(&mut self) {
        let _ = self
            .browser
            .browser_call("Target.closeTarget", json!({"targetId": self.target_id}));
    }
}

fn remote_object_text(o: &Value) -> String {
    match o.get("value") {
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => o["description"]
            .as_str()
            .or(o["type"].as_str())
            .unwrap_or("")
            .to_string(),
    }
}

fn location(url: Option<&str>, line: Option<u64>) -> String {
    match (url.filter(|u| !u.is_empty()), line) {
        // DevTools lines count from 0.
        (Some(u), Some(l)) => format!("{u}:{}", l + 1),
        (Some(u), None) => u.to_string(),
        _ => String::new(),
    }
}

/// `s` as a JavaScript string literal.
fn js_string(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max).collect();
    format!("{cut}…")
}
