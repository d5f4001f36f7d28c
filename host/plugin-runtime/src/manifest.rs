//! Capabilities: the `<name>.toml` file beside `<name>.wasm`.
//!
//! Nothing is granted unless listed here. Unknown keys are errors, so a typo
//! never silently grants (or silently fails to grant) anything.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::error::{Error, Result};

/// Default memory limit of one plugin instance.
pub const DEFAULT_MEMORY_BYTES: u64 = 64 << 20;
/// Default time limit of one call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default limit on the size of a call's output.
pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 16 << 20;

/// The capabilities granted to one plugin, after validation and `$VAR`
/// expansion. `Debug` prints config values as `<secret>` (they hold tokens).
#[derive(Clone, PartialEq)]
pub struct Capabilities {
    /// Host directories preopened read-only, at the same path in the guest.
    pub read_only_dirs: Vec<PathBuf>,
    /// Mount points whose statvfs the plugin may read (`*` = any).
    pub statfs: Vec<String>,
    /// Hosts (`host` or `host:port`, `*` = any) the plugin may send HTTP
    /// requests to.
    pub http_allowed_hosts: Vec<String>,
    /// Config keys whose values are URLs the plugin may send HTTP requests
    /// to (for receivers: the `url` setting the operator configured).
    pub http_allow_config_url_keys: Vec<String>,
    /// Memory limit in bytes.
    pub memory_bytes: u64,
    /// Time limit of one call.
    pub timeout: Duration,
    /// Limit on the size of a call's output, in bytes.
    pub max_output_bytes: usize,
    /// Whether WASI's wall clock shows real time (otherwise it is frozen at
    /// the Unix epoch; the `clock` interface is always real).
    pub wasi_wall_clock: bool,
    /// Config values, expanded.
    pub config: BTreeMap<String, String>,
}

impl Default for Capabilities {
    fn default() -> Self {
        Capabilities {
            read_only_dirs: Vec::new(),
            statfs: Vec::new(),
            http_allowed_hosts: Vec::new(),
            http_allow_config_url_keys: Vec::new(),
            memory_bytes: DEFAULT_MEMORY_BYTES,
            timeout: DEFAULT_TIMEOUT,
            max_output_bytes: DEFAULT_MAX_OUTPUT_BYTES,
            wasi_wall_clock: false,
            config: BTreeMap::new(),
        }
    }
}

impl std::fmt::Debug for Capabilities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let config: BTreeMap<&str, &str> = self
            .config
            .keys()
            .map(|k| (k.as_str(), "<secret>"))
            .collect();
        f.debug_struct("Capabilities")
            .field("read_only_dirs", &self.read_only_dirs)
            .field("statfs", &self.statfs)
            .field("http_allowed_hosts", &self.http_allowed_hosts)
            .field(
                "http_allow_config_url_keys",
                &self.http_allow_config_url_keys,
            )
            .field("memory_bytes", &self.memory_bytes)
            .field("timeout", &self.timeout)
            .field("max_output_bytes", &self.max_output_bytes)
            .field("wasi_wall_clock", &self.wasi_wall_clock)
            .field("config", &config)
            .finish()
    }
}

impl Capabilities {
    /// A one-line summary for `sightline plugin list`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if !self.read_only_dirs.is_empty() {
            let dirs: Vec<String> = self
                .read_only_dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect();
            parts.push(format!("fs.read_only={}", dirs.join(",")));
        }
        if !self.statfs.is_empty() {
            parts.push(format!("fs.statfs={}", self.statfs.join(",")));
        }
        if !self.http_allowed_hosts.is_empty() {
            parts.push(format!("http={}", self.http_allowed_hosts.join(",")));
        }
        if !self.http_allow_config_url_keys.is_empty() {
            parts.push(format!(
                "http.config_urls={}",
                self.http_allow_config_url_keys.join(",")
            ));
        }
        if self.wasi_wall_clock {
            parts.push("wasi_wall_clock".to_string());
        }
        parts.push(format!("memory={}MiB", self.memory_bytes >> 20));
        parts.push(format!(
            "timeout={}",
            sightline_model::format_duration(self.timeout)
        ));
        if !self.config.is_empty() {
            let keys: Vec<&str> = self.config.keys().map(String::as_str).collect();
            parts.push(format!("config={}", keys.join(",")));
        }
        parts.join(" ")
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    #[serde(default)]
    fs: RawFs,
    #[serde(default)]
    http: RawHttp,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    clock: RawClock,
    #[serde(default)]
    config: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFs {
    #[serde(default)]
    read_only: Vec<String>,
    #[serde(default)]
    statfs: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttp {
    #[serde(default)]
    allowed_hosts: Vec<String>,
    #[serde(default)]
    allow_config_url_keys: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    memory: Option<String>,
    timeout: Option<String>,
    max_output: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClock {
    #[serde(default)]
    wasi_wall_clock: bool,
}

/// The manifest path of a plugin file: `x.wasm` → `x.toml`.
pub(crate) fn manifest_path(wasm: &Path) -> PathBuf {
    wasm.with_extension("toml")
}

/// Reads the capabilities beside `wasm`; a missing file grants nothing.
pub(crate) fn load(wasm: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Capabilities> {
    let path = manifest_path(wasm);
    match std::fs::read_to_string(&path) {
        Ok(text) => parse(&path, &text, env),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Capabilities::default()),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Parses a manifest's text. `env` looks up environment variables for `$VAR`
/// expansion in config values.
pub fn parse(
    path: &Path,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Capabilities> {
    let bad = |message: String| Error::Manifest {
        path: path.to_path_buf(),
        message,
    };
    // Not the error's Display: it quotes the offending source line, which may hold a
    // config value (a token). The message and the position say enough.
    let raw: RawManifest = toml::from_str(text).map_err(|e| {
        let at = e
            .span()
            .map(|sp| {
                let before = &text[..sp.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                format!("line {line}, column {col}: ")
            })
            .unwrap_or_default();
        bad(format!("{at}{}", e.message().trim_end()))
    })?;
    let mut caps = Capabilities::default();
    for dir in raw.fs.read_only {
        if !dir.starts_with('/') {
            return Err(bad(format!(
                "fs.read_only: {dir:?} is not an absolute path"
            )));
        }
        caps.read_only_dirs.push(PathBuf::from(dir));
    }
    for mount in raw.fs.statfs {
        if mount != "*" && !mount.starts_with('/') {
            return Err(bad(format!(
                "fs.statfs: {mount:?} is neither \"*\" nor an absolute path"
            )));
        }
        caps.statfs.push(mount);
    }
    for host in raw.http.allowed_hosts {
        if host.is_empty() || host.contains('/') {
            return Err(bad(format!(
                "http.allowed_hosts: {host:?} is not a host or host:port"
            )));
        }
        caps.http_allowed_hosts.push(host.to_ascii_lowercase());
    }
    caps.http_allow_config_url_keys = raw.http.allow_config_url_keys;
    if let Some(m) = raw.limits.memory {
        caps.memory_bytes = parse_bytes(&m)
            .ok_or_else(|| bad(format!("limits.memory: {m:?} is not a size like \"64MiB\"")))?;
    }
    if let Some(m) = raw.limits.max_output {
        let n = parse_bytes(&m).ok_or_else(|| {
            bad(format!(
                "limits.max_output: {m:?} is not a size like \"16MiB\""
            ))
        })?;
        caps.max_output_bytes = usize::try_from(n)
            .map_err(|_| bad(format!("limits.max_output: {m:?} is too large")))?;
    }
    if let Some(t) = raw.limits.timeout {
        caps.timeout =
            sightline_model::parse_duration(&t).map_err(|e| bad(format!("limits.timeout: {e}")))?;
        if caps.timeout.is_zero() {
            return Err(bad("limits.timeout must be positive".to_string()));
        }
    }
    caps.wasi_wall_clock = raw.clock.wasi_wall_clock;
    for (key, value) in raw.config {
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => {
                return Err(bad(format!(
                    "config.{key}: {} values are not supported",
                    other.type_str()
                )))
            }
        };
        let expanded = expand_vars(&text, env).map_err(|var| Error::UnsetVariable {
            path: path.to_path_buf(),
            key: key.clone(),
            var,
        })?;
        caps.config.insert(key, expanded);
    }
    Ok(caps)
}

/// `$VAR` expansion, shared with alertmanager.yml receiver settings.
pub use sightline_config::expand_vars;

fn parse_bytes(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mul: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" | "KB" | "K" => 1 << 10,
        "MiB" | "MB" | "M" => 1 << 20,
        "GiB" | "GB" | "G" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(mul)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "TOKEN" => Some("s3cr3t".to_string()),
            "HOST" => Some("example.org".to_string()),
            _ => None,
        }
    }

    #[test]
    fn full_manifest() {
        let text = r#"
            [fs]
            read_only = ["/proc", "/sys"]
            statfs = ["/"]
            [http]
            allowed_hosts = ["Hooks.Example.org", "127.0.0.1:9999"]
            [limits]
            memory = "32MiB"
            timeout = "2s"
            [config]
            url = "https://${HOST}/hook"
            retries = 3
        "#;
        let caps = parse(Path::new("x.toml"), text, &env).unwrap();
        assert_eq!(
            caps.read_only_dirs,
            vec![PathBuf::from("/proc"), PathBuf::from("/sys")]
        );
        assert_eq!(caps.statfs, vec!["/".to_string()]);
        assert_eq!(
            caps.http_allowed_hosts,
            vec![
                "hooks.example.org".to_string(),
                "127.0.0.1:9999".to_string()
            ]
        );
        assert_eq!(caps.memory_bytes, 32 << 20);
        assert_eq!(caps.timeout, Duration::from_secs(2));
        assert_eq!(caps.config["url"], "https://example.org/hook");
        assert_eq!(caps.config["retries"], "3");
    }

    #[test]
    fn errors_name_the_problem() {
        let cases = [
            ("[fs]\nread_only = [\"proc\"]", "not an absolute path"),
            ("[fs]\nwrite = [\"/tmp\"]", "unknown field `write`"),
            ("[limits]\nmemory = \"lots\"", "limits.memory"),
            ("[limits]\ntimeout = \"5 parsecs\"", "limits.timeout"),
            ("[config]\nurl = \"$NOPE\"", "environment variable $NOPE"),
            ("[config]\nnested = { a = 1 }", "not supported"),
        ];
        for (text, want) in cases {
            let err = parse(Path::new("p.toml"), text, &env)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(want),
                "{text:?}: {err:?} does not contain {want:?}"
            );
        }
    }

    /// issue 13: config values are secrets: a syntax error does not quote the line holding
    /// one, and `Debug` does not print them.
    #[test]
    fn config_values_stay_out_of_errors_and_debug() {
        for text in [
            "[config]\ntoken = \"s3cr3t-manifest-value\" x",
            "[config]\ntoken = \"s3cr3t-manifest-value",
            "[config]\ntoken = s3cr3t-manifest-value",
        ] {
            let err = parse(Path::new("p.toml"), text, &env)
                .unwrap_err()
                .to_string();
            assert!(!err.contains("s3cr3t"), "{err}");
            assert!(err.contains("line 2"), "{err}");
        }
        let caps = parse(Path::new("p.toml"), "[config]\ntoken = \"$TOKEN\"\n", &env).unwrap();
        assert_eq!(caps.config["token"], "s3cr3t");
        let debug = format!("{caps:?}");
        assert!(!debug.contains("s3cr3t"), "{debug}");
        assert!(debug.contains("\"token\": \"<secret>\""), "{debug}");
    }

    #[test]
    fn empty_manifest_grants_nothing() {
        let caps = parse(Path::new("p.toml"), "", &env).unwrap();
        assert_eq!(caps, Capabilities::default());
    }
}
