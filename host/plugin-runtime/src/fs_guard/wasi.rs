//! The guard's place in the linker: `wasi:filesystem/types`' path operations, redefined.
//!
//! After wasmtime-wasi's own functions are linked, the ones that take a path are replaced
//! by wrappers that call wasmtime-wasi's implementation and check the result with the
//! [`FsPolicy`]:
//!
//! - `open-at` opens, then checks the opened object; a denied one is closed and the guest
//!   gets `error-code.access`.
//! - `stat-at`, `readlink-at` and `metadata-hash-at` open the path's directory part through
//!   the guarded open (or check the directory they were given), then run on that
//!   directory with the last component alone; following a symbolic link is done here, one hop at a
//!   time through the same steps, so no link leads past the check. A path ending in `.`,
//!   `..` or `/` is opened whole (it names a directory) and the operation runs on it.
//!
//! The mutating path operations need write permission, which no grant has (wasmtime-wasi
//! refuses them for read-only preopens), and operations on an open descriptor only ever
//! see objects the guard let through.

use std::sync::Arc;

use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::filesystem::{Descriptor, WasiFilesystemCtxView};
use wasmtime_wasi::p2::bindings::filesystem::types::{
    DescriptorFlags, DescriptorStat, DescriptorType, ErrorCode, HostDescriptor, MetadataHashValue,
    OpenFlags, PathFlags,
};
use wasmtime_wasi::p2::{FsError, FsResult};

use super::{Denied, FsPolicy};
use crate::state::HostState;

/// The `wasi:filesystem/types` instance wasmtime-wasi 48 links (its WIT's version). A
/// component importing any 0.2.x version is given this one. If a wasmtime-wasi upgrade
/// changes it, redefining these four functions creates a new, incomplete instance, so
/// linking fails loudly instead of leaving the unguarded functions in place; the
/// `procfs` tests of the runtime prove the guard is in the path.
const TYPES: &str = "wasi:filesystem/types@0.2.12";

/// Symbolic links followed in one path before `error-code.loop`, as Linux's `ELOOP`.
const MAX_SYMLINK_HOPS: u32 = 40;

/// Longest guest path quoted in a log line.
const MAX_LOGGED_PATH: usize = 256;

/// The guard's per-call state in [`HostState`].
pub(crate) struct CallGuard {
    pub(crate) policy: Arc<FsPolicy>,
    /// Denials so far in this call: the first is logged as a warning, the rest at debug.
    pub(crate) denials: u32,
}

impl CallGuard {
    pub(crate) fn new(policy: Arc<FsPolicy>) -> Self {
        CallGuard { policy, denials: 0 }
    }
}

/// Replaces the path operations of wasmtime-wasi's `wasi:filesystem/types` in `linker`
/// (which must already hold them) with guarded ones.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let result = redefine(linker);
    linker.allow_shadowing(false);
    result
}

type Ret<T> = wasmtime::Result<(Result<T, ErrorCode>,)>;

fn redefine(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let mut inst = linker.instance(TYPES)?;
    inst.func_wrap_async(
        "[method]descriptor.open-at",
        |mut store,
         (fd, path_flags, path, oflags, flags): (
            Resource<Descriptor>,
            PathFlags,
            String,
            OpenFlags,
            DescriptorFlags,
        )| {
            Box::new(async move {
                let r = open_at(store.data_mut(), fd, path_flags, path, oflags, flags).await;
                lower(r)
            })
                as Box<dyn std::future::Future<Output = Ret<Resource<Descriptor>>> + Send + '_>
        },
    )?;
    inst.func_wrap_async(
        "[method]descriptor.readlink-at",
        |mut store, (fd, path): (Resource<Descriptor>, String)| {
            Box::new(async move { lower(readlink_at(store.data_mut(), fd, path).await) })
                as Box<dyn std::future::Future<Output = Ret<String>> + Send + '_>
        },
    )?;
    inst.func_wrap_async(
        "[method]descriptor.stat-at",
        |mut store, (fd, path_flags, path): (Resource<Descriptor>, PathFlags, String)| {
            Box::new(async move { lower(stat_at(store.data_mut(), fd, path_flags, path).await) })
                as Box<dyn std::future::Future<Output = Ret<DescriptorStat>> + Send + '_>
        },
    )?;
    inst.func_wrap_async(
        "[method]descriptor.metadata-hash-at",
        |mut store, (fd, path_flags, path): (Resource<Descriptor>, PathFlags, String)| {
            Box::new(async move {
                lower(metadata_hash_at(store.data_mut(), fd, path_flags, path).await)
            })
                as Box<dyn std::future::Future<Output = Ret<MetadataHashValue>> + Send + '_>
        },
    )?;
    Ok(())
}

/// A filesystem result as the component model returns it: the WIT error code, or a trap.
fn lower<T>(r: FsResult<T>) -> Ret<T> {
    match r {
        Ok(v) => Ok((Ok(v),)),
        Err(e) => Ok((Err(e.downcast()?),)),
    }
}

/// The parts of the store the guarded operations use.
fn parts(state: &mut HostState) -> (WasiFilesystemCtxView<'_>, &mut CallGuard, &str) {
    let HostState {
        wasi,
        table,
        fs_guard,
        plugin,
        ..
    } = state;
    (
        WasiFilesystemCtxView {
            ctx: wasi.filesystem(),
            table,
        },
        fs_guard,
        plugin,
    )
}

/// The operating-system file behind a descriptor.
fn os_file(d: &Descriptor) -> Arc<std::fs::File> {
    match d {
        Descriptor::File(f) => f.file.clone(),
        Descriptor::Dir(d) => d.dir.clone(),
    }
}

/// A borrow of the descriptor `rep`, to hand wasmtime-wasi's functions (which consume
/// their handle argument) more than once.
fn borrow(rep: u32) -> Resource<Descriptor> {
    Resource::new_borrow(rep)
}

/// Runs a blocking check on tokio's blocking pool; a failed task denies.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Denied> + Send + 'static,
) -> Result<T, Denied> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(Denied::Unresolvable(format!("check task failed: {e}"))))
}

/// Logs a denial (the first of a call as a warning) and returns the guest's error.
fn deny(guard: &mut CallGuard, plugin: &str, path: &str, why: &Denied) -> FsError {
    let mut shown: String = path.chars().take(MAX_LOGGED_PATH).collect();
    if shown.len() < path.len() {
        shown.push_str("...");
    }
    if guard.denials == 0 {
        tracing::warn!(plugin, path = ?shown, "filesystem access denied: {why}");
    } else {
        tracing::debug!(plugin, path = ?shown, "filesystem access denied: {why}");
    }
    guard.denials = guard.denials.saturating_add(1);
    ErrorCode::Access.into()
}

async fn open_at(
    state: &mut HostState,
    fd: Resource<Descriptor>,
    path_flags: PathFlags,
    path: String,
    oflags: OpenFlags,
    flags: DescriptorFlags,
) -> FsResult<Resource<Descriptor>> {
    let (mut view, guard, plugin) = parts(state);
    guarded_open(
        &mut view, guard, plugin, fd, path_flags, path, oflags, flags,
    )
    .await
}

/// wasmtime-wasi's `open-at`, then the check of what it opened.
#[allow(clippy::too_many_arguments)]
async fn guarded_open(
    view: &mut WasiFilesystemCtxView<'_>,
    guard: &mut CallGuard,
    plugin: &str,
    fd: Resource<Descriptor>,
    path_flags: PathFlags,
    path: String,
    oflags: OpenFlags,
    flags: DescriptorFlags,
) -> FsResult<Resource<Descriptor>> {
    let opened = HostDescriptor::open_at(view, fd, path_flags, path.clone(), oflags, flags).await?;
    let file = os_file(view.table.get(&opened)?);
    let policy = guard.policy.clone();
    match blocking(move || policy.check_open(&file)).await {
        Ok(_) => Ok(opened),
        Err(why) => {
            view.table.delete(opened)?;
            Err(deny(guard, plugin, &path, &why))
        }
    }
}

/// What a path names, once its directory part is opened and checked.
enum Target {
    /// The path names a directory as a whole (`.`, `..`, a trailing `/`): opened.
    Whole(Resource<Descriptor>),
    /// The entry `name` of the directory `dir`.
    Entry { dir: Dir, name: String },
}

/// The directory part of a path.
enum Dir {
    /// The descriptor the guest passed (the path had no directory part).
    Given(u32),
    /// Opened here; closed by [`Target::release`].
    Opened(Resource<Descriptor>),
}

impl Dir {
    fn rep(&self) -> u32 {
        match self {
            Dir::Given(rep) => *rep,
            Dir::Opened(r) => r.rep(),
        }
    }

    /// Closes the directory if it was opened here.
    fn release(self, view: &mut WasiFilesystemCtxView<'_>) -> FsResult<()> {
        if let Dir::Opened(r) = self {
            view.table.delete(r)?;
        }
        Ok(())
    }
}

impl Target {
    /// Closes what resolving opened.
    fn release(self, view: &mut WasiFilesystemCtxView<'_>) -> FsResult<()> {
        match self {
            Target::Whole(r) => {
                view.table.delete(r)?;
            }
            Target::Entry { dir, .. } => dir.release(view)?,
        }
        Ok(())
    }
}

/// How a path splits into the directory part and its last component.
enum Split<'a> {
    Whole,
    Entry { dir: &'a str, name: &'a str },
}

fn split(path: &str) -> Split<'_> {
    let trimmed = path.trim_end_matches('/');
    if trimmed.len() != path.len() || trimmed.is_empty() {
        return Split::Whole;
    }
    let (dir, name) = match trimmed.rfind('/') {
        Some(i) => (trimmed[..i].trim_end_matches('/'), &trimmed[i + 1..]),
        None => ("", trimmed),
    };
    if name == "." || name == ".." {
        Split::Whole
    } else {
        Split::Entry { dir, name }
    }
}

/// Resolves `path` below `fd` for an operation that does not open its target: the
/// directory part is opened through the guarded open (or, when there is none, `fd` is
/// checked). With `follow`, a last component that is a symbolic link is replaced by its
/// target and resolved again.
async fn resolve(
    view: &mut WasiFilesystemCtxView<'_>,
    guard: &mut CallGuard,
    plugin: &str,
    fd: &Resource<Descriptor>,
    follow: bool,
    path: String,
) -> FsResult<Target> {
    let base = fd.rep();
    let mut path = path;
    let mut hops = 0u32;
    loop {
        // wasmtime-wasi refuses absolute paths (they leave the preopen); so do we.
        if path.starts_with('/') {
            return Err(ErrorCode::NotPermitted.into());
        }
        let (dir_part, name) = match split(&path) {
            Split::Whole => {
                let opened = guarded_open(
                    view,
                    guard,
                    plugin,
                    borrow(base),
                    PathFlags::SYMLINK_FOLLOW,
                    path,
                    OpenFlags::DIRECTORY,
                    DescriptorFlags::READ,
                )
                .await?;
                return Ok(Target::Whole(opened));
            }
            Split::Entry { dir, name } => (dir.to_string(), name.to_string()),
        };
        let dir = if dir_part.is_empty() {
            Dir::Given(base)
        } else {
            Dir::Opened(
                guarded_open(
                    view,
                    guard,
                    plugin,
                    borrow(base),
                    PathFlags::SYMLINK_FOLLOW,
                    dir_part.clone(),
                    OpenFlags::DIRECTORY,
                    DescriptorFlags::READ,
                )
                .await?,
            )
        };
        let checked = match view.table.get(&borrow(dir.rep())) {
            Ok(d) => {
                let (file, policy) = (os_file(d), guard.policy.clone());
                Some(blocking(move || policy.check_dir(&file)).await)
            }
            Err(_) => None,
        };
        match checked {
            None => {
                dir.release(view)?;
                return Err(ErrorCode::BadDescriptor.into());
            }
            Some(Err(why)) => {
                dir.release(view)?;
                return Err(deny(guard, plugin, &path, &why));
            }
            Some(Ok(())) => {}
        }
        if !follow {
            return Ok(Target::Entry { dir, name });
        }
        let stat =
            HostDescriptor::stat_at(view, borrow(dir.rep()), PathFlags::empty(), name.clone())
                .await;
        let link = match stat {
            Ok(s) if s.type_ == DescriptorType::SymbolicLink => {
                HostDescriptor::readlink_at(view, borrow(dir.rep()), name.clone()).await
            }
            Ok(_) => return Ok(Target::Entry { dir, name }),
            Err(e) => Err(e),
        };
        dir.release(view)?;
        let link = link?;
        hops += 1;
        if hops > MAX_SYMLINK_HOPS {
            return Err(ErrorCode::Loop.into());
        }
        path = if dir_part.is_empty() {
            link
        } else {
            format!("{dir_part}/{link}")
        };
    }
}

async fn readlink_at(
    state: &mut HostState,
    fd: Resource<Descriptor>,
    path: String,
) -> FsResult<String> {
    let (mut view, guard, plugin) = parts(state);
    let target = resolve(&mut view, guard, plugin, &fd, false, path).await?;
    let result = match &target {
        // A directory is not a symbolic link.
        Target::Whole(_) => Err(ErrorCode::Invalid.into()),
        Target::Entry { dir, name } => {
            HostDescriptor::readlink_at(&mut view, borrow(dir.rep()), name.clone()).await
        }
    };
    target.release(&mut view)?;
    result
}

async fn stat_at(
    state: &mut HostState,
    fd: Resource<Descriptor>,
    path_flags: PathFlags,
    path: String,
) -> FsResult<DescriptorStat> {
    let (mut view, guard, plugin) = parts(state);
    let follow = path_flags.contains(PathFlags::SYMLINK_FOLLOW);
    let target = resolve(&mut view, guard, plugin, &fd, follow, path).await?;
    let result = match &target {
        Target::Whole(d) => HostDescriptor::stat(&mut view, borrow(d.rep())).await,
        Target::Entry { dir, name } => {
            HostDescriptor::stat_at(
                &mut view,
                borrow(dir.rep()),
                PathFlags::empty(),
                name.clone(),
            )
            .await
        }
    };
    target.release(&mut view)?;
    result
}

async fn metadata_hash_at(
    state: &mut HostState,
    fd: Resource<Descriptor>,
    path_flags: PathFlags,
    path: String,
) -> FsResult<MetadataHashValue> {
    let (mut view, guard, plugin) = parts(state);
    let follow = path_flags.contains(PathFlags::SYMLINK_FOLLOW);
    let target = resolve(&mut view, guard, plugin, &fd, follow, path).await?;
    let result = match &target {
        Target::Whole(d) => HostDescriptor::metadata_hash(&mut view, borrow(d.rep())).await,
        Target::Entry { dir, name } => {
            HostDescriptor::metadata_hash_at(
                &mut view,
                borrow(dir.rep()),
                PathFlags::empty(),
                name.clone(),
            )
            .await
        }
    };
    target.release(&mut view)?;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(path: &str) -> Option<(&str, &str)> {
        match split(path) {
            Split::Whole => None,
            Split::Entry { dir, name } => Some((dir, name)),
        }
    }

    #[test]
    fn paths_split_into_directory_and_entry() {
        assert_eq!(parts("environ"), Some(("", "environ")));
        assert_eq!(parts("self/environ"), Some(("self", "environ")));
        assert_eq!(parts("a/b/c"), Some(("a/b", "c")));
        assert_eq!(parts("a//c"), Some(("a", "c")));
        assert_eq!(parts("net/../environ"), Some(("net/..", "environ")));
        for whole in ["", ".", "..", "a/..", "a/.", "self/", "a//", "/"] {
            assert_eq!(parts(whole), None, "{whole:?}");
        }
    }
}
