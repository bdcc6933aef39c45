#!/bin/sh
# bench/resync.sh BUILDDIR [RUNS]: time a resync when nothing changed (QRESYNC), for accounts
# of different sizes in the same number of folders (`make bench`, or BENCH_SUITES=resync).
#
# For each size in BENCH_RESYNC_SIZES (default "10000 100000") a mailbox of that many small
# messages in BENCH_RESYNC_FOLDERS folders (default 20; generated once and cached under
# bench/results/) is served from a throwaway loopback Dovecot over TLS. tidings-cli syncs it
# all once into a fresh profile and mbsync pulls it all once into a fresh Maildir; then, RUNS
# times (default 11, or BENCH_RESYNC_RUNS), each tool syncs again with nothing changed, taking
# turns. Timed: the wall time of each run, and for tidings-cli the time after its connection
# was up (TD_BENCH_TIMING=1); for mbsync the same is estimated by subtracting the median of
# mbsync runs that connect, log in and list but sync no folder (Patterns matching nothing).
# Prints the medians and ratios and appends them to bench/results/latest.txt. See
# bench/README.md.
#
# SPDX-License-Identifier: GPL-3.0-or-later

set -eu

BENCH_NAME=resync
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
. "$SRCDIR/bench/common.sh"

# Runs "$@" timed into TOOL's results (of the warm-up run when the round is 0).
# usage: timed TOOL ROUND COMMAND...
timed () {
  tool=$1 round=$2
  shift 2
  result=$OUT/result-$tool
  [ "$round" != 0 ] || result=$OUT/warmup-$tool
  if "$PYTHON" "$SRCDIR/bench/timed.py" "$result" "$OUT/$tool.log" "$@"; then
    say "  $tool: $(tail -n 1 "$result" | awk '{ printf "%s ms", $1;
                                                   if ($3 != "-") printf " (%s ms connected)", $3 }')"
  else
    say "  $tool FAILED; the end of its output:"
    tail -n 15 "$OUT/$tool.log" >&2
  fi
}

# Writes an mbsync configuration for the bench server into FILE.
# usage: mbsync_config FILE FSYNC PATTERNS
mbsync_config () {
  cat > "$1" <<EOF
FSync $2

IMAPAccount bench
Host localhost
Port $BENCH_IMAPS_PORT
User alice
Pass secret
SSLType IMAPS
CertificateFile $BENCH_SERVER/cert.pem

IMAPStore bench-far
Account bench

MaildirStore bench-near
Path $OUT/maildir/
Inbox $OUT/maildir/INBOX
SubFolders Verbatim

Channel bench
Far :bench-far:
Near :bench-near:
Patterns $3
Sync Pull
Create Near
SyncState *
EOF
}

run_tidings () {
  timed tidings "$1" "$BENCH_CLI" --profile "$OUT/profile" sync
}

run_mbsync () {
  timed mbsync "$1" mbsync -c "$OUT/mbsyncrc" -a
}

run_mbsync_nofsync () {
  timed mbsync_nofsync "$1" mbsync -c "$OUT/mbsyncrc-nofsync" -a
}

run_mbsync_connect () {
  timed mbsync_connect "$1" mbsync -c "$OUT/mbsyncrc-connect" -a
}

# --- Inside the private D-Bus session: one size ----------------------------------------------
if [ "${1:-}" = "--inside-session" ]; then
  export TD_BENCH_TIMING=1
  bench_start_keyring
  mkdir -p "$OUT/maildir"
  mbsync_config "$OUT/mbsyncrc" yes '*'
  mbsync_config "$OUT/mbsyncrc-nofsync" no '*'
  mbsync_config "$OUT/mbsyncrc-connect" yes 'NoSuchFolderAnywhere'

  bench_add_account "$OUT/profile"
  say "first sync of everything by tidings-cli (not timed as a resync; this takes a while)"
  timed first-tidings 1 "$BENCH_CLI" --profile "$OUT/profile" sync
  count=$(bench_count "$OUT/profile")
  [ "$count" = "$BENCH_SIZE" ] ||
    die "tidings-cli has $count messages after its first sync, expected $BENCH_SIZE"
  case " $BENCH_RESYNC_TOOLS " in
    *" mbsync"*)
      say "first pull of everything by mbsync (FSync no)"
      timed first-mbsync 1 mbsync -c "$OUT/mbsyncrc-nofsync" -a
      count=$(find "$OUT/maildir" -type f \( -path '*/cur/*' -o -path '*/new/*' \) | wc -l)
      [ "$count" = "$BENCH_SIZE" ] ||
        die "mbsync has $count messages after its first pull, expected $BENCH_SIZE"
      ;;
  esac

  tools=$BENCH_RESYNC_TOOLS
  say "a warm-up resync by each tool (reported apart)"
  for tool in $tools; do
    "run_$tool" 0
  done
  i=1
  while [ "$i" -le "$BENCH_RUNS" ]; do
    say "$BENCH_SIZE messages: resync $i of $BENCH_RUNS"
    # Take turns: each tool goes first in some runs.
    order=$(echo $tools | awk -v r="$i" '{ for (k = 0; k < NF; k++) printf "%s ", $(((k + r - 1) % NF) + 1) }')
    for tool in $order; do
      "run_$tool" "$i"
    done
    i=$((i + 1))
  done

  count=$(bench_count "$OUT/profile")
  [ "$count" = "$BENCH_SIZE" ] ||
    echo "WARNING: tidings-cli has $count messages after the resyncs, expected $BENCH_SIZE" \
      >> "$OUT/warnings"
  exit 0
fi

# --- Outside: the mailboxes, the servers, the report -------------------------------------------
BUILDDIR=${1:-build}
BENCH_RUNS=${2:-${BENCH_RESYNC_RUNS:-11}}
BENCH_RESYNC_SIZES=${BENCH_RESYNC_SIZES:-10000 100000}
BENCH_RESYNC_FOLDERS=${BENCH_RESYNC_FOLDERS:-20}
BENCH_RESYNC_TOOLS=${BENCH_RESYNC_TOOLS:-tidings mbsync mbsync_connect}
positive RUNS "$BENCH_RUNS"
positive BENCH_RESYNC_FOLDERS "$BENCH_RESYNC_FOLDERS"
for size in $BENCH_RESYNC_SIZES; do
  positive BENCH_RESYNC_SIZES "$size"
done
for tool in $BENCH_RESYNC_TOOLS; do
  case "$tool" in
    tidings|mbsync|mbsync_nofsync|mbsync_connect) ;;
    *) die "unknown tool in BENCH_RESYNC_TOOLS: $tool" ;;
  esac
done
case " $BENCH_RESYNC_TOOLS " in
  *" tidings "*) ;;
  *) die "BENCH_RESYNC_TOOLS must have tidings" ;;
esac
case " $BENCH_RESYNC_TOOLS " in
  *" mbsync"*) command -v mbsync >/dev/null ||
                 die "mbsync is missing (run: build-aux/install-deps.sh --bench)" ;;
esac
BENCH_CLI=$(bench_cli "$BUILDDIR")
export BENCH_CLI BENCH_RUNS BENCH_RESYNC_TOOLS

for size in $BENCH_RESYNC_SIZES; do
  bench_small_mailbox "$size" "$BENCH_RESYNC_FOLDERS" >/dev/null
done

bench_make_tmp
BENCH_SERVER=""
cleanup () {
  status=$?
  trap - EXIT INT TERM
  bench_stop_server
  rm -rf "$BENCH_TMP"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

for size in $BENCH_RESYNC_SIZES; do
  mailbox=$(bench_small_mailbox "$size" "$BENCH_RESYNC_FOLDERS")
  OUT=$BENCH_TMP/size-$size
  mkdir -p "$OUT"
  chmod 0755 "$OUT"
  du -sm --apparent-size "$mailbox" | cut -f 1 > "$OUT/megabytes"
  say "$size messages in $BENCH_RESYNC_FOLDERS folders: starting Dovecot and seeding"
  bench_start_server "$OUT/server" "$mailbox"
  BENCH_SIZE=$size
  export OUT BENCH_SIZE
  dbus-run-session -- sh "$0" --inside-session
  bench_stop_server
  # the server's copy, the profile and the Maildir: hundreds of MB for a big mailbox
  rm -rf "$OUT/server" "$OUT/profile" "$OUT/maildir"
done

# --- The report --------------------------------------------------------------------------------
{
  echo "Tidings benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), commit" \
       "$(git -C "$SRCDIR" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "No-change resync (QRESYNC) of $BENCH_RESYNC_FOLDERS folders from Dovecot on loopback" \
       "over TLS; $BENCH_RUNS runs after one warm-up; $(nproc) CPUs"
  command -v mbsync >/dev/null && echo "mbsync: $(mbsync --version 2>/dev/null | head -n 1)"
  "$PYTHON" - "$BENCH_TMP" "$BENCH_RESYNC_FOLDERS" "$BENCH_RESYNC_SIZES" \
    $BENCH_RESYNC_TOOLS <<'PY'
import os, statistics, sys

tmp, folders, sizes, tools = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4:]
names = {"tidings": "tidings-cli sync", "mbsync": "mbsync",
         "mbsync_nofsync": "mbsync, FSync no",
         "mbsync_connect": "mbsync, no folder (connect)"}

def runs(path):
    if not os.path.exists(path):
        return []
    return [r.split() for r in open(path).read().split("\n") if r.strip()]

def median(xs):
    return statistics.median(xs) if xs else None

def fmt(x, spec="%.0f"):
    return "-" if x is None else spec % x

connected = {}
for size in sizes:
    d = os.path.join(tmp, "size-" + size)
    mb = open(os.path.join(d, "megabytes")).read().strip()
    print()
    print("%s messages in %s folders (%s MB)" % (size, folders, mb))
    first = []
    for tool, label in (("first-tidings", "tidings-cli"), ("first-mbsync", "mbsync, FSync no")):
        r = [x for x in runs(os.path.join(d, "result-" + tool)) if x[0] != "FAIL"]
        if r:
            first.append("%s %.1f s" % (label, float(r[0][0]) / 1000))
    print("  first full sync: " + (", ".join(first) or "-"))
    print(("  %-28s %-8s %9s %12s %9s  %s" % ("tool", "warm-up", "median", "connected", "RSS",
                                             "runs")).rstrip())
    print(("  %-28s %-8s %9s %12s %9s  %s" % ("", "(ms)", "(ms)", "median (ms)", "(MB)",
                                             "(ms)")).rstrip())
    med, med_after = {}, {}
    for tool in tools:
        all_runs = runs(os.path.join(d, "result-" + tool))
        ok = [x for x in all_runs if x[0] != "FAIL"]
        warm = [x for x in runs(os.path.join(d, "warmup-" + tool)) if x[0] != "FAIL"]
        med[tool] = median([float(x[0]) for x in ok])
        med_after[tool] = median([float(x[2]) for x in ok if x[2] != "-"])
        rss = median([int(x[1]) / 1024 for x in ok])
        print(("  %-28s %-8s %9s %12s %9s  %s" % (
            names[tool], fmt(float(warm[0][0])) if warm else "-", fmt(med[tool]),
            fmt(med_after[tool]), fmt(rss, "%.1f"),
            " ".join("FAIL" if x[0] == "FAIL" else "%.0f" % float(x[0])
                     for x in all_runs))).rstrip())
    t, m, c = med.get("tidings"), med.get("mbsync"), med.get("mbsync_connect")
    connected[size] = med_after.get("tidings")
    if t is not None and m is not None:
        print("  tidings-cli / mbsync, wall time: %.2fx" % (t / m))
    if connected[size] is not None and m is not None and c is not None and m > c:
        print("  tidings-cli / mbsync, once connected: %.2fx (mbsync's: %.0f - %.0f = %.0f ms,"
              " its median minus its no-folder median)"
              % (connected[size] / (m - c), m, c, m - c))
    if connected[size] is not None:
        print("  goal: at most 150 ms once connected: %s (%.0f ms)"
              % ("met" if connected[size] <= 150 else "NOT met", connected[size]))
    if os.path.exists(os.path.join(d, "warnings")):
        print("  " + open(os.path.join(d, "warnings")).read().strip())

known = [s for s in sizes if connected.get(s) is not None]
if len(known) >= 2:
    a, b = known[0], known[-1]
    print()
    print("tidings-cli once connected, %s vs %s messages: %.2fx for %.1fx the messages"
          % (b, a, connected[b] / connected[a], int(b) / int(a)))
PY
} > "$BENCH_TMP/report.txt"

bench_report "$BENCH_TMP/report.txt"
