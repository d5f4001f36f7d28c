//! The standard `process_*` metrics, read from `/proc/self` as the Go client does.

use sightline_model::MetricType;

use crate::Family;

fn gauge(name: &str, help: &str, v: f64, t: MetricType) -> Family {
    Family::single(name, help, t, v)
}

/// `process_cpu_seconds_total`, `process_resident_memory_bytes`, `process_virtual_memory_bytes`,
/// `process_open_fds`, `process_max_fds`, `process_start_time_seconds`. Families whose source
/// cannot be read (non-Linux) are left out rather than reported as zero.
pub fn process_families() -> Vec<Family> {
    let mut out = Vec::new();
    let tck = clk_tck();
    let page = page_size();
    if let Ok(stat) = std::fs::read_to_string("/proc/self/stat") {
        // Fields after the command name, which is in parentheses and may contain spaces.
        if let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) {
            let f: Vec<&str> = rest.split_whitespace().collect();
            let num = |i: usize| f.get(i).and_then(|s| s.parse::<f64>().ok());
            // rest[0] is field 3 (state); utime=14, stime=15, starttime=22, vsize=23, rss=24.
            if let (Some(ut), Some(st)) = (num(11), num(12)) {
                out.push(gauge(
                    "process_cpu_seconds",
                    "Total user and system CPU time spent in seconds.",
                    (ut + st) / tck,
                    MetricType::Counter,
                ));
            }
            if let Some(vsize) = num(20) {
                out.push(gauge(
                    "process_virtual_memory_bytes",
                    "Virtual memory size in bytes.",
                    vsize,
                    MetricType::Gauge,
                ));
            }
            if let Some(rss) = num(21) {
                out.push(gauge(
                    "process_resident_memory_bytes",
                    "Resident memory size in bytes.",
                    rss * page,
                    MetricType::Gauge,
                ));
            }
            if let (Some(start), Some(boot)) = (num(19), boot_time()) {
                out.push(gauge(
                    "process_start_time_seconds",
                    "Start time of the process since unix epoch in seconds.",
                    boot + start / tck,
                    MetricType::Gauge,
                ));
            }
        }
    }
    if let Ok(rd) = std::fs::read_dir("/proc/self/fd") {
        out.push(gauge(
            "process_open_fds",
            "Number of open file descriptors.",
            rd.count() as f64,
            MetricType::Gauge,
        ));
    }
    if let Ok(limits) = std::fs::read_to_string("/proc/self/limits") {
        if let Some(v) = limits
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .and_then(|l| l.split_whitespace().nth(3))
            .and_then(|s| s.parse::<f64>().ok())
        {
            out.push(gauge(
                "process_max_fds",
                "Maximum number of open file descriptors.",
                v,
                MetricType::Gauge,
            ));
        }
    }
    out
}

fn boot_time() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/stat").ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

#[allow(unsafe_code)]
fn clk_tck() -> f64 {
    // SAFETY: sysconf has no memory-safety preconditions; it only reads a configuration value.
    let v = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if v > 0 {
        v as f64
    } else {
        100.0
    }
}

#[allow(unsafe_code)]
fn page_size() -> f64 {
    // SAFETY: as above.
    let v = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if v > 0 {
        v as f64
    } else {
        4096.0
    }
}

/// Turns transparent huge pages off for this process (`prctl(PR_SET_THP_DISABLE)`), to be
/// called before the process starts threads. The daemon's allocator (mimalloc) maps its
/// memory in large aligned regions, which the kernel backs with 2 MiB pages where THP is
/// allowed: a page then stays resident while any 4 KiB of it is in use, and the head's
/// many small, long-lived allocations kept ≈ 150 B a series more resident at one million
/// series (issue 21). Returns whether THP is off for the process. A no-op elsewhere.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
pub fn disable_transparent_huge_pages() -> bool {
    // SAFETY: PR_SET_THP_DISABLE only sets a flag of the calling process (inherited by its
    // threads and children); it takes no pointers.
    unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0 }
}

/// Turns transparent huge pages off (see the Linux version); nothing to do elsewhere.
#[cfg(not(target_os = "linux"))]
pub fn disable_transparent_huge_pages() -> bool {
    false
}

#[cfg(test)]
mod tests {
    #[cfg(target_os = "linux")]
    #[test]
    #[allow(unsafe_code)]
    fn huge_pages_are_turned_off() {
        assert!(super::disable_transparent_huge_pages());
        // SAFETY: PR_GET_THP_DISABLE reads the calling process' flag; no pointers.
        let flag = unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) };
        assert_eq!(flag, 1);
    }

    #[test]
    fn reads_own_process() {
        let f = super::process_families();
        let names: Vec<&str> = f.iter().map(|f| f.name.as_str()).collect();
        assert!(
            names.contains(&"process_resident_memory_bytes"),
            "{names:?}"
        );
        let rss = f
            .iter()
            .find(|f| f.name == "process_resident_memory_bytes")
            .unwrap()
            .samples[0]
            .value;
        assert!(rss > 1e5, "rss {rss}");
        let start = f
            .iter()
            .find(|f| f.name == "process_start_time_seconds")
            .unwrap()
            .samples[0]
            .value;
        let now = sightline_model::now_ms() as f64 / 1000.0;
        assert!(
            start <= now + 1.0 && start > now - 86400.0 * 365.0,
            "start {start} now {now}"
        );
    }
}
