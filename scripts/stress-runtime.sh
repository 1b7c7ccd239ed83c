#!/usr/bin/env bash
# Robustness of the start path: N consecutive `run` + `delete` of /bin/true, each with a
# timeout; any hang or failure is counted and reported. Usage: scripts/stress-runtime.sh [N]
set -uo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
RT=${BERTH_RUNTIME:-$(pwd)/target/x86_64-unknown-linux-gnu/release/berth-runtime}
[ -x "$RT" ] || cargo build --release -p berth-runtime >/dev/null
W=$(mktemp -d /tmp/berth-stress.XXXXXX)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/b/rootfs/bin"
cp /bin/busybox "$W/b/rootfs/bin/"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$W/b/rootfs/bin/$a"; done
(cd "$W/b" && "$RT" spec && sed -i 's/"terminal": true/"terminal": false/; s/"sh"$/"\/bin\/true"/' config.json)
hangs=0 fails=0
start=$(date +%s.%N)
for i in $(seq "$N"); do
  timeout 10 "$RT" --root "$W/state" run --bundle "$W/b" "s$i" </dev/null >/dev/null 2>"$W/err"
  rc=$?
  if [ $rc -eq 124 ]; then hangs=$((hangs + 1)); echo "hang at run $i"; "$RT" --root "$W/state" delete -f "s$i" >/dev/null 2>&1
  elif [ $rc -ne 0 ]; then fails=$((fails + 1)); echo "run $i failed ($rc): $(cat "$W/err")"; fi
  "$RT" --root "$W/state" delete -f "s$i" >/dev/null 2>&1
done
end=$(date +%s.%N)
left=$(ls "$W/state" 2>/dev/null | grep -vc '^\.' || true)
echo "runs=$N hangs=$hangs failures=$fails leftover_state=$left mean_ms=$(echo "($end - $start) * 1000 / $N" | bc -l | cut -c1-6)"
[ $hangs -eq 0 ] && [ $fails -eq 0 ]
