#!/usr/bin/env bash
# End-to-end comparison with the real Prometheus (Debian package `prometheus`, 2.42) on the
# same synthetic workload, one after the other in the same session, with the peers' harness
# ../shared/bench/prom_run.py, which is not vendored: this benchmark (not a test) needs the
# workplace's shared/ beside the repository. Writes both result JSON files and prints a ratio table.
#
#   tests/bench/vs-prometheus.sh [-K targets] [-M series-per-target] [--duration s] [--runs n]
#
# Needs: a release build (cargo build --release -p sightline-daemon) and `prometheus` on PATH
# (apt-get install prometheus). Everything listens on 127.0.0.1 only.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
harness="$root/../shared/bench/prom_run.py"
[ -f "$harness" ] || { echo "the peers' harness is not at $harness (shared/ beside the repository)" >&2; exit 1; }
bin="${SIGHTLINE_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/sightline}"
out="${OUT_DIR:-$root/target/bench}"
mkdir -p "$out"
[ -x "$bin" ] || { echo "no release binary at $bin (cargo build --release -p sightline-daemon)" >&2; exit 1; }
command -v prometheus >/dev/null || { echo "prometheus not installed (apt-get install prometheus)" >&2; exit 1; }
stamp=$(date -u +%Y%m%dT%H%M%SZ)
python3 "$harness" --name prometheus --out "$out/prometheus-$stamp.json" "$@"
python3 "$harness" --name sightline --out "$out/sightline-$stamp.json" \
  --samples-metric sightline_tsdb_samples_appended_total --series-metric sightline_tsdb_head_series \
  --server-cmd "$bin serve --config.file={config} --storage.tsdb.path={data} --web.listen-address={listen} --plugins.dir={data}/plugins --log.level=warn" \
  "$@"
python3 "$here/ratios.py" "$out/prometheus-$stamp.json" "$out/sightline-$stamp.json"
