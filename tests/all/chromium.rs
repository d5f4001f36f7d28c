//! The Chromium driver (`sightline_tests::chromium`) against a tiny loopback HTTP server:
//! console errors and uncaught exceptions are caught, a clean page has none, clicks and
//! typing reach the page, `wait_for` times out with the page's state in its message, and a
//! screenshot is written.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sightline_tests::chromium::{find_chromium_in, Browser, Error};

/// A loopback server answering fixed pages by path (404 otherwise); stops on drop.
struct Site {
    addr: String,
    stop: Arc<AtomicBool>,
}

impl Site {
    fn start(pages: &[(&str, &str)]) -> Site {
        let pages: HashMap<String, String> = pages
            .iter()
            .map(|(p, b)| (p.to_string(), b.to_string()))
            .collect();
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                let Ok((mut s, _)) = l.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let _ = s.set_nonblocking(false);
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let mut buf = [0u8; 8192];
                let n = s.read(&mut buf).unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]);
                let path = req.split_whitespace().nth(1).unwrap_or("/").to_string();
                let (status, ct, body) = match pages.get(&path) {
                    Some(b) => ("200 OK", "text/html; charset=utf-8", b.clone()),
                    // Chromium asks for a favicon; an empty icon keeps the log clean.
                    None if path == "/favicon.ico" => ("200 OK", "image/x-icon", String::new()),
                    None => ("404 Not Found", "text/plain", "not found".to_string()),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: {ct}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(head.as_bytes());
                let _ = s.write_all(body.as_bytes());
            }
        });
        Site { addr, stop }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

const CLEAN: &str = r#"<!doctype html><title>clean</title>
<p id="msg">hello from the clean page</p>
<input id="name"><button id="go" onclick="document.getElementById('out').textContent = 'hi ' + document.getElementById('name').value">go</button>
<div id="out"></div>
<script>document.getElementById('name').addEventListener('input', () => { window.inputs = (window.inputs || 0) + 1; });</script>"#;

const CONSOLE_ERROR: &str = r#"<!doctype html><title>err</title><p>page with an error</p><script>console.error('something broke', 42);</script>"#;

const THROWS: &str = r#"<!doctype html><title>throws</title><p>page that throws</p>
<script>setTimeout(() => { throw new Error('uncaught boom'); }, 10);</script>"#;

const MISSING_SCRIPT: &str = r#"<!doctype html><title>missing</title><p>page with a missing script</p><script src="/nope.js"></script>"#;

#[test]
fn chromium_driver_catches_errors_clicks_types_waits_and_screenshots() {
    let site = Site::start(&[
        ("/", CLEAN),
        ("/console-error", CONSOLE_ERROR),
        ("/throws", THROWS),
        ("/missing", MISSING_SCRIPT),
    ]);
    let t = Instant::now();
    let browser = Browser::launch().unwrap();
    let launched = t.elapsed();
    let mut page = browser.page().unwrap();

    // A clean page: loads to network idle, no console errors; clicks and typing work.
    let idle = page.goto(&site.url("/")).unwrap();
    let text: String = page
        .eval("document.getElementById('msg').textContent")
        .unwrap();
    assert_eq!(text, "hello from the clean page");
    page.type_into("#name", "world").unwrap();
    page.click("#go").unwrap();
    page.wait_for(
        "document.getElementById('out').textContent === 'hi world'",
        Duration::from_secs(5),
    )
    .unwrap();
    let inputs: u64 = page.eval("window.inputs").unwrap();
    assert!(inputs >= 1, "typing fires input events");
    let timing = page.load_timing().unwrap();
    assert!(timing.load_ms > 0.0, "{timing:?}");
    page.assert_no_console_errors().unwrap();

    // The screenshot is a PNG under target/ui-screenshots.
    let shot = page.screenshot("harness-clean").unwrap();
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 1000,
        "{}",
        shot.display()
    );
    assert!(shot.starts_with(sightline_tests::chromium::screenshots_dir()));

    // console.error is caught, with its arguments.
    page.goto(&site.url("/console-error")).unwrap();
    let errors = page.console_errors().unwrap();
    assert!(
        errors
            .iter()
            .any(|m| m.kind == "console.error" && m.text == "something broke 42"),
        "{errors:?}"
    );
    let e = page.assert_no_console_errors().unwrap_err().to_string();
    assert!(e.contains("something broke"), "{e}");

    // An uncaught exception is caught.
    page.clear_console().unwrap();
    page.goto(&site.url("/throws")).unwrap();
    page.wait_for("true", Duration::from_secs(1)).unwrap();
    let errors = page.console_errors().unwrap();
    assert!(
        errors
            .iter()
            .any(|m| m.kind == "exception" && m.text.contains("uncaught boom")),
        "{errors:?}"
    );

    // A failed load (404) is an error too: nothing is filtered.
    page.clear_console().unwrap();
    page.goto(&site.url("/missing")).unwrap();
    let errors = page.console_errors().unwrap();
    assert!(
        errors
            .iter()
            .any(|m| m.kind == "log.error" && m.text.contains("404")),
        "{errors:?}"
    );

    // wait_for times out, bounded, with the page's URL, text and console in the message.
    let t = Instant::now();
    let e = page
        .wait_for(
            "document.querySelector('#never')",
            Duration::from_millis(300),
        )
        .unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    let msg = e.to_string();
    assert!(matches!(e, Error::Timeout(_)), "{msg}");
    for want in ["#never", "/missing", "page with a missing script", "404"] {
        assert!(msg.contains(want), "{want:?} not in: {msg}");
    }

    // A thrown exception in eval is an error, not a value.
    let e = page.eval::<bool>("null.x").unwrap_err();
    assert!(matches!(e, Error::Js(_)), "{e}");

    // A second page of the same browser works independently.
    let mut other = browser.page().unwrap();
    other.goto(&site.url("/")).unwrap();
    other.assert_no_console_errors().unwrap();
    println!(
        "chromium: launched in {launched:?}, clean page network idle in {idle:?} ({timing:?})"
    );
}

#[test]
fn chromium_missing_binary_fails_by_name() {
    // No Chromium on PATH: the error names the package to install.
    let empty = tempfile::tempdir().unwrap();
    let e = find_chromium_in(None, empty.path().as_os_str()).unwrap_err();
    assert!(matches!(e, Error::NotFound), "{e}");
    let msg = e.to_string();
    assert!(
        msg.starts_with(
            "chromium not found: install Debian's `chromium` (apt-get install chromium)"
        ),
        "{msg}"
    );
    // CHROMIUM names a binary that is not there: said so.
    let e =
        find_chromium_in(Some("/nonexistent/chrome".into()), empty.path().as_os_str()).unwrap_err();
    assert!(e.to_string().contains("/nonexistent/chrome"), "{e}");
    // Any of the usual names on PATH is found; CHROMIUM wins over PATH.
    let bin = empty.path().join("chromium-browser");
    std::fs::write(&bin, "").unwrap();
    assert_eq!(
        find_chromium_in(None, empty.path().as_os_str()).unwrap(),
        bin
    );
    let other = empty.path().join("my-chrome");
    std::fs::write(&other, "").unwrap();
    assert_eq!(
        find_chromium_in(Some(other.clone().into()), empty.path().as_os_str()).unwrap(),
        other
    );
}

#[test]
fn chromium_is_killed_with_its_process_group_and_profile_removed() {
    let browser = Browser::launch().unwrap();
    let port = browser.port();
    let dir = browser.dir();
    let mine = || -> Vec<String> {
        let mut found = Vec::new();
        for e in std::fs::read_dir("/proc").unwrap().flatten() {
            let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(&*dir.to_string_lossy()) {
                found.push(cmd);
            }
        }
        found
    };
    assert!(!mine().is_empty(), "chromium runs with {}", dir.display());
    drop(browser);
    // Every process of the tree is gone (the renderers and helpers too) and so is the profile.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = mine();
        if left.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "left running: {left:#?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!dir.exists(), "{} not removed", dir.display());
    // The DevTools port is closed once the whole tree is gone.
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(
            Instant::now() < deadline,
            "chromium still listens on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
