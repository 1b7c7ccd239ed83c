#!/usr/bin/env bash
# Pull speed: berth against podman, containerd (ctr) and skopeo + umoci, each pulling and
# unpacking the same multi-layer Debian 12 minbase image from a local registry, starting from
# an empty store every time. Runs alternate between the tools (the order rotates each round)
# so that drift in the slow disk hits them all alike; the result is given as ratios.
#
#   scripts/bench-pull.sh [ROUNDS]        (default 5; needs root)
#   scripts/bench-pull.sh --image-only    (build and cache the image, nothing else)
#
# The image is built once with debootstrap from the configured apt mirror and cached under
# /var/cache/berth-bench (remove that directory to rebuild it). Berth is built in release mode.
set -euo pipefail

IMAGE_ONLY=false
if [ "${1:-}" = --image-only ]; then IMAGE_ONLY=true; shift; fi
ROUNDS=${1:-5}
CACHE=${BERTH_BENCH_CACHE:-/var/cache/berth-bench}
REPO=$(cd "$(dirname "$0")/.." && pwd)
LAYOUT=$CACHE/layout

die() { echo "bench-pull: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root"
for t in debootstrap docker-registry skopeo umoci podman ctr containerd; do
    command -v "$t" >/dev/null || die "$t is not installed (apt-get install ...)"
done

# The mirror apt uses (first URIs line of the deb822 sources), so debootstrap works offline
# from the package registry just as apt does.
mirror() {
    awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources
}

# A layer from a file list: a gzip'd tar with numeric owners, its digest and diff ID noted.
layer() { # name listfile
    local tarf=$CACHE/build/$1.tar
    tar -C "$CACHE/rootfs" --numeric-owner --no-recursion -cf "$tarf" -T "$2"
    local diff
    diff=$(sha256sum "$tarf" | cut -d' ' -f1)
    gzip -n -6 -f "$tarf"
    local dig size
    dig=$(sha256sum "$tarf.gz" | cut -d' ' -f1)
    size=$(stat -c %s "$tarf.gz")
    mv "$tarf.gz" "$LAYOUT/blobs/sha256/$dig"
    echo "$diff $dig $size"
}

join() { local IFS=,; echo "$*"; }

put_json() { # file -> "digest size", the file moved into the layout's blobs
    local d
    d=$(sha256sum "$1" | cut -d' ' -f1)
    local n
    n=$(stat -c %s "$1")
    mv "$1" "$LAYOUT/blobs/sha256/$d"
    echo "$d $n"
}

build_image() {
    echo "building the Debian 12 minbase image (once; cached in $CACHE)"
    rm -rf "$CACHE/rootfs" "$CACHE/build" "$LAYOUT"
    mkdir -p "$CACHE/build" "$LAYOUT/blobs/sha256"
    debootstrap --variant=minbase bookworm "$CACHE/rootfs" "$(mirror)" >"$CACHE/build/debootstrap.log" 2>&1 ||
        die "debootstrap failed, see $CACHE/build/debootstrap.log"
    rm -rf "$CACHE"/rootfs/var/lib/apt/lists/* "$CACHE"/rootfs/var/cache/apt/archives/*.deb
    # Four layers, three of them of comparable weight, so that they download and unpack in
    # parallel: the base (all but usr), usr without its two largest subtrees,
    # usr/lib/x86_64-linux-gnu, and usr/share.
    (
        cd "$CACHE/rootfs"
        find . -path ./usr -prune -o -print | sort >"$CACHE/build/l1"
        find ./usr -path ./usr/lib/x86_64-linux-gnu -prune -o -path ./usr/share -prune -o -print |
            sort >"$CACHE/build/l2"
        find ./usr/lib/x86_64-linux-gnu | sort >"$CACHE/build/l3"
        find ./usr/share | sort >"$CACHE/build/l4"
    )
    local layers=() diffs=() i
    for i in 1 2 3 4; do
        read -r diff dig size < <(layer "l$i" "$CACHE/build/l$i")
        diffs+=("\"sha256:$diff\"")
        layers+=("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$dig\",\"size\":$size}")
    done
    cat >"$CACHE/build/config.json" <<EOF
{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["bash"]},"rootfs":{"type":"layers","diff_ids":[$(join "${diffs[@]}")]}}
EOF
    read -r cdig csize < <(put_json "$CACHE/build/config.json")
    cat >"$CACHE/build/manifest.json" <<EOF
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:$cdig","size":$csize},"layers":[$(join "${layers[@]}")]}
EOF
    read -r mdig msize < <(put_json "$CACHE/build/manifest.json")
    echo '{"imageLayoutVersion":"1.0.0"}' >"$LAYOUT/oci-layout"
    cat >"$LAYOUT/index.json" <<EOF
{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:$mdig","size":$msize,"annotations":{"org.opencontainers.image.ref.name":"bookworm"}}]}
EOF
    rm -rf "$CACHE/build" "$CACHE/rootfs"
}

[ -f "$LAYOUT/index.json" ] || build_image
$IMAGE_ONLY && exit 0

echo "building berth (release)"
(cd "$REPO" && CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1} cargo build --release -p berth --quiet)
# The binary is under target/<triple>/ when the cargo config names a build target.
BERTH=$({ ls -t "$REPO"/target/release/berth "$REPO"/target/*/release/berth 2>/dev/null || true; } | head -1)
[ -x "$BERTH" ] || die "no release build of berth found under $REPO/target"

WORK=$(mktemp -d /var/tmp/berth-bench.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The registry, configured as the tests do (crates/testkit).
PORT=$(free_port)
mkdir -p "$WORK/registry"
cat >"$WORK/registry/config.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $WORK/registry/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$PORT
EOF
docker-registry serve "$WORK/registry/config.yml" >"$WORK/registry/log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/v2/" >/dev/null && break; sleep 0.1; done
REF=127.0.0.1:$PORT/bench/debian:bookworm
skopeo copy --quiet --dest-tls-verify=false "oci:$LAYOUT:bookworm" "docker://$REF"

# containerd of our own (own root, state and socket), so the host's is left alone.
mkdir -p "$WORK/ctrd"
cat >"$WORK/ctrd/config.toml" <<EOF
version = 2
root = "$WORK/ctrd/root"
state = "$WORK/ctrd/state"
[grpc]
  address = "$WORK/ctrd/sock"
[plugins."io.containerd.grpc.v1.cri"]
  disable = true
EOF
containerd --config "$WORK/ctrd/config.toml" >"$WORK/ctrd/log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -S "$WORK/ctrd/sock" ] && break; sleep 0.1; done
CTR=(ctr --address "$WORK/ctrd/sock" -n berth-bench)

export CONTAINERS_CONF=$WORK/containers.conf
printf '[containers]\ndefault_ulimits = ["nofile=20000:20000","nproc=32768:32768"]\n' >"$CONTAINERS_CONF"
PODMAN=(podman --root "$WORK/podman/root" --runroot "$WORK/podman/run" --storage-driver overlay)

# Each tool: how to empty its store, and its pull (+ unpack).
reset_berth() { rm -rf "$WORK/berth"; }
pull_berth() { "$BERTH" --root "$WORK/berth" pull -q "$REF"; }
reset_podman() {
    "${PODMAN[@]}" rmi -af >/dev/null 2>&1 || true
    rm -rf "$WORK/podman"
}
pull_podman() { "${PODMAN[@]}" pull -q --tls-verify=false "docker://$REF"; }
reset_ctr() {
    "${CTR[@]}" image rm --sync "$REF" >/dev/null 2>&1 || true
    local s
    for s in $("${CTR[@]}" snapshots ls 2>/dev/null | awk 'NR>1 {print $1}' | tac); do
        "${CTR[@]}" snapshots rm "$s" >/dev/null 2>&1 || true
    done
    "${CTR[@]}" content ls -q 2>/dev/null | xargs -r "${CTR[@]}" content rm >/dev/null 2>&1 || true
}
pull_ctr() { "${CTR[@]}" image pull --plain-http "$REF" >/dev/null; }
reset_umoci() { rm -rf "$WORK/oci" "$WORK/bundle"; }
pull_umoci() {
    skopeo copy --quiet --src-tls-verify=false "docker://$REF" "oci:$WORK/oci:bench" &&
        umoci unpack --image "$WORK/oci:bench" "$WORK/bundle" >/dev/null
}

TOOLS=(berth ctr podman umoci)
declare -A TIMES
for t in "${TOOLS[@]}"; do
    "reset_$t"
    "pull_$t" >/dev/null || die "$t could not pull $REF"
    "reset_$t"
    TIMES[$t]=""
done

echo "timing $ROUNDS rounds of: ${TOOLS[*]} (each from an empty store)"
n=${#TOOLS[@]}
for ((r = 0; r < ROUNDS; r++)); do
    for ((k = 0; k < n; k++)); do
        t=${TOOLS[$(((r + k) % n))]}
        "reset_$t"
        # Earlier runs' dirty pages are written out first, so no tool pays for another's.
        sync
        start=$(date +%s.%N)
        "pull_$t" >/dev/null || die "$t failed in round $r"
        end=$(date +%s.%N)
        TIMES[$t]+=" $(echo "$end - $start" | bc)"
    done
    printf '.'
done
echo

stats() { # times... -> "mean stddev"
    printf '%s\n' "$@" | awk '{s+=$1; q+=$1*$1; n++} END {m=s/n; v=q/n-m*m; if (v<0) v=0; printf "%.3f %.3f\n", m, sqrt(v)}'
}
read -r bmean _ < <(stats ${TIMES[berth]})
printf '%-22s %9s %9s %12s\n' tool "mean (s)" "stddev" "peer/berth"
for t in "${TOOLS[@]}"; do
    read -r mean sd < <(stats ${TIMES[$t]})
    case $t in
        berth) label="berth pull" ;;
        ctr) label="ctr image pull" ;;
        podman) label="podman pull" ;;
        umoci) label="skopeo copy + umoci" ;;
    esac
    printf '%-22s %9s %9s %11.2fx\n' "$label" "$mean" "$sd" "$(echo "$mean / $bmean" | bc -l)"
done
echo "all times (s):"
for t in "${TOOLS[@]}"; do echo "  $t:${TIMES[$t]}"; done
