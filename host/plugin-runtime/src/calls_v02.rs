//! Contract 0.2's receiver call (`notify(notification, settings)` with the `template`
//! import bound to the notification) and what the other calls of both contracts share
//! about 0.2 (the contract of a plugin, the implicit exporter target).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use sightline_template::alertmanager as tmpl;

use crate::bindings::v02::wit as w2;
use crate::calls::{invoke, CallError};
use crate::convert_v02;
use crate::engine::Pre;
use crate::error::{Error, Result};
use crate::notification::{
    AlertStatus, Contract, Notification, NotificationAlert, SettingsValue, TemplateScope,
};
use crate::registry::PluginHost;
use crate::types::*;
use crate::words::{sanitize, MAX_GUEST_ERROR};

impl PluginHost {
    /// The contract version of the plugin's serving version, if one is loaded.
    pub fn contract(&self, name: &str) -> Option<Contract> {
        self.inner
            .entries
            .read()
            .get(name)
            .and_then(|e| e.current.as_ref().map(|c| c.pre.contract()))
    }

    /// The target of an exporter called without one (`plugin test`, a job without
    /// targets): the plugin's name as address, no params, the plugin's time limit. Under
    /// `plugin test`, `--config __address__=...` and `__param_<name>=...` stand in for a
    /// target's (0.1 plugins read those keys through `config`, 0.2 plugins get them here).
    pub(crate) fn implicit_target(&self, name: &str, timeout: Duration) -> ExporterTarget {
        let extra = &self.inner.cfg.extra_config;
        let mut params = BTreeMap::new();
        for (k, v) in extra {
            if let Some(p) = k.strip_prefix(ExporterTarget::PARAM_KEY_PREFIX) {
                params.insert(p.to_string(), vec![v.clone()]);
            }
        }
        ExporterTarget {
            address: extra
                .get(ExporterTarget::ADDRESS_KEY)
                .cloned()
                .unwrap_or_else(|| name.to_string()),
            params,
            scrape_timeout: timeout,
            labels: sightline_model::Labels::default(),
        }
    }

    /// Calls a contract 0.2 receiver's `notify`: `settings` is the receiver's document (see
    /// `wit/v0.2/plugin.wit`), `scope` what its `template` import renders with for this
    /// call (the notification's data and the config's templates). The plugin's `retryable`
    /// and `permanent` failures come back as [`Error::Retryable`] and [`Error::Permanent`].
    ///
    /// The values of `settings` named by the manifest's `http.allow_config_url_keys`
    /// (top-level strings, e.g. `url`) are hosts this call may send to, as a 0.1
    /// receiver's config values are.
    pub async fn notify_typed(
        &self,
        name: &str,
        notification: &Notification,
        settings: &SettingsValue,
        scope: TemplateScope,
    ) -> Result<()> {
        self.notify_typed_with_profile(name, notification, settings, scope, None)
            .await
    }

    /// [`PluginHost::notify_typed`] with the receiver's `http_config` applied by the host to
    /// every request the plugin sends (and its `tls_config` to its mail).
    pub async fn notify_typed_with_profile(
        &self,
        name: &str,
        notification: &Notification,
        settings: &SettingsValue,
        scope: TemplateScope,
        profile: Option<&crate::HttpProfile>,
    ) -> Result<()> {
        let (loaded, stats) = self.get(name, PluginKind::Receiver)?;
        let Pre::ReceiverV02(pre) = loaded.pre.clone() else {
            return Err(Error::Runtime(format!(
                "plugin {name:?} implements receiver contract 0.1.0, not 0.2.0"
            )));
        };
        let caps = call_caps(&loaded.caps, settings);
        let n = convert_v02::notification_to_wit(notification);
        let doc = convert_v02::document_to_wit(settings);
        let plugin = loaded.name.to_string();
        let profile = profile.cloned();
        invoke(
            &self.inner,
            &loaded,
            &stats,
            &BTreeMap::new(),
            move |store| {
                Box::pin(async move {
                    let state = store.data_mut();
                    state.template = scope;
                    state.net.profile = profile;
                    if let Some(caps) = caps {
                        state.caps = caps;
                    }
                    let inst = pre.instantiate_async(&mut *store).await?;
                    inst.sightline_plugin_receiver()
                        .call_notify(&mut *store, &n, &doc)
                        .await?
                        .map_err(|e| notify_error(&plugin, e))
                })
            },
        )
        .await
    }
}

/// The plugin's capabilities for one 0.2 notify: its grants plus the hosts of the settings
/// its manifest names in `http.allow_config_url_keys`, and the smarthosts (`host:port`) of
/// those it names in `smtp.allow_config_host_keys` (`None`: nothing to add).
fn call_caps(
    caps: &Arc<crate::manifest::Capabilities>,
    settings: &SettingsValue,
) -> Option<Arc<crate::manifest::Capabilities>> {
    let text = |k: &String| match settings.get(k) {
        Some(SettingsValue::Text(v)) => Some(v.clone()),
        _ => None,
    };
    let hosts: Vec<String> = caps
        .http_allow_config_url_keys
        .iter()
        .filter_map(text)
        .filter_map(|v| url::Url::parse(&v).ok())
        .filter_map(|u| u.host_str().map(str::to_ascii_lowercase))
        .collect();
    // Granted exactly as written (`host:port`), so the grant is that one smarthost.
    let smarthosts: Vec<String> = caps
        .smtp_allow_config_host_keys
        .iter()
        .filter_map(text)
        .filter(|v| !v.is_empty() && !v.contains(['/', '*']))
        .map(|v| v.to_ascii_lowercase())
        .collect();
    if hosts.is_empty() && smarthosts.is_empty() {
        return None;
    }
    let mut c = (**caps).clone();
    c.http_allowed_hosts.extend(hosts);
    c.smtp_allowed_hosts.extend(smarthosts);
    Some(Arc::new(c))
}

fn notify_error(plugin: &str, e: w2::alerts::NotifyError) -> CallError {
    CallError::Host(match e {
        w2::alerts::NotifyError::Retryable(r) => Error::Retryable {
            name: plugin.to_string(),
            message: sanitize(&r.message, MAX_GUEST_ERROR),
            retry_after: r.retry_after_ms.map(Duration::from_millis),
        },
        w2::alerts::NotifyError::Permanent(m) => Error::Permanent {
            name: plugin.to_string(),
            message: sanitize(&m, MAX_GUEST_ERROR),
        },
    })
}

/// Nanoseconds of an RFC 3339 time; `None` for Go's zero time or text that is no time.
fn rfc3339_ns(s: &str) -> Option<i64> {
    let t = chrono::DateTime::parse_from_rfc3339(s).ok()?;
    if t.timestamp() <= -62_135_596_800 {
        return None;
    }
    t.timestamp_nanos_opt()
}

/// A webhook-shaped group (`plugin test`'s input, 0.1's data) typed as 0.2's notification.
pub(crate) fn notification_from_group(g: &AlertGroup) -> Notification {
    Notification {
        receiver: g.receiver.clone(),
        status: AlertStatus::parse(&g.status),
        group_key: g.group_key.clone(),
        group_labels: g.group_labels.clone(),
        common_labels: g.common_labels.clone(),
        common_annotations: g.common_annotations.clone(),
        external_url: g.external_url.clone(),
        alerts: g
            .alerts
            .iter()
            .map(|a| NotificationAlert {
                status: AlertStatus::parse(&a.status),
                labels: a.labels.clone(),
                annotations: a.annotations.clone(),
                starts_at_ns: rfc3339_ns(&a.starts_at).unwrap_or(0),
                ends_at_ns: rfc3339_ns(&a.ends_at),
                generator_url: a.generator_url.clone(),
                fingerprint: a.fingerprint.clone(),
            })
            .collect(),
        truncated_alerts: g.truncated_alerts,
    }
}

/// `base`'s templates with `n` as the data (`plugin test`, where no alertmanager.yml
/// builds the data).
pub(crate) fn scope_of(n: &Notification, base: TemplateScope) -> TemplateScope {
    let map = |l: &sightline_model::Labels| {
        l.iter()
            .map(|l| (l.name.to_string(), l.value.to_string()))
            .collect::<BTreeMap<_, _>>()
    };
    let status = |s: AlertStatus| match s {
        AlertStatus::Firing => "firing".to_string(),
        AlertStatus::Resolved => "resolved".to_string(),
    };
    let data = tmpl::Data {
        receiver: n.receiver.clone(),
        status: status(n.status),
        alerts: n
            .alerts
            .iter()
            .map(|a| tmpl::Alert {
                status: status(a.status),
                labels: map(&a.labels),
                annotations: map(&a.annotations),
                starts_at: sightline_template::Time::from_unix_nanos(a.starts_at_ns),
                ends_at: a.ends_at_ns.map_or_else(
                    sightline_template::Time::zero,
                    sightline_template::Time::from_unix_nanos,
                ),
                generator_url: a.generator_url.clone(),
                fingerprint: a.fingerprint.clone(),
            })
            .collect(),
        group_labels: map(&n.group_labels),
        common_labels: map(&n.common_labels),
        common_annotations: map(&n.common_annotations),
        external_url: n.external_url.clone(),
    };
    TemplateScope {
        templates: base.templates,
        data: Some(data),
    }
}
