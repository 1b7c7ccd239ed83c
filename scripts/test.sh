#!/usr/bin/env bash
# The whole test suite, as CI runs it (as root: tests make real namespaces, cgroups, mounts).
# Installs what the tests need (idempotent), then lints and tests every crate.
set -euo pipefail
cd "$(dirname "$0")/.."

need=(busybox-static libseccomp-dev pkg-config procps)
missing=()
for p in "${need[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || true
  apt-get install -y -qq "${missing[@]}"
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked -- --test-threads="${BERTH_TEST_THREADS:-2}"
