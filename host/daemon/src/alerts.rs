//! `sightline alerts routes show|test`: `amtool config routes` on an alertmanager.yml.

use std::process::ExitCode;

use crate::cli::{AlertsCommand, RoutesCommand};

pub(crate) fn run(cmd: AlertsCommand) -> ExitCode {
    let AlertsCommand::Routes {
        command,
        config_file,
    } = cmd;
    let Some(file) = config_file else {
        eprintln!("sightline: error: --config.file is required (reading a running server's configuration is not available yet)");
        return ExitCode::from(1);
    };
    let cfg = match sightline_alerts::load_file(&file) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sightline: error: {e}");
            return ExitCode::from(1);
        }
    };
    let tree = sightline_alerts::RouteTree::new(&cfg.route);
    match command.unwrap_or(RoutesCommand::Show) {
        RoutesCommand::Show => {
            print!("{}", sightline_alerts::routes_show(&tree));
            ExitCode::SUCCESS
        }
        RoutesCommand::Test {
            verify_receivers,
            tree: show_tree,
            labels,
        } => {
            let out = sightline_alerts::routes_test(
                &tree,
                &labels,
                verify_receivers.as_deref(),
                show_tree,
            );
            print!("{}", out.stdout);
            if !out.stderr.is_empty() {
                eprint!("sightline: error: {}", out.stderr);
            }
            ExitCode::from(out.code)
        }
    }
}
