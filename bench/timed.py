#!/usr/bin/python3
# bench/timed.py RESULT LOG COMMAND...: runs COMMAND once, its stdout and stderr into LOG, and
# appends one line to RESULT: "WALL_MS PEAK_RSS_KB AFTER_CONNECTING_MS", or "FAIL" when it
# exits non-zero. The wall time is time.monotonic() around the child alone (milliseconds;
# /usr/bin/time only has hundredths of a second); the peak RSS is the child's own (wait4).
# AFTER_CONNECTING_MS comes from the "tidings-cli: timing:" lines that TD_BENCH_TIMING=1
# makes tidings-cli sync print (summed over accounts), or is "-". Exits with COMMAND's status.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import re
import subprocess
import sys
import time

AFTER_RE = re.compile(r"^tidings-cli: timing: .*after connecting ([0-9.]+) ms", re.MULTILINE)


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: timed.py RESULT LOG COMMAND...")
    result, log, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
    with open(log, "wb") as out:
        start = time.monotonic()
        child = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                 stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
        wall = (time.monotonic() - start) * 1000
    child.returncode = os.waitstatus_to_exitcode(status)
    with open(log, errors="replace") as f:
        after = [float(m) for m in AFTER_RE.findall(f.read())]
    with open(result, "a") as f:
        if child.returncode != 0:
            f.write("FAIL\n")
        else:
            f.write("%.1f %d %s\n" % (wall, usage.ru_maxrss,
                                       "%.1f" % sum(after) if after else "-"))
    sys.exit(child.returncode if child.returncode >= 0 else 1)


if __name__ == "__main__":
    main()
