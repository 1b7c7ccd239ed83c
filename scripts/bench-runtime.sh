#!/usr/bin/env bash
# Start-path benchmark: berth-runtime vs runc and crun, interleaved in one hyperfine run.
# Usage: scripts/bench-runtime.sh [runs]   (as root; installs hyperfine, runc, crun, time)
# Prints a table of medians and ratios (peer / berth: > 1 means berth is faster).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-50}
for p in hyperfine runc crun time busybox-static; do
  dpkg -s "$p" >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p"
done
if [ -z "${BERTH_RUNTIME:-}" ]; then cargo build --release -p berth-runtime >/dev/null; fi
BERTH=${BERTH_RUNTIME:-$(pwd)/target/x86_64-unknown-linux-gnu/release/berth-runtime}
RUNC=/usr/sbin/runc
CRUN=/usr/bin/crun

# crun 1.8 refuses to run while hugetlb sits on the unified hierarchy: give it a v1 home.
if [ -s /sys/fs/cgroup/unified/cgroup.controllers ] && ! mountpoint -q /sys/fs/cgroup/hugetlb; then
  mkdir -p /sys/fs/cgroup/hugetlb && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb
fi

W=$(mktemp -d /tmp/berth-bench.XXXXXX)
cleanup() {
  for i in $(seq 200); do mountpoint -q "$W/mnt/$i" 2>/dev/null && umount "$W/mnt/$i"; done
  rm -rf "$W"
}
trap cleanup EXIT
B=$W/bundle
mkdir -p "$B/rootfs/bin" "$B/rootfs/proc" "$B/rootfs/sys" "$B/rootfs/dev" "$B/rootfs/etc"
cp /bin/busybox "$B/rootfs/bin/"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$B/rootfs/bin/$a"; done
"$BERTH" spec --bundle "$B"
python3 - "$B/config.json" <<'PY'
import json, sys
p = sys.argv[1]; c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
c["ociVersion"] = "1.0.2-dev"  # crun 1.8.1 refuses newer versions
json.dump(c, open(p, "w"))
PY

declare -A RT=([berth]=$BERTH [runc]=$RUNC [crun]=$CRUN)
ORDER=(berth crun runc)
cmd() { # name, scenario
  local r=${RT[$1]} s="--root $W/state-$1"
  case $2 in
    run) echo "$r $s run --bundle $B b-$1 >/dev/null; $r $s delete -f b-$1" ;;
    csd) echo "$r $s create --bundle $B c-$1; $r $s start c-$1; $r $s delete -f c-$1" ;;
    seq100) echo "for i in \$(seq 100); do $r $s run --bundle $B s-$1 >/dev/null; $r $s delete -f s-$1; done" ;;
    exec) echo "$r $s exec e-$1 /bin/true" ;;
  esac
}

report() { # json file
  python3 - "$1" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
# Results come in the order the commands were given: berth, crun, runc.
names = {n: r["median"] * 1000 for n, r in zip(["berth", "crun", "runc"], res)}
b = names["berth"]
print("  " + "  ".join(f"{n}: {v:.2f} ms" for n, v in names.items()) + "  |  " + "  ".join(f"{n}/berth: {v/b:.2f}x" for n, v in names.items() if n != "berth"))
PY
}

for scen in run csd seq100 exec; do
  runs=$RUNS; [ $scen = seq100 ] && runs=3
  if [ $scen = exec ]; then
    python3 - "$B/config.json" "$W/exec-bundle" <<'PY'
import json, sys, shutil, os
c = json.load(open(sys.argv[1])); c["process"]["args"] = ["sleep", "3600"]
os.makedirs(sys.argv[2], exist_ok=True)
c["root"]["path"] = os.path.dirname(sys.argv[1]) + "/rootfs"  # runc refuses a symlinked rootfs
json.dump(c, open(sys.argv[2] + "/config.json", "w"))
PY
    for n in "${ORDER[@]}"; do ${RT[$n]} --root "$W/state-$n" run -d --bundle "$W/exec-bundle" "e-$n" </dev/null >/dev/null 2>&1; done
  fi
  args=()
  for n in "${ORDER[@]}"; do args+=("$(cmd $n $scen)"); done
  echo "== $scen"
  hyperfine --warmup 3 --runs "$runs" --export-json "$W/$scen.json" "${args[@]}" >/dev/null
  report "$W/$scen.json"
  if [ $scen = exec ]; then
    for n in "${ORDER[@]}"; do ${RT[$n]} --root "$W/state-$n" delete -f "e-$n" >/dev/null 2>&1 || true; done
  fi
done

echo "== run with 200 extra tmpfs mounts on the host (latency must not grow with the mount table)"
mkdir -p "$W/mnt"
for i in $(seq 200); do mkdir -p "$W/mnt/$i"; mount -t tmpfs none "$W/mnt/$i"; done
args=(); for n in "${ORDER[@]}"; do args+=("$(cmd $n run)"); done
hyperfine --warmup 3 --runs "$RUNS" --export-json "$W/mounts.json" "${args[@]}" >/dev/null
report "$W/mounts.json"
for i in $(seq 200); do umount "$W/mnt/$i"; done

echo "== peak RSS of the runtime process (run of /bin/true, max over 5)"
for n in "${ORDER[@]}"; do
  max=0
  for i in 1 2 3 4 5; do
    kb=$( { /usr/bin/time -v ${RT[$n]} --root "$W/state-$n" run --bundle "$B" "m-$n" >/dev/null; } 2>&1 | awk '/Maximum resident/ {print $6}')
    ${RT[$n]} --root "$W/state-$n" delete -f "m-$n" >/dev/null 2>&1 || true
    [ "${kb:-0}" -gt "$max" ] && max=$kb
  done
  echo "  $n: $max KiB"
done
