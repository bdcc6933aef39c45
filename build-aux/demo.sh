#!/bin/sh
# demo.sh BUILDDIR: Tidings on a throwaway mail server with a sample mailbox (`make demo`).
#
# Starts Dovecot on loopback in a temporary directory (build-aux/dovecot/mail-server.sh),
# seeds it with the sample mailbox (build-aux/make-sample-mailbox.py) for alice and bob, makes
# a throwaway profile (HOME and XDG dirs in the same temporary directory, a private D-Bus
# session with its own unlocked gnome-keyring), adds alice's IMAP account and bob's POP3
# account with tidings-cli and opens Tidings on them. Quitting Tidings stops the server and the keyring and removes everything.
#
# Headless check: DEMO_SCREENSHOT=FILE.png runs Tidings under Xvfb, takes a screenshot after
# DEMO_WAIT seconds (default 8), closes it, and fails when something did not work.
#
# SPDX-License-Identifier: GPL-3.0-or-later

set -eu

say () {
  echo "demo: $*" >&2
}

die () {
  say "$*"
  exit 1
}

# --- Inside the private D-Bus session ---------------------------------------------------------
if [ "${1:-}" = "--inside-session" ]; then
  # The bus and the services it starts log into session.log; this script and the app use the
  # terminal (fds 3 and 4).
  exec 1>&4 2>&3 3>&- 4>&-
  printf test | gnome-keyring-daemon --foreground --unlock --components=secrets \
    >"$DEMO_TMP/keyring.log" 2>&1 &
  keyring_pid=$!
  trap 'kill "$keyring_pid" 2>/dev/null; wait "$keyring_pid" 2>/dev/null || true' EXIT
  trap 'exit 130' INT TERM

  tries=0
  until gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
          --method org.freedesktop.DBus.NameHasOwner org.freedesktop.secrets 2>/dev/null |
        grep -q true; do
    tries=$((tries + 1))
    if [ "$tries" -ge 100 ] || ! kill -0 "$keyring_pid" 2>/dev/null; then
      cat "$DEMO_TMP/keyring.log" >&2
      die "gnome-keyring-daemon did not start"
    fi
    sleep 0.1
  done

  say "adding the account alice@localhost (password \"secret\") to the profile"
  account=$(printf secret | "$DEMO_CLI" --profile "$DEMO_PROFILE" account add imap \
              --address alice@localhost --host localhost --port "$DEMO_IMAPS_PORT" \
              --security tls --user alice --name "Demo" --password-stdin \
              --trust-fingerprint "$DEMO_FINGERPRINT") || die "tidings-cli account add failed"
  say "account $account added"
  say "adding the POP3 account bob@localhost (password \"secret\"), leaving mail on the server"
  account=$(printf secret | "$DEMO_CLI" --profile "$DEMO_PROFILE" account add pop3 \
              --address bob@localhost --host localhost --port "$DEMO_POP3S_PORT" \
              --security tls --user bob --name "Demo POP3" --password-stdin \
              --trust-fingerprint "$DEMO_FINGERPRINT" --leave-on-server) \
    || die "tidings-cli account add pop3 failed"
  say "account $account added"

  if [ -z "${DEMO_SCREENSHOT:-}" ]; then
    say "opening Tidings; quit it to stop the server and remove $DEMO_TMP"
    status=0
    "$DEMO_APP" --profile "$DEMO_PROFILE" || status=$?
    exit "$status"
  fi

  # Headless: a virtual X server, a screenshot after a while, then close the app.
  export GDK_BACKEND=x11
  xvfb-run -a -s '-screen 0 1280x800x24' sh -c '
    # Services the bus starts (portals) must find this display too.
    gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
      --method org.freedesktop.DBus.UpdateActivationEnvironment \
      "{\"DISPLAY\": \"$DISPLAY\", \"XAUTHORITY\": \"$XAUTHORITY\"}" >/dev/null
    "$DEMO_APP" --profile "$DEMO_PROFILE" >"$DEMO_TMP/app.log" 2>&1 &
    app=$!
    sleep "${DEMO_WAIT:-8}"
    if ! kill -0 "$app" 2>/dev/null; then
      cat "$DEMO_TMP/app.log" >&2
      echo "demo: Tidings exited before the screenshot" >&2
      exit 1
    fi
    status=0
    "$DEMO_IMPORT" -window root "$DEMO_SCREENSHOT" || status=$?
    kill "$app"
    wait "$app" 2>/dev/null || true
    exit "$status"
  ' || die "the headless run failed (app log: see above)"
  [ -s "$DEMO_SCREENSHOT" ] || die "no screenshot was written"
  say "screenshot saved to $DEMO_SCREENSHOT"
  exit 0
fi

# --- Outside: server, sample mailbox, throwaway profile ------------------------------------------
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILDDIR=${1:-build}
[ -d "$BUILDDIR" ] || die "no build directory $BUILDDIR (run: make build)"
BUILDDIR=$(cd "$BUILDDIR" && pwd)
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=python3

DEMO_CLI=$BUILDDIR/src/cli/tidings-cli
DEMO_APP=$BUILDDIR/src/app/tidings
[ -x "$DEMO_CLI" ] || die "$DEMO_CLI is not built (run: make build)"
[ -x "$DEMO_APP" ] || die "$DEMO_APP is not built (run: make build; is the app enabled?)"

if [ -n "${DEMO_SCREENSHOT:-}" ]; then
  case "$DEMO_SCREENSHOT" in
    /*) ;;
    *) DEMO_SCREENSHOT=$(pwd)/$DEMO_SCREENSHOT ;;
  esac
  command -v xvfb-run >/dev/null || die "xvfb-run is missing (run: build-aux/install-deps.sh)"
  # ImageMagick's own import, not a stand-in of the same name earlier in PATH.
  DEMO_IMPORT=/usr/bin/import
  [ -x "$DEMO_IMPORT" ] || DEMO_IMPORT=$(command -v import) \
    || die "import (ImageMagick) is missing (run: build-aux/install-deps.sh)"
  export DEMO_SCREENSHOT DEMO_IMPORT
elif [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  say "make demo opens a window, so it needs a graphical session (neither DISPLAY nor"
  say "WAYLAND_DISPLAY is set). Run it from a desktop terminal, or check it headless under"
  say "Xvfb, which saves a screenshot and closes the app:"
  say "  DEMO_SCREENSHOT=demo.png make demo"
  exit 1
fi

for tool in dbus-run-session gnome-keyring-daemon gdbus; do
  command -v "$tool" >/dev/null || die "$tool is missing (run: build-aux/install-deps.sh)"
done

DEMO_TMP=$(mktemp -d -t tidings-demo-XXXXXX)
# The mail server runs as nobody when we are root: it must be able to reach its directory.
chmod 0711 "$DEMO_TMP"
SERVER=$DEMO_TMP/server
MAIL_SERVER=$SRCDIR/build-aux/dovecot/mail-server.sh

cleanup () {
  status=$?
  trap - EXIT INT TERM
  "$MAIL_SERVER" stop "$SERVER" 2>/dev/null || true
  rm -rf "$DEMO_TMP"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

say "starting a throwaway Dovecot in $SERVER"
"$MAIL_SERVER" start "$SERVER" --owner-pid $$ || die "the mail server did not start"
DEMO_IMAPS_PORT=$(sed -n 's/^imaps=//p' "$SERVER/ports")
DEMO_POP3S_PORT=$(sed -n 's/^pop3s=//p' "$SERVER/ports")
DEMO_FINGERPRINT=$(cat "$SERVER/fingerprint")

say "making and seeding the sample mailbox"
"$PYTHON" "$SRCDIR/build-aux/make-sample-mailbox.py" "$DEMO_TMP/sample" >/dev/null \
  || die "could not make the sample mailbox"
"$MAIL_SERVER" seed-tree "$SERVER" alice "$DEMO_TMP/sample" >&2 \
  || die "could not seed the sample mailbox"
# bob reads the same Inbox over POP3 (which has no other folders)
"$MAIL_SERVER" seed-tree "$SERVER" bob "$DEMO_TMP/sample" >&2 \
  || die "could not seed the sample mailbox"
rm -rf "$DEMO_TMP/sample"

# The throwaway profile. A Wayland socket name and the X authority are found through
# XDG_RUNTIME_DIR and HOME, so pin them down before moving those.
if [ -n "${WAYLAND_DISPLAY:-}" ]; then
  case "$WAYLAND_DISPLAY" in
    /*) ;;
    *) WAYLAND_DISPLAY=${XDG_RUNTIME_DIR:-/run/user/$(id -u)}/$WAYLAND_DISPLAY ;;
  esac
  export WAYLAND_DISPLAY
fi
if [ -n "${DISPLAY:-}" ] && [ -z "${XAUTHORITY:-}" ] && [ -f "${HOME:-/nonexistent}/.Xauthority" ]; then
  export XAUTHORITY="$HOME/.Xauthority"
fi
if [ -n "${DEMO_SCREENSHOT:-}" ]; then
  unset DISPLAY WAYLAND_DISPLAY XAUTHORITY
fi

export HOME="$DEMO_TMP/home"
export XDG_DATA_HOME="$DEMO_TMP/data"
export XDG_CONFIG_HOME="$DEMO_TMP/config"
export XDG_CACHE_HOME="$DEMO_TMP/cache"
export XDG_STATE_HOME="$DEMO_TMP/state"
export XDG_RUNTIME_DIR="$DEMO_TMP/runtime"
for dir in "$HOME" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_STATE_HOME" \
           "$XDG_RUNTIME_DIR"; do
  mkdir -p "$dir"
  chmod 0700 "$dir"
done
unset DBUS_SESSION_BUS_ADDRESS GNOME_KEYRING_CONTROL SSH_AUTH_SOCK
export GSETTINGS_BACKEND=memory
export GSETTINGS_SCHEMA_DIR="$BUILDDIR/data"
export DEMO_TMP DEMO_CLI DEMO_APP DEMO_IMAPS_PORT DEMO_POP3S_PORT DEMO_FINGERPRINT
export DEMO_PROFILE="$DEMO_TMP/profile"

dbus-run-session -- sh "$0" --inside-session 3>&2 4>&1 >"$DEMO_TMP/session.log" 2>&1
