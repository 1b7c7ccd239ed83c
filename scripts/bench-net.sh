#!/usr/bin/env bash
# Network benchmark interleaved in one run against podman 4.3 with
# netavark (Debian's), same image, same machine:
#   1. what networking adds to `run --rm IMAGE true`: bridge vs `--network none`, for both;
#   2. TCP throughput with iperf3: host -> container through a published port, and
#      container -> container on one network.
# Offline: the image is busybox-static plus Debian's iperf3 and the libraries it links,
# imported into both engines from one tarball.
#
#   scripts/bench-net.sh [ROUNDS] [IPERF_SECONDS]     (as root; defaults 20 and 3)
#
# BERTH_BIN_DIR=DIR uses the binaries in DIR instead of building release ones.
# BERTH_MTU=N gives Berth's networks that MTU (R/network.json) instead of the host's, e.g.
# 1500 as netavark uses, to compare at equal MTU.
set -euo pipefail
ROUNDS=${1:-20}
SECS=${2:-3}
cd "$(dirname "$0")/.."
for p in podman runc busybox-static python3 iperf3 netavark aardvark-dns nftables; do
  dpkg -s "$p" >/dev/null 2>&1 || apt-get install -y -qq "$p"
done
if [ -z "${BERTH_BIN_DIR:-}" ]; then
  CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1} cargo build -q --release \
    -p berth -p berth-monitor -p berth-init -p berth-runtime -p berth-dns
  BERTH_BIN_DIR=$(pwd)/target/x86_64-unknown-linux-gnu/release
fi
BIN=$(readlink -f "$BERTH_BIN_DIR")

W=$(mktemp -d /var/tmp/berth-bench-net.XXXXXX)
R=$W/berth
BERTH="$BIN/berth --root $R"
export CONTAINERS_CONF=$W/containers.conf
PODMAN="podman --root $W/podman --runroot $W/podman-run --runtime runc"
cleanup() {
  set +e
  for id in $($BERTH ps -aq --no-trunc 2>/dev/null); do $BERTH rm -f "$id" >/dev/null 2>&1; done
  $BERTH network rm benchnet >/dev/null 2>&1
  $PODMAN rm -fa >/dev/null 2>&1
  $PODMAN network rm -f benchnet >/dev/null 2>&1
  $PODMAN rmi -af >/dev/null 2>&1
  ip link del bbench0 >/dev/null 2>&1
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
[network]
network_backend = "netavark"
EOF
# Berth's default bridge for this run: its own name and subnet.
mkdir -p "$R"
echo "{\"bridge\": \"bbench0\", \"bip\": \"10.199.0.1/24\"${BERTH_MTU:+, \"mtu\": $BERTH_MTU}}" >"$R/network.json"

# The image: busybox-static, iperf3 and its libraries.
mkdir -p "$W/rootfs/bin" "$W/rootfs/tmp"
cp /bin/busybox "$W/rootfs/bin/"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$W/rootfs/bin/$a"; done
cp "$(command -v iperf3)" "$W/rootfs/bin/iperf3"
for lib in $(ldd "$(command -v iperf3)" | grep -o '/[^ ]*'); do
  mkdir -p "$W/rootfs$(dirname "$lib")"
  cp -L "$lib" "$W/rootfs$lib"
done
tar -C "$W/rootfs" -czf "$W/img.tgz" .
$BERTH import "$W/img.tgz" netimg:latest >/dev/null
$PODMAN import -q "$W/img.tgz" localhost/netimg:latest >/dev/null

python3 - "$ROUNDS" "$SECS" "$W" <<PY
import json, random, statistics, subprocess, sys, time
rounds, secs, w = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
berth = "$BERTH".split()
podman = "$PODMAN".split()

def run(argv, out=subprocess.DEVNULL):
    t = time.perf_counter()
    p = subprocess.run(argv, stdout=out, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    dt = (time.perf_counter() - t) * 1000
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(argv)}: {p.stderr.decode().strip()}")
    return dt, p

def settle():
    # Work a command leaves running (berth's --rm removal, podman's cleanup) is not billed
    # to the next one.
    time.sleep(0.05)

def alternate(title, tools, rounds):
    times = {n: [] for n, _ in tools}
    rng = random.Random(5)
    for i in range(rounds + 2):
        order = list(tools)
        rng.shuffle(order)
        for name, f in order:
            dt = f()
            settle()
            if i >= 2:
                times[name].append(dt)
    print(f"== {title} ({rounds} rounds, random order each round)")
    for name, ts in times.items():
        print(f"  {name:34s} mean {statistics.mean(ts):8.2f} ms  median {statistics.median(ts):8.2f} ms")
    return {n: statistics.median(ts) for n, ts in times.items()}

m = alternate("run --rm IMAGE true", [
    ("berth --network none", lambda: run(berth + ["run", "--rm", "--network", "none", "netimg", "true"])[0]),
    ("berth bridge", lambda: run(berth + ["run", "--rm", "netimg", "true"])[0]),
    ("podman --network none", lambda: run(podman + ["run", "--rm", "--network", "none", "localhost/netimg", "true"])[0]),
    ("podman bridge (netavark)", lambda: run(podman + ["run", "--rm", "localhost/netimg", "true"])[0]),
], rounds)
bb = m["berth bridge"] - m["berth --network none"]
pb = m["podman bridge (netavark)"] - m["podman --network none"]
print(f"  bridge adds (medians): berth {bb:.2f} ms, podman {pb:.2f} ms (target: berth <= 10 ms)")

def iperf_gbps(out):
    j = json.loads(out)
    return j["end"]["sum_received"]["bits_per_second"] / 1e9

def host_to_container(cli, img, port):
    cid = run(cli + ["run", "-d", "-p", f"127.0.0.1:{port}:5201", img, "iperf3", "-s"], out=subprocess.PIPE)[1].stdout.decode().strip()
    time.sleep(0.5)
    try:
        _, p = run(["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", str(secs), "-J"], out=subprocess.PIPE)
        return iperf_gbps(p.stdout)
    finally:
        run(cli + ["rm", "-f", cid])

def container_to_container(cli, img, net):
    srv = run(cli + ["run", "-d", "--network", net, img, "iperf3", "-s"], out=subprocess.PIPE)[1].stdout.decode().strip()
    info = json.loads(run(cli + ["inspect", srv], out=subprocess.PIPE)[1].stdout)
    ip = [n["IPAddress"] for n in info[0]["NetworkSettings"]["Networks"].values()][0]
    time.sleep(0.5)
    try:
        _, p = run(cli + ["run", "--rm", "--network", net, img, "iperf3", "-c", ip, "-t", str(secs), "-J"], out=subprocess.PIPE)
        return iperf_gbps(p.stdout)
    finally:
        run(cli + ["rm", "-f", srv])

run(berth + ["network", "create", "--subnet", "10.198.0.0/24", "benchnet"])
run(podman + ["network", "create", "--subnet", "10.197.0.0/24", "benchnet"])
res = {}
for label, f in [
    ("host -> container, berth", lambda: host_to_container(berth, "netimg", 25201)),
    ("host -> container, podman", lambda: host_to_container(podman, "localhost/netimg", 25202)),
    ("container -> container, berth", lambda: container_to_container(berth, "netimg", "benchnet")),
    ("container -> container, podman", lambda: container_to_container(podman, "localhost/netimg", "benchnet")),
]:
    res[label] = [f() for _ in range(2)]
print(f"== iperf3 TCP, {secs} s per run, 2 runs each (Gbit/s)")
for k, v in res.items():
    print(f"  {k:34s} {statistics.mean(v):7.2f}")
for a in ["host -> container", "container -> container"]:
    b, p = statistics.mean(res[f"{a}, berth"]), statistics.mean(res[f"{a}, podman"])
    print(f"  {a}: berth / podman = {b / p:.2f}x (target >= 1.0x)")
PY
