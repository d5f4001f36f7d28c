#!/usr/bin/env bash
# Native histograms against Prometheus 2.42 (`--enable-feature=native-histograms`), same
# workload, same run: (1) ingest CPU per histogram sample, (2) bytes per histogram sample in
# persisted (full) chunks.
#
# Workload: tests/tools/hist_target.py, TARGETS targets x SERIES native histograms (schema 3,
# about 30 buckets each) over the protobuf exposition, scraped every second by both servers
# AT THE SAME TIME (one job, TARGETS static targets on one port). The targets stamp every
# sample with its whole second (`--quantize 1`) and compute values from that second (epoch an
# hour back, so counts are large), so both servers store the same samples (a rare duplicate
# or skipped second where a scrape straddles a second boundary aside).
#
# (1) CPU: utime+stime of each server (/proc/<pid>/stat, all threads) over WINDOW seconds after
#     WARM seconds, divided by the histogram samples it appended in that window, from its own
#     counters: Prometheus' prometheus_tsdb_head_samples_appended_total{type="histogram"};
#     Sightline's sightline_tsdb_samples_appended_total (floats and histograms together) minus
#     the synthetic series (up, scrape_*: per scrape, calibrated from its head series count)
#     times SERIES/(SERIES+1) (each target's one counter carries the histograms' timestamps).
#     The CPU includes everything a server does meanwhile (scraping, parsing, WAL, head, its
#     own metrics), with 1 float sample per SERIES histograms on top.
# (2) Bytes: after the servers stop (SIGTERM), tests/bench/hist-chunk-bytes.py reads each
#     one's chunks_head/ (the full chunks each has cut, by its own rule, written once; open
#     chunks are never there) and divides chunk bytes by the samples those chunks hold.
#
# The run is repeated RUNS times with fresh data directories; medians and ratios are printed.
#   cargo build --release -p sightline-daemon && tests/bench/native-histograms.sh
# Environment: TARGETS (20) SERIES (100) WARM (60) WINDOW (120) TAIL (120: seconds after the
# window before stopping, so that both have cut full chunks) RUNS (3) BIN, KEEP (a directory:
# keep each run's chunks_head/ directories there, for tests/bench/hist-chunk-bytes.py).
# Needs prometheus 2.42 (apt-get install prometheus), python3, curl. Listens on 127.0.0.1 only.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/target/release/sightline}
T=${TARGETS:-20}; S=${SERIES:-100}; WARM=${WARM:-60}; WINDOW=${WINDOW:-120}; TAIL=${TAIL:-120}
RUNS=${RUNS:-3}
for c in prometheus python3 curl; do
  command -v $c >/dev/null || { echo "native-histograms: $c is missing (apt-get install prometheus python3 curl)" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "native-histograms: no $BIN (cargo build --release -p sightline-daemon)" >&2; exit 1; }
W=$(mktemp -d ${TMPDIR:-/tmp}/native-hist.XXXX)
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
pids=()
stop_all() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done; pids=(); }
cleanup() { stop_all; rm -rf "$W"; }
trap cleanup EXIT

config() { # $1: target port, $2: extra global line
  echo "global:"
  echo "  scrape_interval: 1s"
  echo "  scrape_timeout: 900ms"
  [ -n "$2" ] && echo "  $2"
  echo "scrape_configs:"
  echo "  - job_name: hist"
  echo "    static_configs:"
  for i in $(seq 0 $((T-1))); do echo "      - {targets: ['127.0.0.1:$1'], labels: {__metrics_path__: /metrics/$i, instance: hist-$i}}"; done
}

run() {
  local R=$W/run$1; mkdir -p $R
  local PT PS PP; PT=$(port); PS=$(port); PP=$(port)
  python3 $ROOT/tests/tools/hist_target.py --targets $T --series $S --port $PT --quantize 1 \
    --epoch $(( $(date +%s) - 3600 )) --max-seconds $((WARM + WINDOW + TAIL + 120)) >$R/target.log 2>&1 & pids+=($!)
  for _ in $(seq 50); do curl -sf http://127.0.0.1:$PT/-/healthy >/dev/null && break; sleep 0.2; done
  config $PT "" > $R/prometheus.yml
  config $PT "scrape_native_histograms: true" > $R/sightline.yml
  $BIN serve --config.file=$R/sightline.yml --storage.tsdb.path=$R/sl --web.listen-address=127.0.0.1:$PS \
    --plugins.dir=$R/noplugins --log.level=warn >$R/sl.log 2>&1 & local SL=$!; pids+=($SL)
  prometheus --config.file=$R/prometheus.yml --storage.tsdb.path=$R/pr --web.listen-address=127.0.0.1:$PP \
    --enable-feature=native-histograms --log.level=warn >$R/pr.log 2>&1 & local PR=$!; pids+=($PR)
  python3 - "$SL" "$PR" "127.0.0.1:$PS" "127.0.0.1:$PP" "$T" "$S" "$WARM" "$WINDOW" "$TAIL" > $R/cpu.json <<'PY'
import json, os, sys, time, urllib.request
sl_pid, pr_pid, sl_addr, pr_addr = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
targets, series = int(sys.argv[5]), int(sys.argv[6])
warm, window, tail = map(float, sys.argv[7:10])
hz = os.sysconf("SC_CLK_TCK")

def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / hz

def metrics(addr):
    """Sums of every family by name, and by name plus label set."""
    text = urllib.request.urlopen(f"http://{addr}/metrics", timeout=10).read().decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        series_, value = line.rsplit(" ", 1)
        name = series_.split("{", 1)[0]
        out[name] = out.get(name, 0.0) + float(value)
        out[series_] = float(value)
    return out

def state():
    t = time.time()
    ms, mp = metrics(sl_addr), metrics(pr_addr)
    return {"t": t, "sl_cpu": cpu(sl_pid), "pr_cpu": cpu(pr_pid),
            "sl_appended": ms.get("sightline_tsdb_samples_appended_total", 0.0),
            "sl_scrapes": ms.get("sightline_scrape_scrapes_total", 0.0),
            "sl_series": ms.get("sightline_tsdb_head_series", 0.0),
            "pr_hist": mp.get('prometheus_tsdb_head_samples_appended_total{type="histogram"}', 0.0),
            "pr_float": mp.get('prometheus_tsdb_head_samples_appended_total{type="float"}', 0.0),
            "pr_series": mp.get("prometheus_tsdb_head_series", 0.0)}

start = time.time()
time.sleep(warm)
a = state()
time.sleep(window)
b = state()
# Sightline's float samples per scrape: the synthetic series (up, scrape_*), from its head
# series count (targets x (series histograms + 1 counter + synthetic)).
synthetic = round(b["sl_series"] / targets) - series - 1
scrapes = b["sl_scrapes"] - a["sl_scrapes"]
sl_hist = (b["sl_appended"] - a["sl_appended"] - synthetic * scrapes) * series / (series + 1)
pr_hist = b["pr_hist"] - a["pr_hist"]
dur = b["t"] - a["t"]
res = {"window_s": round(dur, 1), "sl_synthetic_per_scrape": synthetic, "sl_scrapes": scrapes,
       "sl_series": b["sl_series"], "pr_series": b["pr_series"],
       "sl_hist_samples": round(sl_hist), "pr_hist_samples": round(pr_hist),
       "pr_float_samples": round(b["pr_float"] - a["pr_float"]),
       "sl_cpu_s": round(b["sl_cpu"] - a["sl_cpu"], 2), "pr_cpu_s": round(b["pr_cpu"] - a["pr_cpu"], 2)}
res["sl_us_per_hist"] = round(res["sl_cpu_s"] / sl_hist * 1e6, 3) if sl_hist > 0 else None
res["pr_us_per_hist"] = round(res["pr_cpu_s"] / pr_hist * 1e6, 3) if pr_hist > 0 else None
time.sleep(max(0.0, start + warm + window + tail - time.time()))
print(json.dumps(res))
PY
  stop_all
  local sb pb
  sb=$(python3 $ROOT/tests/bench/hist-chunk-bytes.py sightline $R/sl)
  pb=$(python3 $ROOT/tests/bench/hist-chunk-bytes.py prometheus $R/pr)
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); r["sl_chunks"]=json.loads(sys.argv[2]); r["pr_chunks"]=json.loads(sys.argv[3]); print(json.dumps(r))' \
    $R/cpu.json "$sb" "$pb" | tee -a $W/results.jsonl
  if [ -n "${KEEP:-}" ]; then
    mkdir -p "$KEEP/run$1/sl" "$KEEP/run$1/pr"
    cp -r $R/sl/chunks_head "$KEEP/run$1/sl/"; cp -r $R/pr/chunks_head "$KEEP/run$1/pr/"
  fi
  rm -rf $R
}

echo "native-histograms: $T targets x $S histograms at 1 s, both servers at once, warm ${WARM}s, window ${WINDOW}s, $RUNS runs, $(nproc) CPUs" >&2
for r in $(seq 1 $RUNS); do run $r; done
python3 - $W/results.jsonl <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
runs = [r for r in runs if r["sl_us_per_hist"] and r["pr_us_per_hist"]
        and r["sl_chunks"]["samples"] and r["pr_chunks"]["samples"]]
if not runs:
    sys.exit("native-histograms: no run has samples and full chunks on both sides (raise WINDOW or TAIL)")
med = statistics.median
def col(f):
    return [f(r) for r in runs]
print("| run | Sightline: hist samples, CPU s, µs/sample | Prometheus 2.42: hist samples, CPU s, µs/sample | CPU ratio | Sightline chunks: samples/chunk, data B/sample, record B/sample | Prometheus chunks: samples/chunk, data B/sample, record B/sample | bytes ratio (record) |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for i, r in enumerate(runs, 1):
    s, p = r["sl_chunks"], r["pr_chunks"]
    print(f"| {i} | {r['sl_hist_samples']}, {r['sl_cpu_s']}, {r['sl_us_per_hist']} | {r['pr_hist_samples']}, {r['pr_cpu_s']}, {r['pr_us_per_hist']} "
          f"| {r['sl_us_per_hist']/r['pr_us_per_hist']:.2f}× "
          f"| {s.get('samples_per_chunk')}, {s.get('data_per_sample')}, {s.get('record_per_sample')} ({s['chunks']} chunks) "
          f"| {p.get('samples_per_chunk')}, {p.get('data_per_sample')}, {p.get('record_per_sample')} ({p['chunks']} chunks) "
          f"| {s['record_per_sample']/p['record_per_sample']:.2f}× |")
cpu_ratio = col(lambda r: r["sl_us_per_hist"] / r["pr_us_per_hist"])
byte_ratio = col(lambda r: r["sl_chunks"]["record_per_sample"] / r["pr_chunks"]["record_per_sample"])
print(f"| median | {med(col(lambda r: r['sl_us_per_hist'])):.3f} µs | {med(col(lambda r: r['pr_us_per_hist'])):.3f} µs | {med(cpu_ratio):.2f}× "
      f"| {med(col(lambda r: r['sl_chunks']['data_per_sample'])):.3f} / {med(col(lambda r: r['sl_chunks']['record_per_sample'])):.3f} B "
      f"| {med(col(lambda r: r['pr_chunks']['data_per_sample'])):.3f} / {med(col(lambda r: r['pr_chunks']['record_per_sample'])):.3f} B | {med(byte_ratio):.2f}× |")
PY
