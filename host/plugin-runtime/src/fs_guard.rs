//! The filesystem guard: what a granted directory can never reach.
//!
//! A grant (`fs.read_only`) is a WASI preopen, and wasmtime-wasi keeps every path inside
//! it. That is not enough for grants like `/proc` or `/`: inside them are the daemon's own
//! process directory (`/proc/self/environ`, `/proc/self/mem` with other plugins' secret
//! config values in the heap), every other process's, and the daemon's private files (the
//! plugins directory, whose manifests hold secrets, the data directory, the configuration).
//!
//! So every object a guest opens is checked after it was opened, by what it really is: its
//! path as the kernel names the open file (`/proc/self/fd/<n>` of the daemon), its
//! filesystem (`fstatfs`) and, on a procfs, its place relative to that procfs's root (from
//! `/proc/self/mountinfo`). A check on the opened object cannot be walked around with `..`,
//! symbolic links (`/proc/net` → `self/net`, `/proc/self` → `<pid>`) or another mount of
//! procfs. Denied are:
//!
//! - on any procfs, a process directory and everything in it (`<pid>/...`, which is where
//!   `self` and `thread-self` lead, `task/<tid>/...` included), for every pid, except the
//!   namespace-wide views `<pid>/net/...`, `<pid>/mounts` and `<pid>/mountinfo`; and the
//!   top-level `kcore`, `kmsg`, `keys` and `key-users`;
//! - anything inside a private path of the daemon ([`FsPolicy::private`]);
//! - device files other than `null`, `zero`, `full`, `random` and `urandom` (a raw disk
//!   holds the private files, `/dev/mem` the daemon's memory, `/dev/tty` its terminal);
//! - anything the kernel cannot name with an absolute path (a deleted file, a socket).
//!
//! The path operations that do not open (`stat-at`, `readlink-at`, `metadata-hash-at`)
//! open their parent directory through the same check, see `wasi.rs`: the entries of a
//! directory the guest may open can be looked at (its listing shows them anyway), so
//! `ls -l /proc` works, but nothing inside a denied directory can. Grants themselves are checked when a manifest is loaded
//! ([`FsPolicy::check_grants`]).

mod procfs;
mod wasi;

use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};

pub(crate) use wasi::{add_to_linker, CallGuard};

use crate::error::{Error, Result};
use crate::manifest::Capabilities;
use procfs::ProcPrivate;

/// What the guard protects beyond procfs: paths (files or directories) no grant reaches.
#[derive(Debug, Clone, Default)]
pub(crate) struct FsPolicy {
    /// Canonical private paths; everything at or below one is denied.
    private: Vec<PathBuf>,
}

/// Why the guard refused an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Denied {
    /// Inside a process directory of a procfs.
    ProcessDir(PathBuf),
    /// A procfs file exposing kernel memory or the daemon's keys.
    KernelState(PathBuf),
    /// At or below a private path of the daemon.
    Private(PathBuf),
    /// A device file.
    Device(PathBuf),
    /// The object's real path could not be determined.
    Unresolvable(String),
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Denied::ProcessDir(p) => write!(
                f,
                "{} is inside a process directory of procfs (only <pid>/net, <pid>/mounts and <pid>/mountinfo are reachable)",
                p.display()
            ),
            Denied::KernelState(p) => write!(
                f,
                "{} exposes kernel memory or the daemon's keys",
                p.display()
            ),
            Denied::Private(p) => write!(f, "{} is private to the daemon", p.display()),
            Denied::Device(p) => write!(f, "{} is a device file", p.display()),
            Denied::Unresolvable(why) => write!(f, "the opened object has no path ({why})"),
        }
    }
}

/// Where an opened object really is.
#[derive(Debug, Clone)]
pub(crate) struct Located {
    /// Its path, as the kernel names the open file.
    real: PathBuf,
    /// Its path relative to the root of its procfs, when it is on one.
    procfs: Option<PathBuf>,
}

/// Character devices (major, minor) that hold nothing: null, zero, full, random, urandom.
const HARMLESS_DEVICES: [(u32, u32); 5] = [(1, 3), (1, 5), (1, 7), (1, 8), (1, 9)];

impl FsPolicy {
    /// A policy protecting `private`, canonicalized here (a path that does not exist yet,
    /// such as a cache directory created on first use, as it will be once created).
    pub(crate) fn new(private: &[PathBuf]) -> Self {
        let mut canonical: Vec<PathBuf> = private.iter().map(|p| canonical_or_planned(p)).collect();
        canonical.sort();
        canonical.dedup();
        FsPolicy { private: canonical }
    }

    /// Finds out where `file` really is. Blocking (reads procfs; `fstatfs` may ask a
    /// network filesystem): call it off the async workers.
    pub(crate) fn locate(&self, file: &File) -> Result<Located, Denied> {
        let real = real_path(file)?;
        let on_procfs = rustix::fs::fstatfs(file)
            .map_err(|e| Denied::Unresolvable(format!("fstatfs: {e}")))?
            .f_type
            == rustix::fs::PROC_SUPER_MAGIC;
        let procfs = if on_procfs {
            Some(procfs_relative(file, &real)?)
        } else {
            None
        };
        Ok(Located { real, procfs })
    }

    /// Checks an object a guest just opened. Blocking, as [`FsPolicy::locate`].
    pub(crate) fn check_open(&self, file: &File) -> Result<Located, Denied> {
        let located = self.locate(file)?;
        self.check_located(&located)?;
        let stat =
            rustix::fs::fstat(file).map_err(|e| Denied::Unresolvable(format!("fstat: {e}")))?;
        let kind = rustix::fs::FileType::from_raw_mode(stat.st_mode);
        let device = (
            rustix::fs::major(stat.st_rdev),
            rustix::fs::minor(stat.st_rdev),
        );
        let denied_device = match kind {
            rustix::fs::FileType::BlockDevice => true,
            rustix::fs::FileType::CharacterDevice => !HARMLESS_DEVICES.contains(&device),
            _ => false,
        };
        if denied_device {
            return Err(Denied::Device(located.real));
        }
        Ok(located)
    }

    /// Checks an already located object.
    fn check_located(&self, located: &Located) -> Result<(), Denied> {
        if let Some(rel) = &located.procfs {
            match procfs::classify(rel) {
                Some(ProcPrivate::ProcessDir) => {
                    return Err(Denied::ProcessDir(located.real.clone()))
                }
                Some(ProcPrivate::KernelState) => {
                    return Err(Denied::KernelState(located.real.clone()))
                }
                None => {}
            }
        }
        if let Some(p) = self.private.iter().find(|p| located.real.starts_with(p)) {
            return Err(Denied::Private(p.clone()));
        }
        Ok(())
    }

    /// Checks a directory whose entries the guest looks at without opening them
    /// (`stat-at`, `readlink-at`, `metadata-hash-at`). Its entries may be looked at when
    /// the directory may be opened, as its listing shows them: the entry of a process
    /// directory (`ls -l /proc`, which wasi-libc's `readdir` does for every entry) or of a
    /// private directory, never what is inside. Blocking, as [`FsPolicy::locate`].
    pub(crate) fn check_dir(&self, dir: &File) -> Result<(), Denied> {
        let located = self.locate(dir)?;
        self.check_located(&located)
    }

    /// Refuses grants that lead into a process directory of procfs or a private path
    /// (where the guard would deny everything anyway, so such a grant is a mistake or an
    /// attempt). A grant that does not exist yet is left to fail when it is opened.
    /// Blocking.
    pub(crate) fn check_grants(&self, manifest: &Path, caps: &Capabilities) -> Result<()> {
        for dir in &caps.read_only_dirs {
            let Ok(canonical) = std::fs::canonicalize(dir) else {
                continue;
            };
            // O_PATH: no permission to read it is needed to find out where it is.
            let flags = rustix::fs::OFlags::PATH | rustix::fs::OFlags::CLOEXEC;
            let Ok(fd) = rustix::fs::open(&canonical, flags, rustix::fs::Mode::empty()) else {
                continue;
            };
            let file = File::from(fd);
            let verdict = self.locate(&file).and_then(|l| self.check_located(&l));
            if let Err(why) = verdict {
                return Err(Error::Manifest {
                    path: manifest.to_path_buf(),
                    message: format!(
                        "fs.read_only: {:?} is refused: {why}; grant the directory above it (such as /proc) and the runtime keeps plugins out of such paths",
                        dir.display().to_string()
                    ),
                });
            }
        }
        Ok(())
    }
}

/// `path` canonicalized; for a path that does not exist (yet), its longest existing
/// ancestor canonicalized with the rest appended, which is where it will be once created.
fn canonical_or_planned(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut rest = Vec::new();
    let mut at = absolute.as_path();
    loop {
        if let Ok(found) = std::fs::canonicalize(at) {
            return rest.iter().rev().fold(found, |p, name| p.join(name));
        }
        match (at.parent(), at.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                at = parent;
            }
            _ => return absolute,
        }
    }
}

/// The path the kernel gives the open file: the target of `/proc/self/fd/<n>`.
#[cfg(target_os = "linux")]
fn real_path(file: &File) -> Result<PathBuf, Denied> {
    use std::os::fd::AsRawFd;
    let link = format!("/proc/self/fd/{}", file.as_raw_fd());
    let real = std::fs::read_link(&link)
        .map_err(|e| Denied::Unresolvable(format!("reading {link}: {e}")))?;
    // Sockets, pipes and anonymous inodes are named `socket:[...]` and the like; a file
    // unlinked since it was opened gets " (deleted)" appended, so its name no longer says
    // where it was.
    if !real.is_absolute() || real.as_os_str().as_encoded_bytes().ends_with(b" (deleted)") {
        return Err(Denied::Unresolvable(format!(
            "the kernel names it {}",
            real.display()
        )));
    }
    Ok(real)
}

/// Without Linux's `/proc/self/fd` the guard cannot tell where a file is, so it denies.
#[cfg(not(target_os = "linux"))]
fn real_path(_file: &File) -> Result<PathBuf, Denied> {
    Err(Denied::Unresolvable(
        "the filesystem guard needs Linux".to_string(),
    ))
}

/// `real` (a path on a procfs) relative to the root of its procfs.
fn procfs_relative(file: &File, real: &Path) -> Result<PathBuf, Denied> {
    use rustix::fs::{AtFlags, StatxFlags};
    let mnt_id = rustix::fs::statx(file, "", AtFlags::EMPTY_PATH, StatxFlags::MNT_ID)
        .ok()
        .filter(|s| StatxFlags::from_bits_retain(s.stx_mask).contains(StatxFlags::MNT_ID))
        .map(|s| s.stx_mnt_id);
    let text = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| Denied::Unresolvable(format!("reading /proc/self/mountinfo: {e}")))?;
    procfs::relative_to_procfs(&procfs::parse_mountinfo(&text), mnt_id, real)
        .ok_or_else(|| Denied::Unresolvable(format!("no procfs mount contains {}", real.display())))
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn the_daemons_own_process_directory_is_denied() {
        let policy = FsPolicy::new(&[]);
        for path in [
            "/proc/self/environ",
            "/proc/self/cmdline",
            "/proc/self/mem",
            "/proc/thread-self/environ",
            "/proc/self/task",
        ] {
            let file = File::open(path).unwrap();
            let verdict = policy.check_open(&file);
            assert!(
                matches!(verdict, Err(Denied::ProcessDir(_))),
                "{path}: {verdict:?}"
            );
        }
        for path in [
            "/proc/stat",
            "/proc/meminfo",
            "/proc/net/dev",
            "/proc/self/mounts",
            "/proc",
        ] {
            let file = File::open(path).unwrap();
            assert!(policy.check_open(&file).is_ok(), "{path}");
        }
        let pid = std::process::id();
        let net = File::open(format!("/proc/{pid}/net")).unwrap();
        assert!(policy.check_dir(&net).is_ok());
        let task = File::open(format!("/proc/{pid}/task")).unwrap();
        assert!(matches!(
            policy.check_dir(&task),
            Err(Denied::ProcessDir(_))
        ));
    }

    #[test]
    fn private_paths_and_devices_are_denied() {
        let dir = tempfile::tempdir().unwrap();
        let private = dir.path().join("plugins");
        std::fs::create_dir(&private).unwrap();
        std::fs::write(private.join("x.toml"), "secret").unwrap();
        let policy = FsPolicy::new(std::slice::from_ref(&private));
        let file = File::open(private.join("x.toml")).unwrap();
        assert!(matches!(policy.check_open(&file), Err(Denied::Private(_))));
        let above = File::open(dir.path()).unwrap();
        assert!(policy.check_open(&above).is_ok());
        assert!(policy.check_dir(&above).is_ok());
        let inside = File::open(&private).unwrap();
        assert!(matches!(policy.check_dir(&inside), Err(Denied::Private(_))));
        let null = File::open("/dev/null").unwrap();
        assert!(policy.check_open(&null).is_ok());
        if let Ok(tty) = File::open("/dev/tty") {
            assert!(matches!(policy.check_open(&tty), Err(Denied::Device(_))));
        }
    }
}
