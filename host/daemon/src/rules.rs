//! Rules at the binary's edge: `sightline test rules`, and the template seam the rules
//! engine is handed.

use std::process::ExitCode;

use sightline_rules::unittest::{run_files, TestOptions};

use crate::cli::TestCommand;

/// Checks an alerting rule's label or annotation template when rule files load.
pub(crate) fn check_template(_rule: &str, _text: &str) -> Result<(), String> {
    Ok(())
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
                expander: &sightline_rules::NoTemplates,
                templates: &check_template,
                run: run.as_ref(),
                ignore_unknown_fields,
            };
            let (code, _) = run_files(&files, &opts);
            ExitCode::from(u8::try_from(code).unwrap_or(1))
        }
    }
}
