# bench/common.sh: what bench/resync.sh and bench/idle.sh share; sourced, not run.
# Before sourcing, set BENCH_NAME (the prefix of messages) and SRCDIR (the source tree).
#
# SPDX-License-Identifier: GPL-3.0-or-later

PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=python3
RESULTS=$SRCDIR/bench/results
MAIL_SERVER=$SRCDIR/build-aux/dovecot/mail-server.sh

say () {
  echo "$BENCH_NAME: $*" >&2
}

die () {
  say "$*"
  exit 1
}

positive () {
  case "$2" in
    ''|*[!0-9]*|0) die "$1 must be a positive number, not '$2'" ;;
  esac
}

# Prints the path of BUILDDIR's tidings-cli, or dies.
bench_cli () {
  [ -x "$1/src/cli/tidings-cli" ] || die "$1/src/cli/tidings-cli is not built (meson compile -C $1)"
  for tool in dbus-run-session gnome-keyring-daemon gdbus; do
    command -v "$tool" >/dev/null || die "$tool is missing (run: build-aux/install-deps.sh)"
  done
  echo "$(cd "$1" && pwd)/src/cli/tidings-cli"
}

# Prints the path of the cached mailbox of N small messages in K folders, made the first time.
bench_small_mailbox () {
  mailbox=$RESULTS/mailbox-small-$1x$2
  mkdir -p "$RESULTS"
  if [ ! -d "$mailbox" ]; then
    say "generating $1 messages in $2 folders into $mailbox (once)"
    rm -rf "$mailbox.tmp"
    "$PYTHON" "$SRCDIR/build-aux/make-sample-mailbox.py" --bench "$1" --folders "$2" --small \
      "$mailbox.tmp" >&2 || die "could not generate the mailbox"
    mv "$mailbox.tmp" "$mailbox"
  fi
  echo "$mailbox"
}

# A private temporary directory (BENCH_TMP) and a throwaway HOME and XDG dirs in it, so that
# nothing the tools write lands in your own; the caller's EXIT trap removes it.
bench_make_tmp () {
  BENCH_TMP=$(mktemp -d -t tidings-bench-XXXXXX)
  chmod 0711 "$BENCH_TMP"
  export BENCH_TMP
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
}

# The EXIT trap of a script that made BENCH_TMP and may start a server: stops the server,
# removes BENCH_TMP and keeps the exit status. Sets BENCH_SERVER empty (no server yet).
bench_cleanup_on_exit () {
  BENCH_SERVER=""
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM HUP
}

bench_cleanup () {
  status=$?
  trap - EXIT INT TERM
  bench_stop_server
  rm -rf "$BENCH_TMP"
  exit "$status"
}

# Prints the path of the cached first-sync mailbox of N messages (all in the Inbox, as
# bench/run.sh serves it), made the first time.
bench_big_mailbox () {
  mailbox=$RESULTS/mailbox-$1
  mkdir -p "$RESULTS"
  if [ ! -d "$mailbox" ]; then
    say "generating $1 messages into $mailbox (once)"
    rm -rf "$mailbox.tmp"
    "$PYTHON" "$SRCDIR/build-aux/make-sample-mailbox.py" --bench "$1" "$mailbox.tmp" >&2 ||
      die "could not generate the mailbox"
    mv "$mailbox.tmp" "$mailbox"
  fi
  echo "$mailbox"
}

# Starts a throwaway Dovecot in DIR (stopped by the watchdog if this shell dies) and seeds
# MAILBOX into alice's account; sets BENCH_SERVER, BENCH_IMAPS_PORT, BENCH_FINGERPRINT.
# usage: bench_start_server DIR MAILBOX
bench_start_server () {
  BENCH_SERVER=$1
  "$MAIL_SERVER" start "$BENCH_SERVER" --owner-pid $$ || die "the mail server did not start"
  "$MAIL_SERVER" seed-tree "$BENCH_SERVER" alice "$2" >&2 || die "could not seed the mailbox"
  BENCH_IMAPS_PORT=$(sed -n 's/^imaps=//p' "$BENCH_SERVER/ports")
  BENCH_FINGERPRINT=$(cat "$BENCH_SERVER/fingerprint")
  export BENCH_SERVER BENCH_IMAPS_PORT BENCH_FINGERPRINT
}

# Stops the server of bench_start_server (by the PIDs it wrote), if one runs.
bench_stop_server () {
  if [ -n "${BENCH_SERVER:-}" ]; then
    "$MAIL_SERVER" stop "$BENCH_SERVER" 2>/dev/null || true
    BENCH_SERVER=""
  fi
}

# Inside the private D-Bus session: an unlocked gnome-keyring for the password; stopped by
# its PID when the shell exits.
bench_start_keyring () {
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
}

# Adds alice's account on the bench server to the profile PROFILE.
bench_add_account () {
  printf secret | "$BENCH_CLI" --profile "$1" account add imap \
      --address alice@localhost --host localhost --port "$BENCH_IMAPS_PORT" --security tls \
      --user alice --name Bench --password-stdin --trust-fingerprint "$BENCH_FINGERPRINT" \
      >"$BENCH_TMP/add.log" 2>&1 || {
    cat "$BENCH_TMP/add.log" >&2
    die "tidings-cli account add failed"
  }
}

# Prints the total of `tidings-cli folders` of the profile PROFILE.
bench_count () {
  "$BENCH_CLI" --profile "$1" folders 2>/dev/null | awk -F '\t' '{ n += $3 } END { print n + 0 }'
}

# Appends FILE to bench/results/latest.txt and shows it.
bench_report () {
  [ ! -s "$RESULTS/latest.txt" ] || echo >> "$RESULTS/latest.txt"
  cat "$1" >> "$RESULTS/latest.txt"
  echo
  cat "$1"
}
