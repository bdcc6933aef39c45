#!/bin/sh
# bench/pop3.sh BUILDDIR [RUNS]: time downloading a whole mailbox over POP3S into a fresh
# profile (`make bench`, or BENCH_SUITES=pop3).
#
# Serves the first-sync mailbox of bench/run.sh (BENCH_POP3_MESSAGES, default 10000, all in
# the Inbox; generated once and cached under bench/results/) from a throwaway loopback
# Dovecot over POP3S. In each of RUNS runs (default 3, or BENCH_POP3_RUNS) the tools take
# turns, each downloading everything and leaving it on the server: `tidings-cli sync` of a
# POP3 account (--leave-on-server) into a fresh profile, fetchmail (keep, uidl) into a BSMTP
# file, and getmail6 (SimplePOP3SSLRetriever, delete = false) into a fresh Maildir; getmail6
# only in the first BENCH_POP3_GETMAIL_RUNS runs (default 1: it delivers each message
# through a child process and takes minutes). The disk is flushed (`sync`) before each tool.
# Timed by bench/timed.py (wall time, peak RSS). Prints per tool the runs, the medians and
# the ratio of tidings-cli's median to each tool's and to the faster of them (the goal:
# at most 0.8x), and appends it to bench/results/latest.txt. See bench/README.md.
#
# SPDX-License-Identifier: GPL-3.0-or-later

set -eu

BENCH_NAME=pop3
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
. "$SRCDIR/bench/common.sh"

# Runs "$@" timed into TOOL's results.
# usage: timed TOOL COMMAND...
timed () {
  tool=$1
  shift
  sync
  if "$PYTHON" "$SRCDIR/bench/timed.py" "$BENCH_TMP/result-$tool" "$BENCH_TMP/$tool.log" "$@"
  then
    say "  $tool: $(tail -n 1 "$BENCH_TMP/result-$tool" |
                    awk '{ printf "%.2f s, %.1f MB", $1 / 1000, $2 / 1024 }')"
  else
    say "  $tool FAILED; the end of its output:"
    tail -n 15 "$BENCH_TMP/$tool.log" >&2
  fi
}

check_count () {
  if [ "$2" != "$BENCH_POP3_MESSAGES" ]; then
    say "  WARNING: $1 has $2 messages, expected $BENCH_POP3_MESSAGES"
    echo "WARNING: run $3: $1 has $2 messages, expected $BENCH_POP3_MESSAGES" \
      >> "$BENCH_TMP/warnings"
  fi
}

run_tidings () {
  profile=$BENCH_TMP/profile
  printf secret | "$BENCH_CLI" --profile "$profile" account add pop3 \
      --address alice@localhost --host localhost --port "$BENCH_POP3S_PORT" --security tls \
      --user alice --name Bench --password-stdin --trust-fingerprint "$BENCH_FINGERPRINT" \
      --leave-on-server >"$BENCH_TMP/add.log" 2>&1 || {
    cat "$BENCH_TMP/add.log" >&2
    die "tidings-cli account add pop3 failed"
  }
  timed tidings "$BENCH_CLI" --profile "$profile" sync
  check_count tidings-cli "$(bench_count "$profile")" "$1"
  rm -rf "$profile"
}

run_fetchmail () {
  out=$BENCH_TMP/fetchmail.bsmtp
  rc=$BENCH_TMP/fetchmailrc
  cat > "$rc" <<RC
set no bouncemail
poll localhost service $BENCH_POP3S_PORT protocol pop3 uidl
  user "alice" password "secret"
  ssl sslcertfile "$BENCH_SERVER/cert.pem" sslcertck
  keep fetchall bsmtp "$out"
RC
  chmod 0600 "$rc"
  timed fetchmail fetchmail -f "$rc" -i "$BENCH_TMP/fetchids" --nodetach --nosyslog
  check_count fetchmail "$(grep -c '^MAIL FROM:' "$out" 2>/dev/null || true)" "$1"
  rm -f "$out" "$BENCH_TMP/fetchids"
}

run_getmail () {
  dir=$BENCH_TMP/getmail
  rm -rf "$dir"
  mkdir -p "$dir/state" "$dir/Maildir/cur" "$dir/Maildir/new" "$dir/Maildir/tmp"
  # as root, getmail6 delivers as another user (it refuses to deliver as root)
  [ "$(id -u)" != 0 ] || chown -R nobody "$dir/Maildir"
  cat > "$dir/getmailrc" <<RC
[retriever]
type = SimplePOP3SSLRetriever
server = localhost
port = $BENCH_POP3S_PORT
username = alice
password = secret
ca_certs = $BENCH_SERVER/cert.pem
ssl_cert_hostname = localhost

[destination]
type = Maildir
path = $dir/Maildir/
$( [ "$(id -u)" != 0 ] || echo "user = nobody" )

[options]
delete = false
read_all = true
verbose = 0
RC
  timed getmail getmail --rcfile "$dir/getmailrc" --getmaildir "$dir/state"
  check_count getmail6 "$(find "$dir/Maildir/new" "$dir/Maildir/cur" -type f | wc -l)" "$1"
  rm -rf "$dir"
}

# --- Inside the private D-Bus session (the password goes into its keyring) -------------------
if [ "${1:-}" = "--inside-session" ]; then
  bench_start_keyring
  run=1
  while [ "$run" -le "$BENCH_POP3_RUNS" ]; do
    say "run $run of $BENCH_POP3_RUNS"
    run_tidings "$run"
    run_fetchmail "$run"
    [ "$run" -gt "$BENCH_POP3_GETMAIL_RUNS" ] || run_getmail "$run"
    run=$((run + 1))
  done
  exit 0
fi

# --- Outside: the mailbox, the server, the report --------------------------------------------
BUILDDIR=${1:-build}
BENCH_POP3_RUNS=${2:-${BENCH_POP3_RUNS:-3}}
BENCH_POP3_MESSAGES=${BENCH_POP3_MESSAGES:-10000}
BENCH_POP3_GETMAIL_RUNS=${BENCH_POP3_GETMAIL_RUNS:-1}
positive RUNS "$BENCH_POP3_RUNS"
positive BENCH_POP3_MESSAGES "$BENCH_POP3_MESSAGES"
case "$BENCH_POP3_GETMAIL_RUNS" in
  ''|*[!0-9]*) die "BENCH_POP3_GETMAIL_RUNS must be a number, not '$BENCH_POP3_GETMAIL_RUNS'" ;;
esac
BENCH_CLI=$(bench_cli "$BUILDDIR")
for tool in fetchmail getmail; do
  command -v "$tool" >/dev/null || die "$tool is missing (run: build-aux/install-deps.sh --bench)"
done
export BENCH_CLI BENCH_POP3_RUNS BENCH_POP3_MESSAGES BENCH_POP3_GETMAIL_RUNS

# bench/run.sh's mailbox (the same generator and cache)
mailbox=$(bench_big_mailbox "$BENCH_POP3_MESSAGES")
mailbox_mb=$(du -sm "$mailbox" | cut -f 1)

bench_make_tmp
bench_cleanup_on_exit

say "$BENCH_POP3_MESSAGES messages ($mailbox_mb MB): starting Dovecot and seeding"
bench_start_server "$BENCH_TMP/server" "$mailbox"
BENCH_POP3S_PORT=$(sed -n 's/^pop3s=//p' "$BENCH_SERVER/ports")
export BENCH_POP3S_PORT
dbus-run-session -- sh "$0" --inside-session
bench_stop_server

# --- The report --------------------------------------------------------------------------------
{
  echo "Tidings benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), commit" \
       "$(git -C "$SRCDIR" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "POP3S download of $BENCH_POP3_MESSAGES messages ($mailbox_mb MB) from Dovecot on" \
       "loopback into a fresh profile, left on the server; $BENCH_POP3_RUNS runs" \
       "(getmail6: $BENCH_POP3_GETMAIL_RUNS); $(nproc) CPUs"
  echo "fetchmail: $(fetchmail --version 2>/dev/null | head -n 1 | cut -c 1-60)"
  echo "getmail6: $(getmail --version 2>/dev/null | head -n 1)"
  echo
  "$PYTHON" - "$BENCH_TMP" <<'PY'
import os, statistics, sys

tmp = sys.argv[1]
names = {"tidings": "tidings-cli sync", "fetchmail": "fetchmail", "getmail": "getmail6"}
medians, rows = {}, []
for tool in ("tidings", "fetchmail", "getmail"):
    path = os.path.join(tmp, "result-" + tool)
    runs = [r for r in open(path).read().split("\n") if r.strip()] if os.path.exists(path) else []
    ok = [r.split() for r in runs if r != "FAIL"]
    if ok:
        medians[tool] = (statistics.median(float(r[0]) for r in ok) / 1000,
                         statistics.median(float(r[1]) for r in ok) / 1024)
    times = " ".join("FAIL" if r == "FAIL" else "%.2f" % (float(r.split()[0]) / 1000)
                     for r in runs)
    rows.append((tool, times or "-"))

print("%-18s %-28s %9s %9s  %s" % ("tool", "runs (s)", "median s", "RSS MB", "tidings / it"))
for tool, times in rows:
    t, m = ("%.2f" % medians[tool][0], "%.1f" % medians[tool][1]) if tool in medians else ("-", "-")
    ratio = ("%.2fx" % (medians["tidings"][0] / medians[tool][0])
             if tool in medians and "tidings" in medians and tool != "tidings" else "")
    print(("%-18s %-28s %9s %9s  %s" % (names[tool], times, t, m, ratio)).rstrip())
others = [medians[t][0] for t in ("fetchmail", "getmail") if t in medians]
if "tidings" in medians and others:
    r = medians["tidings"][0] / min(others)
    print("tidings-cli / the faster of fetchmail and getmail6: %.2fx (goal: at most 0.80x: %s)"
          % (r, "met" if r <= 0.8 else "NOT met"))
PY
  if [ -f "$BENCH_TMP/warnings" ]; then
    echo
    cat "$BENCH_TMP/warnings"
  fi
} > "$BENCH_TMP/report.txt"

bench_report "$BENCH_TMP/report.txt"
