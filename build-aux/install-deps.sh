#!/bin/sh
# Installs the Debian 12 packages Tidings needs to build, test, demo and benchmark.
# Only what is missing is installed; nothing happens when everything is there.
set -eu

PACKAGES="meson ninja-build pkg-config gcc libgtk-4-dev libadwaita-1-dev libgmime-3.0-dev
libsecret-1-dev libsqlite3-dev libgnutls28-dev glib-networking libwebkitgtk-6.0-dev
libsoup-3.0-dev gettext itstool yelp-tools desktop-file-utils appstream libgtk-4-bin
libglib2.0-bin xvfb xauth dbus dbus-x11 gnome-keyring libsecret-tools dovecot-imapd
dovecot-pop3d dovecot-submissiond mailutils-imap4d python3 python3-aiosmtpd openssl imagemagick
fonts-cantarell fonts-noto-color-emoji fonts-noto-cjk adwaita-icon-theme"

if [ "${1:-}" = "--bench" ]; then
  PACKAGES="$PACKAGES isync fetchmail getmail6 time"
fi

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  exit 0
fi

echo "Installing:$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
