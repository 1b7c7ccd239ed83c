#!/usr/bin/env bash
# The offline quick start in one command, on a fresh Debian 12 machine, as root:
#   scripts/quickstart.sh [BUNDLE_DIR]
# 1. installs the Debian packages Berth needs, builds the release binaries when this checkout
#    has none or they are older than the sources (cargo decides), installs them in
#    /usr/local/bin (BERTH_PREFIX to change it; BERTH_NO_INSTALL=1 runs this checkout's build);
# 2. makes an image from busybox-static with `berth import` and runs a container;
# 3. a user network with a web server reached by name, and a published port reached from the host;
# 4. the runtime alone: a busybox bundle run with berth-runtime, as runc would.
set -euo pipefail
cd "$(dirname "$0")/.."
BINS=(berth berth-monitor berth-init berth-runtime berth-dns berth-serve)
REL=target/x86_64-unknown-linux-gnu/release
PREFIX=${BERTH_PREFIX:-/usr/local}

# 1. Packages, build, install.
need=(busybox-static libseccomp-dev pkg-config build-essential nftables iproute2)
missing=()
for p in "${need[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if ! command -v cargo >/dev/null; then
  [ -x "$HOME/.cargo/bin/cargo" ] && PATH="$HOME/.cargo/bin:$PATH"
fi
if command -v cargo >/dev/null; then
  pkgs=(); for b in "${BINS[@]}"; do pkgs+=(-p "$b"); done
  cargo build --release --locked "${pkgs[@]}"
else
  for b in "${BINS[@]}"; do
    if [ ! -x "$REL/$b" ]; then
      echo "quickstart: no Rust toolchain to build Berth; install one from https://rustup.rs" >&2
      exit 1
    fi
  done
fi
if [ -n "${BERTH_NO_INSTALL:-}" ]; then
  BERTH=$(readlink -f "$REL/berth") RT=$(readlink -f "$REL/berth-runtime")
else
  install -d "$PREFIX/bin"
  for b in "${BINS[@]}"; do install -m 0755 "$REL/$b" "$PREFIX/bin/"; done
  BERTH="$PREFIX/bin/berth" RT="$PREFIX/bin/berth-runtime"
  echo "installed ${BINS[*]} in $PREFIX/bin"
fi

# 2. An image from busybox-static, then a container.
I=$(mktemp -d /var/tmp/berth-quickstart-image.XXXXXX)
NET=quickstart-$$
SITE=quickstart-site-$$
cleanup() {
  "$BERTH" rm -f "$SITE" "$SITE-port" >/dev/null 2>&1 || true
  "$BERTH" network rm "$NET" >/dev/null 2>&1 || true
  rm -rf "$I"
}
trap cleanup EXIT
mkdir -p "$I/bin" && cp /bin/busybox "$I/bin/"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$I/bin/$a"; done
tar -C "$I" -cf - . | "$BERTH" import - busybox:local
"$BERTH" run --rm busybox:local echo hello from a berth container

# 3. Networking. busybox's wget crashes on some kernels, so HTTP is spoken with nc.
get() { printf 'GET / HTTP/1.0\r\n\r\n' | "$@" | tail -n 1; }
"$BERTH" network create "$NET" >/dev/null
"$BERTH" run -d --network "$NET" --name "$SITE" busybox:local \
  sh -c 'echo hello from the web server > /index.html; exec httpd -f -p 80 -h /' >/dev/null
echo "by name on a user network: $(get "$BERTH" run --rm -i --network "$NET" busybox:local nc -w 3 "$SITE" 80)"
"$BERTH" run -d -p 127.0.0.1::80 --name "$SITE-port" busybox:local \
  sh -c 'echo hello through a published port > /index.html; exec httpd -f -p 80 -h /' >/dev/null
PORT=$("$BERTH" port "$SITE-port" 80/tcp | head -n 1 | sed 's/.*://')
reply=""
for _ in $(seq 50); do
  reply=$(get busybox nc -w 3 127.0.0.1 "$PORT" 2>/dev/null || true)
  [ -n "$reply" ] && break
  sleep 0.1
done
echo "from the host: $reply"

# 4. The runtime alone: a bundle run by berth-runtime.
B=${1:-/tmp/berth-quickstart}
rm -rf "$B" && mkdir -p "$B/rootfs/bin"
cp /bin/busybox "$B/rootfs/bin/"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$B/rootfs/bin/$a"; done
cd "$B"
"$RT" spec
sed -i 's/"terminal": true/"terminal": false/; s/"sh"$/"sh", "-c", "echo hello from $(hostname)"/' config.json
"$RT" run "quickstart-$$"
