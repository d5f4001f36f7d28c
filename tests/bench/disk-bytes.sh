#!/usr/bin/env bash
# Bytes on disk per sample after persistence, Sightline against Prometheus 2.42 on the same
# data: the benchmark workload (tests/tools/targets.py values, K targets x M series at a
# 15 s interval over H hours) written once as OpenMetrics, then
#   1. backfilled by `sightline import openmetrics` and `promtool tsdb create-blocks-from
#      openmetrics` (both write 2 h partitions/blocks), sizes measured;
#   2. each server started on its data for 75 s so its compactor runs (Prometheus merges
#      2 h blocks into larger ones except the newest; Sightline merges partitions into 6 h
#      and 18 h ones), stopped, sizes measured again.
#
#   tests/bench/disk-bytes.sh [-K targets] [-M series-per-target] [--hours h] [--jitter-ms n]
#
# Needs a release build, `prometheus` and `promtool` (apt-get install prometheus), python3.
# Listens on 127.0.0.1 only. Work files go to $OUT_DIR (default target/bench/disk).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${SIGHTLINE_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/sightline}"
out="${OUT_DIR:-$root/target/bench/disk}"
K=10 M=1000 H=6 J=0
while [ $# -gt 0 ]; do
  case "$1" in
    -K) K=$2; shift 2 ;;
    -M) M=$2; shift 2 ;;
    --hours) H=$2; shift 2 ;;
    --jitter-ms) J=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x "$bin" ] || { echo "no release binary at $bin (cargo build --release -p sightline-daemon)" >&2; exit 1; }
command -v promtool >/dev/null || { echo "promtool not installed (apt-get install prometheus)" >&2; exit 1; }
rm -rf "$out"; mkdir -p "$out"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

python3 "$here/gen-om.py" --targets "$K" --series-per-target "$M" --hours "$H" --jitter-ms "$J" --out "$out/workload.om"
samples=$(grep -vc '^#' "$out/workload.om")
"$bin" import openmetrics "$out/workload.om" --storage.tsdb.path "$out/sightline" >/dev/null
promtool tsdb create-blocks-from openmetrics "$out/workload.om" "$out/prometheus" >/dev/null
rm -f "$out/workload.om"

size() { du -sb "$1" | cut -f1; }
report() {
  local s p
  s=$(size "$out/sightline"); p=$(size "$out/prometheus")
  python3 - "$1" "$samples" "$s" "$p" <<'PY'
import sys
stage, n, s, p = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
print(f"| {stage} | {n} | {s} | {s/n:.3f} | {p} | {p/n:.3f} | {s/p:.2f}x |")
PY
}
echo "| stage | samples | Sightline bytes | B/sample | Prometheus bytes | B/sample | ratio |"
echo "|---|---|---|---|---|---|---|"
report "after backfill"

printf 'global: {scrape_interval: 15s}\nscrape_configs: []\n' > "$out/empty.yml"
"$bin" serve --config.file="$out/empty.yml" --storage.tsdb.path="$out/sightline" \
  --storage.tsdb.retention.time=100y --web.listen-address=127.0.0.1:19691 \
  --plugins.dir="$out/no-plugins" --log.level=warn &
pids+=($!)
prometheus --config.file="$out/empty.yml" --storage.tsdb.path="$out/prometheus" \
  --storage.tsdb.retention.time=100y --web.listen-address=127.0.0.1:19692 --log.level=warn \
  2>"$out/prometheus.log" &
pids+=($!)
sleep 75
for p in "${pids[@]}"; do kill -TERM "$p"; done
for p in "${pids[@]}"; do wait "$p" || true; done
pids=()
# Prometheus' WAL and chunks_head directories hold no samples of this data; count blocks only.
rm -rf "$out/prometheus/wal" "$out/prometheus/chunks_head"
report "after 75 s of compaction"
ls "$out/sightline/parts" | wc -l | sed 's/^/Sightline partition files: /'
ls -d "$out/prometheus"/01* | wc -l | sed 's/^/Prometheus blocks: /'
