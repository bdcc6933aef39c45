#!/usr/bin/python3
# seed-maildir.py: bulk-seeds a tree of .eml files into a Dovecot user's Maildir.
# Called by mail-server.sh seed-tree; see there. Much faster than one "doveadm save" per
# message: the files are written into the Maildir directly (tmp/ then renamed into cur/, with
# the S= size and the Date header as time stamp, so Dovecot gives UIDs in date order), then
# one "doveadm force-resync" makes Dovecot index them.
#
# usage: seed-maildir.py --user U --uid N --gid N --separator C SRCDIR -- DOVEADM-COMMAND...
#
# SPDX-License-Identifier: GPL-3.0-or-later

import argparse
import email.utils
import os
import re
import subprocess
import sys
import time

FLAGS_RE = re.compile(r"^(?P<stem>.*?)(?:\.(?P<flags>[DFRST]+))?\.eml$")
DATE_RE = re.compile(rb"^Date:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.MULTILINE | re.IGNORECASE)


def doveadm(cmd, *args):
    proc = subprocess.run(cmd + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        sys.exit("doveadm %s failed: %s" % (" ".join(args), proc.stderr.decode(errors="replace")))
    return proc.stdout.decode()


def message_time(data, fallback):
    head = data.split(b"\n\n", 1)[0]
    m = DATE_RE.search(head)
    if m:
        try:
            value = re.sub(rb"\s+", b" ", m.group(1)).decode("ascii", "replace")
            return int(email.utils.parsedate_to_datetime(value).timestamp())
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    return fallback


def collect(srcdir, separator):
    folders = {}
    for root, dirs, files in os.walk(srcdir):
        dirs.sort()
        emls = sorted(f for f in files if f.endswith(".eml"))
        if not emls:
            continue
        rel = os.path.relpath(root, srcdir)
        name = "INBOX" if rel in (".", "INBOX") else rel.replace(os.sep, separator)
        folders[name] = [os.path.join(root, f) for f in emls]
    return folders


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--user", required=True)
    parser.add_argument("--uid", type=int, required=True)
    parser.add_argument("--gid", type=int, required=True)
    parser.add_argument("--separator", default="/")
    parser.add_argument("srcdir")
    argv = sys.argv[1:]
    if "--" not in argv:
        sys.exit("seed-maildir.py: no doveadm command given")
    split = argv.index("--")
    args = parser.parse_args(argv[:split])
    cmd = argv[split + 1:]
    if not cmd:
        sys.exit("seed-maildir.py: no doveadm command given")

    folders = collect(args.srcdir, args.separator)
    if not folders:
        sys.exit("seed-maildir.py: no .eml files under %s" % args.srcdir)

    existing = set(doveadm(cmd, "mailbox", "list", "-u", args.user).split("\n"))
    missing = [f for f in folders if f.upper() != "INBOX" and f not in existing]
    if missing:
        doveadm(cmd, "mailbox", "create", "-s", "-u", args.user, *missing)

    as_root = os.geteuid() == 0
    pid = os.getpid()
    counter = 0
    now = int(time.time())
    total = 0
    for name, files in folders.items():
        path = doveadm(cmd, "mailbox", "path", "-u", args.user, name).strip()
        for sub in ("cur", "new", "tmp"):
            d = os.path.join(path, sub)
            if not os.path.isdir(d):
                os.makedirs(d, exist_ok=True)
                if as_root:
                    os.chown(d, args.uid, args.gid)
        for src in files:
            m = FLAGS_RE.match(os.path.basename(src))
            flags = "".join(sorted(set(m.group("flags") or "")))
            with open(src, "rb") as f:
                data = f.read().replace(b"\r\n", b"\n")
            stamp = message_time(data, now)
            counter += 1
            base = "%d.M%dP%d.tidings,S=%d" % (stamp, counter, pid, len(data))
            tmp = os.path.join(path, "tmp", base)
            with open(tmp, "wb") as f:
                f.write(data)
            if as_root:
                os.chown(tmp, args.uid, args.gid)
            os.utime(tmp, (stamp, stamp))
            os.rename(tmp, os.path.join(path, "cur", base + ":2," + flags))
            total += 1

    doveadm(cmd, "force-resync", "-u", args.user, "*")
    print("seeded %d messages into %d folders" % (total, len(folders)))


if __name__ == "__main__":
    main()
