#!/usr/bin/env bash
# Builds the plugins written in other languages, from wit/v0.2/plugin.wit alone (contract
# sightline:plugin@0.2.0):
#   examples/python-exporter  with componentize-py (PyPI), pinned in requirements.txt
#   examples/js-receiver      with componentize-js (npm), pinned in package-lock.json
# into examples/target/lang/<name>.wasm (what the daemon tests install).
#
# Usage: bash examples/build-lang.sh            install the tools if needed, build both
#        bash examples/build-lang.sh --tools    only install the tools
#
# The tools are cached: the Python venv in examples/target/lang/venv (rebuilt when
# requirements.txt changes), node_modules in examples/js-receiver (reinstalled with `npm ci`
# when package-lock.json changes). After the first run nothing is downloaded. A component is
# rebuilt only when its source, the WIT or the pinned tool changed.
#
# Needs python3 with venv and Node.js >= 20 with npm (componentize-js' dependencies require
# Node 20). Missing ones are installed: python3-venv with apt; Node.js from Debian (nodejs, npm)
# and, where Debian's is older than 20 (Debian 12 has 18), Node.js 20 from the npm registry's
# node-linux-<arch> package into examples/target/lang/node.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/examples/target/lang
mkdir -p "$out"

say() { echo "build-lang: $*" >&2; }

apt_install() {
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo="sudo -n"
    else
      say "missing $*; install them: sudo apt-get install $*"
      exit 1
    fi
  fi
  say "installing Debian's $*"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# A stamp of the files a cached step depends on: when it changes, the step runs again.
stamp_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

python_tools() {
  local req=$root/examples/python-exporter/requirements.txt
  local venv=$out/venv want
  want=$(stamp_of "$req")
  if [ -x "$venv/bin/componentize-py" ] && [ "$(cat "$venv/.stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv python3-pip
  rm -rf "$venv"
  if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    rm -rf "$venv"
    apt_install python3-venv python3-pip
    python3 -m venv "$venv"
  fi
  say "installing $(grep -v '^#' "$req" | tr '\n' ' ')into $venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  echo "$want" >"$venv/.stamp"
}

node_major() { node -e 'console.log(process.versions.node.split(".")[0])' 2>/dev/null || echo 0; }

# Puts a Node.js >= 20 with npm on PATH.
node_tools() {
  if [ -x "$out/node/bin/node" ]; then
    export PATH="$out/node/bin:$PATH"
  fi
  if command -v npm >/dev/null 2>&1 && [ "$(node_major)" -ge 20 ]; then
    return 0
  fi
  command -v npm >/dev/null 2>&1 || apt_install nodejs npm
  if [ "$(node_major)" -lt 20 ]; then
    # Debian 12's Node.js is 18. The npm registry ships Node.js' own binaries as packages; the
    # version is pinned like every other tool here.
    local arch
    case "$(uname -m)" in
      x86_64) arch=x64 ;;
      aarch64) arch=arm64 ;;
      *) say "no Node.js 20 package for $(uname -m): install Node.js 20 or newer"; exit 1 ;;
    esac
    say "Node.js $(node --version) is older than 20: installing Node.js 20 from npm into $out/node"
    rm -rf "$out/node"
    npm install --silent --no-save --prefix "$out/node" "node-linux-$arch@20.20.2"
    mkdir -p "$out/node/bin"
    ln -sf "../node_modules/node-linux-$arch/bin/node" "$out/node/bin/node"
    export PATH="$out/node/bin:$PATH"
  fi
}

js_tools() {
  local dir=$root/examples/js-receiver want
  want=$(stamp_of "$dir/package-lock.json")
  if [ -x "$dir/node_modules/.bin/componentize-js" ] && [ "$(cat "$dir/node_modules/.sightline-stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  say "installing componentize-js with npm ci in $dir"
  (cd "$dir" && npm ci --silent --no-audit --no-fund)
  echo "$want" >"$dir/node_modules/.sightline-stamp"
}

# True when $1 is missing or older than any of the other arguments.
stale() {
  local target=$1
  shift
  [ -e "$target" ] || return 0
  local f
  for f in "$@"; do
    [ "$f" -nt "$target" ] && return 0
  done
  return 1
}

# Writes to a temporary file first, so a failed build never leaves a truncated component.
build_python() {
  local src=$root/examples/python-exporter wasm=$out/python-exporter.wasm
  stale "$wasm" "$src/app.py" "$root/wit/v0.2/plugin.wit" "$out/venv/.stamp" || return 0
  say "componentize-py: examples/python-exporter -> $wasm"
  # -d the WIT, -w the world; `app` is the module implementing it, found through -p.
  (cd "$src" && "$out/venv/bin/componentize-py" -d ../../wit/v0.2/plugin.wit -w exporter-plugin \
    componentize -p . app -o "$wasm.tmp" >/dev/null)
  mv "$wasm.tmp" "$wasm"
}

build_js() {
  local src=$root/examples/js-receiver wasm=$out/js-receiver.wasm
  stale "$wasm" "$src/receiver.js" "$root/wit/v0.2/plugin.wit" "$src/node_modules/.sightline-stamp" || return 0
  say "componentize-js: examples/js-receiver -> $wasm"
  # `npm run build` is the same command (package.json), with the output given here. The
  # `http` feature (fetch, through wasi:http) stays; `fetch-event` would export
  # wasi:http/incoming-handler, which a receiver has no use for.
  (cd "$src" && node_modules/.bin/componentize-js receiver.js --wit ../../wit/v0.2/plugin.wit \
    --world-name receiver-plugin --disable fetch-event -o "$wasm.tmp" >/dev/null)
  mv "$wasm.tmp" "$wasm"
}

python_tools
node_tools
js_tools
[ "${1:-}" = "--tools" ] && exit 0
build_python
build_js
ls -l "$out"/*.wasm | awk '{print "build-lang: built " $NF " (" $5 " bytes)"}' >&2
