//! The per-device collectors: netdev, diskstats and filesystem, with Debian's
//! prometheus-node-exporter 1.5 default exclusions (but for `lo`, see [`netdev`]).

use std::collections::BTreeSet;

use sightline_sdk::{fs, log};

use crate::{read, Families};

/// node_exporter's `netdev` collector with its default legacy names, every device included as
/// upstream node_exporter 1.5 does (Debian's package excludes `lo` by default; the node
/// dashboard filters it out itself): `/proc/net/dev` holds
/// what node_exporter 1.5 gets over netlink and folds into those names (drop includes missed
/// errors, frame the length, over and CRC errors, carrier the aborted, heartbeat and window
/// errors); `receive_nohandler` comes from sysfs.
pub(crate) fn netdev(f: &mut Families) -> Result<(), String> {
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
        let l = [("device", dev)];
        for (i, field) in RX.iter().enumerate() {
            let name = format!("node_network_receive_{field}_total");
            let help = format!("Network device statistic receive_{field}.");
            f.counter(&name, &help, &l, v[i]);
        }
        for (i, field) in TX.iter().enumerate() {
            let name = format!("node_network_transmit_{field}_total");
            let help = format!("Network device statistic transmit_{field}.");
            f.counter(&name, &help, &l, v[8 + i]);
        }
        let nohandler = read(&format!("/sys/class/net/{dev}/statistics/rx_nohandler"))
            .ok()
            .and_then(|s| s.trim().parse::<f64>().ok())
            .unwrap_or(0.0);
        f.counter(
            "node_network_receive_nohandler_total",
            "Network device statistic receive_nohandler.",
            &l,
            nohandler,
        );
    }
    Ok(())
}

/// Debian's node_exporter 1.5 default `--collector.diskstats.device-exclude`:
/// `^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$` (zram devices are kept).
fn disk_excluded(dev: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    for p in ["ram", "loop", "fd"] {
        if dev.strip_prefix(p).is_some_and(digits) {
            return true;
        }
    }
    for p in ["hd", "sd", "vd", "xvd"] {
        if let Some(rest) = dev.strip_prefix(p) {
            let mut chars = rest.chars();
            if chars.next().is_some_and(|c| c.is_ascii_lowercase()) && digits(chars.as_str()) {
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
        return digits(a) && digits(b) && digits(c);
    }
    false
}

/// The diskstats families in `/proc/diskstats` field order: name, help, whether a gauge,
/// and the factor to node_exporter's unit (sectors of 512 bytes, milliseconds).
const DISK_FIELDS: [(&str, &str, bool, f64); 17] = [
    (
        "node_disk_reads_completed_total",
        "The total number of reads completed successfully.",
        false,
        1.0,
    ),
    (
        "node_disk_reads_merged_total",
        "The total number of reads merged.",
        false,
        1.0,
    ),
    (
        "node_disk_read_bytes_total",
        "The total number of bytes read successfully.",
        false,
        512.0,
    ),
    (
        "node_disk_read_time_seconds_total",
        "The total number of seconds spent by all reads.",
        false,
        0.001,
    ),
    (
        "node_disk_writes_completed_total",
        "The total number of writes completed successfully.",
        false,
        1.0,
    ),
    (
        "node_disk_writes_merged_total",
        "The number of writes merged.",
        false,
        1.0,
    ),
    (
        "node_disk_written_bytes_total",
        "The total number of bytes written successfully.",
        false,
        512.0,
    ),
    (
        "node_disk_write_time_seconds_total",
        "This is the total number of seconds spent by all writes.",
        false,
        0.001,
    ),
    (
        "node_disk_io_now",
        "The number of I/Os currently in progress.",
        true,
        1.0,
    ),
    (
        "node_disk_io_time_seconds_total",
        "Total seconds spent doing I/Os.",
        false,
        0.001,
    ),
    (
        "node_disk_io_time_weighted_seconds_total",
        "The weighted # of seconds spent doing I/Os.",
        false,
        0.001,
    ),
    (
        "node_disk_discards_completed_total",
        "The total number of discards completed successfully.",
        false,
        1.0,
    ),
    (
        "node_disk_discards_merged_total",
        "The total number of discards merged.",
        false,
        1.0,
    ),
    (
        "node_disk_discarded_sectors_total",
        "The total number of sectors discarded successfully.",
        false,
        1.0,
    ),
    (
        "node_disk_discard_time_seconds_total",
        "This is the total number of seconds spent by all discards.",
        false,
        0.001,
    ),
    (
        "node_disk_flush_requests_total",
        "The total number of flush requests completed successfully",
        false,
        1.0,
    ),
    (
        "node_disk_flush_requests_time_seconds_total",
        "This is the total number of seconds spent by all flush requests.",
        false,
        0.001,
    ),
];

/// node_exporter's `diskstats` collector. The labels of `node_disk_info` that node_exporter
/// takes from udev's database (`/run/udev/data`: path, wwn, model, serial, revision) are
/// empty, as node_exporter's are where there is no udev; the plugin is not granted `/run`.
pub(crate) fn diskstats(f: &mut Families) -> Result<(), String> {
    let text = read("/proc/diskstats")?;
    for line in text.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if parts.len() < 14 {
            continue;
        }
        let (major, minor, dev) = (parts[0], parts[1], parts[2]);
        if disk_excluded(dev) {
            continue;
        }
        f.gauge(
            "node_disk_info",
            "Info of /sys/block/<block_device>.",
            &[
                ("device", dev),
                ("major", major),
                ("minor", minor),
                ("path", ""),
                ("wwn", ""),
                ("model", ""),
                ("serial", ""),
                ("revision", ""),
            ],
            1.0,
        );
        let l = [("device", dev)];
        // Older kernels have 11 fields, 4.18 adds discards, 5.5 flushes.
        for (raw, (name, help, gauge, factor)) in parts[3..].iter().zip(DISK_FIELDS) {
            let v = raw.parse::<f64>().unwrap_or(0.0) * factor;
            if gauge {
                f.gauge(name, help, &l, v);
            } else {
                f.counter(name, help, &l, v);
            }
        }
    }
    Ok(())
}

/// Debian's node_exporter 1.5 default filesystem exclusions: mount points
/// `^/(dev|proc|run|sys|mnt|media|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)`
/// and the pseudo filesystem types.
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
    let Some(rel) = mountpoint.strip_prefix('/') else {
        return false;
    };
    let whole = ["dev", "proc", "run", "sys", "mnt", "media"];
    if whole
        .iter()
        .any(|p| rel == *p || rel.strip_prefix(p).is_some_and(|r| r.starts_with('/')))
    {
        return true;
    }
    // `var/lib/docker/.+` needs something after the slash.
    ["var/lib/docker/", "var/lib/containers/storage/"]
        .iter()
        .any(|p| rel.strip_prefix(p).is_some_and(|r| !r.is_empty()))
}

/// The mount point as node_exporter shows it: `\040` (space) and `\011` (tab) undone, other
/// escapes kept.
fn unescape(s: &str) -> String {
    s.replace("\\040", " ").replace("\\011", "\t")
}

/// node_exporter's `filesystem` collector over the mount points granted in `fs.statfs`;
/// the others are left out, as if excluded.
pub(crate) fn filesystem(f: &mut Families) -> Result<(), String> {
    let text = read("/proc/1/mounts").or_else(|_| read("/proc/self/mounts"))?;
    let mut seen = BTreeSet::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if parts.len() < 4 {
            return Err(format!("malformed mount point information: {line:?}"));
        }
        let (device, mountpoint, fstype, options) =
            (parts[0], unescape(parts[1]), parts[2], parts[3]);
        if fs_excluded(&mountpoint, fstype) || !seen.insert((device, mountpoint.clone(), fstype)) {
            continue;
        }
        let l = [
            ("device", device),
            ("fstype", fstype),
            ("mountpoint", mountpoint.as_str()),
        ];
        let device_error = |f: &mut Families, v: f64| {
            f.gauge(
                "node_filesystem_device_error",
                "Whether an error occurred while getting statistics for the given device.",
                &l,
                v,
            )
        };
        let s = match fs::statfs(&mountpoint) {
            Ok(s) => s,
            // Mount points that are not granted are simply not exported.
            Err(e) if e.contains("not granted") => continue,
            Err(e) => {
                log::debug(&e);
                device_error(f, 1.0);
                continue;
            }
        };
        device_error(f, 0.0);
        let read_only = options.split(',').any(|o| o == "ro");
        for (name, help, v) in [
            (
                "node_filesystem_size_bytes",
                "Filesystem size in bytes.",
                s.size_bytes as f64,
            ),
            (
                "node_filesystem_free_bytes",
                "Filesystem free space in bytes.",
                s.free_bytes as f64,
            ),
            (
                "node_filesystem_avail_bytes",
                "Filesystem space available to non-root users in bytes.",
                s.avail_bytes as f64,
            ),
            (
                "node_filesystem_files",
                "Filesystem total file nodes.",
                s.files as f64,
            ),
            (
                "node_filesystem_files_free",
                "Filesystem total free file nodes.",
                s.files_free as f64,
            ),
            (
                "node_filesystem_readonly",
                "Filesystem read-only status.",
                if read_only { 1.0 } else { 0.0 },
            ),
        ] {
            f.gauge(name, help, &l, v);
        }
    }
    Ok(())
}

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
            ("ram0", true),
            ("zram0", false),
            ("dm-0", false),
            ("vdb", false),
            ("xvda1", true),
        ] {
            assert_eq!(disk_excluded(dev), excluded, "{dev}");
        }
    }

    #[test]
    fn fs_exclusions() {
        for (mp, fstype, excluded) in [
            ("/", "ext4", false),
            ("/run", "tmpfs", true),
            ("/run/user/1000", "tmpfs", true),
            ("/mnt/data", "ext4", true),
            ("/media", "vfat", true),
            ("/devices", "ext4", false),
            ("/var/lib/docker", "ext4", false),
            ("/var/lib/docker/overlay", "ext4", true),
            ("/boot", "ext4", false),
            ("/sys/fs/cgroup", "tmpfs", true),
            ("/srv", "cgroup2", true),
        ] {
            assert_eq!(fs_excluded(mp, fstype), excluded, "{mp} {fstype}");
        }
    }

    #[test]
    fn mount_unescape() {
        assert_eq!(unescape("/mnt/my\\040disk"), "/mnt/my disk");
        assert_eq!(unescape("/a\\134b"), "/a\\134b");
    }
}
