//! Remote read (`POST /api/v1/read`) against Debian's Prometheus 2.42.
//!
//! 1. Prometheus with no scrape targets and `remote_read` pointed at Sightline answers the
//!    same instant and range queries as Sightline, which scrapes the benchmark targets.
//! 2. Raw requests: the streamed answer (frames, checksums, XOR chunks) holds the same samples
//!    as the SAMPLES answer; and Prometheus' own `/api/v1/read`, which re-encodes what it
//!    remote-reads from Sightline into chunks with its Go encoder, sends chunks whose bytes
//!    are exactly Sightline's.
//! 3. Limits and bad requests get 2.42's status codes and messages (a Prometheus scraping the
//!    same static target with the same flags answers side by side).
//! 4. External labels: matchers on them and the labels added, side by side.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use sightline_remote::read::{
    frame, matcher_type, xor, ChunkedReadResponse, LabelMatcher, Query, ReadRequest, ReadResponse,
    SAMPLES, STREAMED_XOR_CHUNKS,
};

use crate::sidebyside::{answer, diff, get_json, secs};
use crate::support::{
    bench_targets, eventually, http_get, need, start_prometheus, urlencode, Daemon, TargetServer,
};

/// A binary HTTP exchange: status, lower-cased head, body (de-chunked).
fn post(addr: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String, Vec<u8>) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let code = head[9..12].parse().unwrap();
    let mut body = buf[end + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        let mut out = Vec::new();
        let mut rest = &body[..];
        loop {
            let nl = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let n = usize::from_str_radix(std::str::from_utf8(&rest[..nl]).unwrap().trim(), 16)
                .unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&rest[nl + 2..nl + 2 + n]);
            rest = &rest[nl + 2 + n + 2..];
        }
        body = out;
    }
    (code, head, body)
}

fn read(addr: &str, req: &ReadRequest) -> (u16, String, Vec<u8>) {
    post(
        addr,
        "/api/v1/read",
        &[
            ("Content-Type", "application/x-protobuf"),
            ("Content-Encoding", "snappy"),
            ("X-Prometheus-Remote-Read-Version", "0.1.0"),
        ],
        &sightline_remote::compress(&req.encode()),
    )
}

fn matcher(t: i32, n: &str, v: &str) -> LabelMatcher {
    LabelMatcher {
        r#type: t,
        name: n.into(),
        value: v.into(),
    }
}

fn request(ms: Vec<LabelMatcher>, start: i64, end: i64, types: Vec<i32>) -> ReadRequest {
    ReadRequest {
        queries: vec![Query {
            start_timestamp_ms: start,
            end_timestamp_ms: end,
            matchers: ms,
            hints: None,
        }],
        accepted_response_types: types,
    }
}

/// Series (labels as `name=value` lines) → samples (timestamp, value bits).
type Series = BTreeMap<Vec<String>, Vec<(i64, u64)>>;

fn samples_answer(addr: &str, req: &ReadRequest) -> Series {
    let (code, head, body) = read(addr, req);
    assert_eq!(code, 200, "{head}\n{}", String::from_utf8_lossy(&body));
    assert!(
        head.contains("content-type: application/x-protobuf"),
        "{head}"
    );
    assert!(head.contains("content-encoding: snappy"), "{head}");
    let raw = sightline_remote::decompress(&body, 1 << 30).unwrap();
    let resp = ReadResponse::decode(&raw).unwrap();
    assert_eq!(resp.results.len(), 1);
    let mut out = Series::new();
    for ts in &resp.results[0].timeseries {
        let labels: Vec<String> = ts
            .labels
            .iter()
            .map(|l| format!("{}={}", l.name, l.value))
            .collect();
        let mut sorted = labels.clone();
        sorted.sort();
        assert_eq!(labels, sorted, "labels sorted");
        let s = ts
            .samples
            .iter()
            .map(|s| (s.timestamp, s.value.to_bits()))
            .collect();
        assert!(out.insert(labels, s).is_none());
    }
    out
}

/// The streamed answer: its series, and every chunk's samples and bytes in order. Series
/// arrive sorted by their stored labels, so in label order when there are no external labels
/// (`ordered`).
fn streamed_answer(addr: &str, req: &ReadRequest, ordered: bool) -> (Series, Vec<Vec<u8>>) {
    let (code, head, body) = read(addr, req);
    assert_eq!(code, 200, "{head}\n{}", String::from_utf8_lossy(&body));
    assert!(
        head.contains(
            "content-type: application/x-streamed-protobuf; proto=prometheus.chunkedreadresponse"
        ),
        "{head}"
    );
    assert!(!head.contains("content-encoding"), "{head}");
    let mut out = Series::new();
    let mut chunks = Vec::new();
    let mut last: Option<Vec<String>> = None;
    for msg in frame::split_frames(&body, 50_000_000).unwrap() {
        let r = ChunkedReadResponse::decode(msg).unwrap();
        assert_eq!(r.query_index, 0);
        assert_eq!(r.chunked_series.len(), 1);
        let s = &r.chunked_series[0];
        let labels: Vec<String> = s
            .labels
            .iter()
            .map(|l| format!("{}={}", l.name, l.value))
            .collect();
        // Each series arrives once (possibly over several frames).
        if last.as_ref() != Some(&labels) {
            if let (Some(prev), true) = (&last, ordered) {
                assert!(prev < &labels, "{prev:?} before {labels:?}");
            }
            assert!(!out.contains_key(&labels));
        }
        let e = out.entry(labels.clone()).or_default();
        for c in &s.chunks {
            assert_eq!(c.r#type, xor::ENCODING_XOR);
            let d = xor::decode(&c.data).unwrap();
            assert!(!d.is_empty() && d.len() <= 120);
            assert_eq!((c.min_time_ms, c.max_time_ms), (d[0].0, d[d.len() - 1].0));
            e.extend(d.iter().map(|&(t, v)| (t, v.to_bits())));
            chunks.push(c.data.clone());
        }
        last = Some(labels);
    }
    (out, chunks)
}

fn query(addr: &str, path: &str) -> (String, crate::sidebyside::Answer) {
    answer(&get_json(addr, path))
}

#[test]
fn prometheus_reads_sightline_remotely() {
    need("prometheus");
    let (_targets, taddr) = bench_targets(2, 40, 600);
    let stat = TargetServer::start(
        "text/plain; version=0.0.4",
        "# TYPE odd gauge\nodd{kind=\"inf\"} +Inf\nodd{kind=\"nan\"} NaN\nodd{kind=\"tiny\"} 1e-300\nodd{kind=\"neg\"} -0.25\n",
    );
    let mut config = String::from(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: app\n    static_configs:\n",
    );
    for i in 0..2 {
        config.push_str(&format!(
            "      - targets: ['{taddr}']\n        labels: {{__metrics_path__: /metrics/{i}, instance: 'app-{i}'}}\n"
        ));
    }
    config.push_str(&format!(
        "  - job_name: odd\n    static_configs: [{{targets: ['{}']}}]\n",
        stat.addr
    ));
    let ours = Daemon::start(Some(&config), &[]);
    let work = tempfile::tempdir().unwrap();
    let (_prom, paddr) = start_prometheus(
        work.path(),
        &format!(
            "remote_read:\n  - url: http://{}/api/v1/read\n    read_recent: true\nscrape_configs: []\n",
            ours.addr
        ),
        &[],
    );
    eventually(60, "samples in Sightline", || {
        let v = get_json(&ours.addr, "/api/v1/query?query=count(up)");
        (v["data"]["result"][0]["value"][1].as_str() == Some("3")).then_some(())
    });
    std::thread::sleep(Duration::from_secs(15));

    // (1) The same queries on both, Prometheus reading everything through remote read.
    let t = sightline_model::now_ms() / 1000 * 1000 - 2_000;
    let instant = [
        r#"count({job="app"})"#,
        r#"sum by (instance) ({job="app"})"#,
        r#"{job="app"}[5m]"#,
        r#"odd[5m]"#,
        r#"up"#,
        r#"rate(http_requests_total{job="app"}[10s])"#,
        r#"max_over_time(odd[1m])"#,
    ];
    let mut paths: Vec<String> = instant
        .iter()
        .map(|q| format!("/api/v1/query?query={}&time={}", urlencode(q), secs(t)))
        .collect();
    for q in [r#"{job="app"}"#, r#"rate(http_requests_total[5s])"#, "odd"] {
        paths.push(format!(
            "/api/v1/query_range?query={}&start={}&end={}&step=1",
            urlencode(q),
            secs(t - 12_000),
            secs(t)
        ));
    }
    for p in &paths {
        let (a, b) = (query(&ours.addr, p), query(&paddr, p));
        let d = diff(&a, &b);
        assert!(d.is_empty(), "{p}: {:#?}", &d[..d.len().min(5)]);
        assert!(!a.1.is_empty(), "{p}: empty");
    }
    let raw = query(&ours.addr, &paths[2]);
    let n: usize = raw.1.values().map(Vec::len).sum();
    assert!(
        raw.1.len() >= 80 && n >= 80 * 10,
        "{} series, {n} samples",
        raw.1.len()
    );

    // (2) A raw streamed request holds the same samples as the SAMPLES answer, and Prometheus'
    // /api/v1/read (remote-reading from Sightline and encoding chunks itself) the same
    // series, chunks and chunk bytes.
    let ms = vec![
        matcher(matcher_type::RE, "job", "app|odd"),
        matcher(matcher_type::NEQ, "__name__", "up"),
        matcher(matcher_type::NRE, "instance", "nothing.*"),
    ];
    let (start, end) = (t - 300_000, t);
    let samples = samples_answer(&ours.addr, &request(ms.clone(), start, end, vec![]));
    let (streamed, chunks) = streamed_answer(
        &ours.addr,
        &request(ms.clone(), start, end, vec![STREAMED_XOR_CHUNKS, SAMPLES]),
        true,
    );
    assert!(samples.len() > 80, "{}", samples.len());
    assert_eq!(samples, streamed);
    // A client that accepts gzip (Go's does by default) still gets the frames as they are,
    // as from Prometheus, whose read endpoint does not compress.
    let (code, head, _) = post(
        &ours.addr,
        "/api/v1/read",
        &[("Accept-Encoding", "gzip")],
        &sightline_remote::compress(
            &request(ms.clone(), start, end, vec![STREAMED_XOR_CHUNKS]).encode(),
        ),
    );
    assert_eq!(code, 200);
    assert!(!head.contains("content-encoding"), "{head}");
    let (theirs, their_chunks) = streamed_answer(
        &paddr,
        &request(ms.clone(), start, end, vec![STREAMED_XOR_CHUNKS]),
        true,
    );
    assert_eq!(theirs, streamed);
    assert_eq!(their_chunks.len(), chunks.len());
    assert!(
        their_chunks == chunks,
        "chunk bytes differ from Prometheus' encoder"
    );
    assert_eq!(
        samples_answer(&paddr, &request(ms.clone(), start, end, vec![])),
        samples
    );

    // The handler's figures.
    let (_, metrics) = http_get(&ours.addr, "/metrics").unwrap();
    for want in [
        r#"sightline_remote_read_requests_total{code="200",type="samples"}"#,
        r#"sightline_remote_read_requests_total{code="200",type="streamed"}"#,
        "sightline_remote_read_chunks_sent_total ",
        "sightline_remote_read_samples_sent_total ",
        "sightline_remote_read_queries 0",
    ] {
        assert!(metrics.contains(want), "{want} in {metrics}");
    }
}

/// The static target of the limits and external-labels test.
const STATIC: &str = "# TYPE g gauge\ng{kind=\"plain\"} 1\ng{kind=\"own\",region=\"own\"} 2\ng{kind=\"cl\",cluster=\"west\"} 3\n";

#[test]
fn limits_errors_and_external_labels_as_prometheus() {
    need("prometheus");
    let stat = TargetServer::start("text/plain; version=0.0.4", STATIC);
    let config = format!(
        "global:\n  scrape_interval: 1s\n  external_labels: {{cluster: east, region: r1}}\nscrape_configs:\n  - job_name: s\n    static_configs: [{{targets: ['{}']}}]\n",
        stat.addr
    );
    let flags = ["--storage.remote.read-sample-limit=10"];
    let ours = Daemon::start(Some(&config), &flags);
    let work = tempfile::tempdir().unwrap();
    let (_prom, paddr) = start_prometheus(work.path(), &config, &flags);
    let both = [ours.addr.clone(), paddr.clone()];
    let t0 = sightline_model::now_ms();
    for a in &both {
        eventually(60, "scrapes", || {
            let v = get_json(
                a,
                "/api/v1/query?query=count_over_time(g%7Bkind%3D%22plain%22%7D%5B1m%5D)",
            );
            v["data"]["result"][0]["value"][1]
                .as_str()
                .and_then(|s| s.parse::<u32>().ok())
                .filter(|&n| n >= 6)
        });
    }
    let end = sightline_model::now_ms();
    let g = |extra: Vec<LabelMatcher>| {
        let mut ms = vec![matcher(matcher_type::EQ, "__name__", "g")];
        ms.extend(extra);
        ms
    };

    // (3) The sample limit (SAMPLES only), per query: 18+ samples are over 10.
    let over = request(g(vec![]), t0 - 60_000, end, vec![]);
    for a in &both {
        let (code, head, body) = read(a, &over);
        assert_eq!(
            (code, String::from_utf8_lossy(&body).as_ref()),
            (400, "exceeded sample limit (10)\n"),
            "{a}: {head}"
        );
        assert!(
            head.contains("content-type: text/plain; charset=utf-8"),
            "{head}"
        );
        // Streamed answers ignore it.
        let mut s = over.clone();
        s.accepted_response_types = vec![STREAMED_XOR_CHUNKS];
        assert_eq!(read(a, &s).0, 200, "{a}");
    }
    // A body that is not snappy, and one whose protobuf is cut: 400 on both.
    let cut = sightline_remote::compress(&over.encode()[..5]);
    for body in [&b"garbage"[..], &cut[..]] {
        let codes: Vec<u16> = both
            .iter()
            .map(|a| post(a, "/api/v1/read", &[], body).0)
            .collect();
        assert_eq!(codes, [400, 400]);
    }
    // Response types nobody knows: 400 with the same words.
    let mut unknown = over.clone();
    unknown.accepted_response_types = vec![5, 7];
    let answers: Vec<(u16, Vec<u8>)> = both
        .iter()
        .map(|a| {
            let (c, _, b) = read(a, &unknown);
            (c, b)
        })
        .collect();
    assert_eq!(answers[0].0, 400);
    assert_eq!(
        String::from_utf8_lossy(&answers[0].1),
        String::from_utf8_lossy(&answers[1].1)
    );
    // An unknown matcher type and a bad regex: 500, as 2.42 does.
    for ms in [
        vec![matcher(9, "a", "b")],
        vec![matcher(matcher_type::RE, "a", "(")],
    ] {
        let req = request(ms, t0, end, vec![]);
        let codes: Vec<u16> = both.iter().map(|a| read(a, &req).0).collect();
        assert_eq!(codes, [500, 500]);
    }
    let (c, _, b) = read(
        &ours.addr,
        &request(vec![matcher(9, "a", "b")], t0, end, vec![]),
    );
    assert_eq!((c, b), (500, b"invalid matcher type\n".to_vec()));

    // (4) External labels: each matcher set, SAMPLES and streamed, gives the same series
    // (labels; the values are the static ones) on both.
    let sets = [
        g(vec![]),
        g(vec![matcher(matcher_type::EQ, "region", "r1")]),
        g(vec![matcher(matcher_type::EQ, "region", "own")]),
        g(vec![matcher(matcher_type::EQ, "cluster", "east")]),
        g(vec![matcher(matcher_type::EQ, "cluster", "west")]),
        g(vec![matcher(matcher_type::RE, "cluster", "east")]),
        g(vec![matcher(matcher_type::NEQ, "region", "r1")]),
    ];
    let short = (end - 3_000, end);
    for ms in sets {
        let mut seen = Vec::new();
        for a in &both {
            let s = samples_answer(a, &request(ms.clone(), short.0, short.1, vec![]));
            let (st, _) = streamed_answer(
                a,
                &request(ms.clone(), short.0, short.1, vec![STREAMED_XOR_CHUNKS]),
                false,
            );
            let shape = |x: &Series| -> Vec<(Vec<String>, Vec<u64>)> {
                x.iter()
                    .map(|(k, v)| {
                        let mut vals: Vec<u64> = v.iter().map(|p| p.1).collect();
                        vals.dedup();
                        (k.clone(), vals)
                    })
                    .collect()
            };
            assert_eq!(shape(&s), shape(&st), "{a} {ms:?}");
            seen.push(shape(&s));
        }
        assert_eq!(seen[0], seen[1], "{ms:?}");
    }
    // The labels Sightline adds, spelled out once.
    let s = samples_answer(&ours.addr, &request(g(vec![]), short.0, short.1, vec![]));
    let keys: Vec<String> = s.keys().map(|k| k.join(",")).collect();
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(
        keys.iter().any(|k| k.contains("cluster=east")
            && k.contains("kind=plain")
            && k.contains("region=r1")),
        "{keys:?}"
    );
    assert!(
        keys.iter()
            .any(|k| k.contains("cluster=west") && k.contains("region=r1")),
        "{keys:?}"
    );
    assert!(
        keys.iter()
            .any(|k| k.contains("cluster=east") && k.contains("region=own")),
        "{keys:?}"
    );
    // Stale markers: once the target is gone, both answer each series' stale marker as a
    // sample (2.42's querier returns them as stored; PromQL is what skips them).
    drop(stat);
    for a in &both {
        eventually(30, "stale markers", || {
            let now = sightline_model::now_ms();
            let req = request(g(vec![]), now - 10_000, now, vec![STREAMED_XOR_CHUNKS]);
            let (got, _) = streamed_answer(a, &req, false);
            (got.len() == 3
                && got
                    .values()
                    .all(|v| v.last().map(|p| p.1) == Some(sightline_model::STALE_NAN_BITS)))
            .then_some(())
        });
    }
    let (_, metrics) = http_get(&ours.addr, "/metrics").unwrap();
    assert!(
        metrics
            .contains(r#"sightline_remote_read_rejected_queries_total{reason="sample_limit"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"sightline_remote_read_requests_total{code="400",type="samples"} 1"#),
        "{metrics}"
    );
}

/// Throughput of large reads, run on demand against a release build:
/// `cargo build --release -p sightline-daemon && SIGHTLINE_BENCH_BIN=<build>/release/sightline
/// cargo test -p sightline-daemon --test e2e -- remote_read::throughput --ignored --nocapture`.
/// 2,000 series of 3,600 samples each (7.2 M samples, one hour at 1 s with jitter) are
/// remote-written into Sightline and into Prometheus 2.42 (both with the receiver on), then
/// read whole from each as SAMPLES and as STREAMED_XOR_CHUNKS, three rounds each: samples a
/// second from the request to the last byte received (the client's decoding is not timed; it
/// checks the count afterwards).
#[test]
#[ignore = "a measurement, not a check"]
fn throughput() {
    use sightline_remote::v1::{Label, Sample, TimeSeries, WriteRequest};
    need("prometheus");
    let dir = tempfile::tempdir().unwrap();
    let bin = std::env::var("SIGHTLINE_BENCH_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_sightline").to_string());
    let addr = format!("127.0.0.1:{}", crate::support::free_port());
    std::fs::write(dir.path().join("p.yml"), "scrape_configs: []\n").unwrap();
    let _ours = crate::support::Proc(
        std::process::Command::new(&bin)
            .arg("serve")
            .arg(format!("--web.listen-address={addr}"))
            .arg(format!(
                "--config.file={}",
                dir.path().join("p.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!(
                "--plugins.dir={}",
                dir.path().join("plugins").display()
            ))
            .args([
                "--web.enable-remote-write-receiver",
                "--storage.remote.read-sample-limit=0",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    eventually(60, "sightline ready", || {
        http_get(&addr, "/-/ready").ok().filter(|r| r.0 == 200)
    });
    let pdir = dir.path().join("prometheus");
    std::fs::create_dir_all(&pdir).unwrap();
    let (_prom, paddr) = start_prometheus(
        &pdir,
        "scrape_configs: []\n",
        &[
            "--web.enable-remote-write-receiver",
            "--storage.remote.read-sample-limit=0",
        ],
    );
    let (series, per, step) = (2_000usize, 3_600i64, 600i64);
    let t0 = sightline_model::now_ms() - per * 1000 - 60_000;
    // Time outermost, so that every receiver sees each series in order.
    for s0 in 0..(per / step) {
        for batch in 0..(series / 100) {
            let req = WriteRequest {
                timeseries: (0..100)
                    .map(|i| TimeSeries {
                        labels: vec![
                            Label {
                                name: "__name__".into(),
                                value: "bench_read".into(),
                            },
                            Label {
                                name: "series".into(),
                                value: format!("{:05}", batch * 100 + i),
                            },
                        ],
                        samples: (0..step)
                            .map(|k| {
                                let j = s0 * step + k;
                                Sample {
                                    timestamp: t0 + j * 1000 + (j % 5),
                                    value: (j * (i as i64 + 1)) as f64 * 0.5,
                                }
                            })
                            .collect(),
                        ..Default::default()
                    })
                    .collect(),
                metadata: vec![],
            };
            let body = sightline_remote::compress(&req.encode());
            for a in [&addr, &paddr] {
                let (code, _, b) = post(
                    a,
                    "/api/v1/write",
                    &[
                        ("Content-Type", "application/x-protobuf"),
                        ("Content-Encoding", "snappy"),
                    ],
                    &body,
                );
                assert_eq!(code, 204, "{a}: {}", String::from_utf8_lossy(&b));
            }
        }
    }
    let total = series * per as usize;
    let ms = vec![matcher(matcher_type::EQ, "__name__", "bench_read")];
    let end = sightline_model::now_ms();
    for (who, a) in [("Sightline", &addr), ("Prometheus 2.42", &paddr)] {
        for (name, types) in [
            ("SAMPLES", vec![]),
            ("STREAMED_XOR_CHUNKS", vec![STREAMED_XOR_CHUNKS]),
        ] {
            let req = request(ms.clone(), t0, end, types.clone());
            let rounds: usize = std::env::var("ROUNDS").map_or(3, |r| r.parse().unwrap());
            for round in 0..rounds {
                let start = Instant::now();
                let (code, _, body) = read(a, &req);
                let secs = start.elapsed().as_secs_f64();
                assert_eq!(code, 200);
                let n: usize = if types.is_empty() {
                    let raw = sightline_remote::decompress(&body, 1 << 31).unwrap();
                    ReadResponse::decode(&raw).unwrap().results[0]
                        .timeseries
                        .iter()
                        .map(|t| t.samples.len())
                        .sum()
                } else {
                    frame::split_frames(&body, 50_000_000)
                        .unwrap()
                        .iter()
                        .flat_map(|m| ChunkedReadResponse::decode(m).unwrap().chunked_series)
                        .flat_map(|s| s.chunks)
                        .map(|c| xor::decode(&c.data).unwrap().len())
                        .sum()
                };
                // Prometheus sends whole chunks, which may reach outside the range.
                assert!(n >= total, "{who} {name}: {n} samples");
                println!(
                    "remote read from {who}, {name}, round {round}: {total} samples, {} bytes, in {secs:.2} s = {:.2} M samples/s",
                    body.len(),
                    total as f64 / secs / 1e6
                );
            }
        }
    }
}
