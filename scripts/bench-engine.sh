#!/usr/bin/env bash
# Engine benchmark `berth run --rm IMG true` against podman 4.3 and against
# the bare runtime (`berth-runtime run` of the same config.json on a plain busybox rootfs),
# `run -d` + `stop`, `exec CTR true` (when berth has exec), and the monitor's RSS with 100 idle
# detached containers. Tools alternate within each round (order rotated every round), so drift
# of this shared machine hits all of them alike. Offline: the image is busybox-static, made
# with `berth import` and `podman import` from the same tarball.
#
#   scripts/bench-engine.sh [ROUNDS]      (as root; ROUNDS defaults to 30)
#
# BERTH_BIN_DIR=DIR uses the binaries in DIR instead of building release ones.
# Podman runs with runc and the cgroupfs manager: its default crun 1.8 refuses this VM's
# hybrid cgroup setup, and its default ulimits exceed the hard limits here.
set -euo pipefail
ROUNDS=${1:-30}
cd "$(dirname "$0")/.."
for p in podman runc busybox-static python3; do
  command -v "$p" >/dev/null 2>&1 || dpkg -s "$p" >/dev/null 2>&1 || apt-get install -y -qq "$p"
done
if [ -z "${BERTH_BIN_DIR:-}" ]; then
  CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1} cargo build -q --release \
    -p berth -p berth-monitor -p berth-init -p berth-runtime
  BERTH_BIN_DIR=$(pwd)/target/x86_64-unknown-linux-gnu/release
fi
BIN=$(readlink -f "$BERTH_BIN_DIR")

W=$(mktemp -d /var/tmp/berth-bench-engine.XXXXXX)
R=$W/berth
BERTH="$BIN/berth --root $R"
RT="$BIN/berth-runtime --root $W/runtime-state"
export CONTAINERS_CONF=$W/containers.conf
PODMAN="podman --root $W/podman --runroot $W/podman-run --runtime runc"
cleanup() {
  set +e
  for id in $($BERTH ps -aq --no-trunc 2>/dev/null); do $BERTH rm -f "$id" >/dev/null 2>&1; done
  $PODMAN rm -fa >/dev/null 2>&1
  $PODMAN rmi -af >/dev/null 2>&1
  $RT delete -f bare >/dev/null 2>&1
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

# The image: busybox-static with one symlink per applet, for both engines.
mkdir -p "$W/rootfs/bin"
cp /bin/busybox "$W/rootfs/bin/"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$W/rootfs/bin/$a"; done
tar -C "$W/rootfs" -czf "$W/bb.tgz" .
$BERTH import "$W/bb.tgz" bb:latest >/dev/null
$PODMAN import -q "$W/bb.tgz" localhost/bb:latest >/dev/null

# The bare runtime runs exactly the config.json berth writes (same seccomp profile, masks,
# namespaces), on a plain copy of the rootfs instead of the overlay.
id=$($BERTH create --network none bb true)
mkdir -p "$W/bundle"
python3 - "$R/containers/$id/config.json" "$W/bundle" "$W/rootfs" <<'PY'
import json, sys
import os, shutil
c = json.load(open(sys.argv[1]))
c["root"]["path"] = sys.argv[3]
# The container's /etc/hosts, hostname and resolv.conf: copied into the bundle, so that
# the bare runtime makes the same bind mounts.
cdir = os.path.dirname(sys.argv[1])
for m in c.get("mounts", []):
    src = m.get("source", "")
    if src.startswith(cdir + "/"):
        dst = os.path.join(sys.argv[2], os.path.basename(src))
        shutil.copy(src, dst)
        m["source"] = dst
json.dump(c, open(sys.argv[2] + "/config.json", "w"))
PY
$BERTH rm "$id" >/dev/null
# And runc's default config (`berth-runtime spec`: no seccomp profile, fewer masks), the
# figure the issue quotes for a bare runtime.
mkdir -p "$W/bundle-default"
(cd "$W/bundle-default" && "$BIN/berth-runtime" spec)
python3 - "$W/bundle-default/config.json" "$W/rootfs" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["terminal"] = False
c["process"]["args"] = ["true"]
c["root"] = {"path": sys.argv[2], "readonly": True}
json.dump(c, open(sys.argv[1], "w"))
PY

HAVE_EXEC=0
if $BERTH exec --help >/dev/null 2>&1; then HAVE_EXEC=1; fi

python3 - "$ROUNDS" "$HAVE_EXEC" "$W" <<PY
import os, random, statistics, subprocess, sys, time
rounds, have_exec, w = int(sys.argv[1]), sys.argv[2] == "1", sys.argv[3]
berth = "$BERTH".split()
podman = "$PODMAN".split()
rt = "$RT".split()

def run(argv, out=subprocess.DEVNULL):
    t = time.perf_counter()
    p = subprocess.run(argv, stdout=out, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    dt = (time.perf_counter() - t) * 1000
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(argv)}: {p.stderr.decode().strip()}")
    return dt, p

def quiesce():
    # What a command leaves running after it returns (podman's conmon and its cleanup
    # command, berth's monitor and its --rm removal) must not be billed to the next tool:
    # wait, untimed, until no process names the bench's directory.
    me = str(os.getpid())
    for _ in range(5000):
        busy = False
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or pid == me:
                continue
            try:
                if w.encode() in open(f"/proc/{pid}/cmdline", "rb").read():
                    busy = True
                    break
            except OSError:
                pass
        if not busy:
            return
        time.sleep(0.002)

def wait_removed():
    # berth's --rm finishes in the monitor after the CLI returns: wait, untimed, until
    # the lock file (removed last) is gone, so that the next command does not pay for it.
    d = f"{w}/berth/containers"
    while os.listdir(d):
        time.sleep(0.001)

def alternate(title, tools, rounds, quiet=True):
    times = {n: [] for n, _ in tools}
    rng = random.Random(4)
    for i in range(rounds + 2):
        order = list(tools)
        rng.shuffle(order)  # each tool follows each other one alike
        for name, f in order:
            dt = f()
            if quiet:
                quiesce()
            if i >= 2:  # two warm-up rounds
                times[name].append(dt)
    print(f"== {title} ({rounds} rounds, tools in a new random order each round)")
    base = statistics.mean(times[tools[0][0]])
    for name, ts in times.items():
        m = statistics.mean(ts)
        print(f"  {name:38s} mean {m:8.2f} ms  median {statistics.median(ts):8.2f} ms"
              f"  stddev {statistics.pstdev(ts):7.2f}  ratio to {tools[0][0]}: {m / base:5.2f}x")
    return ({n: statistics.mean(ts) for n, ts in times.items()},
            {n: statistics.median(ts) for n, ts in times.items()})

def berth_rm():
    dt, _ = run(berth + ["run", "--rm", "--network", "none", "bb", "true"])
    wait_removed()
    return dt

def bare(bundle="bundle"):
    dt, _ = run(rt + ["run", "--bundle", f"{w}/{bundle}", "bare"])
    subprocess.run(rt + ["delete", "-f", "bare"], stderr=subprocess.DEVNULL)
    return dt

m, md = alternate("run --rm IMAGE true", [
    ("berth run --rm", berth_rm),
    ("podman run --rm (runc)", lambda: run(podman + ["run", "--rm", "--network", "none", "localhost/bb", "true"])[0]),
    ("berth-runtime run (same config.json)", bare),
    ("berth-runtime run (runc's default spec)", lambda: bare("bundle-default")),
], rounds)
b, p = m["berth run --rm"], m["podman run --rm (runc)"]
r, d = m["berth-runtime run (same config.json)"], m["berth-runtime run (runc's default spec)"]
print(f"  podman / berth: {p / b:.2f}x (target >= 5x)   berth / bare runtime: {b / r:.2f}x"
      f" (same config), {b / d:.2f}x (runc's default spec) (target <= 1.25x)"
      f"   by medians: {md['berth run --rm'] / md['berth-runtime run (same config.json)']:.2f}x")

# The same two without podman in the rounds. Podman's teardown leaves the kernel's cgroup
# attach lock cold: whichever tool comes next waits a whole RCU grace period (7-8 ms here,
# measured with timestamps) at its first cgroup move, so podman's place in each round's
# random order lands on berth and the bare runtime unevenly. Here each follows the other.
m, md = alternate("run --rm IMAGE true, berth and the bare runtime only", [
    ("berth run --rm", berth_rm),
    ("berth-runtime run (same config.json)", bare),
], rounds)
print(f"  berth / bare runtime: {m['berth run --rm'] / m['berth-runtime run (same config.json)']:.2f}x"
      f" by means, {md['berth run --rm'] / md['berth-runtime run (same config.json)']:.2f}x"
      " by medians (target <= 1.25x)")

# The sustained cost, removal included: N runs back to back, then until all are removed.
n = 20
t = time.perf_counter()
for _ in range(n):
    run(berth + ["run", "--rm", "--network", "none", "bb", "true"])
wait_removed()
per = (time.perf_counter() - t) * 1000 / n
print(f"== {n} x berth run --rm back to back, until all removed: {per:.2f} ms per container")

SH = ["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]
def trapped(cli, cid):
    # Untimed: wait until the shell has its TERM trap. A SIGTERM that comes before it is
    # dropped (a PID 1 ignores signals it has no handler for), and the stop then waits out
    # its 10 s timeout: that measures the shell's start, not the engine's stop.
    pid = subprocess.run(cli + ["inspect", "--format", "{{.State.Pid}}", cid],
                         capture_output=True).stdout.decode().strip()
    for _ in range(5000):
        try:
            status = open(f"/proc/{pid}/status").read()
        except OSError:
            return
        cgt = next(l for l in status.splitlines() if l.startswith("SigCgt:"))
        if int(cgt.split()[1], 16) & (1 << 14):  # SIGTERM is signal 15
            return
        time.sleep(0.001)

def run_d_stop(cli, img, rm_after):
    t1, p = run(cli + ["run", "-d", "--network", "none", img] + SH, out=subprocess.PIPE)
    cid = p.stdout.decode().strip()
    trapped(cli, cid)
    t2, _ = run(cli + ["stop", cid])
    run(cli + ["rm", cid])
    if rm_after:
        wait_removed()
    return t1 + t2
alternate("run -d, then stop (a shell that exits on SIGTERM)", [
    ("berth run -d + stop", lambda: run_d_stop(berth, "bb", True)),
    ("podman run -d + stop (runc)", lambda: run_d_stop(podman, "localhost/bb", False)),
], max(rounds // 2, 5))

if have_exec:
    cb = run(berth + ["run", "-d", "--network", "none", "bb", "sleep", "1000"], out=subprocess.PIPE)[1].stdout.decode().strip()
    cp = run(podman + ["run", "-d", "--network", "none", "localhost/bb", "sleep", "1000"], out=subprocess.PIPE)[1].stdout.decode().strip()
    alternate("exec CTR true", [
        ("berth exec", lambda: run(berth + ["exec", cb, "true"])[0]),
        ("podman exec (runc)", lambda: run(podman + ["exec", cp, "true"])[0]),
    ], rounds, quiet=False)
    run(berth + ["rm", "-f", cb]); run(podman + ["rm", "-f", cp])
else:
    print("== exec CTR true: skipped (this berth has no exec command)")
PY

echo "== monitor RSS with 100 idle detached containers"
for i in $(seq 100); do $BERTH run -d --network none bb sleep 1000 >/dev/null; done
scripts/measure-monitor-rss.sh --root "$R" 2>/dev/null  # (processes gone mid-scan)
