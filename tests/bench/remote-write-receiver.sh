#!/usr/bin/env bash
# Remote-write receiver CPU per sample: one Prometheus 2.42 scrapes the benchmark targets
# (tests/tools/targets.py, TARGETS x SERIES at 1 s) and remote-writes the same stream to Sightline
# (a release build, --web.enable-remote-write-receiver) and to a second Prometheus 2.42 (receiver
# only, --web.enable-remote-write-receiver). After 30 s of warm-up, both receivers' CPU time
# (utime+stime) and samples stored are measured over DUR seconds.
#   cargo build --release -p sightline-daemon && tests/bench/remote-write-receiver.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/target/release/sightline}
W=$(mktemp -d ${TMPDIR:-/tmp}/rw-receiver.XXXX)
T=${TARGETS:-20}; S=${SERIES:-500}; DUR=${DUR:-60}
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
PT=$(port); PA=$(port); PB=$(port); PC=$(port)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
python3 $ROOT/tests/tools/targets.py --targets $T --series-per-target $S --ports 1 --port $PT --max-seconds 600 >/dev/null 2>&1 & pids+=($!)
echo "scrape_configs: []" > $W/empty.yml
$BIN serve --config.file=$W/empty.yml --storage.tsdb.path=$W/sl --web.listen-address=127.0.0.1:$PA --web.enable-remote-write-receiver --plugins.dir=$W/noplugins >$W/sl.log 2>&1 & SL=$!; pids+=($SL)
prometheus --config.file=$W/empty.yml --storage.tsdb.path=$W/pb --web.listen-address=127.0.0.1:$PB --web.enable-remote-write-receiver --log.level=warn >$W/pb.log 2>&1 & PBID=$!; pids+=($PBID)
{
  echo "global: {scrape_interval: 1s, scrape_timeout: 1s}"
  echo "remote_write:"
  echo "  - url: http://127.0.0.1:$PA/api/v1/write"
  echo "  - url: http://127.0.0.1:$PB/api/v1/write"
  echo "scrape_configs:"
  echo "  - job_name: app"
  echo "    static_configs:"
  for i in $(seq 0 $((T-1))); do echo "      - {targets: ['127.0.0.1:$PT'], labels: {__metrics_path__: /metrics/$i, instance: app-$i}}"; done
} > $W/sender.yml
prometheus --config.file=$W/sender.yml --storage.tsdb.path=$W/pa --web.listen-address=127.0.0.1:$PC --log.level=warn >$W/pa.log 2>&1 & pids+=($!)
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
metric() { curl -s "http://$1/metrics" | awk -v m="$2" '$1==m || index($1, m"{")==1 {s+=$2} END {printf "%.0f", s}'; }
sleep 30
c1=$(cpu $SL); d1=$(cpu $PBID)
s1=$(metric 127.0.0.1:$PA sightline_remote_write_samples_written_total); p1=$(metric 127.0.0.1:$PB prometheus_tsdb_head_samples_appended_total)
sleep $DUR
c2=$(cpu $SL); d2=$(cpu $PBID)
s2=$(metric 127.0.0.1:$PA sightline_remote_write_samples_written_total); p2=$(metric 127.0.0.1:$PB prometheus_tsdb_head_samples_appended_total)
hz=$(getconf CLK_TCK)
python3 - "$c1" "$c2" "$d1" "$d2" "$s1" "$s2" "$p1" "$p2" "$hz" "$DUR" <<'PY'
import sys
c1,c2,d1,d2,s1,s2,p1,p2,hz,dur=map(float,sys.argv[1:])
sl_cpu=(c2-c1)/hz; pb_cpu=(d2-d1)/hz; sl_n=s2-s1; pb_n=p2-p1
print(f"window {dur:.0f}s: Sightline {sl_n:.0f} samples, {sl_cpu:.2f} CPU s, {sl_cpu/sl_n*1e6:.2f} CPU s per million samples ({sl_n/sl_cpu/1e3:.0f}k samples per CPU second)")
print(f"            Prometheus 2.42 {pb_n:.0f} samples, {pb_cpu:.2f} CPU s, {pb_cpu/pb_n*1e6:.2f} CPU s per million samples ({pb_n/pb_cpu/1e3:.0f}k samples per CPU second)")
PY

