#!/usr/bin/env bash
# Remote-write sender throughput: samples delivered per CPU second by Sightline's remote_write
# client and by Prometheus 2.42's, with the same workload, to the same receiver, in the same run.
#
# Sightline (a release build) and Prometheus 2.42 scrape the same benchmark targets
# (tests/tools/targets.py, TARGETS x SERIES at 1 s) and remote-write to one VictoriaMetrics with
# the same queue_config. The receiver is DOWN for the first OUTAGE seconds, so each sender
# builds a WAL backlog of about TARGETS x SERIES x OUTAGE samples (its queue retrying the first
# batches); then VictoriaMetrics starts and both catch up. Measured for each sender, from its own
# figures (<prefix>_remote_storage_samples_total, queue_highest_sent_timestamp_seconds,
# highest_timestamp_in_seconds) and its /proc/<pid>/stat (utime+stime, all threads):
#   catch-up = from the receiver's start until the newest sample delivered is within 3 s of the
#              wall clock (polled every 0.25 s; in steady state it lags by one or two seconds);
#   net CPU  = CPU seconds during the catch-up - the scrape-only CPU rate x its duration, the
#              rate measured over BASE seconds during the outage (scraping, WAL writes and the
#              failing retries of the blocked first batch);
#   samples per CPU second = samples delivered during the catch-up / net CPU.
# The run is repeated RUNS times with fresh data directories; medians and the ratio are printed.
#   cargo build --release -p sightline-daemon && tests/bench/remote-write-out.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/target/release/sightline}
T=${TARGETS:-20}; S=${SERIES:-500}; OUTAGE=${OUTAGE:-240}; WARM=${WARM:-30}; BASE=${BASE:-60}
RUNS=${RUNS:-3}; SHARDS=${MAX_SHARDS:-8}; CATCHUP_MAX=${CATCHUP_MAX:-900}
[ "$OUTAGE" -ge $((WARM + BASE + 10)) ] || { echo "OUTAGE must be at least WARM + BASE + 10" >&2; exit 1; }
for c in prometheus victoria-metrics python3 curl; do
  command -v $c >/dev/null || { echo "remote-write-out: $c is missing (apt-get install prometheus victoria-metrics python3 curl)" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "remote-write-out: no $BIN (cargo build --release -p sightline-daemon)" >&2; exit 1; }
W=$(mktemp -d ${TMPDIR:-/tmp}/rw-out.XXXX)
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
pids=()
stop_all() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done; pids=(); }
cleanup() { stop_all; rm -rf "$W"; }
trap cleanup EXIT

# The identical queue_config of both senders (Prometheus 2.42 has no sample_age_limit).
QUEUE="{capacity: 10000, min_shards: 1, max_shards: $SHARDS, max_samples_per_send: 2000, batch_send_deadline: 5s, min_backoff: 30ms, max_backoff: 1s}"

run() {
  local R=$W/run$1; mkdir -p $R
  local PT PV PS PP; PT=$(port); PV=$(port); PS=$(port); PP=$(port)
  python3 $ROOT/tests/tools/targets.py --targets $T --series-per-target $S --ports 1 --port $PT --max-seconds $((OUTAGE + 900)) >/dev/null 2>&1 & pids+=($!)
  {
    echo "global: {scrape_interval: 1s, scrape_timeout: 1s}"
    echo "remote_write:"
    echo "  - url: http://127.0.0.1:$PV/api/v1/write"
    echo "    name: vm"
    echo "    queue_config: $QUEUE"
    echo "scrape_configs:"
    echo "  - job_name: app"
    echo "    static_configs:"
    for i in $(seq 0 $((T-1))); do echo "      - {targets: ['127.0.0.1:$PT'], labels: {__metrics_path__: /metrics/$i, instance: app-$i}}"; done
  } > $R/sender.yml
  $BIN serve --config.file=$R/sender.yml --storage.tsdb.path=$R/sl --web.listen-address=127.0.0.1:$PS --plugins.dir=$R/noplugins >$R/sl.log 2>&1 & local SL=$!; pids+=($SL)
  prometheus --config.file=$R/sender.yml --storage.tsdb.path=$R/pr --web.listen-address=127.0.0.1:$PP --log.level=warn >$R/pr.log 2>&1 & local PR=$!; pids+=($PR)
  python3 - "$SL" "$PR" "127.0.0.1:$PS" "127.0.0.1:$PP" "127.0.0.1:$PV" "$R/vm" "$WARM" "$BASE" "$OUTAGE" "$CATCHUP_MAX" <<'PY' | tee -a $W/results.jsonl
import json, os, subprocess, sys, time, urllib.request
sl_pid, pr_pid, sl_addr, pr_addr, vm_addr, vm_dir = sys.argv[1:7]
warm, base, outage, catchup_max = map(float, sys.argv[7:11])
hz = os.sysconf("SC_CLK_TCK")
senders = {"sightline": (int(sl_pid), sl_addr, "sightline_remote_storage_"),
           "prometheus": (int(pr_pid), pr_addr, "prometheus_remote_storage_")}

def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / hz

def figures(addr, prefix):
    text = urllib.request.urlopen(f"http://{addr}/metrics", timeout=10).read().decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        series, value = line.rsplit(" ", 1)
        name = series.split("{", 1)[0]
        if name.startswith(prefix):
            short = name[len(prefix):]
            out[short] = out.get(short, 0.0) + float(value)
    return out

def state(name):
    pid, addr, prefix = senders[name]
    f = figures(addr, prefix)
    return {"cpu": cpu(pid), "t": time.time(), "sent": f.get("samples_total", 0.0),
            "newest": f.get("highest_timestamp_in_seconds", 0.0),
            "delivered": f.get("queue_highest_sent_timestamp_seconds", 0.0),
            "pending": f.get("samples_pending", 0.0), "failed": f.get("samples_failed_total", 0.0)}

start = time.time()
time.sleep(warm)
b0 = {n: state(n) for n in senders}
time.sleep(base)
b1 = {n: state(n) for n in senders}
rate = {n: (b1[n]["cpu"] - b0[n]["cpu"]) / (b1[n]["t"] - b0[n]["t"]) for n in senders}
time.sleep(max(0.0, start + outage - time.time()))
c0 = {n: state(n) for n in senders}
vm = subprocess.Popen(["victoria-metrics", f"-httpListenAddr={vm_addr}", f"-storageDataPath={vm_dir}",
                       "-retentionPeriod=100y", "-loggerLevel=ERROR"],
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
c1 = {}
try:
    deadline = time.time() + catchup_max
    while len(c1) < len(senders) and time.time() < deadline:
        time.sleep(0.25)
        for n in senders:
            if n in c1:
                continue
            s = state(n)
            if s["sent"] > c0[n]["sent"] and s["t"] - s["delivered"] <= 3.0:
                c1[n] = s
finally:
    vm.terminate()
    vm.wait()
result = {}
for n in senders:
    if n not in c1:
        result[n] = {"error": f"no catch-up within {catchup_max:.0f} s"}
        continue
    dur = c1[n]["t"] - c0[n]["t"]
    gross = c1[n]["cpu"] - c0[n]["cpu"]
    net = gross - rate[n] * dur
    samples = c1[n]["sent"] - c0[n]["sent"]
    result[n] = {"outage_s": round(c0[n]["t"] - start), "samples": samples,
                 "catchup_s": round(dur, 2), "cpu_s": round(gross, 2),
                 "scrape_cpu_rate": round(rate[n], 4), "net_cpu_s": round(net, 2),
                 "samples_per_cpu_s": round(samples / net) if net > 0 else None,
                 "failed": c1[n]["failed"]}
print(json.dumps(result))
PY
  stop_all
}

echo "remote-write-out: $T targets x $S series at 1 s, receiver down ${OUTAGE}s, $RUNS runs, $(nproc) CPUs" >&2
for r in $(seq 1 $RUNS); do run $r; done
python3 - $W/results.jsonl <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def med(name, key):
    v = [r[name][key] for r in runs if r[name].get(key) is not None]
    return statistics.median(v) if v else float("nan")
for name in ("sightline", "prometheus"):
    print(f"{name:10s}: median {med(name, 'samples_per_cpu_s')/1e3:.0f}k samples per CPU second "
          f"(backlog {med(name, 'samples')/1e6:.2f}M samples, catch-up {med(name, 'catchup_s'):.1f}s, "
          f"net CPU {med(name, 'net_cpu_s'):.2f}s, scrape-only {med(name, 'scrape_cpu_rate'):.3f} CPU)")
ratios = [r["sightline"]["samples_per_cpu_s"] / r["prometheus"]["samples_per_cpu_s"] for r in runs
          if r["sightline"].get("samples_per_cpu_s") and r["prometheus"].get("samples_per_cpu_s")]
if ratios:
    print(f"Sightline / Prometheus 2.42, samples per CPU second: median {statistics.median(ratios):.2f}x "
          f"(runs: {', '.join(f'{x:.2f}' for x in ratios)})")
PY
