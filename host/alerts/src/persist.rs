//! Crash-safe state files for the alert manager's durable state (silences, the notification
//! log, alerts, notification history).
//!
//! A snapshot is written whole to `<name>.tmp`, fsynced, renamed over `<name>` and the
//! directory fsynced, so after a crash the file holds either the previous snapshot or the new
//! one, never a mix. The file starts with a magic line and a CRC-32 of the payload, so a
//! truncated or corrupted file (a disk that lied about its fsync) is detected and reported
//! instead of being half-read.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

const MAGIC: &[u8; 16] = b"sightline-state1";

/// Writes `payload` to `path` atomically and durably.
pub fn write_snapshot(path: &Path, payload: &[u8]) -> Result<()> {
    let io = |p: &Path, e: std::io::Error| Error::Io {
        path: p.to_path_buf(),
        source: e,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let tmp = tmp_path(path);
    {
        let mut f = std::fs::File::create(&tmp).map_err(|e| io(&tmp, e))?;
        f.write_all(MAGIC).map_err(|e| io(&tmp, e))?;
        f.write_all(&crc32fast::hash(payload).to_le_bytes())
            .map_err(|e| io(&tmp, e))?;
        f.write_all(&(payload.len() as u64).to_le_bytes())
            .map_err(|e| io(&tmp, e))?;
        f.write_all(payload).map_err(|e| io(&tmp, e))?;
        f.sync_all().map_err(|e| io(&tmp, e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| io(path, e))?;
    // The rename is durable only once the directory entry is.
    if let Ok(d) = std::fs::File::open(dir) {
        d.sync_all().map_err(|e| io(dir, e))?;
    }
    Ok(())
}

/// Reads a snapshot written by [`write_snapshot`]: `Ok(None)` when the file does not exist,
/// an error naming the file when it is truncated or corrupt.
pub fn read_snapshot(path: &Path) -> Result<Option<Vec<u8>>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::Io {
                path: path.to_path_buf(),
                source: e,
            })
        }
    };
    let corrupt = |why: &str| Error::Invalid {
        source_name: path.display().to_string(),
        message: format!("corrupt state file: {why}"),
    };
    if bytes.len() < 28 || &bytes[..16] != MAGIC {
        return Err(corrupt("bad header"));
    }
    let crc = u32::from_le_bytes(bytes[16..20].try_into().map_err(|_| corrupt("short"))?);
    let len = u64::from_le_bytes(bytes[20..28].try_into().map_err(|_| corrupt("short"))?);
    let payload = &bytes[28..];
    if payload.len() as u64 != len {
        return Err(corrupt(&format!(
            "{} payload bytes, header says {len}",
            payload.len()
        )));
    }
    if crc32fast::hash(payload) != crc {
        return Err(corrupt("checksum mismatch"));
    }
    Ok(Some(payload.to_vec()))
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_detects_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/silences");
        assert!(read_snapshot(&p).unwrap().is_none());
        write_snapshot(&p, b"hello").unwrap();
        assert_eq!(read_snapshot(&p).unwrap().unwrap(), b"hello");
        write_snapshot(&p, b"").unwrap();
        assert_eq!(read_snapshot(&p).unwrap().unwrap(), b"");
        let mut bytes = std::fs::read(&p).unwrap();
        bytes.extend_from_slice(b"x");
        std::fs::write(&p, &bytes).unwrap();
        let e = read_snapshot(&p).unwrap_err().to_string();
        assert!(e.contains("corrupt state file"), "{e}");
        write_snapshot(&p, b"abc").unwrap();
        let mut bytes = std::fs::read(&p).unwrap();
        let n = bytes.len();
        bytes[n - 1] ^= 1;
        std::fs::write(&p, &bytes).unwrap();
        assert!(read_snapshot(&p)
            .unwrap_err()
            .to_string()
            .contains("checksum"));
    }
}
