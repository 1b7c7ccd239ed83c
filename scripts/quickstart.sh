#!/usr/bin/env bash
# Offline quick start: a busybox bundle from busybox-static, run with berth-runtime.
set -euo pipefail
RT=${BERTH_RUNTIME:-$(command -v berth-runtime || echo "$(dirname "$0")/../target/x86_64-unknown-linux-gnu/release/berth-runtime")}
RT=$(readlink -f "$RT")
dpkg -s busybox-static >/dev/null 2>&1 || apt-get install -y -qq busybox-static
B=${1:-/tmp/berth-quickstart}
rm -rf "$B" && mkdir -p "$B/rootfs/bin"
cp /bin/busybox "$B/rootfs/bin/"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$B/rootfs/bin/$a"; done
cd "$B"
"$RT" spec
sed -i 's/"terminal": true/"terminal": false/; s/"sh"$/"sh", "-c", "echo hello from $(hostname)"/' config.json
"$RT" run "quickstart-$$"
