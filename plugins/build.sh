#!/usr/bin/env bash
# Builds every first-party plugin and installs it as plugins/<name>.wasm.
# Needs only the Rust toolchain; adds the wasm32-wasip2 target if missing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2; then
    rustup target add wasm32-wasip2
fi
cargo build --release --manifest-path "$here/Cargo.toml"
for crate in node-exporter webhook; do
    lib="${crate//-/_}"
    # Copy then rename, so a running daemon never sees a half-written file.
    cp "$here/target/wasm32-wasip2/release/$lib.wasm" "$here/.$crate.wasm.tmp"
    mv "$here/.$crate.wasm.tmp" "$here/$crate.wasm"
    echo "installed plugins/$crate.wasm"
done
