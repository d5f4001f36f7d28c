//! `sightline check rules`: promtool's `check rules`, with its output and exit codes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::file::{self, RuleFile, TemplateCheck};

/// Lint settings (`--lint`, `--lint-fatal`).
#[derive(Debug, Clone, Copy)]
pub struct Lint {
    /// Report rules with the same name and labels (`--lint=duplicate-rules`, the default).
    pub duplicate_rules: bool,
    /// Exit with 3 when only lint problems were found (`--lint-fatal`).
    pub fatal: bool,
}

impl Default for Lint {
    fn default() -> Self {
        Lint {
            duplicate_rules: true,
            fatal: false,
        }
    }
}

/// The outcome of checking one file.
#[derive(Debug)]
pub enum FileCheck {
    /// Valid, with this many rules.
    Ok(usize),
    /// Valid but lint problems were found (the message as promtool prints it).
    Lint(String),
    /// Invalid: one message per problem.
    Failed(Vec<String>),
}

/// Checks one file.
pub fn check_file(path: &Path, lint: Lint, templates: TemplateCheck<'_>) -> FileCheck {
    match file::load(path, templates, false) {
        Err(problems) => FileCheck::Failed(problems.into_iter().map(|p| p.message).collect()),
        Ok(f) => {
            if lint.duplicate_rules {
                if let Some(m) = duplicates_message(&f) {
                    return FileCheck::Lint(m);
                }
            }
            FileCheck::Ok(f.groups.iter().map(|g| g.rules.len()).sum())
        }
    }
}

/// Checks every file, printing promtool's report; returns its exit code: 1 when a file is
/// invalid, 3 when only lint problems were found and `--lint-fatal` is set, else 0.
pub fn check_files(paths: &[std::path::PathBuf], lint: Lint, templates: TemplateCheck<'_>) -> i32 {
    let (mut failed, mut has_errors) = (false, false);
    for p in paths {
        println!("Checking {}", p.display());
        match check_file(p, lint, templates) {
            FileCheck::Ok(n) => println!("  SUCCESS: {n} rules found"),
            FileCheck::Lint(m) => {
                eprintln!("  FAILED:");
                eprintln!("lint error {m}");
                failed = true;
            }
            FileCheck::Failed(errs) => {
                eprintln!("  FAILED:");
                for e in errs {
                    eprintln!("{e}");
                }
                failed = true;
                has_errors = true;
            }
        }
        println!();
    }
    if failed && has_errors {
        1
    } else if failed && lint.fatal {
        3
    } else {
        0
    }
}

/// promtool's duplicate-rules lint: rules with the same name and labels.
fn duplicates_message(f: &RuleFile) -> Option<String> {
    let mut count: BTreeMap<(String, Vec<(String, String)>), usize> = BTreeMap::new();
    for g in &f.groups {
        for r in &g.rules {
            let labels: Vec<(String, String)> = r
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            *count.entry((r.name.clone(), labels)).or_default() += 1;
        }
    }
    let dups: Vec<_> = count.into_iter().filter(|(_, n)| *n > 1).collect();
    if dups.is_empty() {
        return None;
    }
    let mut m = format!("{} duplicate rule(s) found.\n", dups.len());
    for ((metric, labels), _) in dups {
        let _ = writeln!(m, "Metric: {metric}\nLabel(s):");
        for (k, v) in labels {
            let _ = writeln!(m, "\t{k}: {v}");
        }
    }
    m.push_str("Might cause inconsistency while recording expressions");
    Some(m)
}
