#!/usr/bin/env bash
# Installs the pinned OpenTelemetry Python SDK (tests/tools/otel-requirements.txt) into
# target/otel-venv for the OTLP receiver's end-to-end test, once: the venv is reused while
# the requirements file is unchanged (a stamp holds its checksum).
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=target/otel-venv
want=$(sha256sum tests/tools/otel-requirements.txt | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/tools/otel-requirements.txt
echo "$want" > "$venv/.stamp"
