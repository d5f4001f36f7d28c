//! Sightline's extension of alertmanager.yml: `<plugin>_configs` for any receiver plugin that
//! is not one of Alertmanager's kinds. The parser accepts such keys (see
//! `receivers::extension_kind`); only the daemon knows which plugins are loaded, so it asks
//! [`check_plugin_kinds`] before a configuration is applied, and a typo such as
//! `slak_configs` is refused there with a hint at the kind that was meant.

use crate::config::Config;
use crate::schema::KINDS;

/// The error for the first extension integration whose receiver plugin `is_loaded` does not
/// know (`receiver "r": slak_configs: no receiver plugin "slak" is loaded (plugins/slak.wasm);
/// did you mean slack_configs?`). Alertmanager's own kinds are not checked here: a missing
/// `slack.wasm` is a warning, as it has always been.
pub fn check_plugin_kinds(cfg: &Config, is_loaded: &dyn Fn(&str) -> bool) -> Result<(), String> {
    for r in &cfg.receivers {
        for i in r.integrations.iter().filter(|i| i.is_extension()) {
            if is_loaded(&i.kind) {
                continue;
            }
            let mut msg = format!(
                "receiver {:?}: {}_configs: no receiver plugin {:?} is loaded \
                 (install plugins/{}.wasm, or use one of Alertmanager's <kind>_configs)",
                r.name, i.kind, i.kind, i.kind
            );
            if let Some(k) = nearest_kind(&i.kind) {
                msg.push_str(&format!("; did you mean {k}_configs?"));
            }
            return Err(msg);
        }
    }
    Ok(())
}

/// The extension integrations of a configuration as `(receiver, plugin, index)`.
pub fn plugin_integrations(cfg: &Config) -> Vec<(String, String, usize)> {
    cfg.receivers
        .iter()
        .flat_map(|r| {
            r.integrations
                .iter()
                .filter(|i| i.is_extension())
                .map(|i| (r.name.clone(), i.kind.clone(), i.index))
        })
        .collect()
}

/// Alertmanager's kind within two edits of `name`, if any: the likely intent of a typo such
/// as `slak_configs`.
pub fn nearest_kind(name: &str) -> Option<&'static str> {
    KINDS
        .iter()
        .map(|k| (edit_distance(name, k.name), k.name))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance over bytes (kind names are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_are_near_a_kind_and_other_names_are_not() {
        assert_eq!(nearest_kind("slak"), Some("slack"));
        assert_eq!(nearest_kind("pagerdty"), Some("pagerduty"));
        assert_eq!(nearest_kind("my-hook"), None);
    }
}
