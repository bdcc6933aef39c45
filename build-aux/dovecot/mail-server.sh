#!/bin/sh
# mail-server.sh: a throwaway Dovecot (IMAP, POP3, submission) on loopback, in one directory.
# Shared by the C test fixture (tests/lib/td-test-dovecot.c), `make demo` and `make bench`.
#
#   mail-server.sh start DIR [--owner-pid PID]
#       Makes DIR if needed, a self-signed certificate for "localhost", users alice and bob
#       (password "secret"), picks free loopback ports and starts Dovecot and an SMTP sink
#       that receives what the submission service relays. Writes:
#         DIR/ports         imap=N imaps=N pop3=N pop3s=N submission=N submissions=N sink=N
#         DIR/fingerprint   SHA-256 of the certificate, "AB:CD:..."
#         DIR/cert.pem      the certificate (to pin or to trust)
#         DIR/pids          master=PID sink=PID watchdog=PID
#         DIR/sink/new/     one file per relayed message
#       With --owner-pid, a watchdog stops the server as soon as that process is gone (a test
#       that aborts cannot leave a server behind).
#   mail-server.sh stop DIR
#       SIGTERM to the master, the sink and the watchdog (by their PIDs); waits until gone.
#   mail-server.sh seed DIR USER FOLDER FILE...
#       "doveadm save" of each FILE into FOLDER (created if needed).
#   mail-server.sh seed-tree DIR USER SRCDIR
#       Fast bulk seeding: every directory under SRCDIR that holds *.eml files is a folder
#       (its path relative to SRCDIR, '/' between levels; "INBOX" for the inbox). Writes the
#       Maildir files directly, then "doveadm force-resync". File names NAME.FLAGS.eml set
#       Maildir flags (S seen, R answered, F flagged, D draft, T deleted).
#   mail-server.sh doveadm DIR ARGS...
#       "doveadm -c DIR/dovecot.conf ARGS..." as the mail user.
#
# As root, Dovecot runs as nobody/nogroup (setpriv) and DIR belongs to nobody; DIR's parent
# directories must be searchable by nobody (anything under /tmp is).
# Environment: TD_MAIL_SEPARATOR (hierarchy separator, default "/"); TD_MAIL_MINIMAL=1 (a plain
# IMAP4rev1 server without SPECIAL-USE, CONDSTORE, UIDPLUS, ESEARCH and LIST-EXTENDED);
# TD_MAIL_CAPS (the capabilities to announce after login instead of Dovecot's own, e.g. without
# QRESYNC: the commands still work, a client must not use what is not announced).
#
# SPDX-License-Identifier: GPL-3.0-or-later

set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=python3
DOVECOT=$(command -v dovecot || echo /usr/sbin/dovecot)
DOVEADM=$(command -v doveadm || echo /usr/bin/doveadm)

die () {
  echo "mail-server.sh: $*" >&2
  exit 1
}

if [ "$(id -u)" = 0 ]; then
  MAIL_USER=nobody
  MAIL_GROUP=nogroup
  AS_MAIL_USER="setpriv --reuid=nobody --regid=nogroup --clear-groups --"
else
  MAIL_USER=$(id -un)
  MAIL_GROUP=$(id -gn)
  AS_MAIL_USER=""
fi
MAIL_UID=$(id -u "$MAIL_USER")
MAIL_GID=$(getent group "$MAIL_GROUP" | cut -d: -f3)

# Prints the value of KEY from a "key=value" file.
read_key () {
  sed -n "s/^$2=//p" "$1" | head -n 1
}

# Succeeds while PID is a live process (a zombie counts as gone).
alive () {
  [ -n "$1" ] || return 1
  kill -0 "$1" 2>/dev/null || return 1
  state=$(sed -n 's/^[0-9]* (.*) \([A-Z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null || true)
  [ "$state" != Z ]
}

# Sends SIGTERM to PID and waits up to 10 s, then SIGKILL.
terminate () {
  alive "$1" || return 0
  kill -TERM "$1" 2>/dev/null || true
  i=0
  while alive "$1"; do
    i=$((i + 1))
    if [ $i -gt 100 ]; then
      kill -KILL "$1" 2>/dev/null || true
      sleep 0.1
      break
    fi
    sleep 0.1
  done
}

# Prints N free loopback TCP ports, one a line (all bound at once, so they are distinct).
free_ports () {
  "$PYTHON" - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
PY
}

# Waits up to 10 s until 127.0.0.1:PORT accepts a connection.
wait_port () {
  "$PYTHON" - "$1" <<'PY'
import socket, sys, time
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
PY
}

run_doveadm () {
  dir=$1
  shift
  # shellcheck disable=SC2086
  $AS_MAIL_USER "$DOVEADM" -c "$dir/dovecot.conf" "$@"
}

make_files () {
  dir=$1
  mkdir -p "$dir/home/alice" "$dir/home/bob" "$dir/run" "$dir/state" \
           "$dir/sink/new" "$dir/sink/cur" "$dir/sink/tmp"
  if [ ! -f "$dir/cert.pem" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=localhost \
      -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
      -keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1 \
      || die "openssl could not make a certificate"
  fi
  openssl x509 -in "$dir/cert.pem" -noout -fingerprint -sha256 \
    | sed 's/^.*=//' > "$dir/fingerprint"
  printf 'alice:{PLAIN}secret::::::\nbob:{PLAIN}secret::::::\n' > "$dir/passwd"
}

write_config () {
  dir=$1
  set -- $(free_ports 7)
  sep=${TD_MAIL_SEPARATOR:-/}
  sed -e "s|@DIR@|$dir|g" \
      -e "s|@USER@|$MAIL_USER|g" -e "s|@GROUP@|$MAIL_GROUP|g" \
      -e "s|@UID@|$MAIL_UID|g" -e "s|@GID@|$MAIL_GID|g" \
      -e "s|@SEPARATOR@|$sep|g" \
      -e "s|@IMAP_PORT@|$1|g" -e "s|@IMAPS_PORT@|$2|g" \
      -e "s|@POP3_PORT@|$3|g" -e "s|@POP3S_PORT@|$4|g" \
      -e "s|@SUBMISSION_PORT@|$5|g" -e "s|@SUBMISSIONS_PORT@|$6|g" \
      -e "s|@SINK_PORT@|$7|g" \
      "$HERE/dovecot.conf.in" > "$dir/dovecot.conf"
  if [ "${TD_MAIL_MINIMAL:-0}" = 1 ]; then
    # A plain IMAP4rev1 server: no SPECIAL-USE, CONDSTORE, QRESYNC, UIDPLUS, ESEARCH or
    # LIST-EXTENDED, so clients must fall back to guessing roles and fetching all flags.
    sed -i -e '/special_use = /d' "$dir/dovecot.conf"
    printf 'imap_capability = IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE\n' >> "$dir/dovecot.conf"
  elif [ -n "${TD_MAIL_CAPS:-}" ]; then
    printf 'imap_capability = %s\n' "$TD_MAIL_CAPS" >> "$dir/dovecot.conf"
  fi
  printf 'imap=%s\nimaps=%s\npop3=%s\npop3s=%s\nsubmission=%s\nsubmissions=%s\nsink=%s\n' \
    "$@" > "$dir/ports.tmp"
}

cmd_start () {
  [ $# -ge 1 ] || die "usage: start DIR [--owner-pid PID]"
  mkdir -p "$1"
  dir=$(cd "$1" && pwd)
  owner=""
  if [ "${2:-}" = "--owner-pid" ]; then
    owner=${3:?--owner-pid needs a PID}
  fi
  [ -x "$DOVECOT" ] || die "dovecot is not installed (run build-aux/install-deps.sh)"
  if [ -f "$dir/run/master.pid" ] && alive "$(cat "$dir/run/master.pid")"; then
    die "a server is already running in $dir"
  fi
  rm -f "$dir/ports" "$dir/pids"

  make_files "$dir"
  if [ "$(id -u)" = 0 ]; then
    chown -R "$MAIL_USER:$MAIL_GROUP" "$dir"
    chmod 0755 "$dir"
    $AS_MAIL_USER test -w "$dir" -a -r "$dir/key.pem" \
      || die "$dir is not reachable by $MAIL_USER (are its parent directories searchable?)"
  fi

  # A port picked free may be taken by someone else before Dovecot binds it: retry.
  attempt=0
  while :; do
    attempt=$((attempt + 1))
    write_config "$dir"
    [ "$(id -u)" != 0 ] || chown "$MAIL_USER:$MAIL_GROUP" "$dir/dovecot.conf"
    : > "$dir/dovecot.log"
    [ "$(id -u)" != 0 ] || chown "$MAIL_USER:$MAIL_GROUP" "$dir/dovecot.log"
    # shellcheck disable=SC2086
    if $AS_MAIL_USER "$DOVECOT" -c "$dir/dovecot.conf" </dev/null >"$dir/start.log" 2>&1 \
       && wait_port "$(read_key "$dir/ports.tmp" imaps)"; then
      break
    fi
    if [ -f "$dir/run/master.pid" ]; then
      terminate "$(cat "$dir/run/master.pid")"
    fi
    if [ $attempt -ge 3 ] || ! grep -qi "address already in use" "$dir/start.log" "$dir/dovecot.log"; then
      cat "$dir/start.log" "$dir/dovecot.log" >&2
      die "dovecot did not start"
    fi
  done
  master=$(cat "$dir/run/master.pid")

  sink_port=$(read_key "$dir/ports.tmp" sink)
  setsid "$PYTHON" -m aiosmtpd -n -l "127.0.0.1:$sink_port" -c aiosmtpd.handlers.Mailbox \
    "$dir/sink" </dev/null >"$dir/sink.log" 2>&1 &
  sink=$!
  if ! wait_port "$sink_port"; then
    terminate "$master"
    terminate "$sink"
    cat "$dir/sink.log" >&2
    die "the SMTP sink (aiosmtpd) did not start"
  fi

  watchdog=""
  if [ -n "$owner" ]; then
    setsid sh -c '
      while kill -0 "$1" 2>/dev/null && [ -e "$2/pids" ]; do sleep 0.5; done
      [ ! -e "$2/pids" ] || exec "$3" stop "$2"' \
      watchdog "$owner" "$dir" "$HERE/mail-server.sh" </dev/null >/dev/null 2>&1 &
    watchdog=$!
  fi

  printf 'master=%s\nsink=%s\nwatchdog=%s\n' "$master" "$sink" "$watchdog" > "$dir/pids"
  mv "$dir/ports.tmp" "$dir/ports"
}

cmd_stop () {
  [ $# -eq 1 ] || die "usage: stop DIR"
  dir=$1
  [ -f "$dir/pids" ] || [ -f "$dir/run/master.pid" ] || return 0
  master=""
  sink=""
  watchdog=""
  if [ -f "$dir/pids" ]; then
    master=$(read_key "$dir/pids" master)
    sink=$(read_key "$dir/pids" sink)
    watchdog=$(read_key "$dir/pids" watchdog)
  fi
  [ -n "$master" ] || master=$(cat "$dir/run/master.pid" 2>/dev/null || true)
  # The watchdog leaves by itself once DIR/pids is gone; it must not be the one killed when it
  # is running this very stop.
  rm -f "$dir/pids"
  if [ -n "$watchdog" ] && [ "$watchdog" != "$$" ]; then
    terminate "$watchdog"
  fi
  terminate "$master"
  terminate "$sink"
}

cmd_seed () {
  [ $# -ge 4 ] || die "usage: seed DIR USER FOLDER FILE..."
  dir=$1 user=$2 folder=$3
  shift 3
  if [ "$folder" != INBOX ]; then
    out=$(run_doveadm "$dir" mailbox create -s -u "$user" "$folder" 2>&1) \
      || echo "$out" | grep -qi "already exists" || die "$out"
  fi
  for f in "$@"; do
    run_doveadm "$dir" save -u "$user" -m "$folder" < "$f"
  done
}

cmd_seed_tree () {
  [ $# -eq 3 ] || die "usage: seed-tree DIR USER SRCDIR"
  [ -f "$1/dovecot.conf" ] || die "no server in $1"
  sep=$(sed -n 's/^ *separator = //p' "$1/dovecot.conf" | head -n 1)
  # shellcheck disable=SC2086
  "$PYTHON" "$HERE/seed-maildir.py" --uid "$MAIL_UID" --gid "$MAIL_GID" --separator "$sep" \
    --user "$2" "$3" -- $AS_MAIL_USER "$DOVEADM" -c "$1/dovecot.conf"
}

[ $# -ge 1 ] || die "usage: mail-server.sh start|stop|seed|seed-tree|doveadm DIR ..."
command=$1
shift
case "$command" in
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  seed) cmd_seed "$@" ;;
  seed-tree) cmd_seed_tree "$@" ;;
  doveadm)
    [ $# -ge 2 ] || die "usage: doveadm DIR ARGS..."
    run_doveadm "$@" ;;
  *) die "unknown command: $command" ;;
esac
