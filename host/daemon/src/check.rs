//! `sightline check ...`: promtool-compatible validation with promtool's exit codes.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use sightline_plugin_runtime::{PluginHost, PluginHostConfig, PluginKind};

use crate::cli::{CheckCommand, LintMode};

pub(crate) fn run(cmd: CheckCommand) -> ExitCode {
    match cmd {
        CheckCommand::Config { files } => {
            let mut failed = false;
            for f in files {
                let report = sightline_config::check_config_file(&f);
                print!("{}", report.text);
                failed |= !report.success;
            }
            if failed {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        CheckCommand::Alertmanager { files, plugins_dir } => {
            check_alertmanager(&files, plugins_dir.as_deref())
        }
        CheckCommand::Slos { files, out } => check_slos(&files, out.as_deref()),
        CheckCommand::Rules {
            files,
            lint,
            lint_fatal,
        } => {
            let lint = sightline_rules::check::Lint {
                duplicate_rules: lint != LintMode::None,
                fatal: lint_fatal,
            };
            let code =
                sightline_rules::check::check_files(&files, lint, &crate::rules::check_template);
            ExitCode::from(u8::try_from(code).unwrap_or(1))
        }
    }
}

/// Receiver plugins of `dir` by name (loading every plugin, as the daemon would).
fn receiver_plugins(dir: &Path) -> Result<Vec<(String, Option<PluginKind>)>, String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let mut cfg = PluginHostConfig::new(dir);
    cfg.cache_dir = crate::plugins::user_cache_dir();
    rt.block_on(async {
        let host = PluginHost::new(cfg).await.map_err(|e| e.to_string())?;
        Ok(host.list().into_iter().map(|p| (p.name, p.kind)).collect())
    })
}

fn check_alertmanager(files: &[PathBuf], plugins_dir: Option<&Path>) -> ExitCode {
    let plugins = match plugins_dir.map(receiver_plugins) {
        None => None,
        Some(Ok(p)) => Some(p),
        Some(Err(e)) => {
            eprintln!("  FAILED: plugins directory: {e}");
            return ExitCode::from(1);
        }
    };
    let mut failed = 0usize;
    for f in files {
        // amtool's report first, then (an addition) the receiver plugins serving each
        // integration when a plugins directory is given.
        let (report, ok) = sightline_alerts::check_config_file(f);
        print!("{report}");
        if !ok {
            failed += 1;
            continue;
        }
        let Ok(cfg) = sightline_alerts::load_file(f) else {
            continue;
        };
        let Some(plugins) = &plugins else {
            // Without the plugins directory a `<plugin>_configs` cannot be told from a typo:
            // accepted, with a note (the daemon refuses it if the plugin is not loaded).
            let ext = sightline_alerts::plugin_integrations(&cfg);
            if !ext.is_empty() {
                println!("Note: served by receiver plugins (not Alertmanager's kinds; checked with --plugins.dir and when the daemon loads the file):");
                for (receiver, plugin, index) in ext {
                    println!(" - {receiver} -> plugin {plugin} ({plugin}_configs[{index}]): needs plugins/{plugin}.wasm");
                }
                println!();
            }
            continue;
        };
        let receivers = cfg.receivers;
        println!("Receiver plugins:");
        let mut plugin_failed = false;
        for r in &receivers {
            for i in &r.integrations {
                let status = match plugins.iter().find(|(n, _)| *n == i.kind) {
                    Some((_, Some(PluginKind::Receiver))) => "ok".to_string(),
                    Some((_, Some(k))) => {
                        plugin_failed = true;
                        format!(
                            "FAILED: plugin {:?} is a {k:?} plugin, not a receiver",
                            i.kind
                        )
                    }
                    Some((_, None)) => {
                        plugin_failed = true;
                        format!("FAILED: plugin {:?} failed to load", i.kind)
                    }
                    None => {
                        plugin_failed = true;
                        let hint = sightline_alerts::nearest_kind(&i.kind)
                            .filter(|_| i.is_extension())
                            .map(|k| format!("; did you mean {k}_configs?"))
                            .unwrap_or_default();
                        format!(
                            "FAILED: no plugin {:?} in the plugins directory{hint}",
                            i.kind
                        )
                    }
                };
                println!(
                    " - {} -> plugin {} ({}_configs[{}]): {status}",
                    r.name, i.kind, i.kind, i.index
                );
            }
        }
        println!();
        if plugin_failed {
            failed += 1;
        }
    }
    if failed > 0 {
        eprintln!("sightline: error: failed to validate {failed} file(s)");
    }
    let failed = failed > 0;
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `sightline check slos`: each file's SLOs and what they generate; `--out` writes every
/// generated group to one rule file (only when every file is valid).
fn check_slos(files: &[PathBuf], out: Option<&Path>) -> ExitCode {
    let mut failed = false;
    let mut all = Vec::new();
    for f in files {
        println!("Checking {}", f.display());
        match sightline_rules::slo::check_file(f, &crate::rules::check_template) {
            Err(problems) => {
                eprintln!("  FAILED:");
                for p in problems {
                    eprintln!("{p}");
                }
                failed = true;
            }
            Ok(report) => {
                print!("{}", report.text);
                all.extend(report.groups);
            }
        }
        println!();
    }
    if failed {
        return ExitCode::from(1);
    }
    if let Some(out) = out {
        let source = files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let text = match sightline_rules::slo::render_rule_file(&source, &all) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("cannot render the rules: {e}");
                return ExitCode::from(1);
            }
        };
        if let Err(e) = std::fs::write(out, text) {
            eprintln!("cannot write {}: {e}", out.display());
            return ExitCode::from(1);
        }
        println!("Wrote {} groups to {}", all.len(), out.display());
    }
    ExitCode::SUCCESS
}
