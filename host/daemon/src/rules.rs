//! Rules at the binary's edge: `sightline test rules`, and the template seam the rules
//! engine is handed.

use std::process::ExitCode;

use sightline_rules::unittest::{run_files, TestOptions};

use crate::cli::TestCommand;

/// Checks an alerting rule's label or annotation template when rule files load.
pub(crate) fn check_template(rule: &str, text: &str) -> Result<(), String> {
    sightline_rules::templates::check_template(rule, text)
}

/// The template expander rules are handed.
pub(crate) fn expander() -> std::sync::Arc<dyn sightline_rules::Expander> {
    std::sync::Arc::new(sightline_rules::templates::TemplateExpander::new())
}

/// `sightline test rules`.
pub(crate) fn test(cmd: TestCommand) -> ExitCode {
    match cmd {
        TestCommand::Rules {
            files,
            run,
            ignore_unknown_fields,
        } => {
            let run = if run.is_empty() {
                None
            } else {
                // Any of the patterns, as promtool's `--run` (repeatable).
                match regex::Regex::new(&run.join("|")) {
                    Ok(r) => Some(r),
                    Err(e) => {
                        eprintln!("invalid --run pattern: {e}");
                        return ExitCode::from(1);
                    }
                }
            };
            let opts = TestOptions {
                expander: &sightline_rules::templates::TemplateExpander::new(),
                templates: &check_template,
                run: run.as_ref(),
                ignore_unknown_fields,
            };
            let (code, _) = run_files(&files, &opts);
            ExitCode::from(u8::try_from(code).unwrap_or(1))
        }
    }
}

/// The rules file the embedded default configuration evaluates.
pub(crate) const DEFAULT_RULES_YAML: &str = include_str!("assets/default-rules.yml");
/// Its name in errors and in `/api/v1/rules`.
pub(crate) const DEFAULT_RULES_NAME: &str = "<embedded default rules>";

/// What the rules manager is handed for `cfg`: its rule files (or, for the embedded default
/// configuration, the embedded default rules), intervals and external labels.
pub(crate) fn rules_config(
    cfg: &sightline_config::Config,
    embedded: bool,
    external_url: &str,
) -> anyhow::Result<sightline_rules::RulesConfig> {
    let files = sightline_rules::file::expand_globs(&cfg.rule_files)?;
    let inline = if embedded && cfg.rule_files.is_empty() {
        vec![(
            DEFAULT_RULES_NAME.to_string(),
            DEFAULT_RULES_YAML.to_string(),
        )]
    } else {
        Vec::new()
    };
    Ok(sightline_rules::RulesConfig {
        files,
        inline,
        evaluation_interval: cfg.global.evaluation_interval,
        query_offset: cfg.global.rule_query_offset,
        external_labels: cfg.global.external_labels.clone(),
        external_url: external_url.to_string(),
    })
}

/// The query function rules evaluate with: the daemon's current engine (it changes when
/// query-function plugins change) over the storage.
pub(crate) fn query_fn(
    engine: std::sync::Arc<parking_lot::RwLock<sightline_promql::Engine>>,
    storage: std::sync::Arc<dyn sightline_storage_api::Queryable>,
) -> sightline_rules::QueryFn {
    std::sync::Arc::new(move |expr: &str, t: i64| {
        let engine = engine.read().clone();
        let q = sightline_rules::unittest::engine_query_fn(engine, storage.clone());
        q(expr, t)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rules_are_valid() {
        let f = sightline_rules::file::parse(
            DEFAULT_RULES_NAME,
            DEFAULT_RULES_YAML,
            &check_template,
            false,
        );
        assert!(f.is_ok(), "{f:?}");
    }
}
