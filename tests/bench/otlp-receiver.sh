#!/usr/bin/env bash
# OTLP receiver CPU per data point: a release Sightline with --web.enable-otlp-receiver and
# nothing else to do receives INSTANCES x ROUNDS realistic protobuf export requests (800 data
# points, 1,400 samples each; tests/tools/otlp_load.py, built with opentelemetry-proto from the
# venv of tests/tools/otel-venv.sh) posted back to back over one connection; the daemon's CPU
# time (utime+stime) over the run and the points and samples it counted give points per CPU
# second.
#   cargo build --release -p sightline-daemon && tests/tools/otel-venv.sh && tests/bench/otlp-receiver.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/target/release/sightline}
PY=${PY:-$ROOT/target/otel-venv/bin/python}
W=$(mktemp -d ${TMPDIR:-/tmp}/otlp-receiver.XXXX)
I=${INSTANCES:-10}; R=${ROUNDS:-60}
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
PA=$(port)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
echo "scrape_configs: []" > $W/empty.yml
$BIN serve --config.file=$W/empty.yml --storage.tsdb.path=$W/sl --web.listen-address=127.0.0.1:$PA --web.enable-otlp-receiver --plugins.dir=$W/noplugins >$W/sl.log 2>&1 & SL=$!; pids+=($SL)
for _ in $(seq 100); do curl -sf http://127.0.0.1:$PA/-/ready >/dev/null && break; sleep 0.1; done
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
metric() { curl -s "http://$1/metrics" | awk -v m="$2" '$1==m || index($1, m"{")==1 {s+=$2} END {printf "%.0f", s}'; }
c1=$(cpu $SL)
$PY $ROOT/tests/tools/otlp_load.py --addr 127.0.0.1:$PA --instances $I --rounds $R
c2=$(cpu $SL)
n=$(metric 127.0.0.1:$PA sightline_otlp_datapoints_received_total)
s=$(metric 127.0.0.1:$PA sightline_otlp_samples_written_total)
rej=$(metric 127.0.0.1:$PA sightline_otlp_samples_rejected_total)
hz=$(getconf CLK_TCK)
python3 - "$c1" "$c2" "$n" "$s" "$rej" "$hz" <<'PY'
import sys
c1,c2,n,s,rej,hz=map(float,sys.argv[1:])
cpu=(c2-c1)/hz
print(f"Sightline: {n:.0f} data points ({s:.0f} samples written, {rej:.0f} rejected) in {cpu:.2f} CPU s: "
      f"{n/cpu/1e3:.0f}k data points and {s/cpu/1e3:.0f}k samples per CPU second")
PY
