#!/bin/sh
# ui-session.sh TEST-BINARY [ARGS...]
#
# Runs a UI test in a real X server (Xvfb, 1280x800x24) on a private D-Bus session with a
# real, unlocked gnome-keyring, in a throwaway HOME and XDG directories (set before the bus
# starts, so that the services it starts inherit them). The test runs with
# TD_TEST_KEEP_ENV=1 (it keeps those directories) and GDK_BACKEND=x11. Its stdout (TAP)
# passes through; the exit status is the test's.
#
# The keyring part is tests/integration/keyring-session.sh; this script puts Xvfb inside it.
#
# SPDX-License-Identifier: GPL-3.0-or-later

set -eu

if [ $# -lt 1 ]; then
  echo "usage: $0 TEST-BINARY [ARGS...]" >&2
  exit 2
fi

here=$(cd "$(dirname "$0")" && pwd)
keyring_session="$here/../integration/keyring-session.sh"

for tool in xvfb-run xauth dbus-run-session gnome-keyring-daemon gdbus; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "Bail out! $tool is not installed (see build-aux/install-deps.sh)"
    exit 1
  fi
done

if [ ! -f "$keyring_session" ]; then
  echo "Bail out! $keyring_session is missing"
  exit 1
fi

# Not a desktop session: no display, no accessibility bus, no portals of the real session.
unset DISPLAY WAYLAND_DISPLAY
export GDK_BACKEND=x11
export NO_AT_BRIDGE=1
export GTK_A11Y=none
# libadwaita would ask the settings portal for the colour scheme.
export ADW_DISABLE_PORTAL=1
export GSETTINGS_BACKEND="${GSETTINGS_BACKEND:-memory}"

# GTK (Inhibit) and GIO in WebKit's processes (PowerProfileMonitor) still ask for
# xdg-desktop-portal. On this private bus it would start without a display, and its
# document portal would leave a FUSE mount in XDG_RUNTIME_DIR. The first data dir wins for
# D-Bus services: ours makes those activations fail at once.
TD_UI_TMP=$(mktemp -d -t tidings-ui-XXXXXX)
trap 'rm -rf "$TD_UI_TMP"' EXIT
trap 'exit 130' INT TERM
mkdir -p "$TD_UI_TMP/share/dbus-1/services"
for name in org.freedesktop.portal.Desktop org.freedesktop.portal.Documents; do
  printf '[D-BUS Service]\nName=%s\nExec=/bin/false\n' "$name" \
    > "$TD_UI_TMP/share/dbus-1/services/$name.service"
done
export XDG_DATA_DIRS="$TD_UI_TMP/share:${XDG_DATA_DIRS:-/usr/local/share:/usr/share}"

set +e
sh "$keyring_session" \
  xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" "$@"
status=$?
set -e
exit "$status"
