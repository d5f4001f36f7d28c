//! Where a procfs object sits inside its procfs, and which parts of procfs are private.
//!
//! Pure functions over the text of `/proc/self/mountinfo` and paths, so the rules can be
//! tested without a procfs.

use std::path::{Component, Path, PathBuf};

/// Entries of a process directory (`<procfs>/<pid>/...`) that show only what the whole
/// namespace shares and the node exporter reads: the network namespace's tables (`net`,
/// which `/proc/net` links to) and the mount table.
const SHARED_PROCESS_ENTRIES: [&str; 2] = ["mounts", "mountinfo"];

/// Top-level procfs files outside the process directories that still expose the daemon:
/// kernel memory (the daemon's heap is in it), the kernel log read destructively, and the
/// key rings the reading process can see.
const PRIVATE_TOP_LEVEL: [&str; 4] = ["kcore", "kmsg", "keys", "key-users"];

/// Why a path inside a procfs is not reachable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProcPrivate {
    /// A process directory or something in it (`<pid>`, `<pid>/environ`, `<pid>/task/...`).
    ProcessDir,
    /// A file exposing kernel memory or the reader's own keys (`kcore`, `keys`, ...).
    KernelState,
}

/// Classifies `rel`, a path relative to the root of a procfs (it may start with `/`).
/// `None` means reachable.
pub(crate) fn classify(rel: &Path) -> Option<ProcPrivate> {
    let names: Vec<&str> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_str().unwrap_or("\u{fffd}")),
            _ => None,
        })
        .collect();
    let first = names.first()?;
    // `self` and `thread-self` never show up here: they are symbolic links, and the path
    // classified is where the object really is (`<pid>` or `<pid>/task/<tid>`).
    if !first.is_empty() && first.bytes().all(|b| b.is_ascii_digit()) {
        let shared = match names.get(1) {
            Some(&"net") => true,
            Some(entry) => names.len() == 2 && SHARED_PROCESS_ENTRIES.contains(entry),
            None => false,
        };
        return (!shared).then_some(ProcPrivate::ProcessDir);
    }
    (names.len() == 1 && PRIVATE_TOP_LEVEL.contains(first)).then_some(ProcPrivate::KernelState)
}

/// One line of `/proc/self/mountinfo`, the fields the guard needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mount {
    /// The mount's id (the first field; `statx`'s `stx_mnt_id`).
    pub(crate) id: u64,
    /// Which directory of the filesystem is mounted (`/` unless a bind mount of a subtree).
    pub(crate) root: PathBuf,
    /// Where it is mounted, as this process sees it.
    pub(crate) mount_point: PathBuf,
    /// The filesystem type (`proc`, `sysfs`, ...).
    pub(crate) fstype: String,
}

/// Parses `/proc/self/mountinfo`; lines it cannot read are skipped.
pub(crate) fn parse_mountinfo(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            let (head, tail) = line.split_once(" - ")?;
            let fields: Vec<&str> = head.split(' ').collect();
            let fstype = tail.split(' ').next()?;
            Some(Mount {
                id: fields.first()?.parse().ok()?,
                root: PathBuf::from(unescape(fields.get(3)?)),
                mount_point: PathBuf::from(unescape(fields.get(4)?)),
                fstype: unescape(fstype),
            })
        })
        .collect()
}

/// Undoes mountinfo's octal escapes (`\040` for a space, `\134` for a backslash).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 3 < bytes.len() {
            let digits = &bytes[i + 1..i + 4];
            if digits.iter().all(|d| (b'0'..=b'7').contains(d)) {
                let value = digits
                    .iter()
                    .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
                if let Ok(b) = u8::try_from(value) {
                    out.push(b);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The path of `real` (an object on a procfs, as `/proc/self/fd` names it) relative to the
/// root of its procfs. The mount is the one whose id is `mnt_id` when the kernel told it
/// (`statx`), otherwise the procfs mount with the longest mount point containing `real`.
/// A bind mount of a procfs subtree (`/1234` mounted at `/mnt/x`) maps back to the subtree.
/// `None` when no procfs mount contains `real`.
pub(crate) fn relative_to_procfs(
    mounts: &[Mount],
    mnt_id: Option<u64>,
    real: &Path,
) -> Option<PathBuf> {
    let by_id = mnt_id.and_then(|id| {
        mounts
            .iter()
            .find(|m| m.id == id && real.starts_with(&m.mount_point))
    });
    let mount = by_id.or_else(|| {
        mounts
            .iter()
            .filter(|m| m.fstype == "proc" && real.starts_with(&m.mount_point))
            .max_by_key(|m| m.mount_point.components().count())
    })?;
    let rest = real.strip_prefix(&mount.mount_point).ok()?;
    Some(mount.root.join(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_directories_are_private_except_shared_views() {
        for private in [
            "/1",
            "/1234/environ",
            "/1234/cmdline",
            "/1234/mem",
            "/1234/maps",
            "/1234/fd/3",
            "/1234/exe",
            "/1234/cwd",
            "/1234/root",
            "/1234/task/1240/environ",
            "/1234/task/1240/net/dev",
            "/1234/mounts/x",
            "1234/status",
        ] {
            assert_eq!(
                classify(Path::new(private)),
                Some(ProcPrivate::ProcessDir),
                "{private}"
            );
        }
        for shared in [
            "/",
            "",
            "/1234/net",
            "/1234/net/dev",
            "/1234/net/tcp6",
            "/1234/mounts",
            "/1234/mountinfo",
            "/stat",
            "/meminfo",
            "/irq/23",
            "/irq/23/smp_affinity",
            "/sys/kernel/hostname",
            "/net",
            "/self",
            "/sys/fs/binfmt_misc",
        ] {
            assert_eq!(classify(Path::new(shared)), None, "{shared}");
        }
        for kernel in ["/kcore", "/kmsg", "/keys", "/key-users"] {
            assert_eq!(
                classify(Path::new(kernel)),
                Some(ProcPrivate::KernelState),
                "{kernel}"
            );
        }
    }

    const MOUNTINFO: &str = "\
22 27 0:21 / /proc rw,relatime - proc proc rw
23 27 0:22 / /sys rw,relatime - sysfs sysfs rw
27 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw
40 27 0:40 / /host/proc rw,relatime - proc proc rw
41 27 0:21 /1234 /mnt/one\\040proc rw,relatime - proc proc rw
42 22 0:41 / /proc/sys/fs/binfmt_misc rw,relatime - binfmt_misc binfmt_misc rw
";

    #[test]
    fn mountinfo_is_parsed_with_escapes() {
        let mounts = parse_mountinfo(MOUNTINFO);
        assert_eq!(mounts.len(), 6);
        assert_eq!(mounts[0].id, 22);
        assert_eq!(mounts[0].fstype, "proc");
        assert_eq!(mounts[4].mount_point, PathBuf::from("/mnt/one proc"));
        assert_eq!(mounts[4].root, PathBuf::from("/1234"));
        assert_eq!(unescape("a\\134b\\011"), "a\\b\t");
        assert_eq!(unescape("trailing\\04"), "trailing\\04");
    }

    #[test]
    fn paths_map_to_their_procfs() {
        let mounts = parse_mountinfo(MOUNTINFO);
        let rel = |id: Option<u64>, p: &str| relative_to_procfs(&mounts, id, Path::new(p));
        assert_eq!(
            rel(Some(22), "/proc/1234/environ"),
            Some("/1234/environ".into())
        );
        assert_eq!(
            rel(None, "/proc/1234/environ"),
            Some("/1234/environ".into())
        );
        assert_eq!(rel(None, "/host/proc/1/mem"), Some("/1/mem".into()));
        assert_eq!(rel(Some(40), "/host/proc/stat"), Some("/stat".into()));
        assert_eq!(
            rel(Some(41), "/mnt/one proc/environ"),
            Some("/1234/environ".into())
        );
        assert_eq!(
            rel(None, "/mnt/one proc/environ"),
            Some("/1234/environ".into())
        );
        assert_eq!(rel(None, "/etc/passwd"), None);
        // A mount id that does not contain the path falls back to the prefix rule.
        assert_eq!(rel(Some(23), "/proc/1/environ"), Some("/1/environ".into()));
    }
}
