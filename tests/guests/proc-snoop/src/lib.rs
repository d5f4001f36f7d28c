//! Hostile guest: an exporter granted `/proc` (as the node exporter is) and possibly `/`,
//! that tries every route it knows to the daemon's own process (environment, command line,
//! memory), other processes, other plugins' manifests and the daemon's private files.
//!
//! It reports each attempt as a sample of `snoop_attempt{route, outcome}` (`outcome` is
//! `ok` or the error kind; the value is the bytes read), where a route named `legit:...`
//! must work, `attack:...` must fail and `info:...` may do either. Whatever it reads is
//! searched for the config value `marker` (default `SIGHTLINE-SECRET-`); every find is a
//! sample of `snoop_leak{route, text}` with the text that follows, so a secret that got
//! through shows up in the scraped series.
//!
//! Config: `private_files` and `private_dirs` (comma-separated absolute paths) name the
//! daemon's private files to try (another plugin's manifest, the cache key) and
//! directories to list.

use std::ffi::CString;
use std::io::{Read, Seek, SeekFrom};

use sightline_sdk::{config, Exporter, MetricFamily, MetricType};

/// Most bytes read from one file (memory scans read up to `MAX_MEM`).
const MAX_READ: usize = 1 << 20;
/// Most bytes of process memory scanned through one `mem` file.
const MAX_MEM: usize = 48 << 20;
/// Most processes scanned through the `/proc` listing.
const MAX_SCAN: usize = 64;

struct Report {
    attempts: MetricFamily,
    leaks: MetricFamily,
    marker: Vec<u8>,
    seen: std::collections::BTreeSet<String>,
}

fn kind(e: &std::io::Error) -> String {
    format!("{:?}", e.kind())
}

impl Report {
    fn record(&mut self, route: &str, result: std::io::Result<Vec<u8>>) -> Option<Vec<u8>> {
        if !self.seen.insert(route.to_string()) {
            return result.ok();
        }
        match result {
            Ok(bytes) => {
                self.attempts
                    .push(&[("route", route), ("outcome", "ok")], bytes.len() as f64);
                self.scan(route, &bytes);
                Some(bytes)
            }
            Err(e) => {
                self.attempts
                    .push(&[("route", route), ("outcome", &kind(&e))], 0.0);
                None
            }
        }
    }

    fn scan(&mut self, route: &str, bytes: &[u8]) {
        if self.marker.is_empty() {
            return;
        }
        let mut found = 0;
        let mut at = 0;
        while let Some(i) = find(&bytes[at..], &self.marker) {
            let start = at + i;
            let text: String = bytes[start..]
                .iter()
                .take(96)
                .take_while(|b| b.is_ascii_graphic())
                .map(|&b| b as char)
                .collect();
            let n = found.to_string();
            self.leaks
                .push(&[("route", route), ("n", &n), ("text", &text)], 1.0);
            found += 1;
            at = start + self.marker.len();
            if found >= 16 {
                break;
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn read(path: &str) -> std::io::Result<Vec<u8>> {
    let mut f = std::fs::File::open(path)?;
    read_file(&mut f)
}

fn read_file(f: &mut std::fs::File) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    f.take(MAX_READ as u64).read_to_end(&mut out)?;
    Ok(out)
}

/// Reads a process's memory through its `mem` file, region by region as `maps` lists them
/// (or at a few guesses without `maps`).
fn read_mem(mem: &str, maps: Option<&[u8]>) -> std::io::Result<Vec<u8>> {
    let mut f = std::fs::File::open(mem)?;
    let mut regions = Vec::new();
    if let Some(maps) = maps {
        for line in String::from_utf8_lossy(maps).lines() {
            let mut parts = line.split_whitespace();
            let (Some(range), Some(perms)) = (parts.next(), parts.next()) else {
                continue;
            };
            if !perms.starts_with("rw") {
                continue;
            }
            if let Some((a, b)) = range.split_once('-') {
                if let (Ok(a), Ok(b)) = (u64::from_str_radix(a, 16), u64::from_str_radix(b, 16)) {
                    regions.push((a, b));
                }
            }
        }
    } else {
        regions.push((0x5555_5555_0000, 0x5555_5565_0000));
    }
    let mut out = Vec::new();
    let mut last_err = None;
    for (a, b) in regions {
        if out.len() >= MAX_MEM {
            break;
        }
        let len = (b - a).min((MAX_MEM - out.len()) as u64) as usize;
        let mut buf = vec![0u8; len];
        let got = f.seek(SeekFrom::Start(a)).and_then(|_| f.read(&mut buf));
        match got {
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => last_err = Some(e),
        }
    }
    match (out.is_empty(), last_err) {
        (true, Some(e)) => Err(e),
        _ => Ok(out),
    }
}

fn list(path: &str) -> std::io::Result<Vec<u8>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(path)? {
        names.push(entry?.file_name().to_string_lossy().into_owned());
    }
    Ok(names.join("\n").into_bytes())
}

fn readlink(path: &str) -> std::io::Result<Vec<u8>> {
    Ok(std::fs::read_link(path)?
        .to_string_lossy()
        .into_owned()
        .into_bytes())
}

fn stat(path: &str, follow: bool) -> std::io::Result<Vec<u8>> {
    let m = if follow {
        std::fs::metadata(path)?
    } else {
        std::fs::symlink_metadata(path)?
    };
    Ok(format!("{:?} {}", m.file_type(), m.len()).into_bytes())
}

fn last_os_error<T>() -> std::io::Result<T> {
    Err(std::io::Error::last_os_error())
}

/// `openat(dir, rel)` through wasi-libc, bypassing std's own path handling.
fn open_dir(path: &str) -> std::io::Result<i32> {
    let c = CString::new(path).map_err(std::io::Error::other)?;
    // SAFETY: a valid C string; the returned descriptor is closed by the caller.
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY) };
    if fd < 0 {
        return last_os_error();
    }
    Ok(fd)
}

fn close(fd: i32) {
    // SAFETY: `fd` came from `open`/`openat` and is closed once.
    unsafe {
        libc::close(fd);
    }
}

fn read_at(dir: i32, rel: &str) -> std::io::Result<Vec<u8>> {
    let c = CString::new(rel).map_err(std::io::Error::other)?;
    // SAFETY: a valid descriptor and C string.
    let fd = unsafe { libc::openat(dir, c.as_ptr(), libc::O_RDONLY) };
    if fd < 0 {
        return last_os_error();
    }
    let mut out = vec![0u8; 64 << 10];
    // SAFETY: `out` is writable for its length.
    let n = unsafe { libc::read(fd, out.as_mut_ptr().cast(), out.len()) };
    close(fd);
    if n < 0 {
        return last_os_error();
    }
    out.truncate(n as usize);
    Ok(out)
}

fn readlink_at(dir: i32, rel: &str) -> std::io::Result<Vec<u8>> {
    let c = CString::new(rel).map_err(std::io::Error::other)?;
    let mut buf = vec![0u8; 4096];
    // SAFETY: a valid descriptor, C string and buffer.
    let n = unsafe { libc::readlinkat(dir, c.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        return last_os_error();
    }
    buf.truncate(n as usize);
    Ok(buf)
}

fn stat_at(dir: i32, rel: &str, flags: i32) -> std::io::Result<Vec<u8>> {
    let c = CString::new(rel).map_err(std::io::Error::other)?;
    // SAFETY: `st` is plain data, written by fstatat.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: a valid descriptor, C string and out pointer.
    let r = unsafe { libc::fstatat(dir, c.as_ptr(), &mut st, flags) };
    if r < 0 {
        return last_os_error();
    }
    Ok(format!("mode {:o} size {}", st.st_mode, st.st_size).into_bytes())
}

fn config_list(key: &str) -> Vec<String> {
    config::get(key)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

struct G;

impl Exporter for G {
    fn collect() -> Result<Vec<MetricFamily>, String> {
        let marker = config::get("marker").unwrap_or_else(|| "SIGHTLINE-SECRET-".to_string());
        let mut r = Report {
            attempts: MetricFamily::new("snoop_attempt", "One read attempt.", MetricType::Gauge),
            leaks: MetricFamily::new("snoop_leak", "A marker found.", MetricType::Gauge),
            marker: marker.into_bytes(),
            seen: Default::default(),
        };

        // What the node exporter reads must keep working.
        for path in [
            "/proc/stat",
            "/proc/meminfo",
            "/proc/loadavg",
            "/proc/net/dev",
            "/proc/self/net/dev",
            "/proc/1/mounts",
            "/proc/self/mounts",
            "/proc/self/mountinfo",
            "/proc/sys/kernel/hostname",
        ] {
            r.record(&format!("legit:read {path}"), read(path));
        }
        // wasi-libc's readdir looks at every entry, so a process that exits during the
        // listing fails it (NotFound); a few tries get a quiet moment.
        let listing = (0..5).map(|_| list("/proc")).find(Result::is_ok);
        r.record("legit:list /proc", listing.unwrap_or_else(|| list("/proc")));
        r.record("legit:stat /proc/stat", stat("/proc/stat", true));
        r.record("legit:stat /proc/net/dev", stat("/proc/net/dev", true));
        let own_pid = r
            .record("info:readlink /proc/self", readlink("/proc/self"))
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        r.record("info:readlink /proc/net", readlink("/proc/net"));

        // The daemon's own process directory, by its names.
        for dir in ["/proc/self", "/proc/thread-self"] {
            for entry in [
                "environ", "cmdline", "maps", "status", "stack", "auxv", "limits", "io", "smaps",
                "pagemap", "syscall", "sched", "attr/current", "fdinfo/0",
            ] {
                let path = format!("{dir}/{entry}");
                r.record(&format!("attack:read {path}"), read(&path));
            }
        }
        let maps = r.record("attack:read /proc/self/maps", read("/proc/self/maps"));
        r.record(
            "attack:read /proc/self/mem",
            read_mem("/proc/self/mem", maps.as_deref()),
        );
        r.record(
            "attack:read /proc/thread-self/mem",
            read_mem("/proc/thread-self/mem", maps.as_deref()),
        );
        for path in ["/proc/self", "/proc/self/task", "/proc/self/fd", "/proc/thread-self"] {
            r.record(&format!("attack:list {path}"), list(path));
        }
        if let Ok(tasks) = list("/proc/self/task") {
            for tid in String::from_utf8_lossy(&tasks).lines().take(8) {
                let path = format!("/proc/self/task/{tid}/environ");
                r.record(&format!("attack:read {path}"), read(&path));
            }
        }
        r.record("attack:read /proc/self/task/1/environ", read("/proc/self/task/1/environ"));

        // The same directory by number.
        if let Some(pid) = &own_pid {
            for entry in ["environ", "cmdline", "maps"] {
                let path = format!("/proc/{pid}/{entry}");
                r.record(&format!("attack:read /proc/<pid>/{entry}"), read(&path));
            }
            let maps = read(&format!("/proc/{pid}/maps")).ok();
            r.record(
                "attack:read /proc/<pid>/mem",
                read_mem(&format!("/proc/{pid}/mem"), maps.as_deref()),
            );
            r.record(
                "attack:read /proc/<pid>/task/<pid>/environ",
                read(&format!("/proc/{pid}/task/{pid}/environ")),
            );
            r.record("attack:list /proc/<pid>", list(&format!("/proc/{pid}")));
            r.record("info:stat /proc/<pid>", stat(&format!("/proc/{pid}"), true));
            r.record("attack:readlink /proc/<pid>/exe", readlink(&format!("/proc/{pid}/exe")));
        }

        // Every process in the listing (the daemon is one of them, whatever its pid).
        if let Some(Ok(names)) = (0..5).map(|_| list("/proc")).find(Result::is_ok) {
            let pids: Vec<String> = String::from_utf8_lossy(&names)
                .lines()
                .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
                .map(str::to_string)
                .collect();
            let mut denied_cmdline = 0usize;
            let mut denied_environ = 0usize;
            let mut read_ok = 0usize;
            for pid in pids.iter().take(MAX_SCAN) {
                for (entry, denied) in [
                    ("cmdline", &mut denied_cmdline),
                    ("environ", &mut denied_environ),
                ] {
                    match read(&format!("/proc/{pid}/{entry}")) {
                        Ok(bytes) => {
                            read_ok += 1;
                            r.scan(&format!("attack:scan /proc/{pid}/{entry}"), &bytes);
                        }
                        Err(_) => *denied += 1,
                    }
                }
            }
            // One sample per outcome, so the series stay few however many processes run.
            r.record(
                "attack:scan every pid",
                if read_ok == 0 {
                    Err(std::io::Error::from(std::io::ErrorKind::PermissionDenied))
                } else {
                    Ok(vec![0; read_ok])
                },
            );
        }

        // Paths that leave a directory the guard allows and come back into a private one.
        for path in [
            "/proc/net/../environ",
            "/proc/self/net/../environ",
            "/proc/self/net/../../self/environ",
            "/proc/net/../../proc/self/environ",
            "/proc/net/../mem",
            "/proc/./self/environ",
            "/proc//self//environ",
        ] {
            r.record(&format!("attack:read {path}"), read(path));
        }

        // Magic links: the daemon's root, working directory, executable and open files.
        for path in [
            "/proc/self/root/etc/hostname",
            "/proc/self/cwd/Cargo.toml",
            "/proc/self/exe",
            "/proc/self/fd/0",
            "/proc/self/fd/1",
            "/proc/self/fd/2",
            "/proc/self/fd/3",
            "/proc/self/fd/4",
            "/proc/self/fd/5",
            "/proc/self/fd/6",
            "/proc/self/fd/7",
            "/proc/self/fd/8",
        ] {
            r.record(&format!("attack:read {path}"), read(path));
        }
        r.record("attack:list /proc/self/cwd", list("/proc/self/cwd"));
        r.record("attack:list /proc/self/root", list("/proc/self/root"));
        for path in [
            "/proc/self/exe",
            "/proc/self/cwd",
            "/proc/self/root",
            "/proc/self/fd/0",
            "/proc/thread-self/exe",
            "/proc/net/../exe",
            "/proc/net/../cwd",
        ] {
            r.record(&format!("attack:readlink {path}"), readlink(path));
        }
        for (path, follow) in [
            ("/proc/self/environ", true),
            ("/proc/self/exe", false),
            ("/proc/self/exe", true),
            ("/proc/self/cwd", true),
            ("/proc/thread-self", true),
            ("/proc/net/../environ", true),
        ] {
            let how = if follow { "stat" } else { "lstat" };
            r.record(&format!("attack:{how} {path}"), stat(path, follow));
        }
        // The process directory's own entry may be looked at (`ls -l /proc`), not into.
        r.record("info:lstat /proc/self", stat("/proc/self", false));
        r.record("info:stat /proc/self", stat("/proc/self", true));

        // Kernel files that hold memory or the daemon's keys.
        for path in ["/proc/kcore", "/proc/keys", "/proc/key-users"] {
            r.record(&format!("attack:read {path}"), read(path));
        }

        // Through wasi-libc's *at calls on descriptors held by the guest.
        match open_dir("/proc") {
            Ok(proc_fd) => {
                for rel in ["self/environ", "net/../environ", "thread-self/environ", "self/mem"] {
                    r.record(&format!("attack:openat /proc {rel}"), read_at(proc_fd, rel));
                }
                r.record("attack:readlinkat /proc self/exe", readlink_at(proc_fd, "self/exe"));
                r.record("attack:readlinkat /proc self/cwd", readlink_at(proc_fd, "self/cwd"));
                r.record("attack:fstatat /proc self/environ", stat_at(proc_fd, "self/environ", 0));
                r.record(
                    "attack:fstatat /proc self/exe nofollow",
                    stat_at(proc_fd, "self/exe", libc::AT_SYMLINK_NOFOLLOW),
                );
                r.record("legit:openat /proc stat", read_at(proc_fd, "stat"));
                close(proc_fd);
            }
            Err(e) => {
                r.record("legit:open /proc", Err(e));
            }
        }
        if let Ok(net_fd) = open_dir("/proc/net") {
            r.record("legit:openat /proc/net dev", read_at(net_fd, "dev"));
            r.record("attack:openat /proc/net ../environ", read_at(net_fd, "../environ"));
            r.record("attack:readlinkat /proc/net ../exe", readlink_at(net_fd, "../exe"));
            close(net_fd);
        }

        // Through a `/` grant, when there is one.
        if let Ok(root_fd) = open_dir("/") {
            for rel in [
                "proc/self/environ",
                "proc/self/cmdline",
                "proc/self/mem",
                "proc/thread-self/environ",
                "proc/net/../environ",
                "./proc/self/environ",
            ] {
                r.record(&format!("attack:openat / {rel}"), read_at(root_fd, rel));
            }
            r.record("attack:readlinkat / proc/self/cwd", readlink_at(root_fd, "proc/self/cwd"));
            r.record("legit:openat / proc/stat", read_at(root_fd, "proc/stat"));
            close(root_fd);
            // Devices: raw disks hold the private files, /dev/mem the daemon's memory.
            for dev in [
                "/dev/mem", "/dev/kmem", "/dev/port", "/dev/vda", "/dev/sda", "/dev/nvme0n1",
                "/dev/tty",
            ] {
                r.record(&format!("attack:read {dev}"), read(dev));
            }
            r.record("legit:read /dev/null", read("/dev/null"));
        }

        // The daemon's private files: another plugin's manifest, the cache key.
        let private_dirs = config_list("private_dirs");
        for path in config_list("private_files") {
            r.record(&format!("attack:read {path}"), read(&path));
            // A file's own entry shows in its directory's listing; only when that directory
            // is private must looking at it fail too.
            let inside = private_dirs
                .iter()
                .any(|d| path.starts_with(&format!("{}/", d.trim_end_matches('/'))));
            let kind = if inside { "attack" } else { "info" };
            r.record(&format!("{kind}:stat {path}"), stat(&path, true));
        }
        for dir in private_dirs {
            r.record(&format!("attack:list {dir}"), list(&dir));
            // Its own entry shows in its parent's listing; what is inside must not.
            r.record(&format!("info:stat {dir}"), stat(&dir, true));
        }

        Ok(vec![r.attempts, r.leaks])
    }
}

sightline_sdk::export_exporter!(G);
