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
/// Default number of calls of one plugin that may run at once.
pub const DEFAULT_CONCURRENCY: u32 = 4;

/// The daemon-wide ceilings a manifest's `[limits]` can not exceed (`sightline serve
/// --plugins.max-memory` and friends). A value over a ceiling is refused, naming the key and
/// the flag; a limit the manifest leaves out defaults to the smaller of its default and the
/// ceiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ceilings {
    /// `--plugins.max-memory`: the largest `limits.memory`.
    pub max_memory_bytes: u64,
    /// `--plugins.max-timeout`: the largest `limits.timeout`.
    pub max_timeout: Duration,
    /// `--plugins.max-output`: the largest `limits.max_output`.
    pub max_output_bytes: usize,
    /// `--plugins.max-concurrency`: the largest `limits.concurrency`. At most a quarter of the
    /// runtime's instance slots ([`crate::INSTANCE_SLOTS`]), so no one plugin can take them
    /// all.
    pub max_concurrency: u32,
    /// `--plugins.memory-ceiling`: linear memory of all plugin instances together. A guest
    /// whose growth would pass it fails that growth (a memory-limit error of that plugin).
    pub memory_ceiling_bytes: u64,
}

impl Default for Ceilings {
    fn default() -> Self {
        Ceilings {
            max_memory_bytes: 1 << 30,
            max_timeout: Duration::from_secs(300),
            max_output_bytes: 256 << 20,
            max_concurrency: 16,
            memory_ceiling_bytes: 2 << 30,
        }
    }
}

impl Ceilings {
    /// Checks the ceilings against each other and the runtime's instance slots.
    pub fn validate(&self) -> Result<(), String> {
        let max_concurrency = crate::INSTANCE_SLOTS / 4;
        if self.max_concurrency == 0 || self.max_concurrency > max_concurrency {
            return Err(format!(
                "--plugins.max-concurrency={} must be between 1 and {max_concurrency} (a quarter of the {} instance slots)",
                self.max_concurrency,
                crate::INSTANCE_SLOTS
            ));
        }
        if self.max_memory_bytes > self.memory_ceiling_bytes {
            return Err(format!(
                "--plugins.max-memory={} is more than --plugins.memory-ceiling={}",
                sightline_config::format_bytes(self.max_memory_bytes),
                sightline_config::format_bytes(self.memory_ceiling_bytes)
            ));
        }
        if self.max_timeout.is_zero() || self.max_output_bytes == 0 || self.max_memory_bytes == 0 {
            return Err(
                "--plugins.max-timeout, --plugins.max-memory and --plugins.max-output must be positive"
                    .to_string(),
            );
        }
        Ok(())
    }
}

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
    /// SMTP smarthosts (`host` or `host:port`, `*` = any) the plugin may send mail
    /// through (`smtp.allowed_hosts`; contract 0.2's `smtp` import).
    pub smtp_allowed_hosts: Vec<String>,
    /// Config keys whose values are smarthosts (`host:port`) the plugin may send mail
    /// through (`smtp.allow_config_host_keys`; for the email receiver: the `smarthost`
    /// the operator configured).
    pub smtp_allow_config_host_keys: Vec<String>,
    /// Memory limit in bytes.
    pub memory_bytes: u64,
    /// Time limit of one call.
    pub timeout: Duration,
    /// Limit on the size of a call's output, in bytes.
    pub max_output_bytes: usize,
    /// Calls of this plugin that may run at once; further calls queue (first come, first
    /// served) within their own time limit, then fail as this plugin's `busy` error.
    pub concurrency: u32,
    /// The world the manifest says the component implements (top-level `kind`), required
    /// when the component implements several.
    pub kind: Option<crate::types::PluginKind>,
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
            smtp_allowed_hosts: Vec::new(),
            smtp_allow_config_host_keys: Vec::new(),
            memory_bytes: DEFAULT_MEMORY_BYTES,
            timeout: DEFAULT_TIMEOUT,
            max_output_bytes: DEFAULT_MAX_OUTPUT_BYTES,
            concurrency: DEFAULT_CONCURRENCY,
            kind: None,
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
            .field("smtp_allowed_hosts", &self.smtp_allowed_hosts)
            .field(
                "smtp_allow_config_host_keys",
                &self.smtp_allow_config_host_keys,
            )
            .field("memory_bytes", &self.memory_bytes)
            .field("timeout", &self.timeout)
            .field("max_output_bytes", &self.max_output_bytes)
            .field("concurrency", &self.concurrency)
            .field("kind", &self.kind)
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
        if !self.smtp_allowed_hosts.is_empty() {
            parts.push(format!("smtp={}", self.smtp_allowed_hosts.join(",")));
        }
        if !self.smtp_allow_config_host_keys.is_empty() {
            parts.push(format!(
                "smtp.config_hosts={}",
                self.smtp_allow_config_host_keys.join(",")
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
        parts.push(format!("concurrency={}", self.concurrency));
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
    /// The world, when the component implements several.
    kind: Option<String>,
    #[serde(default)]
    fs: RawFs,
    #[serde(default)]
    http: RawHttp,
    #[serde(default)]
    smtp: RawSmtp,
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
struct RawSmtp {
    #[serde(default)]
    allowed_hosts: Vec<String>,
    #[serde(default)]
    allow_config_host_keys: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    memory: Option<String>,
    timeout: Option<String>,
    max_output: Option<String>,
    concurrency: Option<u32>,
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

/// Reads the capabilities beside `wasm` and holds them to `ceilings`; a missing file grants
/// nothing.
pub(crate) fn load(
    wasm: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    ceilings: &Ceilings,
) -> Result<Capabilities> {
    let path = manifest_path(wasm);
    match std::fs::read_to_string(&path) {
        Ok(text) => parse_within(&path, &text, env, ceilings),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Ok(Capabilities::default().clamped(ceilings))
        }
        Err(e) => Err(Error::io(path, e)),
    }
}

/// [`parse`], then refuses a limit over a daemon-wide ceiling (naming the key and the flag)
/// and lowers the defaults of limits the manifest leaves out to the ceilings.
pub fn parse_within(
    path: &Path,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
    ceilings: &Ceilings,
) -> Result<Capabilities> {
    let caps = parse(path, text, env)?;
    let bad = |message: String| Error::Manifest {
        path: path.to_path_buf(),
        message,
    };
    // Only the keys the manifest sets can be over a ceiling: the others are defaults,
    // lowered to the ceiling below.
    let raw: RawManifest = toml::from_str(text).map_err(|e| bad(e.message().to_string()))?;
    let size = sightline_config::format_bytes;
    let over = |key: &str, value: &str, flag: &str, ceiling: String| {
        bad(format!(
            "limits.{key} = {value} exceeds the daemon's ceiling --plugins.{flag}={ceiling}"
        ))
    };
    if let Some(m) = &raw.limits.memory {
        if caps.memory_bytes > ceilings.max_memory_bytes {
            return Err(over(
                "memory",
                m,
                "max-memory",
                size(ceilings.max_memory_bytes),
            ));
        }
    }
    if let Some(t) = &raw.limits.timeout {
        if caps.timeout > ceilings.max_timeout {
            let ceiling = sightline_model::format_duration(ceilings.max_timeout);
            return Err(over("timeout", t, "max-timeout", ceiling));
        }
    }
    if let Some(m) = &raw.limits.max_output {
        if caps.max_output_bytes > ceilings.max_output_bytes {
            let ceiling = size(ceilings.max_output_bytes as u64);
            return Err(over("max_output", m, "max-output", ceiling));
        }
    }
    if let Some(n) = raw.limits.concurrency {
        if caps.concurrency > ceilings.max_concurrency {
            let ceiling = ceilings.max_concurrency.to_string();
            return Err(over(
                "concurrency",
                &n.to_string(),
                "max-concurrency",
                ceiling,
            ));
        }
    }
    Ok(caps.clamped(ceilings))
}

impl Capabilities {
    /// Lowers every limit to its ceiling (for the defaults of keys a manifest leaves out).
    fn clamped(mut self, ceilings: &Ceilings) -> Self {
        self.memory_bytes = self.memory_bytes.min(ceilings.max_memory_bytes);
        self.timeout = self.timeout.min(ceilings.max_timeout);
        self.max_output_bytes = self.max_output_bytes.min(ceilings.max_output_bytes);
        self.concurrency = self.concurrency.min(ceilings.max_concurrency);
        self
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
    for host in raw.smtp.allowed_hosts {
        if host.is_empty() || host.contains('/') {
            return Err(bad(format!(
                "smtp.allowed_hosts: {host:?} is not a host or host:port"
            )));
        }
        caps.smtp_allowed_hosts.push(host.to_ascii_lowercase());
    }
    caps.smtp_allow_config_host_keys = raw.smtp.allow_config_host_keys;
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
    if let Some(n) = raw.limits.concurrency {
        if n == 0 {
            return Err(bad("limits.concurrency must be at least 1".to_string()));
        }
        caps.concurrency = n;
    }
    if let Some(k) = raw.kind {
        caps.kind = Some(crate::types::PluginKind::parse(&k).ok_or_else(|| {
            bad(format!(
                "kind: {k:?} is not one of \"exporter\", \"receiver\", \"query-function\", \"dashboard\""
            ))
        })?);
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
            [smtp]
            allowed_hosts = ["Mail.Example.org"]
            allow_config_host_keys = ["smarthost"]
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
        assert_eq!(
            caps.smtp_allowed_hosts,
            vec!["mail.example.org".to_string()]
        );
        assert_eq!(
            caps.smtp_allow_config_host_keys,
            vec!["smarthost".to_string()]
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

    /// issue 14: a limit over a daemon-wide ceiling is refused, naming the key and the flag;
    /// limits left out default to at most the ceiling.
    #[test]
    fn limits_over_the_ceilings_are_refused() {
        let ceilings = Ceilings::default();
        let cases = [
            (
                "[limits]\nmemory = \"1024GiB\"",
                "limits.memory = 1024GiB exceeds the daemon's ceiling --plugins.max-memory=1GiB",
            ),
            (
                "[limits]\ntimeout = \"100000h\"",
                "limits.timeout = 100000h exceeds the daemon's ceiling --plugins.max-timeout=5m",
            ),
            (
                "[limits]\nmax_output = \"1024GiB\"",
                "limits.max_output = 1024GiB exceeds the daemon's ceiling --plugins.max-output=256MiB",
            ),
            (
                "[limits]\nconcurrency = 1000",
                "limits.concurrency = 1000 exceeds the daemon's ceiling --plugins.max-concurrency=16",
            ),
            ("[limits]\nconcurrency = 0", "limits.concurrency must be at least 1"),
            ("kind = \"widget\"", "kind: \"widget\" is not one of"),
        ];
        for (text, want) in cases {
            let err = parse_within(Path::new("p.toml"), text, &env, &ceilings)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(want),
                "{text:?}: {err:?} does not contain {want:?}"
            );
        }
        let small = Ceilings {
            max_memory_bytes: 8 << 20,
            max_timeout: Duration::from_secs(1),
            max_output_bytes: 1 << 20,
            max_concurrency: 2,
            memory_ceiling_bytes: 64 << 20,
        };
        let caps = parse_within(Path::new("p.toml"), "kind = \"dashboard\"", &env, &small).unwrap();
        assert_eq!(caps.memory_bytes, 8 << 20);
        assert_eq!(caps.timeout, Duration::from_secs(1));
        assert_eq!(caps.max_output_bytes, 1 << 20);
        assert_eq!(caps.concurrency, 2);
        assert_eq!(caps.kind, Some(crate::types::PluginKind::Dashboard));
        let at = parse_within(
            Path::new("p.toml"),
            "[limits]\nmemory = \"1GiB\"\ntimeout = \"5m\"\nconcurrency = 16",
            &env,
            &ceilings,
        )
        .unwrap();
        assert_eq!(at.memory_bytes, 1 << 30);
        assert!(Ceilings::default().validate().is_ok());
    }

    #[test]
    fn empty_manifest_grants_nothing() {
        let caps = parse(Path::new("p.toml"), "", &env).unwrap();
        assert_eq!(caps, Capabilities::default());
    }
}
