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
if ! python3 -m venv "$venv" >/dev/null 2>&1; then
  # Debian's python3 lacks ensurepip until python3-venv is installed.
  rm -rf "$venv"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-venv python3-pip >/dev/null
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/tools/otel-requirements.txt
echo "$want" > "$venv/.stamp"
