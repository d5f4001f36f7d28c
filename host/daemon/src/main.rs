//! The `sightline` binary: command line, logging, wiring of every subsystem, supervision and
//! shutdown.
//!
//! Invariant: this is the only crate that uses `anyhow`, reads environment variables for
//! its own settings, builds the tokio runtime and installs the tracing subscriber. Library
//! crates receive everything they need as arguments.

mod alerts;
mod allocator;
mod am;
mod check;
mod cli;
mod metrics;
mod plugins;
mod query_plugins;
mod rules;
mod scaffold;
mod serve;
mod storage;
mod tools;
mod web;

// The build script's link-order script writer, tested with the binary's unit tests.
#[cfg(test)]
#[allow(dead_code)]
#[path = "../build.rs"]
mod build_script;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command, LogFormat, LogLevel};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The server turns transparent huge pages off before any thread starts: see
    // `disable_transparent_huge_pages` (RSS a series, issue 21).
    if matches!(cli.command, Command::Serve(_)) {
        sightline_telemetry::disable_transparent_huge_pages();
    }
    // `test rules` reports failing rules in its own output, as promtool does.
    let default_level = match cli.command {
        Command::Serve(_) => LogLevel::Info,
        Command::Test(_) => LogLevel::Error,
        _ => LogLevel::Warn,
    };
    init_tracing(cli.log_level.unwrap_or(default_level), cli.log_format);
    match cli.command {
        Command::Serve(args) => {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .thread_name("sightline")
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("sightline: cannot start the async runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match rt.block_on(serve::run(args)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!(error = format!("{e:#}"), "sightline stopped with an error");
                    eprintln!("sightline: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Check(c) => check::run(c),
        Command::Plugin(c) => plugins::run(c),
        Command::Import(c) => tools::import(c),
        Command::Query(a) => tools::query(a),
        Command::Test(c) => rules::test(c),
        Command::Rules(a) => rules::rules_command(a),
        Command::Alerts(a) => match a.command {
            Some(cmd) => alerts::run(cmd),
            None => rules::alerts_command(a),
        },
    }
}

fn init_tracing(level: LogLevel, format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let default = match level {
        LogLevel::Debug => "debug",
        LogLevel::Info => "info",
        LogLevel::Warn => "warn",
        LogLevel::Error => "error",
    };
    // Dependencies stay at warn unless RUST_LOG asks for more.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("warn,sightline={default},sightline_scrape={default},sightline_api={default},sightline_config={default},sightline_tsdb={default},sightline_plugin_runtime={default},sightline_promql={default},sightline_rules={default},sightline_alerts={default}")));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => b.json().init(),
        LogFormat::Logfmt => b.with_ansi(false).init(),
    }
}
