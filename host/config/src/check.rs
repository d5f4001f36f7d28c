//! `sightline check config`: validate a configuration file the way `promtool check config`
//! does, and report in promtool's words.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::config::{Config, ScrapeConfig};
use crate::file_sd::{expand_file_sd_globs, read_file_sd};
use crate::http::HttpClientConfig;
use crate::target::{populate_labels, TargetGroup};

/// The outcome of [`check_config_file`].
#[derive(Debug, Clone, PartialEq)]
pub struct CheckReport {
    /// Whether the file is valid (exit code 0); otherwise exit with 1.
    pub success: bool,
    /// promtool-like text to print on stdout (success) or stderr (failure), newline-terminated.
    pub text: String,
    /// The rule files the `rule_files` patterns matched, for the rules checker to read.
    pub rule_files: Vec<PathBuf>,
}

/// Loads `path`, checks what `promtool check config` checks (credentials and TLS files exist,
/// file SD files parse and their targets are valid, static targets are valid) and lists the
/// rule files found.
pub fn check_config_file(path: &Path) -> CheckReport {
    let name = path.display().to_string();
    let mut out = format!("Checking {name}\n");
    let fail = |mut out: String, msg: &str| {
        let _ = writeln!(out, "  FAILED: {msg}");
        CheckReport {
            success: false,
            text: out,
            rule_files: Vec::new(),
        }
    };
    let cfg = match crate::load_file(path) {
        Ok(c) => c,
        Err(e) => return fail(out, &e.to_string()),
    };
    let mut warnings = Vec::new();
    let rule_files = match rule_files(&cfg, &mut warnings) {
        Ok(r) => r,
        Err(e) => return fail(out, &e),
    };
    if let Err(e) = check_details(&cfg, &mut warnings) {
        return fail(out, &e);
    }
    for w in &warnings {
        let _ = writeln!(out, "  WARNING: {w}");
    }
    let _ = writeln!(out, "  SUCCESS: {} rule files found", rule_files.len());
    let _ = writeln!(
        out,
        " SUCCESS: {name} is valid prometheus config file syntax"
    );
    CheckReport {
        success: true,
        text: out,
        rule_files,
    }
}

fn rule_files(cfg: &Config, warnings: &mut Vec<String>) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for pat in &cfg.rule_files {
        let paths =
            glob::glob(pat).map_err(|e| format!("invalid rule file pattern {pat:?}: {e}"))?;
        let before = out.len();
        out.extend(paths.flatten());
        if out.len() == before {
            warnings.push(format!("rule file pattern {pat:?} matches no file"));
        }
    }
    Ok(out)
}

fn check_file_exists(f: &str) -> Result<(), String> {
    std::fs::metadata(f)
        .map(|_| ())
        .map_err(|e| format!("stat {f}: {}", io_reason(&e)))
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

fn check_http(h: &HttpClientConfig) -> Result<(), String> {
    if let Some(f) = h
        .authorization
        .as_ref()
        .and_then(|a| a.credentials_file.as_deref())
    {
        check_file_exists(f).map_err(|e| {
            format!("error checking authorization credentials or bearer token file {f:?}: {e}")
        })?;
    }
    if let Some(f) = h
        .basic_auth
        .as_ref()
        .and_then(|a| a.password_file.as_deref())
    {
        check_file_exists(f)
            .map_err(|e| format!("error checking basic auth password file {f:?}: {e}"))?;
    }
    let t = &h.tls_config;
    if let Some(f) = &t.cert_file {
        check_file_exists(f).map_err(|e| format!("error checking client cert file {f:?}: {e}"))?;
    }
    if let Some(f) = &t.key_file {
        check_file_exists(f).map_err(|e| format!("error checking client key file {f:?}: {e}"))?;
    }
    Ok(())
}

fn check_groups(groups: &[TargetGroup], scfg: &ScrapeConfig) -> Result<(), String> {
    for g in groups {
        for (i, t) in g.targets.iter().enumerate() {
            if let Err(e) = populate_labels(scfg, t, &g.labels) {
                return Err(format!(
                    "instance {i} in group {}: {}",
                    g.source,
                    e.message()
                ));
            }
        }
    }
    Ok(())
}

fn check_details(cfg: &Config, warnings: &mut Vec<String>) -> Result<(), String> {
    for scfg in &cfg.scrape_configs {
        check_http(&scfg.http)?;
        check_groups(&scfg.static_target_groups(), scfg)?;
        for sd in &scfg.file_sd_configs {
            let files = expand_file_sd_globs(sd, Path::new("")).map_err(|e| e.to_string())?;
            if files.is_empty() {
                for f in &sd.files {
                    warnings.push(format!(
                        "file {f:?} for file_sd in scrape job {:?} does not exist",
                        scfg.job_name
                    ));
                }
            }
            for f in files {
                let groups = read_file_sd(&f)
                    .map_err(|e| format!("checking SD file {:?}: {e}", f.display().to_string()))?;
                check_groups(&groups, scfg)?;
            }
        }
    }
    for am in &cfg.alerting.alertmanagers {
        check_http(&am.http)?;
        for sd in &am.file_sd_configs {
            for f in expand_file_sd_globs(sd, Path::new("")).map_err(|e| e.to_string())? {
                read_file_sd(&f)
                    .map_err(|e| format!("checking SD file {:?}: {e}", f.display().to_string()))?;
            }
        }
    }
    for rw in &cfg.remote_write {
        check_http(&rw.http)?;
    }
    for rr in &cfg.remote_read {
        check_http(&rr.http)?;
    }
    Ok(())
}
