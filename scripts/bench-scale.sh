#!/usr/bin/env bash
# What a command costs as the number of containers grows: with N idle containers on the host
# (N = 1, 100, 1000 by default), the time of `run -d`, `exec`, `stop`, `rm` of one more
# container and of `ps -a`, by the berth CLI and by the docker CLI through `berth serve`.
# Commands should cost the same whatever N is (targets: within 1.3x of N=1, `ps` of 1000
# under 50 ms). Each idle container is a `sleep` with its monitor (about 1.2 MB of memory).
#
#   scripts/bench-scale.sh [COUNTS...] [-r ROUNDS]     (as root; default 1 100 1000, 5 rounds)
#
# BERTH_BIN_DIR=DIR uses the binaries in DIR instead of building release ones.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=5
COUNTS=()
while [ $# -gt 0 ]; do
  case "$1" in
    -r) ROUNDS=$2; shift 2 ;;
    *) COUNTS+=("$1"); shift ;;
  esac
done
[ ${#COUNTS[@]} -gt 0 ] || COUNTS=(1 100 1000)
if [ -z "${BERTH_BIN_DIR:-}" ]; then
  CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1} cargo build -q --release \
    -p berth -p berth-monitor -p berth-init -p berth-runtime -p berth-serve
  BERTH_BIN_DIR=$(pwd)/target/x86_64-unknown-linux-gnu/release
fi
BIN=$(readlink -f "$BERTH_BIN_DIR")
W=$(mktemp -d /var/tmp/berth-bench-scale.XXXXXX)
R=$W/root
BERTH="$BIN/berth --root $R"
SERVE_PID=
cleanup() {
  set +e
  [ -n "$SERVE_PID" ] && kill "$SERVE_PID"
  $BERTH ps -aq --no-trunc 2>/dev/null | xargs -r -n 50 $BERTH rm -f >/dev/null 2>&1
  for m in $(awk -v w="$W" '$5 ~ "^" w {print $5}' /proc/self/mountinfo | sort -r); do umount -l "$m"; done
  rm -rf "$W"
}
trap cleanup EXIT

mkdir -p "$W/rootfs/bin"
cp /bin/busybox "$W/rootfs/bin/"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$W/rootfs/bin/$a"; done
tar -C "$W/rootfs" -czf "$W/bb.tgz" .
$BERTH import "$W/bb.tgz" bb:latest >/dev/null
PATH=$BIN:$PATH "$BIN/berth-serve" --root "$R" -H "unix://$W/api.sock" --log-level warn 2>"$W/serve.log" &
SERVE_PID=$!
for _ in $(seq 100); do [ -S "$W/api.sock" ] && break; sleep 0.1; done

python3 - "$ROUNDS" "$W" "$BIN" "${COUNTS[@]}" <<'PY'
import statistics, subprocess, sys, time
rounds, w, bindir = int(sys.argv[1]), sys.argv[2], sys.argv[3]
counts = [int(c) for c in sys.argv[4:]]
berth = [f"{bindir}/berth", "--root", f"{w}/root"]
docker = ["/usr/bin/docker", "-H", f"unix://{w}/api.sock"]

def timed(argv):
    t = time.perf_counter()
    p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(argv)}: {p.stderr.decode().strip()}")
    return (time.perf_counter() - t) * 1000

def cycle(cli, name):
    out = {}
    out["run -d"] = timed(cli + ["run", "-d", "--network", "none", "--name", name, "bb", "sleep", "1000"])
    out["exec"] = timed(cli + ["exec", name, "true"])
    out["stop"] = timed(cli + ["stop", "-t", "0", name])
    out["rm"] = timed(cli + ["rm", name])
    out["ps -a"] = timed(cli + ["ps", "-a"])
    return out

have = 0
results = {}
for n in counts:
    while have < n:
        batch = min(50, n - have)
        procs = [subprocess.Popen(berth + ["run", "-d", "--network", "none", "bb", "sleep", "100000"],
                                  stdout=subprocess.DEVNULL) for _ in range(batch)]
        for p in procs:
            if p.wait() != 0:
                sys.exit("could not start the idle containers")
        have += batch
    for label, cli in (("berth CLI", berth), ("docker CLI -> berth serve", docker)):
        samples = {}
        for i in range(rounds):
            for k, v in cycle(cli, f"probe{i}").items():
                samples.setdefault(k, []).append(v)
        results[(n, label)] = {k: statistics.median(v) for k, v in samples.items()}

print(f"== medians of {rounds} rounds, ms (ratio to the first count)")
for label in ("berth CLI", "docker CLI -> berth serve"):
    print(f"  {label}")
    first = results[(counts[0], label)]
    for n in counts:
        r = results[(n, label)]
        cells = "  ".join(f"{k} {v:7.1f} ({v / first[k]:4.2f}x)" for k, v in r.items())
        print(f"    {n:6d} containers: {cells}")
PY
