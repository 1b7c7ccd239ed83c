#!/usr/bin/env bash
# Peer integration: containerd 1.6 (ctr + containerd-shim-runc-v2) and podman 4.3 (conmon) drive
# berth-runtime in place of runc. Run as root on Debian 12; offline except Debian's apt mirror.
#
# Usage: scripts/integration-peers.sh [--runtime PATH|runc|crun] [--only containerd|podman] [--keep]
#   BERTH_RUNTIME=/path/to/berth-runtime   use this binary instead of `cargo build --release`
#   --runtime runc                         run the same checks with /usr/sbin/runc (checks the script)
#   --keep                                 keep the temp dir (logs) even when everything passes
# Prints one PASS/FAIL line per check; exits 1 if any check failed.
set -uo pipefail
CALLER_PWD=$(pwd)
cd "$(dirname "$0")/.."
REPO=$(pwd)

RUNTIME_ARG="" ONLY="" KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --runtime) RUNTIME_ARG=$2; shift 2 ;;
    --runtime=*) RUNTIME_ARG=${1#*=}; shift ;;
    --only) ONLY=$2; shift 2 ;;
    --only=*) ONLY=${1#*=}; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 2; }

PASSED=0 FAILED=0 FAILS=()
pass() { echo "PASS: $*"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL: $*"; FAILED=$((FAILED + 1)); FAILS+=("$*"); }
log() { echo "--- $*"; }

WORK=$(mktemp -d /tmp/berth-peers.XXXXXX)
chmod 755 "$WORK"
CREATED_POLICY=0
CD_PID="" HUGETLB_MOUNTED=0
# podman's cgroupfs manager makes libpod_parent/ (and libpod_parent/conmon); ours to remove if new
LIBPOD_PARENT_EXISTED=$(ls -d /sys/fs/cgroup/*/libpod_parent 2>/dev/null | head -1)

# ---------------------------------------------------------------- 1. packages
install_packages() {
  local need=(containerd podman busybox-static jq) missing=() p
  for p in "${need[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    CREATED_POLICY=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$WORK/apt.log" 2>&1 ||
    { apt-get update -qq >>"$WORK/apt.log" 2>&1 &&
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$WORK/apt.log" 2>&1; }
  local rc=$?
  if [ "$CREATED_POLICY" = 1 ]; then rm -f /usr/sbin/policy-rc.d; CREATED_POLICY=0; fi
  [ $rc -eq 0 ] || { cat "$WORK/apt.log" >&2; echo "FAIL: apt-get install ${missing[*]}"; exit 1; }
}

# ---------------------------------------------------------------- cleanup
umount_under() { # unmount everything mounted at or below $1, deepest first
  local m
  for m in $(awk -v p="$1" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
}

cleanup() {
  set +e
  [ "$CREATED_POLICY" = 1 ] && rm -f /usr/sbin/policy-rc.d
  if [ -n "$CD_PID" ] && kill -0 "$CD_PID" 2>/dev/null; then
    for id in $(ctr -a "$CD_SOCK" -n "$CD_NS" task ls -q 2>/dev/null); do
      timeout 10 ctr -a "$CD_SOCK" -n "$CD_NS" task kill -s SIGKILL "$id" >/dev/null 2>&1
      timeout 10 ctr -a "$CD_SOCK" -n "$CD_NS" task delete -f "$id" >/dev/null 2>&1
    done
    for id in $(ctr -a "$CD_SOCK" -n "$CD_NS" container ls -q 2>/dev/null); do
      timeout 10 ctr -a "$CD_SOCK" -n "$CD_NS" container rm "$id" >/dev/null 2>&1
    done
    kill "$CD_PID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$CD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$CD_PID" 2>/dev/null
    wait "$CD_PID" 2>/dev/null
  fi
  if [ -d "$WORK/podman/root" ] && [ "${PODMAN_RESET_DONE:-0}" = 0 ]; then
    podman_ system reset -f >/dev/null 2>&1
  fi
  umount_under "$WORK"
  for d in /sys/fs/cgroup/*/"${CD_NS:-none}"; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
  if [ -z "$LIBPOD_PARENT_EXISTED" ]; then
    for d in /sys/fs/cgroup/*/libpod_parent; do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null; done
  fi
  [ "$HUGETLB_MOUNTED" = 1 ] && echo "note: hugetlb stays bound to the v1 hierarchy at /sys/fs/cgroup/hugetlb"
  if [ "$KEEP" = 1 ] || [ "$FAILED" -gt 0 ]; then
    echo "logs kept in $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

install_packages

# ---------------------------------------------------------------- 2. runtime binary
case "$RUNTIME_ARG" in
  "")
    if [ -n "${BERTH_RUNTIME:-}" ]; then
      BIN=$BERTH_RUNTIME
    else
      log "cargo build --release -p berth-runtime"
      CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1} cargo build --release -p berth-runtime >"$WORK/build.log" 2>&1 ||
        { tail -30 "$WORK/build.log"; echo "FAIL: cargo build --release -p berth-runtime"; exit 1; }
      BIN=$REPO/target/x86_64-unknown-linux-gnu/release/berth-runtime
    fi ;;
  runc) BIN=/usr/sbin/runc ;;
  crun) BIN=/usr/bin/crun ;;
  *) BIN=$RUNTIME_ARG ;;
esac
case "$BIN" in /*) ;; *) BIN=$CALLER_PWD/$BIN ;; esac
[ -x "$BIN" ] || { echo "FAIL: runtime binary $BIN is not executable"; exit 1; }
log "runtime: $BIN ($("$BIN" --version 2>&1 | head -1))"

# ---------------------------------------------------------------- 3. OCI image from busybox-static
IMG_NAME=docker.io/library/berth-busybox:latest
build_image() {
  local d=$WORK/image r a
  r=$d/rootfs
  mkdir -p "$r"/{bin,dev,etc,proc,root,sys,tmp} "$d/layout/blobs/sha256"
  chmod 1777 "$r/tmp"; chmod 700 "$r/root"
  cp /bin/busybox "$r/bin/busybox"
  for a in $(/bin/busybox --list); do
    [ "$a" = busybox ] || ln -sf busybox "$r/bin/$a"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$r/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$r" -cf "$d/layer.tar" \
    bin dev etc proc root sys tmp
  local diff_id layer_digest layer_size config_digest config_size manifest_digest manifest_size
  diff_id=$(sha256sum "$d/layer.tar" | cut -d' ' -f1)
  gzip -n <"$d/layer.tar" >"$d/layer.tar.gz"
  layer_digest=$(sha256sum "$d/layer.tar.gz" | cut -d' ' -f1)
  layer_size=$(stat -c %s "$d/layer.tar.gz")
  mv "$d/layer.tar.gz" "$d/layout/blobs/sha256/$layer_digest"

  jq -cn --arg diff "sha256:$diff_id" '{
      architecture: "amd64", os: "linux", created: "1970-01-01T00:00:00Z",
      config: {Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
               Cmd: ["sh"], WorkingDir: "/"},
      rootfs: {type: "layers", diff_ids: [$diff]},
      history: [{created: "1970-01-01T00:00:00Z", created_by: "berth integration-peers.sh"}]
    }' >"$d/config.json"
  config_digest=$(sha256sum "$d/config.json" | cut -d' ' -f1)
  config_size=$(stat -c %s "$d/config.json")
  mv "$d/config.json" "$d/layout/blobs/sha256/$config_digest"

  jq -cn --arg cd "sha256:$config_digest" --argjson cs "$config_size" \
    --arg ld "sha256:$layer_digest" --argjson ls "$layer_size" '{
      schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs},
      layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $ld, size: $ls}]
    }' >"$d/manifest.json"
  manifest_digest=$(sha256sum "$d/manifest.json" | cut -d' ' -f1)
  manifest_size=$(stat -c %s "$d/manifest.json")
  mv "$d/manifest.json" "$d/layout/blobs/sha256/$manifest_digest"

  echo '{"imageLayoutVersion":"1.0.0"}' >"$d/layout/oci-layout"
  jq -cn --arg md "sha256:$manifest_digest" --argjson ms "$manifest_size" --arg name "$IMG_NAME" '{
      schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $md, size: $ms,
                   platform: {architecture: "amd64", os: "linux"},
                   annotations: {"io.containerd.image.name": $name,
                                 "org.opencontainers.image.ref.name": $name}}]
    }' >"$d/layout/index.json"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$d/layout" -cf "$WORK/image.tar" \
    oci-layout index.json blobs
  IMG_ID=$config_digest
}
build_image || { echo "FAIL: build OCI image"; exit 1; }
pass "OCI image built offline from busybox-static ($IMG_NAME, id ${IMG_ID:0:12})"

# run_check NAME WANT_RC WANT_STDOUT_REGEX(or "") CMD...: runs CMD (stdin: $STDIN or /dev/null)
N=0
run_check() {
  local name=$1 want_rc=$2 want_out=$3; shift 3
  N=$((N + 1))
  local out=$WORK/check-$N.out err=$WORK/check-$N.err rc
  if [ -n "${STDIN:-}" ]; then "$@" >"$out" 2>"$err" <<<"$STDIN"; else "$@" >"$out" 2>"$err" </dev/null; fi
  rc=$?
  if [ "$rc" != "$want_rc" ]; then
    fail "$name (exit $rc, want $want_rc): $*"
    sed 's/^/    stdout: /' "$out" | tail -5; sed 's/^/    stderr: /' "$err" | tail -10
    return 1
  fi
  if [ -n "$want_out" ] && ! grep -qE "$want_out" "$out"; then
    fail "$name (stdout does not match /$want_out/): $*"
    sed 's/^/    stdout: /' "$out" | tail -5; sed 's/^/    stderr: /' "$err" | tail -10
    return 1
  fi
  pass "$name"
}

# run_check_err NAME RC_REGEX STDERR_REGEX CMD...: CMD must fail that way and say why on stderr
run_check_err() {
  local name=$1 want_rc=$2 want_err=$3; shift 3
  N=$((N + 1))
  local out=$WORK/check-$N.out err=$WORK/check-$N.err rc
  "$@" >"$out" 2>"$err" </dev/null
  rc=$?
  if ! [[ $rc =~ $want_rc ]] || ! grep -qiE "$want_err" "$err"; then
    fail "$name (exit $rc, want /$want_rc/, stderr /$want_err/): $*"
    sed 's/^/    stdout: /' "$out" | tail -5; sed 's/^/    stderr: /' "$err" | tail -10
    return 1
  fi
  pass "$name"
  sed 's/^/    stderr: /' "$err" | tail -2
}

# wait_for TIMEOUT_S CMD...: until CMD succeeds
wait_for() {
  local t=$1; shift
  local i
  for i in $(seq $((t * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

empty_output() { # CMD succeeds and prints nothing
  local o
  o=$("$@") && [ -z "$o" ]
}

HOST_CAPS=$(awk '/^CapBnd:/ { print $2 }' /proc/self/status) # what --privileged can give

leftover_mounts() { # mounts whose path or source mention $1
  awk -v p="$1" 'index($5, p) || index($4, p)' /proc/self/mountinfo
}

# ---------------------------------------------------------------- hugetlb on hybrid hosts
# crun (podman's preference) and podman's cgroupfs manager refuse hugetlb on the unified
# hierarchy while the others are v1; bind it to v1 only when podman cannot run without it.
hugetlb_on_unified() { grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null; }
bind_hugetlb_v1() {
  hugetlb_on_unified || return 1
  mountpoint -q /sys/fs/cgroup/hugetlb && return 1
  mkdir -p /sys/fs/cgroup/hugetlb && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb &&
    HUGETLB_MOUNTED=1 && log "bound hugetlb to a v1 hierarchy at /sys/fs/cgroup/hugetlb"
}

# ---------------------------------------------------------------- 4. containerd
CD=$WORK/containerd CD_SOCK=$WORK/containerd/containerd.sock CD_NS=berth-peers
ctr_() { timeout -k 5 60 ctr -a "$CD_SOCK" -n "$CD_NS" "$@"; }
task_status() { ctr_ task ls 2>/dev/null | awk -v id="$1" '$1 == id { print $3 }'; }
task_is() { [ "$(task_status "$1")" = "$2" ]; }

test_containerd() {
  log "containerd $(containerd --version | awk '{print $3}')"
  mkdir -p "$CD/root" "$CD/state" "$CD/opt" "$WORK/vol"
  echo v >"$WORK/vol/f"
  cat >"$CD/config.toml" <<EOF
version = 2
root = "$CD/root"
state = "$CD/state"
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]

[grpc]
  address = "$CD_SOCK"

[ttrpc]
  address = "$CD_SOCK.ttrpc"

[debug]
  level = "debug"

[plugins."io.containerd.internal.v1.opt"]
  path = "$CD/opt"
EOF
  # ctr 1.6 drops --runc-binary when --uidmap/--gidmap is given (the task options it then sends,
  # IoUid/IoGid, replace the container's runtime options, BinaryName included) and the shim runs
  # plain "runc" from PATH: make that one the runtime under test as well.
  mkdir -p "$CD/bin" && ln -sf "$BIN" "$CD/bin/runc"
  PATH="$CD/bin:$PATH" containerd --config "$CD/config.toml" >"$CD/containerd.log" 2>&1 &
  CD_PID=$!
  if ! wait_for 20 ctr -a "$CD_SOCK" version; then
    fail "containerd started (socket $CD_SOCK)"; tail -20 "$CD/containerd.log"; return
  fi
  pass "containerd started with its own root/state/socket (pid $CD_PID)"

  run_check "ctr image import (OCI layout archive)" 0 "" ctr_ image import "$WORK/image.tar" || return
  run_check "ctr image ls shows $IMG_NAME" 0 "$IMG_NAME" ctr_ image ls -q

  local R=(--runc-binary "$BIN")
  run_check "ctr run --rm: echo hello" 0 '^hello$' ctr_ run --rm "${R[@]}" "$IMG_NAME" c-echo echo hello
  run_check "ctr run --rm: exit code 3 passed through" 3 "" ctr_ run --rm "${R[@]}" "$IMG_NAME" c-exit sh -c 'exit 3'
  run_check "ctr run --rm: pid 1, cwd and --env" 0 '^1 / bar$' \
    ctr_ run --rm "${R[@]}" --env FOO=bar "$IMG_NAME" c-env sh -c 'echo $$ $(pwd) $FOO'

  run_check_err "ctr run --rm: missing executable reported" '^[1-9]' 'nonexist' \
    ctr_ run --rm "${R[@]}" "$IMG_NAME" c-noexec /nonexistent
  run_check "ctr run --rm -t: a tty on stdio" 0 '/dev/(pts/[0-9]+|console)' \
    script -qec "timeout -k 5 60 ctr -a '$CD_SOCK' -n '$CD_NS' run --rm -t --runc-binary '$BIN' '$IMG_NAME' c-tty tty" /dev/null
  run_check "ctr run --rm --seccomp: default profile in force" 0 'Seccomp:[[:space:]]+2' \
    ctr_ run --rm "${R[@]}" --seccomp "$IMG_NAME" c-seccomp grep Seccomp: /proc/self/status

  run_check "ctr run --rm --privileged: all caps, host devices" 0 "^CapEff:[[:space:]]+$HOST_CAPS [0-9]{2,}\$" \
    ctr_ run --rm "${R[@]}" --privileged "$IMG_NAME" c-priv sh -c 'echo "$(grep CapEff: /proc/self/status) $(ls /dev | wc -l)"'
  run_check "ctr run --rm --read-only --mount bind,ro" 0 '^ro v ro$' \
    ctr_ run --rm "${R[@]}" --read-only --mount "type=bind,src=$WORK/vol,dst=/vol,options=rbind:ro" "$IMG_NAME" c-ro \
    sh -c 'echo "$(touch /x 2>/dev/null && echo rw || echo ro) $(cat /vol/f) $(touch /vol/g 2>/dev/null && echo rw || echo ro)"'
  run_check "ctr run --rm --uidmap/--gidmap: user namespace" 0 '^0 100000 65536 0$' \
    ctr_ run --rm "${R[@]}" --uidmap 0:100000:65536 --gidmap 0:100000:65536 "$IMG_NAME" c-userns \
    sh -c 'echo $(cat /proc/self/uid_map) $(stat -c %u /bin/busybox)'

  # SIGTERM reaches the init's handler; its exit status reaches containerd.
  run_check "ctr run -d: sh trapping SIGTERM" 0 "" ctr_ run -d "${R[@]}" "$IMG_NAME" c-term \
    sh -c 'trap "exit 42" TERM; while :; do sleep 0.1; done'
  wait_for 5 task_is c-term RUNNING
  run_check "ctr task kill (SIGTERM)" 0 "" ctr_ task kill c-term
  if wait_for 10 task_is c-term STOPPED; then pass "ctr task ls: c-term STOPPED"; else
    fail "ctr task ls: c-term STOPPED (got '$(task_status c-term)')"; fi
  run_check_err "ctr task delete: exit code 42 reported" '^0$' 'exit code 42' ctr_ task delete c-term
  ctr_ container rm c-term >/dev/null 2>&1

  run_check "ctr run -d: sleep (--memory-limit 64M)" 0 "" \
    ctr_ run -d "${R[@]}" --memory-limit 67108864 "$IMG_NAME" c-sleep sleep 300 || return
  run_check "runtime's own state (--root /run/containerd/runc/$CD_NS) says running" 0 '"status": *"running"' \
    "$BIN" --root "/run/containerd/runc/$CD_NS" state c-sleep
  run_check "memory limit applied to the cgroup" 0 '^67108864$' \
    bash -c "cat /sys/fs/cgroup/memory/$CD_NS/c-sleep/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/$CD_NS/c-sleep/memory.max"
  run_check "ctr task metrics" 0 'memory' ctr_ task metrics c-sleep
  if wait_for 10 task_is c-sleep RUNNING; then pass "ctr task ls: c-sleep RUNNING"; else
    fail "ctr task ls: c-sleep RUNNING (got '$(task_status c-sleep)')"; fi
  run_check "ctr task exec: echo hi" 0 '^hi$' ctr_ task exec --exec-id e1 c-sleep echo hi
  run_check "ctr task exec: exit code 5 passed through" 5 "" ctr_ task exec --exec-id e2 c-sleep sh -c 'exit 5'
  run_check_err "ctr task exec: missing executable reported" '^[1-9]' 'nonexist' \
    ctr_ task exec --exec-id e4 c-sleep /nonexistent
  run_check "ctr task exec -t: a tty on stdio" 0 '/dev/pts/[0-9]+' \
    script -qec "timeout -k 5 60 ctr -a '$CD_SOCK' -n '$CD_NS' task exec -t --exec-id e3 c-sleep tty" /dev/null
  run_check "ctr task ps lists the init" 0 '[0-9]' ctr_ task ps c-sleep

  run_check "ctr task pause" 0 "" ctr_ task pause c-sleep
  if wait_for 5 task_is c-sleep PAUSED; then pass "ctr task ls: c-sleep PAUSED"; else
    fail "ctr task ls: c-sleep PAUSED (got '$(task_status c-sleep)')"; fi
  run_check "ctr task resume" 0 "" ctr_ task resume c-sleep
  if wait_for 5 task_is c-sleep RUNNING; then pass "ctr task ls: c-sleep RUNNING after resume"; else
    fail "ctr task ls: c-sleep RUNNING after resume (got '$(task_status c-sleep)')"; fi

  run_check "ctr task kill -s SIGKILL" 0 "" ctr_ task kill -s SIGKILL c-sleep
  if wait_for 10 task_is c-sleep STOPPED; then pass "ctr task ls: c-sleep STOPPED"; else
    fail "ctr task ls: c-sleep STOPPED (got '$(task_status c-sleep)')"; fi
  run_check_err "ctr task delete: exit code 137 reported" '^0$' 'exit code 137' ctr_ task delete c-sleep
  run_check "ctr container rm" 0 "" ctr_ container rm c-sleep
  run_check "ctr container ls is empty" 0 "" empty_output ctr_ container ls -q

  # Stop containerd and look for anything the runtime left behind.
  kill "$CD_PID"; wait_for 10 bash -c "! kill -0 $CD_PID"; wait "$CD_PID" 2>/dev/null
  if kill -0 "$CD_PID" 2>/dev/null; then fail "containerd stopped"; else pass "containerd stopped"; CD_PID=""; fi
  local cg
  cg=$(find /sys/fs/cgroup -mindepth 2 -maxdepth 3 -type d -path "*/$CD_NS/c-*" 2>/dev/null)
  if [ -z "$cg" ]; then pass "containerd: no container cgroups left"; else fail "containerd: cgroups left: $cg"; fi
  local m
  m=$(leftover_mounts "$CD"; leftover_mounts "/run/containerd/runc/$CD_NS")
  if [ -z "$m" ]; then pass "containerd: no mounts left"; else fail "containerd: mounts left: $m"; fi
  local st
  # @cache holds berth-runtime's compiled seccomp filters (shared by all containers of a root)
  st=$(ls -A "/run/containerd/runc/$CD_NS" 2>/dev/null | grep -vx '@cache')
  if [ -z "$st" ]; then pass "containerd: no container state left in /run/containerd/runc/$CD_NS"; else
    fail "containerd: runtime state left: $st"; fi
  [ -z "$st" ] && rm -rf "/run/containerd/runc/$CD_NS"
  for cg in /sys/fs/cgroup/*/"$CD_NS"; do [ -d "$cg" ] && rmdir "$cg" 2>/dev/null; done
}

# ---------------------------------------------------------------- 5. podman
P=$WORK/podman
PODMAN_RESET_DONE=0
podman_() {
  CONTAINERS_CONF=$P/containers.conf CONTAINERS_STORAGE_CONF=$P/storage.conf \
    timeout -k 5 90 podman --root "$P/root" --runroot "$P/runroot" --tmpdir "$P/tmp" \
    --storage-driver overlay --cgroup-manager=cgroupfs --events-backend=file \
    --runtime "$BIN" "$@"
}

podman_kill_wait_rm() { # podman RUN-ARGS... (with --name p-kill); prints the exit code
  podman_ "$@" >/dev/null && podman_ kill p-kill >/dev/null && podman_ wait p-kill &&
    podman_ rm p-kill >/dev/null
}

test_podman() {
  log "podman $(podman --version | awk '{print $3}')"
  mkdir -p "$P/root" "$P/runroot" "$P/tmp" "$P/net"
  cat >"$P/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
# podman passes --log-format=json --log FILE only to runtimes named here (it then reports the
# error message from that file instead of the raw stderr line)
runtime_supports_json = ["crun", "runc", "kata", "runsc", "youki", "krun", "berth-runtime"]

[network]
# private: "podman system reset" removes every network it finds in this directory
network_config_dir = "$P/net"
EOF
  cat >"$P/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$P/root"
runroot = "$P/runroot"
EOF
  run_check "podman load (oci-archive)" 0 "" podman_ load -i "$WORK/image.tar" || return
  run_check "podman image exists ${IMG_ID:0:12}" 0 "" podman_ image exists "$IMG_ID" || return
  local RUN=(run --network none --pull never)

  # The cgroupfs manager of podman 4.3 wants every controller on one kind of hierarchy.
  if ! podman_ "${RUN[@]}" --rm "$IMG_ID" true >"$P/probe.log" 2>&1 && grep -q hugetlb "$P/probe.log" &&
    bind_hugetlb_v1; then
    log "podman needed hugetlb on v1: $(grep -m1 hugetlb "$P/probe.log")"
  fi

  run_check "podman run --rm: echo hello" 0 '^hello$' podman_ "${RUN[@]}" --rm "$IMG_ID" echo hello
  run_check "podman run --rm: exit code 3 passed through" 3 "" podman_ "${RUN[@]}" --rm "$IMG_ID" sh -c 'exit 3'
  run_check "podman run --rm: ulimits from containers.conf" 0 '^20000 ' \
    podman_ "${RUN[@]}" --rm "$IMG_ID" sh -c 'echo $(ulimit -n) $(ulimit -Hn)'
  run_check_err "podman run --rm: missing executable -> 127" '^127$' 'nonexist' \
    podman_ "${RUN[@]}" --rm "$IMG_ID" /nonexistent
  run_check_err "podman run --rm: non-executable file -> 126" '^126$' 'denied' \
    podman_ "${RUN[@]}" --rm "$IMG_ID" /etc/passwd
  run_check "podman run --rm -t: a tty on stdio" 0 '^/dev/pts/[0-9]+' podman_ "${RUN[@]}" --rm -t "$IMG_ID" tty
  run_check "podman run --rm: default seccomp profile in force" 0 'Seccomp:[[:space:]]+2' \
    podman_ "${RUN[@]}" --rm "$IMG_ID" grep Seccomp: /proc/self/status
  run_check "podman run --rm --cap-drop all --read-only" 0 '^CapEff:[[:space:]]+0+ ro$' \
    podman_ "${RUN[@]}" --rm --cap-drop all --read-only "$IMG_ID" \
    sh -c 'echo "$(grep CapEff: /proc/self/status) $(touch /x 2>/dev/null && echo rw || echo ro)"'
  run_check "podman run --rm --memory 64m: limit seen in the container's cgroup" 0 '^67108864$' \
    podman_ "${RUN[@]}" --rm --memory 64m "$IMG_ID" \
    sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max'
  STDIN=foo run_check "podman run --rm -i: stdin reaches the container" 0 '^foo$' podman_ "${RUN[@]}" --rm -i "$IMG_ID" cat
  run_check "podman run --rm --user -w -h -e" 0 '^65534:65534 /tmp myhost b$' \
    podman_ "${RUN[@]}" --rm --user 65534:65534 -w /tmp -h myhost -e A=b "$IMG_ID" sh -c 'echo $(id -u):$(id -g) $(pwd) $(hostname) $A'
  run_check "podman run --rm --privileged: all caps, no seccomp, host devices" 0 "^CapEff:[[:space:]]+$HOST_CAPS Seccomp:[[:space:]]+0 [0-9]{2,}\$" \
    podman_ "${RUN[@]}" --rm --privileged "$IMG_ID" sh -c 'echo "$(grep CapEff: /proc/self/status) $(grep Seccomp: /proc/self/status) $(ls /dev | wc -l)"'
  run_check "podman run --rm --uidmap/--gidmap: user namespace" 0 '^0 100000 65536 0$' \
    podman_ "${RUN[@]}" --rm --uidmap 0:100000:65536 --gidmap 0:100000:65536 "$IMG_ID" \
    sh -c 'echo $(cat /proc/self/uid_map) $(stat -c %u /bin/busybox)'
  run_check "podman run (no --rm): exit 7, output" 7 '^out$' podman_ "${RUN[@]}" --name p-logs "$IMG_ID" sh -c 'echo out; exit 7'
  run_check "podman ps -a: Exited (7)" 0 'Exited \(7\)' podman_ ps -a --filter name=p-logs --format '{{.Status}}'
  run_check "podman logs" 0 '^out$' podman_ logs p-logs
  podman_ rm p-logs >/dev/null 2>&1
  run_check "podman run -d: sleep" 0 '^[0-9a-f]{64}$' podman_ "${RUN[@]}" -d --name p-sleep "$IMG_ID" sleep 300 || return
  local cid
  cid=$(podman_ inspect -f '{{.Id}}' p-sleep)
  run_check "podman inspect: OCIRuntime is $BIN" 0 "^$BIN\$" podman_ inspect -f '{{.OCIRuntime}}' p-sleep
  run_check "runtime's own state says running" 0 '"status": *"running"' "$BIN" state "$cid"
  run_check "podman ps shows p-sleep running" 0 'p-sleep' podman_ ps --filter status=running --format '{{.Names}}'
  run_check "podman exec: echo hi" 0 '^hi$' podman_ exec p-sleep echo hi
  run_check "podman exec: exit code 4 passed through" 4 "" podman_ exec p-sleep sh -c 'exit 4'
  run_check_err "podman exec: missing executable -> 127" '^127$' 'nonexist' \
    podman_ exec p-sleep /nonexistent
  STDIN=viaexec run_check "podman exec -i: stdin" 0 '^viaexec$' podman_ exec -i p-sleep cat
  run_check "podman exec -u -w -e" 0 '^65534 /tmp 1$' podman_ exec -u 65534 -w /tmp -e X=1 p-sleep sh -c 'echo $(id -u) $(pwd) $X'
  run_check "podman exec -d" 0 '^[0-9a-f]{64}$' podman_ exec -d p-sleep sleep 100
  run_check "podman run --pid/--ipc/--uts/--network container:p-sleep" 0 'sleep 300' \
    podman_ run --rm --pull never --pid container:p-sleep --ipc container:p-sleep --uts container:p-sleep \
    --network container:p-sleep "$IMG_ID" ps
  run_check "podman stats --no-stream" 0 'p-sleep' podman_ stats --no-stream --format '{{.Name}} {{.PIDs}}' p-sleep
  run_check "podman exec -t: a tty on stdio" 0 '^/dev/pts/[0-9]+' podman_ exec -t p-sleep tty
  run_check "podman exec -u 65534: id" 0 '^65534 65534$' podman_ exec -u 65534:65534 p-sleep sh -c 'echo $(id -u) $(id -g)'
  run_check "podman top" 0 'sleep' podman_ top p-sleep
  run_check "podman pause" 0 "" podman_ pause p-sleep
  run_check "podman inspect: paused" 0 '^paused$' podman_ inspect -f '{{.State.Status}}' p-sleep
  run_check "podman unpause" 0 "" podman_ unpause p-sleep
  run_check "podman restart -t 1" 0 "" podman_ restart -t 1 p-sleep
  run_check "podman exec after restart" 0 '^hi$' podman_ exec p-sleep echo hi
  run_check "podman stop -t 2" 0 "" podman_ stop -t 2 p-sleep
  run_check "podman inspect: exited" 0 '^exited$' podman_ inspect -f '{{.State.Status}}' p-sleep
  run_check "podman rm" 0 "" podman_ rm p-sleep
  run_check "podman run -d, kill, wait: exit code 137" 0 '^137$' podman_kill_wait_rm "${RUN[@]}" -d --name p-kill "$IMG_ID" sleep 300
  run_check "podman ps -a is empty" 0 "" empty_output podman_ ps -aq

  run_check "podman system reset -f" 0 "" podman_ system reset -f
  PODMAN_RESET_DONE=1
  local m cg
  m=$(leftover_mounts "$P")
  if [ -z "$m" ]; then pass "podman: no mounts left"; else fail "podman: mounts left: $m"; fi
  cg=$(find /sys/fs/cgroup -mindepth 2 -maxdepth 3 -type d -name 'libpod-[0-9a-f]*' 2>/dev/null |
    grep -v conmon)
  if [ -z "$cg" ]; then pass "podman: no container cgroups left"; else fail "podman: cgroups left: $cg"; fi
}

[ "$ONLY" = podman ] || test_containerd
[ "$ONLY" = containerd ] || test_podman

echo
if [ "$FAILED" -eq 0 ]; then
  echo "RESULT: PASS ($PASSED checks, runtime $BIN)"
  exit 0
fi
echo "RESULT: FAIL ($FAILED of $((PASSED + FAILED)) checks failed, runtime $BIN)"
for f in "${FAILS[@]}"; do echo "  - $f"; done
exit 1
