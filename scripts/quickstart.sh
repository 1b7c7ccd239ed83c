#!/usr/bin/env bash
# Offline quick start (README): an image made from busybox-static with `berth import`, run
# with `berth run --rm`; then the bare runtime: a busybox bundle run with berth-runtime.
# Uses the installed binaries, else the release build of this checkout.
#   scripts/quickstart.sh [BUNDLE_DIR]
set -euo pipefail
REL="$(dirname "$0")/../target/x86_64-unknown-linux-gnu/release"
BERTH=${BERTH:-$(command -v berth || echo "$REL/berth")}
RT=${BERTH_RUNTIME:-$(command -v berth-runtime || echo "$REL/berth-runtime")}
BERTH=$(readlink -f "$BERTH") RT=$(readlink -f "$RT")
for p in busybox-static nftables; do dpkg -s "$p" >/dev/null 2>&1 || apt-get install -y -qq "$p"; done

# 1. The engine: an image from busybox-static, then a container.
I=$(mktemp -d /var/tmp/berth-quickstart-image.XXXXXX)
trap 'rm -rf "$I"' EXIT
mkdir -p "$I/bin" && cp /bin/busybox "$I/bin/"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$I/bin/$a"; done
tar -C "$I" -cf - . | "$BERTH" import - busybox:local
"$BERTH" run --rm busybox:local echo hello from a berth container

# 2. The runtime alone: a bundle run by berth-runtime, as runc would.
B=${1:-/tmp/berth-quickstart}
rm -rf "$B" && mkdir -p "$B/rootfs/bin"
cp /bin/busybox "$B/rootfs/bin/"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$B/rootfs/bin/$a"; done
cd "$B"
"$RT" spec
sed -i 's/"terminal": true/"terminal": false/; s/"sh"$/"sh", "-c", "echo hello from $(hostname)"/' config.json
"$RT" run "quickstart-$$"
