#!/usr/bin/env bash
# Builds every first-party plugin and installs it as plugins/<name>.wasm.
# Needs only the Rust toolchain; adds the wasm32-wasip2 target if missing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2; then
    rustup target add wasm32-wasip2
fi
# Run from the plugins workspace so its .cargo/config.toml applies; the target is explicit too.
cd "$here"
cargo build --release --target wasm32-wasip2 --target-dir "$here/target"
for crate in dashboard-node dashboard-service-health discord email msteams node-exporter opsgenie pagerduty robust-zscore slack telegram victorops webex webhook; do
    lib="${crate//-/_}"
    # Copy then rename, so a running daemon never sees a half-written file.
    cp "$here/target/wasm32-wasip2/release/$lib.wasm" "$here/.$crate.wasm.tmp"
    mv "$here/.$crate.wasm.tmp" "$here/$crate.wasm"
    echo "installed plugins/$crate.wasm"
done
