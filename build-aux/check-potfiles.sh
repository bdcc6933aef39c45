#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Checks po/POTFILES.in against the tree:
#  - every src/**/*.c with a gettext call (_ (), N_ (), C_ (), NC_ ()) and every src/**/*.ui with
#    translatable="yes" must be listed;
#  - every data file with strings (*.desktop.in, *.metainfo.xml.in, *.gschema.xml) must be listed;
#  - every listed file must exist.
# Usage: build-aux/check-potfiles.sh [SOURCE_ROOT]   (default: the parent of this script's dir)
set -eu

srcroot="${1:-$(dirname "$0")/..}"
cd "$srcroot"

potfiles=po/POTFILES.in
if [ ! -f "$potfiles" ]; then
  echo "check-potfiles: $potfiles not found" >&2
  exit 1
fi

# The listed files: no comments, no blank lines, no [encoding] markers, no surrounding spaces.
listed=$(sed -e 's/#.*//' -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' "$potfiles" \
         | grep -v -e '^$' -e '^\[' || true)

status=0

for f in $listed; do
  if [ ! -f "$f" ]; then
    echo "check-potfiles: $potfiles lists $f, which does not exist" >&2
    status=1
  fi
done

is_listed ()
{
  printf '%s\n' "$listed" | grep -q -x -F -e "$1"
}

# A gettext call: _, N_, C_ or NC_ as a whole identifier, then optional blanks and "(".
gettext_call='(^|[^[:alnum:]_])(N|C|NC)?_[[:space:]]*\('

candidates=$(
  {
    find src -type f -name '*.c' -exec grep -l -E -e "$gettext_call" {} + 2>/dev/null || true
    find src -type f -name '*.ui' -exec grep -l -e 'translatable="yes"' {} + 2>/dev/null || true
    find data -type f \( -name '*.desktop.in' -o -name '*.metainfo.xml.in' \
                         -o -name '*.gschema.xml' \) 2>/dev/null || true
  } | sed -e 's|^\./||' | LC_ALL=C sort -u
)

for f in $candidates; do
  if ! is_listed "$f"; then
    echo "check-potfiles: $f has translatable strings but is not in $potfiles" >&2
    status=1
  fi
done

if [ "$status" = 0 ]; then
  echo "check-potfiles: $potfiles is complete ($(printf '%s\n' "$listed" | grep -c .) files)"
fi
exit "$status"
