//! API v2 over the built-in alert manager: `sightline-alerts`' router with a backend made of
//! the alert store, the dispatcher, the silence store and the notification history.

use std::sync::Arc;

use sightline_alerts::api::{
    AlertsApiBackend, ApiAlert, ApiAlertGroup, ApiAlertState, ApiAlertStatus, ApiMatcher,
    ApiSilence, ApiSilenceState, ApiStatus, NotificationQuery, NotificationRecord, NotifiedAlert,
    PostableSilence, SetSilenceError, VersionInfo,
};
use sightline_alerts::{
    Alert, AlertState, Error as AmError, Fingerprint, HistoryQuery, MatcherSpec, Silence,
    SilenceQuery, SilenceRequest, SilenceState,
};

use super::BuiltinAm;

/// The API router of `am`: `/api/v2/...` and API v1's `POST /api/v1/alerts` (merged beside
/// the Prometheus API's `GET /api/v1/alerts`).
pub(crate) fn router(am: &Arc<BuiltinAm>) -> axum::Router {
    sightline_alerts::api::router(Arc::new(Backend(am.clone())))
}

struct Backend(Arc<BuiltinAm>);

fn api_state(s: AlertState) -> ApiAlertState {
    match s {
        AlertState::Unprocessed => ApiAlertState::Unprocessed,
        AlertState::Active => ApiAlertState::Active,
        AlertState::Suppressed => ApiAlertState::Suppressed,
    }
}

fn api_silence(s: Silence, state: SilenceState) -> ApiSilence {
    ApiSilence {
        id: s.id,
        matchers: s.matchers.iter().map(ApiMatcher::from_matcher).collect(),
        starts_at: s.starts_at,
        ends_at: s.ends_at,
        updated_at: s.updated_at,
        created_by: s.created_by,
        comment: s.comment,
        until_resolved: s.until_resolved,
        state: match state {
            SilenceState::Pending => ApiSilenceState::Pending,
            SilenceState::Active => ApiSilenceState::Active,
            SilenceState::Expired => ApiSilenceState::Expired,
        },
    }
}

impl Backend {
    fn api_alert(&self, a: Alert) -> ApiAlert {
        let d = &self.0.dispatcher;
        let st = d.refresh_status(&a.labels);
        ApiAlert {
            receivers: d.receivers_for(&a.labels),
            status: ApiAlertStatus {
                state: api_state(st.state),
                silenced_by: st.silenced_by,
                inhibited_by: st.inhibited_by,
            },
            alert: a,
        }
    }
}

impl AlertsApiBackend for Backend {
    fn now_ms(&self) -> i64 {
        self.0.clock.now_ms()
    }

    fn resolve_timeout_ms(&self) -> i64 {
        self.0
            .loaded
            .read()
            .config
            .global
            .resolve_timeout
            .as_millis() as i64
    }

    fn alerts(&self) -> Result<Vec<ApiAlert>, String> {
        Ok(self
            .0
            .store
            .list()
            .into_iter()
            .map(|a| self.api_alert(a))
            .collect())
    }

    fn put_alerts(&self, alerts: Vec<Alert>) -> Result<(), String> {
        self.0.store.put(alerts, self.0.clock.now_ms());
        Ok(())
    }

    fn groups(&self) -> Vec<ApiAlertGroup> {
        self.0
            .dispatcher
            .groups()
            .into_iter()
            .map(|g| ApiAlertGroup {
                labels: g.labels,
                receiver: g.receiver,
                alerts: g.alerts.into_iter().map(|a| self.api_alert(a)).collect(),
            })
            .collect()
    }

    fn route_tree(&self) -> Option<sightline_alerts::RouteTree> {
        Some(sightline_alerts::RouteTree::new(
            &self.0.loaded.read().config.route,
        ))
    }

    fn receivers(&self) -> Vec<String> {
        self.0
            .loaded
            .read()
            .config
            .receivers
            .iter()
            .map(|r| r.name.clone())
            .collect()
    }

    fn status(&self) -> ApiStatus {
        ApiStatus {
            config_original: self.0.loaded.read().redacted.clone(),
            uptime_ms: self.0.started_ms,
            // The Alertmanager version whose API this is: amtool warns on any other. The
            // revision and branch name Sightline's own build.
            version: VersionInfo {
                version: "0.25.0".to_string(),
                revision: format!("sightline-{}", env!("CARGO_PKG_VERSION")),
                branch: "sightline".to_string(),
                build_user: String::new(),
                build_date: String::new(),
                go_version: String::new(),
            },
        }
    }

    fn silences(&self) -> Result<Vec<ApiSilence>, String> {
        let now = self.0.clock.now_ms();
        Ok(self
            .0
            .silences
            .query(&SilenceQuery::default(), now)
            .into_iter()
            .map(|(s, st)| api_silence(s, st))
            .collect())
    }

    fn silence(&self, id: &str) -> Result<Option<ApiSilence>, String> {
        let now = self.0.clock.now_ms();
        Ok(self.0.silences.get(id).map(|s| {
            let st = s.state(now);
            api_silence(s, st)
        }))
    }

    fn set_silence(&self, s: PostableSilence) -> Result<String, SetSilenceError> {
        let req = SilenceRequest {
            id: s.id.unwrap_or_default(),
            matchers: s
                .matchers
                .iter()
                .map(|m| MatcherSpec {
                    kind: m.kind(),
                    name: m.name.clone(),
                    value: m.value.clone(),
                })
                .collect(),
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            created_by: s.created_by,
            comment: s.comment,
            until_resolved: s.until_resolved,
        };
        self.0
            .silences
            .post(req, self.0.clock.now_ms())
            .map_err(|e| match e {
                AmError::SilenceNotFound => SetSilenceError::NotFound(e.message()),
                other => SetSilenceError::Invalid(other.message()),
            })
    }

    fn expire_silence(&self, id: &str) -> Result<(), String> {
        self.0
            .silences
            .expire(id, self.0.clock.now_ms())
            .map_err(|e| e.message())
    }

    fn notifications(&self, q: &NotificationQuery) -> Result<Vec<NotificationRecord>, String> {
        let entries = self.0.history.query(&HistoryQuery {
            receiver: q.receiver.clone(),
            group_key: q.group_key.clone(),
            matchers: q.matchers.clone(),
            since_ms: q.since_ms,
            until_ms: q.until_ms,
            failed_only: q.failed_only,
            limit: Some(q.limit),
        });
        Ok(entries
            .into_iter()
            .map(|e| NotificationRecord {
                at_ms: e.at_ms,
                receiver: e.receiver,
                integration: e.integration,
                index: e.index,
                group_key: e.group_key,
                group_labels: e.group_labels,
                alerts: e
                    .alerts
                    .into_iter()
                    .map(|a| NotifiedAlert {
                        fingerprint: u64::from_str_radix(&a.fingerprint, 16).unwrap_or_default(),
                        status: a.status,
                        labels: a.labels,
                    })
                    .collect(),
                error: e.error,
                attempts: e.attempts,
                duration_ms: e.duration_ms,
            })
            .collect())
    }

    fn acknowledge(
        &self,
        fingerprint: Fingerprint,
        created_by: &str,
        comment: &str,
    ) -> Result<Option<String>, String> {
        let now = self.0.clock.now_ms();
        let Some(a) = self.0.store.get(fingerprint) else {
            return Ok(None);
        };
        if a.resolved_at(now) {
            return Ok(None);
        }
        self.0
            .silences
            .acknowledge(&a.labels, created_by, comment, now)
            .map(Some)
            .map_err(|e| e.message())
    }
}
