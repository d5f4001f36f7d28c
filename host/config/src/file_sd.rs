//! File service discovery: reading target files in Prometheus' format and expanding the
//! configured globs. Watching the files is the scrape crate's job.

use std::path::{Path, PathBuf};

use crate::config::{first_document, join_dir, FileSdConfig};
use crate::error::{Error, Result};
use crate::target::{JsonGroup, TargetGroup, FILEPATH_LABEL};

/// Reads one file SD file (`.json`, `.yml` or `.yaml`, any case): a list of
/// `{targets: [...], labels: {...}}`. Each group gets `source` = `<path>:<index>` and the
/// `__meta_filepath` label set to `path` as given, as Prometheus does.
pub fn read_file_sd(path: &Path) -> Result<Vec<TargetGroup>> {
    let src = std::fs::read_to_string(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    parse_file_sd(&src, path)
}

/// Like [`read_file_sd`] on content already read; `path` decides the format and the labels.
pub fn parse_file_sd(src: &str, path: &Path) -> Result<Vec<TargetGroup>> {
    let name = path.display().to_string();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let groups: Vec<Option<TargetGroup>> = match ext.as_str() {
        "json" => {
            let v: Vec<Option<JsonGroup>> = serde_json::from_str(src).map_err(|e| Error::At {
                source_name: name.clone(),
                line: e.line(),
                column: e.column(),
                message: strip_json_position(&e.to_string()),
            })?;
            v.into_iter().map(|g| g.map(|g| g.0)).collect()
        }
        "yml" | "yaml" => {
            first_document::<Vec<Option<TargetGroup>>>(src, &name)?.unwrap_or_default()
        }
        _ => {
            return Err(Error::Invalid {
                source_name: name,
                message: format!("unhandled file extension {:?}", format!(".{ext}")),
            })
        }
    };
    let mut out = Vec::with_capacity(groups.len());
    for (i, g) in groups.into_iter().enumerate() {
        let Some(mut g) = g else {
            return Err(Error::Invalid {
                source_name: name,
                message: "nil target group item found".into(),
            });
        };
        g.source = format!("{name}:{i}");
        let mut b = g.labels.builder();
        b.set(FILEPATH_LABEL, name.clone());
        g.labels = b.build();
        out.push(g);
    }
    Ok(out)
}

fn strip_json_position(s: &str) -> String {
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s.to_string(),
    }
}

/// The files currently matching `cfg.files`, each pattern joined with `base_dir` when relative
/// (a config from [`crate::load_file`] already holds joined paths), sorted and deduplicated.
pub fn expand_file_sd_globs(cfg: &FileSdConfig, base_dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for pat in &cfg.files {
        let full = join_dir(base_dir, pat);
        let paths = glob::glob(&full).map_err(|e| Error::Invalid {
            source_name: full.clone(),
            message: format!("invalid file SD pattern: {e}"),
        })?;
        for p in paths.flatten() {
            out.push(p);
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}
