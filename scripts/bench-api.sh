#!/usr/bin/env bash
# The Docker Engine API benchmark: the same docker CLI runs `docker run --rm --network none
# IMG true` through `berth serve`, through dockerd 20.10 (Debian's docker.io, with runc,
# started privately: its own data root, --bridge none --iptables=false) and through podman's
# API service (`podman system service`, runc), interleaved in one run (the order shuffled each
# round, two warm-up rounds), beside the berth CLI's own `run --rm`. Then the servers' idle
# resident memory, and 100 concurrent API clients running containers through berth serve
# (errors, and the fds, threads and containers left afterwards). `docker version` through berth
# serve is measured too: the docker CLI's own cost, a floor under every server's figure.
# Offline: the image is
# busybox-static, imported into each engine from the same tarball.
#
#   scripts/bench-api.sh [ROUNDS]      (as root; ROUNDS defaults to 20)
#
# BERTH_BIN_DIR=DIR uses the binaries in DIR instead of building release ones.
set -euo pipefail
ROUNDS=${1:-20}
cd "$(dirname "$0")/.."
for p in docker.io podman runc busybox-static python3; do
  dpkg -s "$p" >/dev/null 2>&1 || apt-get install -y -qq "$p"
done
if [ -z "${BERTH_BIN_DIR:-}" ]; then
  CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1} cargo build -q --release \
    -p berth -p berth-monitor -p berth-init -p berth-runtime -p berth-serve
  BERTH_BIN_DIR=$(pwd)/target/x86_64-unknown-linux-gnu/release
fi
BIN=$(readlink -f "$BERTH_BIN_DIR")
DOCKER=/usr/bin/docker

W=$(mktemp -d /var/tmp/berth-bench-api.XXXXXX)
R=$W/berth
BERTH="$BIN/berth --root $R"
export CONTAINERS_CONF=$W/containers.conf
PODMAN="podman --root $W/podman --runroot $W/podman-run --runtime runc"
PIDS=()
cleanup() {
  set +e
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 1
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  for id in $($BERTH ps -aq --no-trunc 2>/dev/null); do $BERTH rm -f "$id" >/dev/null 2>&1; done
  $PODMAN rm -fa >/dev/null 2>&1
  pkill -f "containerd.*$W" 2>/dev/null
  for m in $(awk -v w="$W" '$5 ~ "^" w {print $5}' /proc/self/mountinfo | sort -r); do umount -l "$m"; done
  rm -rf "$W"
}
trap cleanup EXIT

cat >"$CONTAINERS_CONF" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "none"
EOF

mkdir -p "$W/rootfs/bin"
cp /bin/busybox "$W/rootfs/bin/"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$W/rootfs/bin/$a"; done
tar -C "$W/rootfs" -czf "$W/bb.tgz" .

# The three servers.
PATH=$BIN:$PATH "$BIN/berth-serve" --root "$R" -H "unix://$W/berth.sock" --log-level warn \
  2>"$W/berth-serve.log" &
PIDS+=($!)
BERTH_SERVE_PID=$!
dockerd --data-root "$W/docker" --exec-root "$W/docker-exec" --pidfile "$W/docker.pid" \
  -H "unix://$W/docker.sock" --bridge none --iptables=false --ip-masq=false \
  --storage-driver overlay2 >"$W/dockerd.log" 2>&1 &
PIDS+=($!)
DOCKERD_PID=$!
$PODMAN system service --time=0 "unix://$W/podman.sock" >"$W/podman.log" 2>&1 &
PIDS+=($!)
PODMAN_PID=$!
for s in berth docker podman; do
  for _ in $(seq 300); do
    $DOCKER -H "unix://$W/$s.sock" version >/dev/null 2>&1 && break
    sleep 0.1
  done
  $DOCKER -H "unix://$W/$s.sock" version >/dev/null || { echo "$s did not start" >&2; exit 1; }
  $DOCKER -H "unix://$W/$s.sock" import "$W/bb.tgz" bb:latest >/dev/null
done

python3 - "$ROUNDS" "$W" "$BIN" "$BERTH_SERVE_PID" "$DOCKERD_PID" "$PODMAN_PID" <<'PY'
import os, random, statistics, subprocess, sys, time, threading
rounds, w, bindir = int(sys.argv[1]), sys.argv[2], sys.argv[3]
serve_pid, dockerd_pid, podman_pid = (int(x) for x in sys.argv[4:7])
docker = "/usr/bin/docker"

def run(argv):
    t = time.perf_counter()
    p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    dt = (time.perf_counter() - t) * 1000
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(argv)}: {p.stderr.decode().strip()}")
    return dt

def via(sock):
    return lambda: run([docker, "-H", f"unix://{w}/{sock}.sock", "run", "--rm", "--network", "none", "bb", "true"])

def berth_cli():
    return run([f"{bindir}/berth", "--root", f"{w}/berth", "run", "--rm", "--network", "none", "bb", "true"])

def settle():
    # What a run leaves working after it returns (monitors, conmon, shims) is not billed
    # to the next tool.
    time.sleep(0.05)

def docker_floor():
    # The docker CLI's own cost, which any server adds to: `version` is two requests
    # (HEAD /_ping, GET /version) that berth serve answers in microseconds.
    return run([docker, "-H", f"unix://{w}/berth.sock", "version"])

tools = [("docker CLI -> berth serve", via("berth")), ("berth CLI", berth_cli),
         ("docker CLI -> dockerd 20.10", via("docker")), ("docker CLI -> podman service", via("podman")),
         ("docker version -> berth serve", docker_floor)]
times = {n: [] for n, _ in tools}
rng = random.Random(7)
for i in range(rounds + 2):
    order = list(tools)
    rng.shuffle(order)
    for name, f in order:
        dt = f()
        settle()
        if i >= 2:
            times[name].append(dt)
print(f"== docker run --rm --network none IMG true ({rounds} rounds, order shuffled each round)")
base = statistics.mean(times[tools[0][0]])
for name, ts in times.items():
    m = statistics.mean(ts)
    print(f"  {name:32s} mean {m:8.2f} ms  median {statistics.median(ts):8.2f} ms  ratio to berth serve: {m / base:6.2f}x")
m = {n: statistics.mean(ts) for n, ts in times.items()}
print(f"  dockerd / berth serve: {m['docker CLI -> dockerd 20.10'] / base:.2f}x (target >= 5x)   "
      f"podman service / berth serve: {m['docker CLI -> podman service'] / base:.2f}x   "
      f"berth serve / berth CLI: {base / m['berth CLI']:.2f}x (target <= 2x)")
floor = m['docker version -> berth serve']
print(f"  the docker CLI's own floor (docker version): {floor:.2f} ms; berth serve's work beyond it:"
      f" {base - floor:.2f} ms against the berth CLI's whole run: {m['berth CLI']:.2f} ms"
      f" ({(base - floor) / m['berth CLI']:.2f}x)")

def rss_kib(pid):
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS:"):
            return int(l.split()[1])
    return 0

def tree(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                todo += [int(c) for c in open(f"/proc/{p}/task/{t}/children").read().split()]
        except OSError:
            pass
    return out

def containerd_pids():
    pids = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                cmd = open(f"/proc/{p}/cmdline", "rb").read()
                if b"containerd" in cmd and w.encode() in cmd and b"shim" not in cmd:
                    pids.append(int(p))
            except OSError:
                pass
    return pids

time.sleep(2)
print("== idle resident memory")
print(f"  berth serve: {rss_kib(serve_pid) / 1024:.1f} MiB (target <= 15 MiB)")
dd = rss_kib(dockerd_pid) + sum(rss_kib(p) for p in containerd_pids() if p != dockerd_pid)
print(f"  dockerd + its containerd: {dd / 1024:.1f} MiB")
print(f"  podman system service: {rss_kib(podman_pid) / 1024:.1f} MiB")

def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))

def threads(pid):
    return len(os.listdir(f"/proc/{pid}/task"))

before = (fds(serve_pid), threads(serve_pid))
errors = []
def client(i):
    p = subprocess.run([docker, "-H", f"unix://{w}/berth.sock", "run", "--rm", "--network", "none",
                        "bb", "sh", "-c", f"echo {i}"], capture_output=True)
    if p.returncode != 0 or p.stdout != f"{i}\n".encode():
        errors.append((i, p.returncode, p.stdout[:80], p.stderr[:200]))
n = 100
t = time.perf_counter()
ts = [threading.Thread(target=client, args=(i,)) for i in range(n)]
for x in ts: x.start()
for x in ts: x.join()
dt = time.perf_counter() - t
# tokio's idle blocking threads end after 10 s: a thread count taken later means something.
time.sleep(12)
left = subprocess.run([f"{bindir}/berth", "--root", f"{w}/berth", "ps", "-aq"], capture_output=True).stdout.split()
after = (fds(serve_pid), threads(serve_pid))
print(f"== {n} concurrent docker run --rm through berth serve: {dt:.1f} s, {len(errors)} errors,"
      f" {len(left)} containers left; server fds {before[0]} -> {after[0]}, threads {before[1]} -> {after[1]}")
for e in errors[:5]:
    print("  error:", e)
PY
