#!/bin/sh
# keyring-session.sh TEST-BINARY [ARGS...]
#
# Runs a test against a real gnome-keyring on a private D-Bus session, in a throwaway home:
# HOME and the XDG directories point into a temporary directory (set before the bus starts,
# since services the bus starts inherit its environment), gnome-keyring-daemon is started
# unlocked with the password "test" (so a store into the default collection needs no
# prompt), and the test runs once org.freedesktop.secrets has an owner, with
# TD_TEST_KEEP_ENV=1 so that it keeps these directories. The test's stdout (TAP) passes
# through untouched; the daemon's output goes to stderr. Exits with the test's status.
#
# SPDX-License-Identifier: GPL-3.0-or-later

set -eu

if [ $# -lt 1 ]; then
  echo "usage: $0 TEST-BINARY [ARGS...]" >&2
  exit 2
fi

for tool in dbus-run-session gnome-keyring-daemon gdbus; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "Bail out! $tool is not installed (see build-aux/install-deps.sh)"
    exit 1
  fi
done

TD_KEYRING_TMP=$(mktemp -d -t tidings-keyring-XXXXXX)
export TD_KEYRING_TMP
trap 'rm -rf "$TD_KEYRING_TMP"' EXIT
trap 'exit 130' INT TERM

export HOME="$TD_KEYRING_TMP/home"
export XDG_DATA_HOME="$TD_KEYRING_TMP/data"
export XDG_CONFIG_HOME="$TD_KEYRING_TMP/config"
export XDG_CACHE_HOME="$TD_KEYRING_TMP/cache"
export XDG_STATE_HOME="$TD_KEYRING_TMP/state"
export XDG_RUNTIME_DIR="$TD_KEYRING_TMP/runtime"
for dir in "$HOME" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_STATE_HOME" \
           "$XDG_RUNTIME_DIR"; do
  mkdir -p "$dir"
  chmod 0700 "$dir"
done
# Nothing of a desktop session may leak in.
unset DBUS_SESSION_BUS_ADDRESS GNOME_KEYRING_CONTROL SSH_AUTH_SOCK DISPLAY WAYLAND_DISPLAY

# The test's TAP goes to the original stdout (fd 3); the bus, and every service it starts
# (the accessibility registry announces itself on stdout), write to stderr instead.
exec 3>&1
set +e
dbus-run-session -- sh -c '
  # The daemon stays in the foreground of this background job, so $! is its own pid. It
  # reads the unlock password from stdin; its chatter goes to stderr, never into the TAP.
  printf test | gnome-keyring-daemon --foreground --unlock --components=secrets 1>&2 &
  keyring_pid=$!

  stop_keyring () {
    kill "$keyring_pid" 2>/dev/null
    wait "$keyring_pid" 2>/dev/null
  }

  tries=0
  until gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
          --method org.freedesktop.DBus.NameHasOwner org.freedesktop.secrets 2>/dev/null |
        grep -q true; do
    tries=$((tries + 1))
    if [ "$tries" -ge 100 ] || ! kill -0 "$keyring_pid" 2>/dev/null; then
      echo "Bail out! gnome-keyring-daemon did not take org.freedesktop.secrets" >&3
      stop_keyring
      exit 1
    fi
    sleep 0.1
  done

  TD_TEST_KEEP_ENV=1 "$@" >&3
  status=$?
  stop_keyring
  exit "$status"
' keyring-session "$@" >&2
status=$?
set -e

exit "$status"
