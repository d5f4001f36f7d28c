//! The silence store's snapshot payload: JSON, one object per silence with what
//! Alertmanager's `MeshSilence` holds (the silence and its `expires_at`) plus the
//! until-resolved bookkeeping. It travels inside [`crate::persist`]'s checksummed file.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::matchers::{MatchType, Matcher};

use super::{Entry, Silence, State};

#[derive(Serialize, Deserialize)]
struct Snapshot {
    version: u32,
    silences: Vec<StoredSilence>,
}

#[derive(Serialize, Deserialize)]
struct StoredMatcher {
    #[serde(rename = "type")]
    kind: String,
    name: String,
    value: String,
}

#[derive(Serialize, Deserialize)]
struct StoredSilence {
    id: String,
    matchers: Vec<StoredMatcher>,
    starts_at: i64,
    ends_at: i64,
    updated_at: i64,
    created_by: String,
    comment: String,
    #[serde(default)]
    until_resolved: bool,
    #[serde(default)]
    seen_firing: bool,
    expires_at: i64,
}

/// The payload for the current state, silences ordered by id so equal states give equal
/// bytes.
pub(super) fn encode(st: &State) -> Result<Vec<u8>> {
    let mut entries: Vec<&Entry> = st.map.values().collect();
    entries.sort_by(|a, b| a.sil.id.cmp(&b.sil.id));
    let snap = Snapshot {
        version: 1,
        silences: entries
            .into_iter()
            .map(|e| StoredSilence {
                id: e.sil.id.clone(),
                matchers: e
                    .sil
                    .matchers
                    .iter()
                    .map(|m| StoredMatcher {
                        kind: m.kind.as_str().to_string(),
                        name: m.name.clone(),
                        value: m.value.clone(),
                    })
                    .collect(),
                starts_at: e.sil.starts_at,
                ends_at: e.sil.ends_at,
                updated_at: e.sil.updated_at,
                created_by: e.sil.created_by.clone(),
                comment: e.sil.comment.clone(),
                until_resolved: e.sil.until_resolved,
                seen_firing: e.seen_firing,
                expires_at: e.expires_at,
            })
            .collect(),
    };
    serde_json::to_vec(&snap).map_err(|e| Error::Invalid {
        source_name: "silences".into(),
        message: format!("cannot encode the silences snapshot: {e}"),
    })
}

/// The entries of a payload read from `path`; an error naming the file when it does not
/// decode.
pub(super) fn decode(path: &Path, bytes: &[u8]) -> Result<Vec<Entry>> {
    let corrupt = |why: String| Error::Invalid {
        source_name: path.display().to_string(),
        message: format!("corrupt silences snapshot: {why}"),
    };
    let snap: Snapshot = serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
    if snap.version != 1 {
        return Err(corrupt(format!("unknown version {}", snap.version)));
    }
    snap.silences
        .into_iter()
        .map(|s| {
            let matchers = s
                .matchers
                .iter()
                .map(|m| {
                    let kind = match m.kind.as_str() {
                        "=" => MatchType::Equal,
                        "!=" => MatchType::NotEqual,
                        "=~" => MatchType::Regexp,
                        "!~" => MatchType::NotRegexp,
                        other => return Err(corrupt(format!("unknown matcher type {other:?}"))),
                    };
                    Matcher::new(kind, &m.name, &m.value)
                        .map_err(|e| corrupt(format!("silence {}: {e}", s.id)))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(Entry {
                sil: Silence {
                    id: s.id,
                    matchers,
                    starts_at: s.starts_at,
                    ends_at: s.ends_at,
                    updated_at: s.updated_at,
                    created_by: s.created_by,
                    comment: s.comment,
                    until_resolved: s.until_resolved,
                },
                expires_at: s.expires_at,
                seen_firing: s.seen_firing,
            })
        })
        .collect()
}
