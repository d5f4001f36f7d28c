//! The on-disk component cache: compiled native code, authenticated.
//!
//! A cache file is native code that wasmtime maps and runs outside the sandbox, and
//! `Component::deserialize` trusts its input completely. So a file is handed to wasmtime only
//! when it provably came from this cache:
//!
//! - the directory is created owner-only (0700) and must belong to the effective user; its
//!   files are created 0600;
//! - every file carries an HMAC-SHA256 tag over the component's sha256, the engine's
//!   compatibility hash and the serialized bytes, keyed by a 32-byte random secret in
//!   `<dir>/cache.key` (0600, created on first use). The key is used only when it is a regular
//!   file of the effective user that nobody else can read or write;
//! - a file is read once, verified and deserialized from that same buffer, so nothing can be
//!   swapped in between the check and the use.
//!
//! A file whose tag does not verify is logged, counted, deleted and the component compiled
//! again (and the fresh code written back). A key file that fails its checks disables the
//! cache for the process (logged once): every component is compiled and nothing is written.
//!
//! The cache must live where plugin authors cannot write: the daemon uses
//! `<storage.tsdb.path>/plugin-cache`, the CLI commands the user's cache directory. It never
//! defaults to the plugins directory.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Marks a cache file of this format (version 1).
const MAGIC: &[u8; 8] = b"SLCWASM\x01";
/// Length of the HMAC-SHA256 tag after the magic.
const TAG_LEN: usize = 32;
/// Length of the secret in `cache.key`.
const KEY_LEN: usize = 32;
/// Domain separation for the tag.
const DOMAIN: &[u8] = b"sightline plugin component cache v1\0";
/// The key file's name inside the cache directory.
pub(crate) const KEY_FILE: &str = "cache.key";

type HmacSha256 = Hmac<Sha256>;

/// What the cache did so far (process lifetime).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Whether a cache directory is configured and its key usable.
    pub enabled: bool,
    /// Components taken from the cache.
    pub hits: u64,
    /// Components compiled because no usable cache file existed.
    pub misses: u64,
    /// Cache files ignored because their tag did not verify (or they were malformed).
    pub rejected: u64,
}

/// An opened cache directory.
pub(crate) struct ComponentCache {
    dir: PathBuf,
    /// `None` when the directory or the key cannot be trusted: nothing is read or written.
    key: Option<[u8; KEY_LEN]>,
    hits: AtomicU64,
    misses: AtomicU64,
    rejected: AtomicU64,
}

impl ComponentCache {
    /// Opens (creating if needed) the cache in `dir`. Never fails: an unusable directory or
    /// key is logged and leaves the cache disabled.
    pub(crate) fn open(dir: PathBuf) -> Self {
        let key = match open_key(&dir) {
            Ok(k) => Some(k),
            Err(why) => {
                tracing::warn!(
                    dir = %dir.display(),
                    "plugin compile cache disabled, every plugin is compiled: {why}"
                );
                None
            }
        };
        ComponentCache {
            dir,
            key,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
        }
    }

    /// The counters so far.
    pub(crate) fn stats(&self) -> CacheStats {
        CacheStats {
            enabled: self.key.is_some(),
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
        }
    }

    fn path(&self, sha256: &str, engine_key: u64) -> PathBuf {
        self.dir.join(format!("{sha256}-{engine_key:016x}.cwasm"))
    }

    /// The verified serialized component for `sha256` under this engine, if the cache holds
    /// one (the caller counts it with [`hit`](Self::hit) once wasmtime accepts it). A missing
    /// file is a miss; a file that fails verification is counted, logged and removed.
    pub(crate) fn read(&self, plugin: &str, sha256: &str, engine_key: u64) -> Option<Vec<u8>> {
        let key = self.key.as_ref()?;
        let path = self.path(sha256, engine_key);
        let mut data = Vec::new();
        match open_nofollow(&path).and_then(|mut f| f.read_to_end(&mut data)) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                return None;
            }
            Err(e) => {
                tracing::warn!(plugin, path = %path.display(), "cannot read cached component: {e}");
                self.misses.fetch_add(1, Ordering::Relaxed);
                return None;
            }
        }
        match verify(key, sha256, engine_key, &data) {
            Some(start) => {
                data.drain(..start);
                Some(data)
            }
            None => {
                self.rejected.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    plugin,
                    path = %path.display(),
                    "cached component is not authenticated by this cache's key; ignored, compiling again"
                );
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    /// Counts a component taken from the cache.
    pub(crate) fn hit(&self) {
        self.hits.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a verified file that wasmtime refused (another engine build): it is compiled
    /// again and overwritten, which is a miss, not an attack.
    pub(crate) fn miss(&self) {
        self.misses.fetch_add(1, Ordering::Relaxed);
    }

    /// Writes `serialized` with its tag, atomically (0600 temporary file, then rename).
    pub(crate) fn write(
        &self,
        sha256: &str,
        engine_key: u64,
        serialized: &[u8],
    ) -> std::io::Result<()> {
        let Some(key) = &self.key else {
            return Ok(());
        };
        let path = self.path(sha256, engine_key);
        let tag = tag(key, sha256, engine_key, serialized);
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let mut f = create_private(&tmp)?;
        let written = f
            .write_all(MAGIC)
            .and_then(|()| f.write_all(&tag))
            .and_then(|()| f.write_all(serialized))
            .and_then(|()| f.sync_all());
        drop(f);
        if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, &path)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        Ok(())
    }
}

/// The tag of one cache entry.
fn tag(key: &[u8; KEY_LEN], sha256: &str, engine_key: u64, serialized: &[u8]) -> [u8; TAG_LEN] {
    let mut mac = new_mac(key);
    feed(&mut mac, sha256, engine_key, serialized);
    mac.finalize().into_bytes().into()
}

fn new_mac(key: &[u8; KEY_LEN]) -> HmacSha256 {
    // HMAC takes keys of any length; only fixed-size MACs can refuse one.
    <HmacSha256 as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"))
}

fn feed(mac: &mut HmacSha256, sha256: &str, engine_key: u64, serialized: &[u8]) {
    mac.update(DOMAIN);
    mac.update(&(sha256.len() as u64).to_le_bytes());
    mac.update(sha256.as_bytes());
    mac.update(&engine_key.to_le_bytes());
    mac.update(serialized);
}

/// Checks a file's magic and tag (in constant time); returns where the serialized bytes start.
fn verify(key: &[u8; KEY_LEN], sha256: &str, engine_key: u64, data: &[u8]) -> Option<usize> {
    let start = MAGIC.len() + TAG_LEN;
    if data.len() < start || &data[..MAGIC.len()] != MAGIC {
        return None;
    }
    let mut mac = new_mac(key);
    feed(&mut mac, sha256, engine_key, &data[start..]);
    mac.verify_slice(&data[MAGIC.len()..start]).ok()?;
    Some(start)
}

/// Creates the directory owner-only if missing, checks that it belongs to the effective user
/// (tightening its mode to 0700 if looser), and reads or creates the key.
fn open_key(dir: &Path) -> Result<[u8; KEY_LEN], String> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("creating the directory: {e}"))?;
    let meta = std::fs::metadata(dir).map_err(|e| format!("reading the directory: {e}"))?;
    let uid = rustix::process::geteuid().as_raw();
    if !meta.is_dir() {
        return Err("not a directory".to_string());
    }
    if meta.uid() != uid {
        return Err(format!(
            "the directory belongs to uid {}, not to this process (uid {uid})",
            meta.uid()
        ));
    }
    if meta.mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("making the directory owner-only: {e}"))?;
    }
    let path = dir.join(KEY_FILE);
    match read_key(&path, uid) {
        Ok(k) => return Ok(k),
        Err(KeyError::Missing) => {}
        Err(KeyError::Bad(why)) => return Err(format!("{}: {why}", path.display())),
    }
    // Created under a temporary name and published with link(2), which never replaces: of
    // two processes starting at once, one key wins and both use it.
    let mut key = [0u8; KEY_LEN];
    getrandom::getrandom(&mut key).map_err(|e| format!("no randomness for the key: {e}"))?;
    let tmp = dir.join(format!(".{KEY_FILE}.tmp{}", std::process::id()));
    let created = create_private(&tmp)
        .and_then(|mut f| f.write_all(&key).and_then(|()| f.sync_all()))
        .and_then(|()| match std::fs::hard_link(&tmp, &path) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
            _ => Ok(()),
        });
    let _ = std::fs::remove_file(&tmp);
    created.map_err(|e| format!("creating {}: {e}", path.display()))?;
    match read_key(&path, uid) {
        Ok(k) => Ok(k),
        Err(KeyError::Missing) => Err(format!("{}: vanished after creation", path.display())),
        Err(KeyError::Bad(why)) => Err(format!("{}: {why}", path.display())),
    }
}

enum KeyError {
    Missing,
    Bad(String),
}

/// Reads the key if it is a regular file of `uid`, mode 0600 or stricter, of the right size.
/// The checks are made on the open file (no symlinks followed), so they hold for what is read.
fn read_key(path: &Path, uid: u32) -> Result<[u8; KEY_LEN], KeyError> {
    let mut f = match open_nofollow(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(KeyError::Missing),
        Err(e) => return Err(KeyError::Bad(format!("cannot open: {e}"))),
    };
    let meta = f
        .metadata()
        .map_err(|e| KeyError::Bad(format!("cannot stat: {e}")))?;
    if !meta.is_file() {
        return Err(KeyError::Bad("not a regular file".to_string()));
    }
    if meta.uid() != uid {
        return Err(KeyError::Bad(format!(
            "belongs to uid {}, not to this process (uid {uid}); delete it to start a new cache",
            meta.uid()
        )));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(KeyError::Bad(format!(
            "mode {:o} lets others read or write it; delete it to start a new cache",
            meta.mode() & 0o7777
        )));
    }
    let mut key = [0u8; KEY_LEN];
    let mut rest = Vec::new();
    f.read_exact(&mut key)
        .and_then(|()| f.read_to_end(&mut rest))
        .map_err(|e| KeyError::Bad(format!("cannot read: {e}")))?;
    if !rest.is_empty() {
        return Err(KeyError::Bad(format!("longer than {KEY_LEN} bytes")));
    }
    Ok(key)
}

fn open_nofollow(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// Creates a new file readable and writable by its owner only (replacing a leftover of the
/// same name, which a crash may have left).
fn create_private(path: &Path) -> std::io::Result<File> {
    let open = || {
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
    };
    match open() {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::remove_file(path)?;
            open()
        }
        r => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_any_change_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let cache_dir = dir.path().join("a/plugin-cache");
        let cache = ComponentCache::open(cache_dir.clone());
        assert!(cache.stats().enabled);
        let sha = "ab".repeat(32);
        assert_eq!(cache.read("p", &sha, 7), None);
        cache.write(&sha, 7, b"native code").unwrap();
        assert_eq!(
            cache.read("p", &sha, 7).as_deref(),
            Some(&b"native code"[..])
        );
        // Owner-only directory, key and entry.
        let mode = |p: &Path| std::fs::metadata(p).unwrap().mode() & 0o777;
        assert_eq!(mode(&cache_dir), 0o700);
        assert_eq!(mode(&cache_dir.join(KEY_FILE)), 0o600);
        let entry = cache.path(&sha, 7);
        assert_eq!(mode(&entry), 0o600);
        // A reopened cache uses the same key.
        let again = ComponentCache::open(cache_dir.clone());
        assert!(again.read("p", &sha, 7).is_some());
        // One flipped bit of the code, or the entry renamed to another component or engine.
        let mut data = std::fs::read(&entry).unwrap();
        let last = data.len() - 1;
        data[last] ^= 1;
        std::fs::write(&entry, &data).unwrap();
        assert_eq!(cache.read("p", &sha, 7), None);
        assert!(!entry.exists(), "a rejected entry is removed");
        cache.write(&sha, 7, b"native code").unwrap();
        let other = "cd".repeat(32);
        std::fs::copy(&entry, cache.path(&other, 7)).unwrap();
        std::fs::copy(&entry, cache.path(&sha, 8)).unwrap();
        assert_eq!(cache.read("p", &other, 7), None);
        assert_eq!(cache.read("p", &sha, 8), None);
        // A file planted without the key: not even the right magic helps.
        let mut planted = MAGIC.to_vec();
        planted.extend([0u8; TAG_LEN]);
        planted.extend(b"evil");
        std::fs::write(cache.path(&sha, 9), planted).unwrap();
        assert_eq!(cache.read("p", &sha, 9), None);
        let s = cache.stats();
        assert_eq!((s.misses, s.rejected), (1, 4), "{s:?}");
    }

    #[test]
    fn a_key_others_can_read_or_own_or_a_symlinked_key_disables_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let cache_dir = dir.path().join("c");
        let cache = ComponentCache::open(cache_dir.clone());
        let sha = "ab".repeat(32);
        cache.write(&sha, 1, b"code").unwrap();
        let key = cache_dir.join(KEY_FILE);
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let loose = ComponentCache::open(cache_dir.clone());
        assert!(!loose.stats().enabled);
        assert_eq!(loose.read("p", &sha, 1), None);
        loose.write(&sha, 2, b"code").unwrap();
        assert!(
            !loose.path(&sha, 2).exists(),
            "a disabled cache writes nothing"
        );
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(ComponentCache::open(cache_dir.clone()).stats().enabled);
        // A key of another user (only root can make one to test with).
        if rustix::process::geteuid().is_root() {
            std::os::unix::fs::chown(&key, Some(65534), None).unwrap();
            assert!(!ComponentCache::open(cache_dir.clone()).stats().enabled);
            std::os::unix::fs::chown(&key, Some(0), None).unwrap();
            // Likewise a directory of another user.
            std::os::unix::fs::chown(&cache_dir, Some(65534), None).unwrap();
            assert!(!ComponentCache::open(cache_dir.clone()).stats().enabled);
            std::os::unix::fs::chown(&cache_dir, Some(0), None).unwrap();
        }
        // A symlink to a private file is not followed.
        let real = dir.path().join("elsewhere.key");
        std::fs::rename(&key, &real).unwrap();
        std::os::unix::fs::symlink(&real, &key).unwrap();
        assert!(!ComponentCache::open(cache_dir.clone()).stats().enabled);
        // A loose directory of ours is tightened.
        std::fs::remove_file(&key).unwrap();
        std::fs::set_permissions(&cache_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(ComponentCache::open(cache_dir.clone()).stats().enabled);
        assert_eq!(std::fs::metadata(&cache_dir).unwrap().mode() & 0o777, 0o700);
    }
}
