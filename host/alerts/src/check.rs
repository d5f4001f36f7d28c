//! `amtool check-config`'s report, byte for byte in its format.

use std::path::Path;

use crate::config::{load_file, load_templates};

/// The text `amtool check-config` prints for one file, and whether the file passed.
pub fn check_config_file(path: &Path) -> (String, bool) {
    let mut out = format!("Checking '{}'", path.display());
    let mut ok = true;
    match load_file(path) {
        Err(e) => {
            out.push_str(&format!("  FAILED: {e}\n"));
            ok = false;
        }
        Ok(cfg) => {
            out.push_str("  SUCCESS\n");
            out.push_str("Found:\n - global config\n - route\n");
            out.push_str(&format!(" - {} inhibit rules\n", cfg.inhibit_rules.len()));
            out.push_str(&format!(" - {} receivers\n", cfg.receivers.len()));
            out.push_str(&format!(" - {} templates\n", cfg.templates.len()));
            if !cfg.templates.is_empty() {
                match load_templates(&cfg.templates) {
                    Ok(_) => out.push_str("  SUCCESS\n"),
                    Err(e) => {
                        out.push_str(&format!("  FAILED: {e}\n"));
                        ok = false;
                    }
                }
            }
        }
    }
    out.push('\n');
    (out, ok)
}
