//! The collectors of whole-system figures: cpu, stat, meminfo, loadavg, vmstat, pressure,
//! uname and time.

use std::collections::BTreeMap;

use sightline_sdk::{clock, MetricType};

use crate::{read, Families};

/// Clock ticks per second of `/proc/stat` (USER_HZ, 100 on Linux).
const USER_HZ: f64 = 100.0;

/// node_exporter's `cpu` collector: `/proc/stat`'s per-CPU lines, thermal throttle counts
/// and isolated CPUs from `/sys/devices/system/cpu`.
pub(crate) fn cpu(f: &mut Families) -> Result<(), String> {
    let text = read("/proc/stat")?;
    const MODES: [&str; 8] = [
        "user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal",
    ];
    // node_exporter numbers CPUs by their position among the `cpuN` lines.
    let per_cpu = text
        .lines()
        .filter(|l| l.starts_with("cpu") && !l.starts_with("cpu "));
    for (i, line) in per_cpu.enumerate() {
        let cpu = i.to_string();
        let nums: Vec<f64> = line
            .split_whitespace()
            .skip(1)
            .map(|v| v.parse().unwrap_or(0.0))
            .collect();
        let at = |k: usize| nums.get(k).copied().unwrap_or(0.0) / USER_HZ;
        for (k, mode) in MODES.iter().enumerate() {
            f.counter(
                "node_cpu_seconds_total",
                "Seconds the CPUs spent in each mode.",
                &[("cpu", &cpu), ("mode", mode)],
                at(k),
            );
        }
        // Guest time is also counted in user and nice; node_exporter shows it apart.
        let help = "Seconds the CPUs spent in guests (VMs) for each mode.";
        f.counter(
            "node_cpu_guest_seconds_total",
            help,
            &[("cpu", &cpu), ("mode", "user")],
            at(8),
        );
        f.counter(
            "node_cpu_guest_seconds_total",
            help,
            &[("cpu", &cpu), ("mode", "nice")],
            at(9),
        );
    }
    if let Ok(list) = read("/sys/devices/system/cpu/isolated") {
        for cpu in cpu_list(list.trim()) {
            f.gauge(
                "node_cpu_isolated",
                "Whether each core is isolated, information from /sys/devices/system/cpu/isolated.",
                &[("cpu", &cpu.to_string())],
                1.0,
            );
        }
    }
    thermal_throttles(f);
    Ok(())
}

/// A kernel CPU list (`0-2,5`) as numbers; malformed parts are skipped.
fn cpu_list(s: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<u32>(), b.parse::<u32>()) {
                    out.extend(a..=b);
                }
            }
            None => out.extend(part.parse::<u32>().ok()),
        }
    }
    out
}

/// `node_cpu_{core,package}_throttles_total`, read once per core and per package as
/// node_exporter does; machines without `thermal_throttle` (most VMs) have none.
fn thermal_throttles(f: &mut Families) {
    let Ok(entries) = std::fs::read_dir("/sys/devices/system/cpu") else {
        return;
    };
    let mut cpus: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| {
            n.strip_prefix("cpu")
                .is_some_and(|d| d.starts_with(|c: char| c.is_ascii_digit()))
        })
        .collect();
    cpus.sort();
    let number = |p: String| read(&p).ok()?.trim().parse::<u64>().ok();
    let mut packages: BTreeMap<u64, Option<u64>> = BTreeMap::new();
    let mut cores: BTreeMap<(u64, u64), Option<u64>> = BTreeMap::new();
    for cpu in cpus {
        let dir = format!("/sys/devices/system/cpu/{cpu}");
        // Without thermal_throttle (most VMs) there is nothing to read; one look instead of
        // the two topology reads.
        if std::fs::metadata(format!("{dir}/thermal_throttle")).is_err() {
            continue;
        }
        let (Some(package), Some(core)) = (
            number(format!("{dir}/topology/physical_package_id")),
            number(format!("{dir}/topology/core_id")),
        ) else {
            continue;
        };
        cores
            .entry((package, core))
            .or_insert_with(|| number(format!("{dir}/thermal_throttle/core_throttle_count")));
        packages
            .entry(package)
            .or_insert_with(|| number(format!("{dir}/thermal_throttle/package_throttle_count")));
    }
    for (package, count) in packages {
        if let Some(c) = count {
            f.counter(
                "node_cpu_package_throttles_total",
                "Number of times this CPU package has been throttled.",
                &[("package", &package.to_string())],
                c as f64,
            );
        }
    }
    for ((package, core), count) in cores {
        if let Some(c) = count {
            f.counter(
                "node_cpu_core_throttles_total",
                "Number of times this CPU core has been throttled.",
                &[
                    ("package", &package.to_string()),
                    ("core", &core.to_string()),
                ],
                c as f64,
            );
        }
    }
}

/// node_exporter's `stat` collector: the system-wide lines of `/proc/stat`.
pub(crate) fn stat(f: &mut Families) -> Result<(), String> {
    let text = read("/proc/stat")?;
    for line in text.lines() {
        let mut it = line.split_whitespace();
        let (Some(key), Some(first)) = (it.next(), it.next()) else {
            continue;
        };
        let first: f64 = first.parse().unwrap_or(0.0);
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

/// node_exporter's `meminfo` collector: every `/proc/meminfo` field, `Active(anon)` as
/// `Active_anon`, fields in kB as `_bytes`.
pub(crate) fn meminfo(f: &mut Families) -> Result<(), String> {
    let text = read("/proc/meminfo")?;
    for line in text.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let (Some(key), Some(value)) = (parts.first(), parts.get(1)) else {
            continue;
        };
        let Ok(mut value) = value.parse::<f64>() else {
            return Err(format!("invalid value in meminfo: {line:?}"));
        };
        let mut key = key.trim_end_matches(':').replace('(', "_").replace(')', "");
        match parts.len() {
            2 => {}
            3 => {
                value *= 1024.0;
                key.push_str("_bytes");
            }
            _ => return Err(format!("invalid line in meminfo: {line:?}")),
        }
        f.gauge(
            &format!("node_memory_{key}"),
            &format!("Memory information field {key}."),
            &[],
            value,
        );
    }
    Ok(())
}

pub(crate) fn loadavg(f: &mut Families) -> Result<(), String> {
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

/// node_exporter's default `--collector.vmstat.fields`, `^(oom_kill|pgpg|pswp|pg.*fault).*`.
fn vmstat_wanted(key: &str) -> bool {
    ["oom_kill", "pgpg", "pswp"]
        .iter()
        .any(|p| key.starts_with(p))
        || key.strip_prefix("pg").is_some_and(|r| r.contains("fault"))
}

/// node_exporter's `vmstat` collector; its families are untyped.
pub(crate) fn vmstat(f: &mut Families) -> Result<(), String> {
    let text = read("/proc/vmstat")?;
    for line in text.lines() {
        let Some((key, value)) = line.split_once(' ') else {
            continue;
        };
        if !vmstat_wanted(key) {
            continue;
        }
        let v = value
            .trim()
            .parse::<f64>()
            .map_err(|e| format!("/proc/vmstat field {key}: {e}"))?;
        f.add(
            &format!("node_vmstat_{key}"),
            &format!("/proc/vmstat information field {key}."),
            MetricType::Unknown,
            &[],
            v,
        );
    }
    Ok(())
}

/// The `total=` microseconds of one line (`some` or `full`) of a `/proc/pressure` file.
fn psi_total(text: &str, kind: &str) -> Option<f64> {
    let line = text.lines().find(|l| l.starts_with(kind))?;
    let total = line
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix("total="))?;
    // Divided twice by 1000 as node_exporter does, for the same rounding.
    total.parse::<f64>().ok().map(|us| us / 1000.0 / 1000.0)
}

/// node_exporter's `pressure` collector (PSI); fails, as node_exporter's does, on kernels
/// without `/proc/pressure`.
pub(crate) fn pressure(f: &mut Families) -> Result<(), String> {
    let cpu = read("/proc/pressure/cpu")?;
    let io = read("/proc/pressure/io")?;
    let memory = read("/proc/pressure/memory")?;
    let series = [
        (
            "node_pressure_cpu_waiting_seconds_total",
            "Total time in seconds that processes have waited for CPU time",
            &cpu,
            "some",
        ),
        (
            "node_pressure_io_waiting_seconds_total",
            "Total time in seconds that processes have waited due to IO congestion",
            &io,
            "some",
        ),
        (
            "node_pressure_io_stalled_seconds_total",
            "Total time in seconds no process could make progress due to IO congestion",
            &io,
            "full",
        ),
        (
            "node_pressure_memory_waiting_seconds_total",
            "Total time in seconds that processes have waited for memory",
            &memory,
            "some",
        ),
        (
            "node_pressure_memory_stalled_seconds_total",
            "Total time in seconds no process could make progress due to memory congestion",
            &memory,
            "full",
        ),
    ];
    for (name, help, text, kind) in series {
        let v = psi_total(text, kind).ok_or_else(|| format!("{name}: no {kind} total"))?;
        f.counter(name, help, &[], v);
    }
    Ok(())
}

/// node_exporter's `uname` collector, from `/proc/sys/kernel` since WASI has no uname.
pub(crate) fn uname(f: &mut Families) -> Result<(), String> {
    let get = |p: &str| read(p).map(|s| s.trim().to_string());
    let sysname = get("/proc/sys/kernel/ostype")?;
    let release = get("/proc/sys/kernel/osrelease")?;
    let version = get("/proc/sys/kernel/version")?;
    let nodename = get("/proc/sys/kernel/hostname")?;
    let domainname = get("/proc/sys/kernel/domainname")?;
    let machine = get("/proc/sys/kernel/arch").unwrap_or_else(|_| machine_from_release(&release));
    f.gauge(
        "node_uname_info",
        "Labeled system information as provided by the uname system call.",
        &[
            ("domainname", &domainname),
            ("machine", &machine),
            ("nodename", &nodename),
            ("release", &release),
            ("sysname", &sysname),
            ("version", &version),
        ],
        1.0,
    );
    Ok(())
}

/// uname's machine on kernels without `/proc/sys/kernel/arch` (before 6.1), from the
/// architecture Debian and Ubuntu name their kernel packages by (`6.1.0-18-amd64`); empty
/// when the release does not say.
fn machine_from_release(release: &str) -> String {
    let machine = match release.rsplit('-').next().unwrap_or_default() {
        "amd64" => "x86_64",
        "arm64" => "aarch64",
        "686" | "pae" => "i686",
        "armmp" | "lpae" => "armv7l",
        "ppc64el" => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        _ => "",
    };
    machine.to_string()
}

/// node_exporter's `time` collector but for `node_time_zone_offset_seconds`: the zone is
/// `/etc/localtime`, which the plugin is not granted (granting `/etc` would open far more).
pub(crate) fn time(f: &mut Families) -> Result<(), String> {
    f.gauge(
        "node_time_seconds",
        "System time in seconds since epoch (1970).",
        &[],
        clock::now_ms() as f64 / 1000.0,
    );
    let base = "/sys/devices/system/clocksource";
    let entries = std::fs::read_dir(base).map_err(|e| format!("reading {base}: {e}"))?;
    let mut sources: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| {
            n.strip_prefix("clocksource")
                .is_some_and(|d| d.starts_with(|c: char| c.is_ascii_digit()))
        })
        .collect();
    sources.sort();
    for (i, dir) in sources.iter().enumerate() {
        let device = i.to_string();
        let available = read(&format!("{base}/{dir}/available_clocksource"))?;
        for cs in available.split_whitespace() {
            f.gauge(
                "node_time_clocksource_available_info",
                "Available clocksources read from '/sys/devices/system/clocksource'.",
                &[("clocksource", cs), ("device", &device)],
                1.0,
            );
        }
        let current = read(&format!("{base}/{dir}/current_clocksource"))?;
        f.gauge(
            "node_time_clocksource_current_info",
            "Current clocksource read from '/sys/devices/system/clocksource'.",
            &[("clocksource", current.trim()), ("device", &device)],
            1.0,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists() {
        assert_eq!(cpu_list("0-2,5"), vec![0, 1, 2, 5]);
        assert_eq!(cpu_list(""), Vec::<u32>::new());
    }

    #[test]
    fn vmstat_fields() {
        for (k, want) in [
            ("oom_kill", true),
            ("pgfault", true),
            ("pgmajfault", true),
            ("pgpgin", true),
            ("pswpout", true),
            ("thp_fault_alloc", false),
            ("pgfree", false),
        ] {
            assert_eq!(vmstat_wanted(k), want, "{k}");
        }
    }

    #[test]
    fn machine_from_debian_kernel_release() {
        assert_eq!(machine_from_release("6.1.0-18-amd64"), "x86_64");
        assert_eq!(machine_from_release("6.1.0-18-cloud-arm64"), "aarch64");
        assert_eq!(machine_from_release("5.15.0-91-generic"), "");
    }

    #[test]
    fn psi() {
        let t = "some avg10=0.00 avg60=0.00 avg300=0.00 total=1500000\n\
                 full avg10=0.00 avg60=0.00 avg300=0.00 total=2\n";
        assert_eq!(psi_total(t, "some"), Some(1.5));
        assert_eq!(psi_total(t, "full"), Some(2e-6));
    }
}
