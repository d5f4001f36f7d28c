//! Delivery isolation (issue 16: "a receiver that hangs or fails never delays other groups").

use std::time::Duration;

use super::{alert, TICK_MS};
use crate::am_support::*;

/// Two receivers; `slow`'s webhook holds every request 15 s. `fast`'s group is notified on
/// time all the same: at group_wait, and again on the tick after more alerts join it.
const TWO: &str = "route:\n  receiver: fast\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 2s\n  repeat_interval: 1h\n  routes:\n    - matchers: [team=slow]\n      receiver: slow\n\
receivers:\n  - name: fast\n    webhook_configs:\n      - url: '@sink:fast@'\n  - name: slow\n    webhook_configs:\n      - url: '@sink:slow@'\n";

#[test]
fn hanging_receiver_delays_no_other_group() {
    for target in Target::enabled("hanging_receiver_delays_no_other_group") {
        let work = tempfile::tempdir().unwrap();
        let sinks = Sinks::with_slow(&["fast", "slow"], "slow", Duration::from_secs(15));
        let am = Am::start(target, &sinks.render(TWO), work.path());
        let alerts = [
            alert(&[("alertname", "Stuck"), ("team", "slow")], &[]),
            alert(&[("alertname", "Flowing"), ("instance", "a")], &[]),
            alert(&[("alertname", "Flowing"), ("instance", "b")], &[]),
        ];
        let steps = [
            Step {
                at_ms: 0,
                fire: vec![0, 1],
                resolve: vec![],
            },
            Step {
                at_ms: 4_000,
                fire: vec![2],
                resolve: vec![],
            },
        ];
        let (t0, _) = run_scenario(&[&am], &alerts, &steps, 8_000);
        let got = sinks.notifications(t0, TICK_MS);
        // The slow receiver got its request (and is still holding it).
        assert_eq!(got["slow"].len(), 1, "{target:?}: {:?}", got["slow"]);
        let fast: Vec<(u64, usize)> = got["fast"]
            .iter()
            .map(|(t, n)| (*t, n["alerts"].as_array().unwrap().len()))
            .collect();
        assert_eq!(fast.len(), 2, "{target:?}: {fast:?}");
        assert!(
            fast[0].0 <= 1_000 + TICK_MS && fast[0].1 == 1,
            "{target:?}: first notification late: {fast:?}"
        );
        assert!(
            (4_000..=5_000 + TICK_MS).contains(&fast[1].0) && fast[1].1 == 2,
            "{target:?}: second notification late: {fast:?}"
        );
    }
}
