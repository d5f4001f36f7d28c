#!/usr/bin/env bash
# The on-demand soak (issue 13): the release daemon for 10 minutes (or the seconds given)
# under scrape churn, query load, config and plugin reloads; prints the RSS summary.
# The test itself is host/daemon/tests/soak (`./dev test` runs it for 60 s, debug build).
#   tests/soak/run.sh [SECONDS]      default 600
# Load knobs (environment): SIGHTLINE_SOAK_TARGETS (16), SIGHTLINE_SOAK_SERIES (200 per
# target), SIGHTLINE_SOAK_QUERY_THREADS (2).
set -euo pipefail
cd "$(dirname "$0")/../.."
SIGHTLINE_SOAK_SECS=${1:-600} exec cargo test --release -p sightline-daemon --test soak -- --nocapture
