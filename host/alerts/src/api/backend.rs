//! The seam between the HTTP API and the engine: [`AlertsApiBackend`] and the plain data it
//! trades in.
//!
//! The API knows nothing of the alert store, the dispatcher or the silence store; the daemon
//! implements this trait over them. Every method is synchronous and may block briefly (a
//! silence change writes a snapshot to disk), so the router calls them on tokio's blocking
//! pool.

use crate::alert::{Alert, Fingerprint};
use crate::matchers::{LabelSet, MatchType, Matcher};

/// An alert's state as the marker reports it (`types.AlertState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApiAlertState {
    /// Not yet seen by the dispatcher.
    #[default]
    Unprocessed,
    /// Neither silenced nor inhibited.
    Active,
    /// Silenced or inhibited.
    Suppressed,
}

impl ApiAlertState {
    /// The name API v2 prints.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiAlertState::Unprocessed => "unprocessed",
            ApiAlertState::Active => "active",
            ApiAlertState::Suppressed => "suppressed",
        }
    }
}

/// `types.AlertStatus`: the state and what mutes the alert.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApiAlertStatus {
    /// The marker's state.
    pub state: ApiAlertState,
    /// Ids of the silences muting it.
    pub silenced_by: Vec<String>,
    /// Fingerprints (hex) of the alerts inhibiting it.
    pub inhibited_by: Vec<String>,
}

/// One alert of the store with its current status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiAlert {
    /// The alert.
    pub alert: Alert,
    /// Its status, computed fresh (Alertmanager re-evaluates silences and inhibitions before
    /// reading the marker: `setAlertStatus`).
    pub status: ApiAlertStatus,
    /// The receivers of every route the alert matches, in routing order (duplicates kept, as
    /// `route.Match` gives them). Ignored inside [`ApiAlertGroup`], where the API derives them
    /// from the groups as Alertmanager does.
    pub receivers: Vec<String>,
}

/// One aggregation group of the dispatcher (`dispatch.AlertGroup`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiAlertGroup {
    /// The group labels.
    pub labels: LabelSet,
    /// The route's receiver.
    pub receiver: String,
    /// The alerts of the group, resolved ones included (the API filters them).
    pub alerts: Vec<ApiAlert>,
}

/// A silence's state (`types.SilenceState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiSilenceState {
    /// Starts in the future.
    Pending,
    /// Mutes now.
    Active,
    /// Over.
    Expired,
}

impl ApiSilenceState {
    /// The name API v2 prints.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiSilenceState::Pending => "pending",
            ApiSilenceState::Active => "active",
            ApiSilenceState::Expired => "expired",
        }
    }

    /// `types.CalcSilenceState`: the state at `now_ms` of a silence running from `starts_at`
    /// to `ends_at`.
    pub fn at(starts_at: i64, ends_at: i64, now_ms: i64) -> ApiSilenceState {
        if now_ms < starts_at {
            ApiSilenceState::Pending
        } else if now_ms < ends_at {
            ApiSilenceState::Active
        } else {
            ApiSilenceState::Expired
        }
    }
}

/// A silence matcher as API v2 carries it (`isEqual`/`isRegex` flags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiMatcher {
    /// The label name.
    pub name: String,
    /// The value or regular expression.
    pub value: String,
    /// `=~`/`!~` rather than `=`/`!=`.
    pub is_regex: bool,
    /// `=`/`=~` rather than `!=`/`!~`.
    pub is_equal: bool,
}

impl ApiMatcher {
    /// The operator.
    pub fn kind(&self) -> MatchType {
        match (self.is_equal, self.is_regex) {
            (true, false) => MatchType::Equal,
            (false, false) => MatchType::NotEqual,
            (true, true) => MatchType::Regexp,
            (false, true) => MatchType::NotRegexp,
        }
    }

    /// From a parsed matcher.
    pub fn from_matcher(m: &Matcher) -> ApiMatcher {
        ApiMatcher {
            name: m.name.clone(),
            value: m.value.clone(),
            is_regex: matches!(m.kind, MatchType::Regexp | MatchType::NotRegexp),
            is_equal: matches!(m.kind, MatchType::Equal | MatchType::Regexp),
        }
    }
}

/// A stored silence with its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiSilence {
    /// Its id (a UUID).
    pub id: String,
    /// Its matchers, in the order they were given.
    pub matchers: Vec<ApiMatcher>,
    /// Start (Unix ms).
    pub starts_at: i64,
    /// End (Unix ms).
    pub ends_at: i64,
    /// Last change (Unix ms).
    pub updated_at: i64,
    /// Author.
    pub created_by: String,
    /// Comment.
    pub comment: String,
    /// Sightline's extension: the silence ends when no firing alert matches it any more.
    /// Printed as `untilResolved` only when true, so Alertmanager clients see AM's shape.
    pub until_resolved: bool,
    /// Its state now.
    pub state: ApiSilenceState,
}

/// A silence to create or update, as posted (`PostableSilence`), after the API's own checks
/// (required fields; start before end; end not in the past).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostableSilence {
    /// The silence to update; `None` creates one.
    pub id: Option<String>,
    /// Its matchers, not yet validated (see [`validate_silence_matchers`]).
    pub matchers: Vec<ApiMatcher>,
    /// Start (Unix ms).
    pub starts_at: i64,
    /// End (Unix ms).
    pub ends_at: i64,
    /// Author.
    pub created_by: String,
    /// Comment.
    pub comment: String,
    /// Sightline's extension (`untilResolved`, false when absent).
    pub until_resolved: bool,
}

/// Why a silence could not be set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetSilenceError {
    /// The id names no silence (`silence.ErrNotFound`): 404 with the message
    /// (Alertmanager's is `silence not found`).
    NotFound(String),
    /// Invalid (the silence store's message, e.g. `silence invalid: ...`): 400.
    Invalid(String),
}

/// Build information printed by `GET /api/v2/status`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VersionInfo {
    /// Version.
    pub version: String,
    /// VCS revision.
    pub revision: String,
    /// VCS branch.
    pub branch: String,
    /// Who built it.
    pub build_user: String,
    /// When.
    pub build_date: String,
    /// Alertmanager prints its Go version; we print what the daemon chooses (e.g. rustc's).
    pub go_version: String,
}

/// What `GET /api/v2/status` reports.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApiStatus {
    /// `config.original`: Alertmanager prints its configuration re-marshalled
    /// (`Config.String()`); the daemon passes the text it chooses.
    pub config_original: String,
    /// When the alert manager started (Unix ms).
    pub uptime_ms: i64,
    /// Build information.
    pub version: VersionInfo,
}

/// A query of the notification history (`GET /api/v2/notifications`, Sightline's extension).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NotificationQuery {
    /// Only this receiver.
    pub receiver: Option<String>,
    /// Only this group key.
    pub group_key: Option<String>,
    /// Only notifications carrying an alert whose labels match all of these.
    pub matchers: Vec<Matcher>,
    /// Only at or after this time (Unix ms).
    pub since_ms: Option<i64>,
    /// Only at or before this time (Unix ms).
    pub until_ms: Option<i64>,
    /// Only failed deliveries.
    pub failed_only: bool,
    /// At most this many, newest first.
    pub limit: usize,
}

/// One alert of a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifiedAlert {
    /// Its fingerprint.
    pub fingerprint: Fingerprint,
    /// `firing` or `resolved` as sent.
    pub status: String,
    /// Its labels.
    pub labels: LabelSet,
}

/// One entry of the notification history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationRecord {
    /// When the delivery ended (Unix ms).
    pub at_ms: i64,
    /// The receiver.
    pub receiver: String,
    /// The integration kind (`webhook`, `slack`, ...).
    pub integration: String,
    /// The integration's index within the receiver.
    pub index: usize,
    /// The aggregation group's key.
    pub group_key: String,
    /// The group labels.
    pub group_labels: LabelSet,
    /// The alerts sent.
    pub alerts: Vec<NotifiedAlert>,
    /// `None` when delivered; the last error otherwise.
    pub error: Option<String>,
    /// Delivery attempts made.
    pub attempts: u32,
    /// Time spent delivering (ms).
    pub duration_ms: u64,
}

/// What the HTTP API needs from the alert manager.
///
/// Errors are messages: the API answers 500 with the message as a JSON string, as
/// Alertmanager does for its internal errors.
pub trait AlertsApiBackend: Send + Sync + 'static {
    /// The current time (Unix ms); tests drive it.
    fn now_ms(&self) -> i64;

    /// `global.resolve_timeout` (ms): the end given to alerts posted without one.
    fn resolve_timeout_ms(&self) -> i64;

    /// Every alert of the store (`GetPending`), resolved ones included, in any order, with
    /// fresh statuses and the receivers of the routes each matches.
    fn alerts(&self) -> Result<Vec<ApiAlert>, String>;

    /// Stores alerts the API validated and completed (`starts_at` set, `ends_at` set with
    /// `timeout` when the sender gave none, `updated_at` = now, empty labels removed).
    fn put_alerts(&self, alerts: Vec<Alert>) -> Result<(), String>;

    /// Counts posted alerts by whether they fire or are resolved at arrival, invalid ones
    /// included (`alertmanager_alerts_received_total{status}`).
    fn record_received_alerts(&self, _firing: usize, _resolved: usize) {}

    /// Counts alerts rejected by validation (`alertmanager_alerts_invalid_total`).
    fn record_invalid_alerts(&self, _count: usize) {}

    /// The dispatcher's aggregation groups, in any order (the API sorts them as
    /// `Dispatcher.Groups` does), their alerts with fresh statuses as in [`Self::alerts`].
    fn groups(&self) -> Vec<ApiAlertGroup>;

    /// The names of the configured receivers, in configuration order.
    fn receivers(&self) -> Vec<String>;

    /// Status information.
    fn status(&self) -> ApiStatus;

    /// Every silence the store keeps (expired ones within retention included), any order.
    fn silences(&self) -> Result<Vec<ApiSilence>, String>;

    /// The silence with exactly this id.
    fn silence(&self, id: &str) -> Result<Option<ApiSilence>, String>;

    /// Creates or updates a silence as `Silences.Set` does; returns its id (a new one when a
    /// change could not be made in place).
    fn set_silence(&self, silence: PostableSilence) -> Result<String, SetSilenceError>;

    /// Expires a silence (`Silences.Expire`); the error's message is answered with 500
    /// (Alertmanager answers `silence not found` that way).
    fn expire_silence(&self, id: &str) -> Result<(), String>;

    /// The notification history, filtered, newest first, at most `query.limit` entries.
    fn notifications(&self, query: &NotificationQuery) -> Result<Vec<NotificationRecord>, String>;

    /// The routing tree of the loaded configuration (`/api/v2/routes`); `None` answers 404.
    fn route_tree(&self) -> Option<crate::route::RouteTree> {
        None
    }

    /// Acknowledges the firing alert with this fingerprint: an until-resolved silence matching
    /// exactly its labels. `Ok(None)` when no such alert fires.
    fn acknowledge(
        &self,
        fingerprint: Fingerprint,
        created_by: &str,
        comment: &str,
    ) -> Result<Option<String>, String>;
}

/// Checks a posted silence's matchers as Alertmanager's `validateSilence` does and compiles
/// them, with its messages (`silence invalid: invalid label matcher 0: ...`, `silence
/// invalid: at least one matcher must not match the empty string`), for backends whose
/// silence store takes compiled [`Matcher`]s.
pub fn validate_silence_matchers(matchers: &[ApiMatcher]) -> Result<Vec<Matcher>, String> {
    let invalid = |m: String| format!("silence invalid: {m}");
    if matchers.is_empty() {
        return Err(invalid("at least one matcher required".into()));
    }
    let mut out = Vec::with_capacity(matchers.len());
    let mut all_match_empty = true;
    for (i, m) in matchers.iter().enumerate() {
        if !crate::api::models::valid_label_name(&m.name) {
            return Err(invalid(format!(
                "invalid label matcher {i}: invalid label name {}",
                crate::matchers::go_quote(&m.name)
            )));
        }
        let compiled = Matcher::new(m.kind(), &m.name, &m.value).map_err(|e| {
            invalid(format!(
                "invalid label matcher {i}: invalid regular expression {}: {}",
                crate::matchers::go_quote(&m.value),
                e.message()
            ))
        })?;
        all_match_empty = all_match_empty && compiled.matches("");
        out.push(compiled);
    }
    if all_match_empty {
        return Err(invalid(
            "at least one matcher must not match the empty string".into(),
        ));
    }
    Ok(out)
}
