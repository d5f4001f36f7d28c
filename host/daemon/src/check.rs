//! `sightline check ...`: promtool-compatible validation with promtool's exit codes.

use std::process::ExitCode;

use crate::cli::CheckCommand;

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
    }
}
