#!/bin/sh
# Resident memory of idle berth-monitor processes: starts N monitors (default 100), each the
# parent of a sleeping busybox "container" on fifos, as the engine would start them, waits for
# each to serve its socket, then prints VmRSS (its target is 2 MiB) and
# Pss (the same with shared pages split among the monitors) per monitor, and the same for the
# watcher each monitor forks (`berth-watcher`, asleep until its monitor dies: its pages are
# the monitor's until one of them writes). Stops what it started.
#
#   scripts/measure-monitor-rss.sh [N] [BERTH_MONITOR]
#   scripts/measure-monitor-rss.sh --root R   # the monitors of R's running containers
#                                             # (e.g. after 100 `berth --root R run -d`)
#
# BERTH_MONITOR defaults to the debug build (cargo build -p berth-monitor); pass the release
# binary to measure what ships.
set -eu

report() { # $1: file of monitor pids, $2: what they are
    n=0 total_rss=0 total_pss=0 max_rss=0
    while read -r pid; do
        rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
        pss=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup")
        n=$((n + 1))
        total_rss=$((total_rss + rss))
        total_pss=$((total_pss + pss))
        [ "$rss" -gt "$max_rss" ] && max_rss=$rss
    done < "$1"
    [ "$n" -gt 0 ] || { echo "no ${3:-monitor}s found" >&2; exit 1; }
    echo "${3:-monitor}s: $n ($2)"
    echo "VmRSS per ${3:-monitor}: average $((total_rss / n)) KiB, max $max_rss KiB${4:-}"
    echo "Pss per ${3:-monitor}:   average $((total_pss / n)) KiB"
}

# The pids, in file $1, of the children of the monitors listed in $2 named $3.
children_named() {
    : > "$1"
    while read -r pid; do
        for c in $(cat "/proc/$pid/task/$pid/children" 2>/dev/null); do
            [ "$(cat "/proc/$c/comm" 2>/dev/null)" = "$3" ] && echo "$c" >> "$1"
        done
    done < "$2"
}

report_all() { # $1: file of monitor pids, $2: what they are
    report "$1" "$2" monitor " (target <= 2048 KiB)"
    children_named "$1.watchers" "$1" berth-watcher
    report "$1.watchers" "$2" watcher
}

if [ "${1:-}" = "--root" ]; then
    ROOT=$(realpath "$2")
    LIST=$(mktemp)
    trap 'rm -f "$LIST" "$LIST.watchers"' EXIT
    for d in /proc/[0-9]*; do
        cmd=$(tr '\0' ' ' < "$d/cmdline" 2>/dev/null) || continue
        [ "$(cat "$d/comm" 2>/dev/null)" = berth-monitor ] || continue
        case "$cmd" in
            *berth-monitor\ *--root\ "$ROOT"\ *|*berth-monitor\ *--root\ "$ROOT") echo "${d#/proc/}" >> "$LIST" ;;
        esac
    done
    report_all "$LIST" "containers of $ROOT"
    exit 0
fi

N=${1:-100}
MON=${2:-$(dirname "$0")/../target/x86_64-unknown-linux-gnu/debug/berth-monitor}
BB=/bin/busybox
[ -x "$MON" ] || { echo "no berth-monitor at $MON (cargo build -p berth-monitor)" >&2; exit 1; }
[ -x "$BB" ] || { echo "busybox-static is needed" >&2; exit 1; }
WORK=$(mktemp -d)
PIDS=$WORK/pids
: > "$PIDS"
cleanup() {
    while read -r pid; do
        for c in $(cat "/proc/$pid/task/$pid/children" 2>/dev/null); do kill "$c" 2>/dev/null || true; done
    done < "$PIDS"
    while read -r pid; do
        while [ -e "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; do sleep 0.05; done
    done < "$PIDS"
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
export BB MON

i=0
while [ "$i" -lt "$N" ]; do
    i=$((i + 1))
    id=$(printf '%064x' "$i")
    dir=$WORK/containers/$id
    mkdir -p "$dir"
    mkfifo "$dir/out" "$dir/err"
    # The container opens the fifos' write ends, the monitor their read ends (fd 3 and 4).
    DIR=$dir ID=$id ROOT=$WORK sh -c '"$BB" sleep 100000 </dev/null >"$DIR/out" 2>"$DIR/err" &
           exec "$MON" --id "$ID" --dir "$DIR" --pid $! --stdout-fd 3 --stderr-fd 4 \
                --log-driver json-file --max-size 10485760 --max-file 3 --restart no \
                --berth /bin/false --root "$ROOT" 3<"$DIR/out" 4<"$DIR/err"' \
        </dev/null >/dev/null 2>&1 &
    echo $! >> "$PIDS"
done

# Every monitor serves its socket once it is set up.
for dir in "$WORK"/containers/*; do
    while [ ! -S "$dir/monitor.sock" ]; do sleep 0.05; done
done
sleep 1

report_all "$PIDS" "$MON"
