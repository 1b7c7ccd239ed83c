#!/usr/bin/env bash
# The whole test suite, as CI runs it (as root: tests make real namespaces, cgroups, mounts).
# Installs what the tests need (idempotent), then lints and tests every crate.
set -euo pipefail
cd "$(dirname "$0")/.."

# docker.io, docker-compose and python3-docker are the real clients of `berth serve`'s tests
# (their dockerd is never started).
need=(busybox-static libseccomp-dev pkg-config procps docker-registry skopeo apache2-utils nftables iproute2 runc
  docker.io docker-compose python3-docker)
missing=()
for p in "${need[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  # docker-registry and docker.io ship services; the tests start their own registries and
  # servers, so keep the packages from starting theirs (docker-registry's would fail on its
  # broken default config, dockerd's would change the host's network).
  made_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
  fi
  apt-get update -qq || true
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if [ -n "$made_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked -- --test-threads="${BERTH_TEST_THREADS:-2}"
