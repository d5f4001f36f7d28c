//! The silence store against Alertmanager 0.25's `silence/silence_test.go` and
//! `api/v2/api.go`: state transitions, update in place versus replace, expiry, validation
//! messages, matching with all four operators, persistence across reopen (and a corrupt
//! file), gc after retention, and the until-resolved / acknowledge extensions.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a panic is a failure report.

use std::path::PathBuf;
use std::time::Duration;

use sightline_alerts::{
    LabelSet, MatchType, Matcher, MatcherSpec, Silence, SilenceQuery, SilenceRequest, SilenceState,
    Silences, ZERO_TIME_MS,
};
use sightline_telemetry::Registry;

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
/// Some fixed "now": 2026-01-01T00:00:00Z.
const T0: i64 = 1_767_225_600_000;

fn store(retention_ms: i64) -> Silences {
    open(None, retention_ms)
}

fn open(path: Option<PathBuf>, retention_ms: i64) -> Silences {
    Silences::open(
        path,
        Duration::from_millis(retention_ms as u64),
        &Registry::new(),
    )
    .unwrap()
}

fn m(kind: MatchType, name: &str, value: &str) -> Matcher {
    Matcher::new(kind, name, value).unwrap()
}

fn eq(name: &str, value: &str) -> Matcher {
    m(MatchType::Equal, name, value)
}

fn sil(matchers: Vec<Matcher>, starts_at: i64, ends_at: i64) -> Silence {
    Silence {
        id: String::new(),
        matchers,
        starts_at,
        ends_at,
        updated_at: 0,
        created_by: "me".into(),
        comment: "why".into(),
        until_resolved: false,
    }
}

fn ls(pairs: &[(&str, &str)]) -> LabelSet {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn err(r: Result<impl std::fmt::Debug, sightline_alerts::Error>) -> String {
    r.unwrap_err().to_string()
}

/// `TestSilenceSet`: creation with a fixed start, with a start in the past (moved to now),
/// update in place of the end, replacement on a matcher change, re-creation of an expired
/// silence with a new id.
#[test]
fn set_creates_updates_and_replaces() {
    let s = store(HOUR);
    let start1 = T0;

    // A pending silence keeps its start.
    let id1 = s
        .set(
            sil(vec![eq("a", "b")], start1 + 2 * MIN, start1 + 5 * MIN),
            start1,
        )
        .unwrap();
    assert_eq!(id1.len(), 36);
    let got = s.get(&id1).unwrap();
    assert_eq!(
        (got.starts_at, got.ends_at, got.updated_at),
        (start1 + 2 * MIN, start1 + 5 * MIN, start1)
    );
    assert_eq!(got.state(start1), SilenceState::Pending);

    // A start in the past (here zero) becomes now.
    let start2 = start1 + MIN;
    let id2 = s
        .set(sil(vec![eq("a", "b")], ZERO_TIME_MS, start2 + MIN), start2)
        .unwrap();
    assert_ne!(id1, id2);
    let got2 = s.get(&id2).unwrap();
    assert_eq!((got2.starts_at, got2.ends_at), (start2, start2 + MIN));

    // A new end for an active silence: updated in place, same id.
    let start3 = start2 + MIN / 2;
    let mut upd = got2.clone();
    upd.ends_at = start3 + 100 * MIN;
    let id3 = s.set(upd.clone(), start3).unwrap();
    assert_eq!(id3, id2);
    let got3 = s.get(&id2).unwrap();
    assert_eq!(
        (got3.starts_at, got3.ends_at, got3.updated_at),
        (start2, start3 + 100 * MIN, start3)
    );

    // New matchers: the old silence is expired now and a new one made.
    let start4 = start3 + MIN;
    let mut repl = got3.clone();
    repl.matchers = vec![eq("a", "c")];
    let id4 = s.set(repl, start4).unwrap();
    assert_ne!(id4, id2);
    let old = s.get(&id2).unwrap();
    assert_eq!((old.ends_at, old.updated_at), (start4, start4));
    assert_eq!(old.state(start4), SilenceState::Expired);
    let new = s.get(&id4).unwrap();
    assert_eq!(
        (new.starts_at, new.ends_at),
        (start4, start3 + 100 * MIN),
        "the replacement starts now and keeps the requested end"
    );

    // Setting the expired silence again makes a new one; the expired one is untouched.
    let start5 = start4 + MIN;
    let mut again = old.clone();
    again.starts_at = start1;
    again.ends_at = start5 + 5 * MIN;
    let id5 = s.set(again, start5).unwrap();
    assert_ne!(id5, id2);
    assert_eq!(s.get(&id5).unwrap().starts_at, start5);
    assert_eq!(s.get(&id2).unwrap(), old);
}

/// `TestSetActiveSilence`: an active silence's start may change within the same second.
#[test]
fn active_silence_start_may_move_within_its_second() {
    let s = store(HOUR);
    let now = T0;
    let id = s
        .set(sil(vec![eq("a", "b")], now - MIN, now + 5 * MIN), now)
        .unwrap();
    // The store moved the start to `now` (it was in the past); move it by 2 ms.
    let mut upd = s.get(&id).unwrap();
    upd.starts_at = now + 2;
    upd.ends_at = now + 7 * MIN;
    let later = now + 500;
    assert_eq!(s.set(upd, later).unwrap(), id);
    let got = s.get(&id).unwrap();
    assert_eq!(
        (got.starts_at, got.ends_at, got.updated_at),
        (now + 2, now + 7 * MIN, later)
    );

    // A different second is a different start: replaced.
    let mut upd = got.clone();
    upd.starts_at = now - 5_000;
    assert_ne!(s.set(upd, later).unwrap(), id);
}

/// `TestSilenceCanUpdate`, through `set`: which edits keep the id.
#[test]
fn can_update_rules() {
    let now = T0;
    let cases: &[(&str, i64, i64, i64, i64, bool)] = &[
        // name, a.start, a.end, b.start, b.end, in place?
        (
            "pending to past start",
            now + HOUR,
            now + 2 * HOUR,
            now - MIN,
            now + HOUR,
            false,
        ),
        (
            "pending to later start",
            now + HOUR,
            now + 2 * HOUR,
            now + MIN,
            now + MIN,
            true,
        ),
        (
            "pending to start now",
            now + HOUR,
            now + 2 * HOUR,
            now,
            now + 2 * HOUR,
            true,
        ),
        (
            "active, new start",
            now - HOUR,
            now + 2 * HOUR,
            now - MIN,
            now + 2 * HOUR,
            false,
        ),
        (
            "active, end in the past",
            now - HOUR,
            now + 2 * HOUR,
            now - HOUR,
            now - 1000,
            false,
        ),
        (
            "active, end now",
            now - HOUR,
            now + 2 * HOUR,
            now - HOUR,
            now,
            true,
        ),
        (
            "active, later end",
            now - HOUR,
            now + 2 * HOUR,
            now - HOUR,
            now + 3 * HOUR,
            true,
        ),
    ];
    for &(name, a_start, a_end, b_start, b_end, in_place) in cases {
        let s = store(HOUR);
        // Create `a` at a time it starts in the future, so its times stay as given.
        let created = a_start.min(now) - 1;
        let id = s
            .set(sil(vec![eq("a", "b")], a_start, a_end), created)
            .unwrap();
        let mut b = s.get(&id).unwrap();
        b.starts_at = b_start;
        b.ends_at = b_end;
        let r = s.set(b, now);
        match (in_place, r) {
            (true, Ok(got)) => assert_eq!(got, id, "{name}"),
            (false, Ok(got)) => assert_ne!(got, id, "{name}"),
            (false, Err(_)) => {}
            (true, Err(e)) => panic!("{name}: {e}"),
        }
    }
    // An expired silence is never updated in place.
    let s = store(HOUR);
    let id = s
        .set(sil(vec![eq("a", "b")], now - HOUR, now - MIN), now - HOUR)
        .unwrap();
    let mut b = s.get(&id).unwrap();
    b.ends_at = now + HOUR;
    assert_ne!(s.set(b, now).unwrap(), id);
}

/// `TestSilencesSetFail` and `TestValidateSilence`: Alertmanager's messages.
#[test]
fn set_validation_messages() {
    let s = store(HOUR);
    let now = T0;
    let mut unknown = sil(vec![eq("a", "b")], now, now + HOUR);
    unknown.id = "some_id".into();
    assert_eq!(err(s.set(unknown, now)), "silence not found");
    assert!(matches!(
        s.set(
            {
                let mut x = sil(vec![eq("a", "b")], now, now + HOUR);
                x.id = "nope".into();
                x
            },
            now
        ),
        Err(sightline_alerts::Error::SilenceNotFound)
    ));

    let cases: Vec<(Vec<Matcher>, i64, i64, &str)> = vec![
        (
            vec![],
            now,
            now + HOUR,
            "silence invalid: at least one matcher required",
        ),
        (
            vec![eq("a", "b"), eq("00", "b")],
            now,
            now + HOUR,
            "silence invalid: invalid label matcher 1: invalid label name \"00\"",
        ),
        (
            vec![eq("a", ""), m(MatchType::Regexp, "b", ".*")],
            now,
            now + HOUR,
            "silence invalid: at least one matcher must not match the empty string",
        ),
        (
            vec![eq("a", "b")],
            now,
            now - 1000,
            "silence invalid: end time must not be before start time",
        ),
        (
            vec![eq("a", "b")],
            now,
            ZERO_TIME_MS,
            "silence invalid: invalid zero end timestamp",
        ),
    ];
    for (matchers, start, end, want) in cases {
        assert_eq!(err(s.set(sil(matchers, start, end), now)), want);
    }
    assert_eq!(
        s.query(&SilenceQuery::default(), now).len(),
        0,
        "nothing stored"
    );

    // A not-equal matcher never matches the empty string, so it alone is enough.
    s.set(
        sil(vec![m(MatchType::NotEqual, "a", "")], now, now + HOUR),
        now,
    )
    .unwrap();
}

/// `postSilencesHandler`'s own checks and matcher compilation with positions.
#[test]
fn post_checks_and_messages() {
    let s = store(HOUR);
    let now = T0;
    let req = |matchers: Vec<MatcherSpec>, start: i64, end: i64| SilenceRequest {
        id: String::new(),
        matchers,
        starts_at: start,
        ends_at: end,
        created_by: "me".into(),
        comment: "c".into(),
        until_resolved: false,
    };
    let spec = |kind, name: &str, value: &str| MatcherSpec {
        kind,
        name: name.into(),
        value: value.into(),
    };
    let ok = vec![spec(MatchType::Equal, "a", "b")];
    assert_eq!(
        err(s.post(req(ok.clone(), now, now), now)),
        "Failed to create silence: start time must be before end time"
    );
    assert_eq!(
        err(s.post(req(ok.clone(), now - 2 * HOUR, now - HOUR), now)),
        "Failed to create silence: end time can't be in the past"
    );
    let e = err(s.post(
        req(
            vec![
                spec(MatchType::Equal, "a", "b"),
                spec(MatchType::Regexp, "b", "(("),
            ],
            now,
            now + HOUR,
        ),
        now,
    ));
    assert!(
        e.starts_with(
            "silence invalid: invalid label matcher 1: invalid regular expression \"((\": "
        ),
        "{e}"
    );
    let e = err(s.post(
        req(vec![spec(MatchType::NotEqual, "0a", "b")], now, now + HOUR),
        now,
    ));
    assert_eq!(
        e,
        "silence invalid: invalid label matcher 0: invalid label name \"0a\""
    );

    // amtool's import posts with the old id: unknown ids are "silence not found" (it then
    // retries without the id).
    let mut imported = req(ok.clone(), now, now + HOUR);
    imported.id = "4b5e7b2b-0000-4000-8000-000000000000".into();
    assert!(matches!(
        s.post(imported.clone(), now),
        Err(sightline_alerts::Error::SilenceNotFound)
    ));
    imported.id.clear();
    let id = s.post(imported, now).unwrap();

    // An existing id with an invalid matcher: the old silence is expired, then the error.
    let mut bad = req(vec![spec(MatchType::Regexp, "a", "((")], now, now + HOUR);
    bad.id = id.clone();
    assert!(err(s.post(bad, now + MIN)).starts_with("silence invalid: "));
    assert_eq!(s.get(&id).unwrap().state(now + MIN), SilenceState::Expired);
}

/// `TestSilenceExpire`: pending and active silences end now; an expired one is unchanged and
/// expiring it again is not an error; unknown ids are.
#[test]
fn expire_transitions() {
    let s = store(HOUR);
    let now = T0;
    let created = now - HOUR - MIN;
    let pending = s
        .set(sil(vec![eq("a", "b")], now + MIN, now + HOUR), created)
        .unwrap();
    let active = s
        .set(sil(vec![eq("a", "b")], now - MIN, now + HOUR), now - MIN)
        .unwrap();
    let expired = s
        .set(sil(vec![eq("a", "b")], created, now - MIN), created)
        .unwrap();
    assert_eq!(s.count(SilenceState::Pending, now), 1);
    assert_eq!(s.count(SilenceState::Active, now), 1);
    assert_eq!(s.count(SilenceState::Expired, now), 1);
    let before = s.get(&expired).unwrap();

    s.expire(&pending, now).unwrap();
    s.expire(&active, now).unwrap();
    s.expire(&expired, now).unwrap();
    s.expire(&expired, now).unwrap();
    assert_eq!(err(s.expire("nope", now)), "silence not found");

    let p = s.get(&pending).unwrap();
    assert_eq!((p.starts_at, p.ends_at, p.updated_at), (now, now, now));
    let a = s.get(&active).unwrap();
    assert_eq!(
        (a.starts_at, a.ends_at, a.updated_at),
        (now - MIN, now, now)
    );
    assert_eq!(s.get(&expired).unwrap(), before);
    // Expired from the moment they were expired (half-open [start, end)).
    assert_eq!(s.count(SilenceState::Expired, now), 3);
    assert_eq!(s.count(SilenceState::Pending, now), 0);
    assert!(s.mutes(&ls(&[("a", "b")]), now).is_empty());
}

/// `TestSilencer` and `TestQMatches`: muting with every operator, only while active.
#[test]
fn mutes_with_all_operators() {
    let s = store(HOUR);
    let now = T0;
    let alert = ls(&[
        ("job", "test"),
        ("instance", "web-1"),
        ("path", "/user/profile"),
        ("method", "GET"),
    ]);
    let cases: Vec<(Vec<Matcher>, bool)> = vec![
        (vec![eq("job", "test")], true),
        (vec![m(MatchType::NotEqual, "job", "test")], false),
        (vec![eq("job", "test"), eq("method", "POST")], false),
        (
            vec![eq("job", "test"), m(MatchType::NotEqual, "method", "POST")],
            true,
        ),
        (vec![m(MatchType::Regexp, "path", "/user/.+")], true),
        (vec![m(MatchType::NotRegexp, "path", "/user/.+")], false),
        (
            vec![
                m(MatchType::Regexp, "path", "/user/.+"),
                m(MatchType::Regexp, "path", "/nothing/.+"),
            ],
            false,
        ),
        // Regexes are anchored: "user" does not match "/user/profile".
        (vec![m(MatchType::Regexp, "path", "user")], false),
        (vec![m(MatchType::NotRegexp, "env", "prod")], true),
    ];
    let mut want = Vec::new();
    for (matchers, mutes) in cases {
        let id = s.set(sil(matchers, now, now + HOUR), now).unwrap();
        if mutes {
            want.push(id);
        }
    }
    want.sort();
    assert_eq!(s.mutes(&alert, now), want);

    // Pending and expired silences do not mute.
    let s = store(HOUR);
    let id = s
        .set(sil(vec![eq("foo", "bar")], now + HOUR, now + 3 * HOUR), now)
        .unwrap();
    let foo = ls(&[("foo", "bar")]);
    assert!(s.mutes(&foo, now).is_empty(), "pending");
    assert_eq!(
        s.mutes(&foo, now + HOUR),
        vec![id.clone()],
        "active at its start"
    );
    assert!(
        s.mutes(&foo, now + 3 * HOUR).is_empty(),
        "expired at its end"
    );
}

/// API v2's `filter` on silences and the `SortSilences` order.
#[test]
fn query_filters_and_order() {
    let s = store(HOUR);
    let now = T0;
    let a1 = s
        .set(sil(vec![eq("job", "a")], now, now + 2 * HOUR), now)
        .unwrap();
    let a2 = s
        .set(
            sil(vec![eq("job", "a"), eq("env", "prod")], now, now + HOUR),
            now,
        )
        .unwrap();
    let p1 = s
        .set(sil(vec![eq("job", "b")], now + HOUR, now + 2 * HOUR), now)
        .unwrap();
    let e1 = s
        .set(sil(vec![eq("job", "a")], now, now + MIN), now)
        .unwrap();
    let ids = |q: &SilenceQuery, at: i64| -> Vec<String> {
        s.query(q, at).into_iter().map(|(x, _)| x.id).collect()
    };
    let at = now + 2 * MIN;
    assert_eq!(
        ids(&SilenceQuery::default(), at),
        vec![a2.clone(), a1.clone(), p1.clone(), e1.clone()]
    );
    let q = SilenceQuery {
        matchers: vec![eq("job", "a")],
        ..Default::default()
    };
    assert_eq!(ids(&q, at), vec![a2.clone(), a1.clone(), e1.clone()]);
    // The filter compares matchers, it does not evaluate them: `job=~"a"` is not `job="a"`.
    let q = SilenceQuery {
        matchers: vec![m(MatchType::Regexp, "job", "a")],
        ..Default::default()
    };
    assert!(ids(&q, at).is_empty());
    let q = SilenceQuery {
        states: vec![SilenceState::Pending, SilenceState::Expired],
        ..Default::default()
    };
    assert_eq!(ids(&q, at), vec![p1.clone(), e1.clone()]);
    let q = SilenceQuery {
        ids: Some(vec![e1.clone(), "nope".into(), a1.clone()]),
        ..Default::default()
    };
    assert_eq!(ids(&q, at), vec![a1.clone(), e1.clone()]);
    let states: Vec<SilenceState> = s
        .query(&SilenceQuery::default(), at)
        .into_iter()
        .map(|(_, st)| st)
        .collect();
    assert_eq!(
        states,
        vec![
            SilenceState::Active,
            SilenceState::Active,
            SilenceState::Pending,
            SilenceState::Expired
        ]
    );
}

/// `TestSilencesGC`: silences are dropped once `ends_at + retention` has passed.
#[test]
fn gc_after_retention() {
    let s = store(HOUR);
    let now = T0;
    let id = s.set(sil(vec![eq("a", "b")], now, now + MIN), now).unwrap();
    assert_eq!(s.gc(now + MIN + HOUR - 1).unwrap(), 0);
    assert!(s.get(&id).is_some());
    assert_eq!(s.gc(now + MIN + HOUR).unwrap(), 1);
    assert!(s.get(&id).is_none());

    // An expired silence's retention counts from when it was expired.
    let id = s
        .set(sil(vec![eq("a", "b")], now, now + 10 * HOUR), now)
        .unwrap();
    s.expire(&id, now + MIN).unwrap();
    assert_eq!(s.gc(now + MIN + HOUR - 1).unwrap(), 0);
    assert_eq!(s.gc(now + MIN + HOUR).unwrap(), 1);

    // `TestSilenceExpireWithZeroRetention`: with no retention an expired silence stays
    // until the next gc after its end.
    let s = store(0);
    let id = s
        .set(sil(vec![eq("a", "b")], now, now + HOUR), now)
        .unwrap();
    s.expire(&id, now + 1).unwrap();
    assert_eq!(s.count(SilenceState::Expired, now + 1), 1);
    assert_eq!(s.gc(now + 1).unwrap(), 1);
}

/// Every change is on disk before the call returns; reopening restores silences with their
/// states; a missing file is an empty store; a corrupt file is an error naming it.
#[test]
fn persistence_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("silences");
    let now = T0;
    let (a, p, e, u);
    {
        let s = open(Some(path.clone()), HOUR);
        assert!(s.query(&SilenceQuery::default(), now).is_empty());
        a = s
            .set(
                sil(
                    vec![eq("a", "b"), m(MatchType::NotRegexp, "c", "d.*")],
                    now,
                    now + HOUR,
                ),
                now,
            )
            .unwrap();
        p = s
            .set(sil(vec![eq("a", "b")], now + HOUR, now + 2 * HOUR), now)
            .unwrap();
        e = s
            .set(sil(vec![eq("x", "y")], now, now + HOUR), now)
            .unwrap();
        s.expire(&e, now + MIN).unwrap();
        u = s
            .acknowledge(&ls(&[("x", "y")]), "ops", "on it", now)
            .unwrap();
        // No explicit snapshot, no drop: each call already wrote.
        std::mem::forget(s);
    }
    let s = open(Some(path.clone()), HOUR);
    let at = now + 2 * MIN;
    assert_eq!(s.get(&a).unwrap().state(at), SilenceState::Active);
    assert_eq!(s.get(&p).unwrap().state(at), SilenceState::Pending);
    assert_eq!(s.get(&e).unwrap().state(at), SilenceState::Expired);
    assert!(s.get(&u).unwrap().until_resolved);
    assert_eq!(s.mutes(&ls(&[("a", "b"), ("c", "x")]), at), vec![a.clone()]);
    assert!(s.mutes(&ls(&[("a", "b"), ("c", "dd")]), at).is_empty());
    // The acknowledgement remembers it has seen its alert fire: it ends when it resolves.
    assert_eq!(s.expire_resolved(&[], at).unwrap(), vec![u.clone()]);
    drop(s);

    // A corrupt file: an error that names it.
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 2;
    bytes[last] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let e = Silences::open(
        Some(path.clone()),
        Duration::from_secs(3600),
        &Registry::new(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains(&path.display().to_string()), "{e}");
    assert!(e.contains("corrupt"), "{e}");
}

/// A failed snapshot write fails the call and leaves no trace of the change.
#[test]
fn failed_write_undoes_the_change() {
    let dir = tempfile::tempdir().unwrap();
    let state_dir = dir.path().join("state");
    let s = open(Some(state_dir.join("silences")), HOUR);
    // The state file's directory becomes a regular file: every write fails.
    std::fs::write(&state_dir, b"x").unwrap();
    let now = T0;
    assert!(s
        .set(sil(vec![eq("a", "b")], now, now + HOUR), now)
        .is_err());
    assert!(s.query(&SilenceQuery::default(), now).is_empty());
}

/// Until-resolved silences and acknowledgements end when no firing alert matches any more,
/// but only after they have matched one.
#[test]
fn until_resolved_and_acknowledge() {
    let s = store(HOUR);
    let now = T0;
    let disk = ls(&[("alertname", "DiskFull"), ("instance", "a")]);
    let other = ls(&[("alertname", "DiskFull"), ("instance", "b")]);

    // An acknowledgement mutes exactly that alert.
    let ack = s.acknowledge(&disk, "ops", "looking", now).unwrap();
    assert_eq!(s.mutes(&disk, now), vec![ack.clone()]);
    assert!(s.mutes(&other, now).is_empty());
    let got = s.get(&ack).unwrap();
    assert!(got.until_resolved);
    assert_eq!(got.created_by, "ops");
    assert_eq!(got.ends_at, sightline_alerts::UNTIL_RESOLVED_END_MS);
    // Acknowledging again returns the same silence.
    assert_eq!(s.acknowledge(&disk, "ops2", "again", now + 1).unwrap(), ack);

    // A regular until-resolved silence made before its alert fires waits for it.
    let mut ur = sil(vec![eq("instance", "b")], now, ZERO_TIME_MS);
    ur.until_resolved = true;
    let ur = s.set(ur, now).unwrap();
    let plain = s
        .set(sil(vec![eq("alertname", "DiskFull")], now, now + HOUR), now)
        .unwrap();

    // Only `disk` fires: the acknowledgement stays, `ur` has not seen its alert yet.
    assert!(s
        .expire_resolved(std::slice::from_ref(&disk), now + MIN)
        .unwrap()
        .is_empty());
    // `other` fires too: `ur` has now seen its alert.
    assert!(s
        .expire_resolved(&[disk.clone(), other.clone()], now + 2 * MIN)
        .unwrap()
        .is_empty());
    // `disk` resolves: its acknowledgement ends; `ur` stays while `other` fires.
    assert_eq!(
        s.expire_resolved(std::slice::from_ref(&other), now + 3 * MIN)
            .unwrap(),
        vec![ack.clone()]
    );
    assert_eq!(
        s.get(&ack).unwrap().state(now + 3 * MIN),
        SilenceState::Expired
    );
    assert!(
        s.mutes(&disk, now + 3 * MIN).len() == 1,
        "only the plain silence"
    );
    // Everything resolves: `ur` ends; the plain silence runs to its end.
    assert_eq!(
        s.expire_resolved(&[], now + 4 * MIN).unwrap(),
        vec![ur.clone()]
    );
    assert_eq!(
        s.get(&plain).unwrap().state(now + 4 * MIN),
        SilenceState::Active
    );
    // The alert fires again: a new acknowledgement is needed.
    assert!(s.mutes(&disk, now + 5 * MIN) == vec![plain.clone()]);
    let ack2 = s.acknowledge(&disk, "ops", "again", now + 5 * MIN).unwrap();
    assert_ne!(ack2, ack);
}

/// The metrics Alertmanager exports for silences, under our prefix.
#[test]
fn metrics() {
    let reg = Registry::new();
    let s = Silences::open(None, Duration::from_secs(3600), &reg).unwrap();
    let now = sightline_model::now_ms();
    s.set(sil(vec![eq("a", "b")], now, now + HOUR), now)
        .unwrap();
    s.set(sil(vec![eq("a", "b")], now + HOUR, now + 2 * HOUR), now)
        .unwrap();
    s.mutes(&ls(&[("a", "b")]), now);
    let fams = reg.gather();
    let fam = |n: &str| fams.iter().find(|f| f.name == n).unwrap();
    let by_state: Vec<(String, f64)> = fam("sightline_alertmanager_silences")
        .samples
        .iter()
        .map(|x| (x.labels.get("state").unwrap().to_string(), x.value))
        .collect();
    assert!(by_state.contains(&("active".into(), 1.0)), "{by_state:?}");
    assert!(by_state.contains(&("pending".into(), 1.0)), "{by_state:?}");
    assert!(by_state.contains(&("expired".into(), 0.0)), "{by_state:?}");
    assert_eq!(
        fam("sightline_alertmanager_silences_queries").samples[0].value,
        1.0
    );
    for n in [
        "sightline_alertmanager_silences_query_errors",
        "sightline_alertmanager_silences_gc_duration_seconds",
        "sightline_alertmanager_silences_snapshot_size_bytes",
    ] {
        fam(n);
    }
}

/// The sequence run against Debian's Alertmanager 0.25 over API v2 (its answers in the
/// comments): create with a start in the past, update the end, post the original past start
/// again, delete twice.
#[test]
fn post_sequence_as_alertmanager_answers() {
    let s = store(HOUR);
    let now = T0 + 745;
    let req = |id: &str, start: i64, end: i64, comment: &str| SilenceRequest {
        id: id.into(),
        matchers: vec![MatcherSpec {
            kind: MatchType::Equal,
            name: "a".into(),
            value: "b".into(),
        }],
        starts_at: start,
        ends_at: end,
        created_by: "a".into(),
        comment: comment.into(),
        until_resolved: false,
    };
    // startsAt one minute ago: stored as now, state active.
    let id = s.post(req("", now - MIN, now + HOUR, "c"), now).unwrap();
    let got = s.get(&id).unwrap();
    assert_eq!((got.starts_at, got.state(now)), (now, SilenceState::Active));
    // Same id and start, later end: the same id comes back.
    let t = now + 269;
    assert_eq!(s.post(req(&id, now, now + 2 * HOUR, "c2"), t).unwrap(), id);
    assert_eq!(s.get(&id).unwrap().comment, "c2");
    // The original start (a minute ago, another second): a new id; the old one expired.
    let t2 = t + 10;
    let id2 = s
        .post(req(&id, now - MIN, now + 2 * HOUR, "c3"), t2)
        .unwrap();
    assert_ne!(id2, id);
    let old = s.get(&id).unwrap();
    assert_eq!(
        (old.ends_at, old.updated_at, old.state(t2)),
        (t2, t2, SilenceState::Expired)
    );
    assert_eq!(old.comment, "c2");
    // DELETE twice: 200 both times.
    s.expire(&id2, t2 + 1).unwrap();
    s.expire(&id2, t2 + 2).unwrap();
}
