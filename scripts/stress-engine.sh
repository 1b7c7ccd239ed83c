#!/usr/bin/env bash
# Engine stress: N sequential `berth run --rm IMG hostname` (default 2000), then checks that no
# mount, cgroup, process, file under R/containers, runtime state or database row is left; and
# 50 containers started at once from 50 threads, then removed. Runs the container_scale tests
# with BERTH_SCALE_RUNS=N (as root).
#
#   scripts/stress-engine.sh [N]
set -euo pipefail
N=${1:-2000}
cd "$(dirname "$0")/.."
start=$(date +%s)
BERTH_SCALE_RUNS=$N CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1} \
  cargo test -q -p berth --test container_scale -- --test-threads=1
echo "stress-engine: $N sequential run --rm and 50 concurrent run -d: passed, nothing left behind ($(( $(date +%s) - start )) s)"
