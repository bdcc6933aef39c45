#!/bin/sh
# bench/idle.sh BUILDDIR [DELIVERIES]: how soon new mail shows up through IDLE (`make bench`,
# or BENCH_SUITES=idle).
#
# Serves a mailbox of BENCH_IDLE_MESSAGES small messages (default 10000) in
# BENCH_IDLE_FOLDERS folders (default 20; generated once and cached under bench/results/,
# the same as bench/resync.sh's) from a throwaway loopback Dovecot over TLS, syncs it all into
# a fresh profile, starts `tidings-cli watch` and then, DELIVERIES times (default 20, or
# BENCH_IDLE_DELIVERIES), delivers one message into the Inbox with `doveadm save` and measures
# the time from just before the delivery to the watch's line for it on its standard output
# (bench/idle-latency.py). Prints the median and the maximum and appends them to
# bench/results/latest.txt. See bench/README.md.
#
# SPDX-License-Identifier: GPL-3.0-or-later

set -eu

BENCH_NAME=idle
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
. "$SRCDIR/bench/common.sh"

# --- Inside the private D-Bus session --------------------------------------------------------
if [ "${1:-}" = "--inside-session" ]; then
  bench_start_keyring
  bench_add_account "$BENCH_TMP/profile"
  say "first sync of everything (not timed)"
  "$BENCH_CLI" --profile "$BENCH_TMP/profile" sync >"$BENCH_TMP/sync.log" 2>&1 || {
    cat "$BENCH_TMP/sync.log" >&2
    die "the first sync failed"
  }
  say "watching; $BENCH_DELIVERIES deliveries, a second apart"
  "$PYTHON" "$SRCDIR/bench/idle-latency.py" "$BENCH_TMP/result" "$BENCH_DELIVERIES" \
    -- "$BENCH_CLI" --profile "$BENCH_TMP/profile" watch \
    -- "$MAIL_SERVER" doveadm "$BENCH_SERVER" save -u alice -m INBOX || {
    tail -n 20 "$BENCH_TMP/result.log" >&2
    die "the measurement failed"
  }
  exit 0
fi

# --- Outside: the mailbox, the server, the report ----------------------------------------------
BUILDDIR=${1:-build}
BENCH_DELIVERIES=${2:-${BENCH_IDLE_DELIVERIES:-20}}
BENCH_IDLE_MESSAGES=${BENCH_IDLE_MESSAGES:-10000}
BENCH_IDLE_FOLDERS=${BENCH_IDLE_FOLDERS:-20}
positive DELIVERIES "$BENCH_DELIVERIES"
positive BENCH_IDLE_MESSAGES "$BENCH_IDLE_MESSAGES"
positive BENCH_IDLE_FOLDERS "$BENCH_IDLE_FOLDERS"
BENCH_CLI=$(bench_cli "$BUILDDIR")
export BENCH_CLI BENCH_DELIVERIES MAIL_SERVER
mailbox=$(bench_small_mailbox "$BENCH_IDLE_MESSAGES" "$BENCH_IDLE_FOLDERS")

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

say "$BENCH_IDLE_MESSAGES messages in $BENCH_IDLE_FOLDERS folders: starting Dovecot and seeding"
bench_start_server "$BENCH_TMP/server" "$mailbox"
dbus-run-session -- sh "$0" --inside-session
bench_stop_server

# --- The report --------------------------------------------------------------------------------
{
  echo "Tidings benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), commit" \
       "$(git -C "$SRCDIR" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "New mail through IDLE: \`doveadm save\` into the Inbox until \`tidings-cli watch\`" \
       "prints it; $BENCH_IDLE_MESSAGES messages in $BENCH_IDLE_FOLDERS folders on Dovecot" \
       "on loopback over TLS; $(nproc) CPUs"
  "$PYTHON" - "$BENCH_TMP/result" <<'PY'
import statistics, sys

rows = [r.split() for r in open(sys.argv[1]).read().split("\n") if r.strip()]
ok = [(float(r[0]), float(r[1])) for r in rows if r[0] != "FAIL"]
failed = len(rows) - len(ok)
print("  deliveries: %d%s" % (len(rows), " (%d FAILED: no line within 30 s)" % failed
                              if failed else ""))
if ok:
    lat = [l for l, _ in ok]
    med = statistics.median(lat)
    print("  latency (ms): median %.0f, max %.0f, min %.0f" % (med, max(lat), min(lat)))
    print("  of it, doveadm save itself (ms): median %.0f"
          % statistics.median(d for _, d in ok))
    print("  runs (ms): " + " ".join("%.0f" % l for l in lat))
    print("  goal: a median of at most 1 s: %s" % ("met" if med <= 1000 else "NOT met"))
PY
} > "$BENCH_TMP/report.txt"

bench_report "$BENCH_TMP/report.txt"
