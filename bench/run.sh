#!/bin/sh
# bench/run.sh BUILDDIR [RUNS]: time a full first sync of a big mailbox (`make bench`).
#
# Serves a generated mailbox (BENCH_MESSAGES, default 10000; made once and cached under
# bench/results/) from a throwaway loopback Dovecot over TLS and, in each run, pulls all of it
# with `tidings-cli sync` into a fresh profile, with mbsync into a fresh Maildir and (unless
# BENCH_FETCHMAIL=0) with fetchmail over POP3S into a BSMTP file, timed by /usr/bin/time;
# mbsync twice: as configured by default (FSync yes) and with FSync no. BENCH_TOOLS picks the
# tools ("tidings mbsync mbsync_nofsync fetchmail"). The tools take turns in each run.
# Prints per tool the runs, the median time, the median peak RSS, and the ratios of the
# medians to mbsync's; writes the same to bench/results/latest.txt. See bench/README.md.
#
# It also runs the other benchmarks, one after the other: BENCH_SUITES picks them (default
# "sync resync idle": this full first sync, bench/resync.sh, bench/idle.sh; RUNS is this one's).
# bench/results/latest.txt then holds the reports of all of them.
#
# SPDX-License-Identifier: GPL-3.0-or-later

set -eu

say () {
  echo "bench: $*" >&2
}

die () {
  say "$*"
  exit 1
}

# Runs "$@" under /usr/bin/time; appends "ELAPSED RSS_KB" or "FAIL" to $1's result file.
# usage: timed TOOL LOG COMMAND...
timed () {
  tool=$1 log=$2
  shift 2
  if /usr/bin/time -f "%e %M" -o "$BENCH_TMP/time.txt" "$@" >"$log" 2>&1; then
    tail -n 1 "$BENCH_TMP/time.txt" >> "$BENCH_TMP/result-$tool"
    say "  $tool: $(tail -n 1 "$BENCH_TMP/time.txt" | awk '{ printf "%s s, %.1f MB", $1, $2 / 1024 }')"
  else
    echo FAIL >> "$BENCH_TMP/result-$tool"
    say "  $tool FAILED; the end of its output:"
    tail -n 15 "$log" >&2
  fi
}

warn_count () {
  if [ "$2" != "$BENCH_MESSAGES" ]; then
    say "  WARNING: $1 has $2 messages, expected $BENCH_MESSAGES"
    echo "WARNING: run $3: $1 has $2 messages, expected $BENCH_MESSAGES" >> "$BENCH_TMP/warnings"
  fi
}

run_tidings () {
  run=$1
  profile=$BENCH_TMP/run/profile
  if ! printf secret | "$BENCH_CLI" --profile "$profile" account add imap \
         --address alice@localhost --host localhost --port "$BENCH_IMAPS_PORT" --security tls \
         --user alice --name Bench --password-stdin --trust-fingerprint "$BENCH_FINGERPRINT" \
         >"$BENCH_TMP/run/add.log" 2>&1; then
    echo FAIL >> "$BENCH_TMP/result-tidings"
    say "  tidings-cli account add FAILED:"
    cat "$BENCH_TMP/run/add.log" >&2
    return
  fi
  timed tidings "$BENCH_TMP/run/tidings.log" "$BENCH_CLI" --profile "$profile" sync
  count=$("$BENCH_CLI" --profile "$profile" folders 2>/dev/null |
          awk -F '\t' '{ n += $3 } END { print n + 0 }')
  warn_count tidings-cli "$count" "$run"
  rm -rf "$profile"
}

# mbsync as configured by most people (FSync yes, its default: one fsync per message), or
# with FSync no (a lower bound on what a Maildir client can do).
run_mbsync () {
  run=$1 fsync=${2:-yes} tool=${3:-mbsync}
  maildir=$BENCH_TMP/run/maildir
  mkdir -p "$maildir"
  cat > "$BENCH_TMP/run/mbsyncrc" <<EOF
FSync $fsync

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
Path $maildir/
Inbox $maildir/INBOX
SubFolders Verbatim

Channel bench
Far :bench-far:
Near :bench-near:
Patterns *
Sync Pull
Create Near
SyncState *
EOF
  timed "$tool" "$BENCH_TMP/run/mbsync.log" mbsync -c "$BENCH_TMP/run/mbsyncrc" -a
  count=$(find "$maildir" -type f \( -path '*/cur/*' -o -path '*/new/*' \) | wc -l)
  warn_count "$tool" "$count" "$run"
  rm -rf "$maildir"
}

run_mbsync_nofsync () {
  run_mbsync "$1" no mbsync_nofsync
}

run_fetchmail () {
  run=$1
  out=$BENCH_TMP/run/fetchmail.bsmtp
  rc=$BENCH_TMP/run/fetchmailrc
  cat > "$rc" <<EOF
set no bouncemail
poll localhost service $BENCH_POP3S_PORT protocol pop3 uidl
  user "alice" password "secret"
  ssl sslcertfile "$BENCH_SERVER/cert.pem" sslcertck
  keep fetchall bsmtp "$out"
EOF
  chmod 0600 "$rc"
  timed fetchmail "$BENCH_TMP/run/fetchmail.log" \
    fetchmail -f "$rc" -i "$BENCH_TMP/run/fetchids" --nodetach --nosyslog
  count=$(grep -c '^MAIL FROM:' "$out" 2>/dev/null || true)
  warn_count fetchmail "${count:-0}" "$run"
  rm -f "$out" "$BENCH_TMP/run/fetchids"
}

# --- Inside the private D-Bus session (the password goes into its keyring) -------------------
if [ "${1:-}" = "--inside-session" ]; then
  if [ -n "$BENCH_CLI" ]; then
    printf test | gnome-keyring-daemon --foreground --unlock --components=secrets \
      >"$BENCH_TMP/keyring.log" 2>&1 &
    keyring_pid=$!
    trap 'kill "$keyring_pid" 2>/dev/null; wait "$keyring_pid" 2>/dev/null || true' EXIT
    trap 'exit 130' INT TERM
    tries=0
    until gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
            --method org.freedesktop.DBus.NameHasOwner org.freedesktop.secrets 2>/dev/null |
          grep -q true; do
      tries=$((tries + 1))
      if [ "$tries" -ge 100 ] || ! kill -0 "$keyring_pid" 2>/dev/null; then
        cat "$BENCH_TMP/keyring.log" >&2
        die "gnome-keyring-daemon did not start"
      fi
      sleep 0.1
    done
  fi

  tools=$BENCH_TOOLS
  echo "$tools" > "$BENCH_TMP/tools"

  i=1
  while [ "$i" -le "$BENCH_RUNS" ]; do
    say "run $i of $BENCH_RUNS"
    rm -rf "$BENCH_TMP/run"
    mkdir -p "$BENCH_TMP/run"
    # Take turns: each tool goes first in some runs.
    order=$(echo $tools | awk -v r="$i" '{ for (k = 0; k < NF; k++) printf "%s ", $(((k + r - 1) % NF) + 1) }')
    for tool in $order; do
      "run_$tool" "$i"
    done
    i=$((i + 1))
  done
  exit 0
fi

# --- Outside: the mailbox, the server, the report ------------------------------------------------
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILDDIR=${1:-build}
BENCH_RUNS=${2:-5}
BENCH_MESSAGES=${BENCH_MESSAGES:-10000}
BENCH_FETCHMAIL=${BENCH_FETCHMAIL:-1}
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=python3
RESULTS=$SRCDIR/bench/results
MAIL_SERVER=$SRCDIR/build-aux/dovecot/mail-server.sh

# The suites, each in its own process; BENCH_IN_SUITE marks this script running the first one.
if [ -z "${BENCH_IN_SUITE:-}" ]; then
  BENCH_SUITES=${BENCH_SUITES:-sync resync idle}
  for suite in $BENCH_SUITES; do
    case "$suite" in
      sync|resync|idle) ;;
      *) die "unknown suite in BENCH_SUITES: $suite (sync, resync, idle)" ;;
    esac
  done
  mkdir -p "$RESULTS"
  : > "$RESULTS/latest.txt"
  status=0
  for suite in $BENCH_SUITES; do
    case "$suite" in
      sync) BENCH_IN_SUITE=1 sh "$0" "$@" || status=1 ;;
      resync) sh "$SRCDIR/bench/resync.sh" "$BUILDDIR" || status=1 ;;
      idle) sh "$SRCDIR/bench/idle.sh" "$BUILDDIR" || status=1 ;;
    esac
  done
  exit "$status"
fi

case "$BENCH_RUNS" in
  ''|*[!0-9]*|0) die "RUNS must be a positive number" ;;
esac
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (run: build-aux/install-deps.sh --bench)"
command -v mbsync >/dev/null || die "mbsync is missing (run: build-aux/install-deps.sh --bench)"
if [ "$BENCH_FETCHMAIL" != 0 ] && ! command -v fetchmail >/dev/null; then
  say "fetchmail is not installed; leaving it out"
  BENCH_FETCHMAIL=0
fi

BENCH_CLI=""
if [ -d "$BUILDDIR" ] && [ -x "$BUILDDIR/src/cli/tidings-cli" ]; then
  BENCH_CLI=$(cd "$BUILDDIR" && pwd)/src/cli/tidings-cli
  for tool in dbus-run-session gnome-keyring-daemon gdbus; do
    command -v "$tool" >/dev/null || die "$tool is missing (run: build-aux/install-deps.sh)"
  done
else
  say "WARNING: $BUILDDIR/src/cli/tidings-cli is not built; timing the reference tools only"
fi

if [ -z "${BENCH_TOOLS:-}" ]; then
  BENCH_TOOLS="mbsync mbsync_nofsync"
  [ -z "$BENCH_CLI" ] || BENCH_TOOLS="tidings $BENCH_TOOLS"
  [ "$BENCH_FETCHMAIL" = 0 ] || BENCH_TOOLS="$BENCH_TOOLS fetchmail"
fi
for tool in $BENCH_TOOLS; do
  case "$tool" in
    tidings) [ -n "$BENCH_CLI" ] || die "BENCH_TOOLS has tidings, but tidings-cli is not built" ;;
    mbsync|mbsync_nofsync|fetchmail) ;;
    *) die "unknown tool in BENCH_TOOLS: $tool" ;;
  esac
done

mkdir -p "$RESULTS"
MAILBOX=$RESULTS/mailbox-$BENCH_MESSAGES
if [ ! -d "$MAILBOX" ]; then
  say "generating $BENCH_MESSAGES messages into $MAILBOX (once)"
  rm -rf "$MAILBOX.tmp"
  "$PYTHON" "$SRCDIR/build-aux/make-sample-mailbox.py" --bench "$BENCH_MESSAGES" \
    "$MAILBOX.tmp" >&2 || die "could not generate the mailbox"
  mv "$MAILBOX.tmp" "$MAILBOX"
fi
MAILBOX_MB=$(du -sm "$MAILBOX" | cut -f 1)

BENCH_TMP=$(mktemp -d -t tidings-bench-XXXXXX)
chmod 0711 "$BENCH_TMP"
BENCH_SERVER=$BENCH_TMP/server

cleanup () {
  status=$?
  trap - EXIT INT TERM
  "$MAIL_SERVER" stop "$BENCH_SERVER" 2>/dev/null || true
  rm -rf "$BENCH_TMP"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

say "starting Dovecot and seeding the mailbox"
"$MAIL_SERVER" start "$BENCH_SERVER" --owner-pid $$ || die "the mail server did not start"
"$MAIL_SERVER" seed-tree "$BENCH_SERVER" alice "$MAILBOX" >&2 || die "could not seed the mailbox"
BENCH_IMAPS_PORT=$(sed -n 's/^imaps=//p' "$BENCH_SERVER/ports")
BENCH_POP3S_PORT=$(sed -n 's/^pop3s=//p' "$BENCH_SERVER/ports")
BENCH_FINGERPRINT=$(cat "$BENCH_SERVER/fingerprint")
export BENCH_TMP BENCH_SERVER BENCH_CLI BENCH_RUNS BENCH_MESSAGES BENCH_TOOLS \
       BENCH_IMAPS_PORT BENCH_POP3S_PORT BENCH_FINGERPRINT

# A throwaway home for everything the tools write besides their output.
export HOME="$BENCH_TMP/home"
export XDG_DATA_HOME="$BENCH_TMP/data"
export XDG_CONFIG_HOME="$BENCH_TMP/config"
export XDG_CACHE_HOME="$BENCH_TMP/cache"
export XDG_STATE_HOME="$BENCH_TMP/state"
export XDG_RUNTIME_DIR="$BENCH_TMP/runtime"
for dir in "$HOME" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_STATE_HOME" \
           "$XDG_RUNTIME_DIR"; do
  mkdir -p "$dir"
  chmod 0700 "$dir"
done
unset DBUS_SESSION_BUS_ADDRESS GNOME_KEYRING_CONTROL SSH_AUTH_SOCK DISPLAY WAYLAND_DISPLAY
export GSETTINGS_BACKEND=memory

if [ -n "$BENCH_CLI" ]; then
  dbus-run-session -- sh "$0" --inside-session
else
  sh "$0" --inside-session
fi

# --- The report ------------------------------------------------------------------------------
{
  echo "Tidings benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), commit" \
       "$(git -C "$SRCDIR" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "Full first sync of $BENCH_MESSAGES messages ($MAILBOX_MB MB) from Dovecot on loopback" \
       "over TLS; $BENCH_RUNS runs; $(nproc) CPUs"
  echo "mbsync: $(mbsync --version 2>/dev/null | head -n 1)"
  echo
  "$PYTHON" - "$BENCH_TMP" $(cat "$BENCH_TMP/tools") <<'PY'
import os, statistics, sys

tmp, tools = sys.argv[1], sys.argv[2:]
names = {"tidings": "tidings-cli sync", "mbsync": "mbsync",
         "mbsync_nofsync": "mbsync, FSync no", "fetchmail": "fetchmail (POP3S)"}
rows, medians = [], {}
for tool in tools:
    path = os.path.join(tmp, "result-" + tool)
    runs = open(path).read().split("\n") if os.path.exists(path) else []
    runs = [r for r in runs if r.strip()]
    ok = [tuple(float(x) for x in r.split()) for r in runs if r != "FAIL"]
    times = " ".join("FAIL" if r == "FAIL" else "%.1f" % float(r.split()[0]) for r in runs)
    if ok:
        medians[tool] = (statistics.median(t for t, _ in ok),
                         statistics.median(m for _, m in ok) / 1024)
    rows.append((tool, names[tool], times or "-"))

def ratio(tool, ref, i):
    if tool in medians and ref in medians:
        return "%.2fx" % (medians[tool][i] / medians[ref][i])
    return "-"

print(("%-18s %-34s %8s %9s  %-20s %-20s" % ("", "", "median", "median", "time / mbsync",
                                              "peak RSS / mbsync")).rstrip())
print(("%-18s %-34s %8s %9s  %-9s %-10s %-9s %-10s" % ("tool", "runs (s)", "time (s)",
       "RSS (MB)", "default", "FSync no", "default", "FSync no")).rstrip())
for tool, name, times in rows:
    t, m = ("%.2f" % medians[tool][0], "%.1f" % medians[tool][1]) if tool in medians else ("-", "-")
    print(("%-18s %-34s %8s %9s  %-9s %-10s %-9s %-10s" % (
        name, times, t, m, ratio(tool, "mbsync", 0), ratio(tool, "mbsync_nofsync", 0),
        ratio(tool, "mbsync", 1), ratio(tool, "mbsync_nofsync", 1))).rstrip())
PY
  if [ -f "$BENCH_TMP/warnings" ]; then
    echo
    cat "$BENCH_TMP/warnings"
  fi
  [ -n "$BENCH_CLI" ] || echo "(tidings-cli was not built: reference tools only)"
} > "$BENCH_TMP/report.txt"

[ ! -s "$RESULTS/latest.txt" ] || echo >> "$RESULTS/latest.txt"
cat "$BENCH_TMP/report.txt" >> "$RESULTS/latest.txt"
echo
cat "$BENCH_TMP/report.txt"
