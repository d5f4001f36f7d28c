//! The `node-exporter` plugin: host metrics with node_exporter 1.5's names.
//!
//! It reads `/proc` (granted read-only in `node-exporter.toml`) and gets
//! filesystem statistics for granted mount points through the host's
//! `host-fs` interface, since WASI has no statvfs.
//!
//! Collectors: cpu and stat (`/proc/stat`), meminfo, loadavg, vmstat,
//! netdev (`/proc/net/dev`), diskstats, filesystem, uname, time.

use std::collections::BTreeMap;

use sightline_sdk::{clock, fs, log, Exporter, MetricFamily, MetricType};

/// Clock ticks per second of `/proc/stat` (USER_HZ, 100 on Linux).
const USER_HZ: f64 = 100.0;

struct NodeExporter;

/// Families by name, created on first use.
#[derive(Default)]
struct Families(BTreeMap<String, MetricFamily>);

impl Families {
    fn add(&mut self, name: &str, help: &str, t: MetricType, labels: &[(&str, &str)], value: f64) {
        self.0
            .entry(name.to_string())
            .or_insert_with(|| MetricFamily::new(name, help, t))
            .push(labels, value);
    }

    fn gauge(&mut self, name: &str, help: &str, labels: &[(&str, &str)], value: f64) {
        self.add(name, help, MetricType::Gauge, labels, value);
    }

    fn counter(&mut self, name: &str, help: &str, labels: &[(&str, &str)], value: f64) {
        self.add(name, help, MetricType::Counter, labels, value);
    }
}

fn read(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("reading {path}: {e}"))
}

impl Exporter for NodeExporter {
    fn collect() -> Result<Vec<MetricFamily>, String> {
        let mut f = Families::default();
        let mut errors = Vec::new();
        let collectors: [(&str, fn(&mut Families) -> Result<(), String>); 9] = [
            ("cpu", cpu_and_stat),
            ("meminfo", meminfo),
            ("loadavg", loadavg),
            ("vmstat", vmstat),
            ("netdev", netdev),
            ("diskstats", diskstats),
            ("filesystem", filesystem),
            ("uname", uname),
            ("time", time),
        ];
        let mut results = Vec::new();
        for (name, collector) in collectors {
            let ok = match collector(&mut f) {
                Ok(()) => 1.0,
                Err(e) => {
                    log::warn(&format!("collector {name} failed: {e}"));
                    errors.push(e);
                    0.0
                }
            };
            results.push((name, ok));
        }
        for (name, ok) in results {
            f.gauge(
                "node_scrape_collector_success",
                "node_exporter: Whether a collector succeeded.",
                &[("collector", name)],
                ok,
            );
        }
        if errors.len() == collectors.len() {
            return Err(format!("every collector failed: {}", errors.join("; ")));
        }
        Ok(f.0.into_values().collect())
    }
}

fn cpu_and_stat(f: &mut Families) -> Result<(), String> {
    let text = read("/proc/stat")?;
    const MODES: [&str; 8] = [
        "user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal",
    ];
    for line in text.lines() {
        let mut it = line.split_whitespace();
        let Some(key) = it.next() else { continue };
        let nums: Vec<f64> = it.filter_map(|v| v.parse().ok()).collect();
        if let Some(cpu) = key.strip_prefix("cpu").filter(|c| !c.is_empty()) {
            for (mode, v) in MODES.iter().zip(&nums) {
                f.counter(
                    "node_cpu_seconds_total",
                    "Seconds the CPUs spent in each mode.",
                    &[("cpu", cpu), ("mode", mode)],
                    v / USER_HZ,
                );
            }
            if nums.len() >= 10 {
                let help = "Seconds the CPUs spent in guests (VMs) for each mode.";
                f.counter(
                    "node_cpu_guest_seconds_total",
                    help,
                    &[("cpu", cpu), ("mode", "user")],
                    nums[8] / USER_HZ,
                );
                f.counter(
                    "node_cpu_guest_seconds_total",
                    help,
                    &[("cpu", cpu), ("mode", "nice")],
                    nums[9] / USER_HZ,
                );
            }
            continue;
        }
        let first = nums.first().copied().unwrap_or(0.0);
        match key {
            "intr" => f.counter(
                "node_intr_total",
                "Total number of interrupts serviced.",
                &[],
                first,
            ),
            "ctxt" => f.counter(
                "node_context_switches_total",
                "Total number of context switches.",
                &[],
                first,
            ),
            "btime" => f.gauge(
                "node_boot_time_seconds",
                "Node boot time, in unixtime.",
                &[],
                first,
            ),
            "processes" => f.counter("node_forks_total", "Total number of forks.", &[], first),
            "procs_running" => f.gauge(
                "node_procs_running",
                "Number of processes in runnable state.",
                &[],
                first,
            ),
            "procs_blocked" => f.gauge(
                "node_procs_blocked",
                "Number of processes blocked waiting for I/O to complete.",
                &[],
                first,
            ),
            _ => {}
        }
    }
    Ok(())
}

fn meminfo(f: &mut Families) -> Result<(), String> {
    let text = read("/proc/meminfo")?;
    for line in text.lines() {
        let Some((key, rest)) = line.split_once(':') else {
            continue;
        };
        let mut parts = rest.split_whitespace();
        let Some(value) = parts.next().and_then(|v| v.parse::<f64>().ok()) else {
            continue;
        };
        let key = key.replace('(', "_").replace(')', "");
        let (name, value) = match parts.next() {
            Some("kB") => (format!("node_memory_{key}_bytes"), value * 1024.0),
            _ => (format!("node_memory_{key}"), value),
        };
        let help = format!("Memory information field {key}.");
        f.gauge(&name, &help, &[], value);
    }
    Ok(())
}

fn loadavg(f: &mut Families) -> Result<(), String> {
    let text = read("/proc/loadavg")?;
    let v: Vec<f64> = text
        .split_whitespace()
        .take(3)
        .filter_map(|x| x.parse().ok())
        .collect();
    if v.len() != 3 {
        return Err(format!("unexpected /proc/loadavg content {text:?}"));
    }
    f.gauge("node_load1", "1m load average.", &[], v[0]);
    f.gauge("node_load5", "5m load average.", &[], v[1]);
    f.gauge("node_load15", "15m load average.", &[], v[2]);
    Ok(())
}

fn vmstat(f: &mut Families) -> Result<(), String> {
    let text = read("/proc/vmstat")?;
    for line in text.lines() {
        let Some((key, value)) = line.split_once(' ') else {
            continue;
        };
        // node_exporter's default --collector.vmstat.fields.
        let wanted = key == "oom_kill"
            || key.starts_with("pgpg")
            || key.starts_with("pswp")
            || (key.starts_with("pg") && key.ends_with("fault"));
        if !wanted {
            continue;
        }
        let Ok(v) = value.trim().parse::<f64>() else {
            continue;
        };
        let help = format!("/proc/vmstat information field {key}.");
        f.add(
            &format!("node_vmstat_{key}"),
            &help,
            MetricType::Unknown,
            &[],
            v,
        );
    }
    Ok(())
}

fn netdev(f: &mut Families) -> Result<(), String> {
    let text = read("/proc/net/dev")?;
    const RX: [&str; 8] = [
        "bytes",
        "packets",
        "errs",
        "drop",
        "fifo",
        "frame",
        "compressed",
        "multicast",
    ];
    const TX: [&str; 8] = [
        "bytes",
        "packets",
        "errs",
        "drop",
        "fifo",
        "colls",
        "carrier",
        "compressed",
    ];
    for line in text.lines().skip(2) {
        let Some((dev, rest)) = line.split_once(':') else {
            continue;
        };
        let dev = dev.trim();
        let v: Vec<f64> = rest
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        if v.len() < 16 {
            continue;
        }
        for (i, field) in RX.iter().enumerate() {
            let name = format!("node_network_receive_{field}_total");
            let help = format!("Network device statistic receive_{field}.");
            f.counter(&name, &help, &[("device", dev)], v[i]);
        }
        for (i, field) in TX.iter().enumerate() {
            let name = format!("node_network_transmit_{field}_total");
            let help = format!("Network device statistic transmit_{field}.");
            f.counter(&name, &help, &[("device", dev)], v[8 + i]);
        }
    }
    Ok(())
}

/// node_exporter's default `--collector.diskstats.device-exclude`:
/// `^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$`.
fn disk_excluded(dev: &str) -> bool {
    let digits_tail = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    for p in ["ram", "zram", "loop", "fd"] {
        if let Some(rest) = dev.strip_prefix(p) {
            if digits_tail(rest) {
                return true;
            }
        }
    }
    for p in ["hd", "sd", "vd", "xvd"] {
        if let Some(rest) = dev.strip_prefix(p) {
            let mut chars = rest.chars();
            if chars.next().is_some_and(|c| c.is_ascii_lowercase()) && digits_tail(chars.as_str()) {
                return true;
            }
        }
    }
    if let Some(rest) = dev.strip_prefix("nvme") {
        let Some((a, b)) = rest.split_once('n') else {
            return false;
        };
        let Some((b, c)) = b.split_once('p') else {
            return false;
        };
        return digits_tail(a) && digits_tail(b) && digits_tail(c);
    }
    false
}

fn diskstats(f: &mut Families) -> Result<(), String> {
    let text = read("/proc/diskstats")?;
    for line in text.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if parts.len() < 14 {
            continue;
        }
        let dev = parts[2];
        if disk_excluded(dev) {
            continue;
        }
        let v: Vec<f64> = parts[3..]
            .iter()
            .map(|x| x.parse().unwrap_or(0.0))
            .collect();
        let l = [("device", dev)];
        f.counter(
            "node_disk_reads_completed_total",
            "The total number of reads completed successfully.",
            &l,
            v[0],
        );
        f.counter(
            "node_disk_reads_merged_total",
            "The total number of reads merged.",
            &l,
            v[1],
        );
        f.counter(
            "node_disk_read_bytes_total",
            "The total number of bytes read successfully.",
            &l,
            v[2] * 512.0,
        );
        f.counter(
            "node_disk_read_time_seconds_total",
            "The total number of seconds spent by all reads.",
            &l,
            v[3] / 1000.0,
        );
        f.counter(
            "node_disk_writes_completed_total",
            "The total number of writes completed successfully.",
            &l,
            v[4],
        );
        f.counter(
            "node_disk_writes_merged_total",
            "The number of writes merged.",
            &l,
            v[5],
        );
        f.counter(
            "node_disk_written_bytes_total",
            "The total number of bytes written successfully.",
            &l,
            v[6] * 512.0,
        );
        f.counter(
            "node_disk_write_time_seconds_total",
            "This is the total number of seconds spent by all writes.",
            &l,
            v[7] / 1000.0,
        );
        f.gauge(
            "node_disk_io_now",
            "The number of I/Os currently in progress.",
            &l,
            v[8],
        );
        f.counter(
            "node_disk_io_time_seconds_total",
            "Total seconds spent doing I/Os.",
            &l,
            v[9] / 1000.0,
        );
        f.counter(
            "node_disk_io_time_weighted_seconds_total",
            "The weighted # of seconds spent doing I/Os.",
            &l,
            v[10] / 1000.0,
        );
    }
    Ok(())
}

/// node_exporter's default filesystem exclusions.
fn fs_excluded(mountpoint: &str, fstype: &str) -> bool {
    const TYPES: [&str; 24] = [
        "autofs",
        "binfmt_misc",
        "bpf",
        "cgroup",
        "cgroup2",
        "configfs",
        "debugfs",
        "devpts",
        "devtmpfs",
        "fusectl",
        "hugetlbfs",
        "iso9660",
        "mqueue",
        "nsfs",
        "overlay",
        "proc",
        "procfs",
        "pstore",
        "rpc_pipefs",
        "securityfs",
        "selinuxfs",
        "squashfs",
        "sysfs",
        "tracefs",
    ];
    if TYPES.contains(&fstype) {
        return true;
    }
    for prefix in ["/dev", "/proc", "/sys"] {
        if mountpoint == prefix || mountpoint.starts_with(&format!("{prefix}/")) {
            return true;
        }
    }
    [
        "/run/credentials/",
        "/var/lib/docker/",
        "/var/lib/containers/storage/",
    ]
    .iter()
    .any(|p| mountpoint.starts_with(p))
}

/// Undoes the octal escapes of /proc/mounts (`\040` for a space).
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v as char);
            i += 4;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

fn filesystem(f: &mut Families) -> Result<(), String> {
    let text = read("/proc/1/mounts").or_else(|_| read("/proc/self/mounts"))?;
    let mut seen = std::collections::BTreeSet::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if parts.len() < 4 {
            continue;
        }
        let (device, mountpoint, fstype) = (unescape(parts[0]), unescape(parts[1]), parts[2]);
        if fs_excluded(&mountpoint, fstype) || !seen.insert(mountpoint.clone()) {
            continue;
        }
        let l = [
            ("device", device.as_str()),
            ("fstype", fstype),
            ("mountpoint", mountpoint.as_str()),
        ];
        match fs::statfs(&mountpoint) {
            Ok(s) => {
                f.gauge(
                    "node_filesystem_size_bytes",
                    "Filesystem size in bytes.",
                    &l,
                    s.size_bytes as f64,
                );
                f.gauge(
                    "node_filesystem_free_bytes",
                    "Filesystem free space in bytes.",
                    &l,
                    s.free_bytes as f64,
                );
                f.gauge(
                    "node_filesystem_avail_bytes",
                    "Filesystem space available to non-root users in bytes.",
                    &l,
                    s.avail_bytes as f64,
                );
                f.gauge(
                    "node_filesystem_files",
                    "Filesystem total file nodes.",
                    &l,
                    s.files as f64,
                );
                f.gauge(
                    "node_filesystem_files_free",
                    "Filesystem total free file nodes.",
                    &l,
                    s.files_free as f64,
                );
                f.gauge(
                    "node_filesystem_readonly",
                    "Filesystem read-only status.",
                    &l,
                    if s.read_only { 1.0 } else { 0.0 },
                );
                f.gauge(
                    "node_filesystem_device_error",
                    "Whether an error occurred while getting statistics for the given device.",
                    &l,
                    0.0,
                );
            }
            // Mount points that are not granted are simply not exported.
            Err(e) if e.contains("not granted") => {}
            Err(e) => {
                log::debug(&e);
                f.gauge(
                    "node_filesystem_device_error",
                    "Whether an error occurred while getting statistics for the given device.",
                    &l,
                    1.0,
                );
            }
        }
    }
    Ok(())
}

fn uname(f: &mut Families) -> Result<(), String> {
    let get = |p: &str| read(p).map(|s| s.trim().to_string());
    let sysname = get("/proc/sys/kernel/ostype")?;
    let release = get("/proc/sys/kernel/osrelease")?;
    let version = get("/proc/sys/kernel/version")?;
    let nodename = get("/proc/sys/kernel/hostname")?;
    let domainname = get("/proc/sys/kernel/domainname")?;
    f.gauge(
        "node_uname_info",
        "Labeled system information as provided by the uname system call.",
        &[
            ("domainname", &domainname),
            ("nodename", &nodename),
            ("release", &release),
            ("sysname", &sysname),
            ("version", &version),
        ],
        1.0,
    );
    Ok(())
}

fn time(f: &mut Families) -> Result<(), String> {
    f.gauge(
        "node_time_seconds",
        "System time in seconds since epoch (1970).",
        &[],
        clock::now_ms() as f64 / 1000.0,
    );
    Ok(())
}

sightline_sdk::export_exporter!(NodeExporter);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_exclusions() {
        for (dev, excluded) in [
            ("sda", false),
            ("sda1", true),
            ("nvme0n1", false),
            ("nvme0n1p2", true),
            ("loop3", true),
            ("dm-0", false),
            ("vdb", false),
            ("xvda1", true),
        ] {
            assert_eq!(disk_excluded(dev), excluded, "{dev}");
        }
    }

    #[test]
    fn mount_unescape() {
        assert_eq!(unescape("/mnt/my\\040disk"), "/mnt/my disk");
    }
}
