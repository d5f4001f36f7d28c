//! The alert marker (`types.Marker`): for each alert, whether it is unprocessed, active or
//! suppressed, and by which silences and inhibiting alerts.

use std::collections::HashMap;

use parking_lot::Mutex;

use crate::alert::Fingerprint;

/// An alert's state (`types.AlertState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AlertState {
    /// Received, not yet looked at by the inhibitor or the silencer.
    #[default]
    Unprocessed,
    /// Neither silenced nor inhibited.
    Active,
    /// Silenced or inhibited.
    Suppressed,
}

impl AlertState {
    /// Alertmanager's name for the state (`unprocessed`, `active`, `suppressed`).
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Unprocessed => "unprocessed",
            AlertState::Active => "active",
            AlertState::Suppressed => "suppressed",
        }
    }
}

/// An alert's status (`types.AlertStatus`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AlertStatus {
    /// The state.
    pub state: AlertState,
    /// Ids of the active silences muting it.
    pub silenced_by: Vec<String>,
    /// Fingerprints (hex) of the alerts inhibiting it.
    pub inhibited_by: Vec<String>,
}

/// The marker: statuses by fingerprint.
#[derive(Debug, Default)]
pub struct Marker {
    m: Mutex<HashMap<Fingerprint, AlertStatus>>,
}

impl Marker {
    /// An empty marker.
    pub fn new() -> Marker {
        Marker::default()
    }

    /// The status of an alert; unprocessed when nothing is known (`Marker.Status`).
    pub fn status(&self, fp: Fingerprint) -> AlertStatus {
        self.m.lock().get(&fp).cloned().unwrap_or_default()
    }

    /// Records the silences muting an alert (`SetActiveOrSilenced`).
    pub fn set_silenced(&self, fp: Fingerprint, ids: Vec<String>) {
        let mut m = self.m.lock();
        let s = m.entry(fp).or_default();
        s.silenced_by = ids;
        s.state = state_of(s);
    }

    /// Records the alerts inhibiting an alert (`SetInhibited`).
    pub fn set_inhibited(&self, fp: Fingerprint, ids: Vec<String>) {
        let mut m = self.m.lock();
        let s = m.entry(fp).or_default();
        s.inhibited_by = ids;
        s.state = state_of(s);
    }

    /// Forgets an alert (after the store dropped it).
    pub fn delete(&self, fp: Fingerprint) {
        self.m.lock().remove(&fp);
    }

    /// Whether the alert is neither silenced nor inhibited (`Marker.Active`).
    pub fn active(&self, fp: Fingerprint) -> bool {
        self.status(fp).state == AlertState::Active
    }
}

fn state_of(s: &AlertStatus) -> AlertState {
    if s.silenced_by.is_empty() && s.inhibited_by.is_empty() {
        AlertState::Active
    } else {
        AlertState::Suppressed
    }
}
