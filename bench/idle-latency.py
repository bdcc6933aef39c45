#!/usr/bin/python3
# bench/idle-latency.py RESULT DELIVERIES -- WATCH-COMMAND... -- DELIVER-COMMAND...
# Starts WATCH-COMMAND (`tidings-cli --profile P watch`), waits until it says it is connected
# and waiting for new mail, then DELIVERIES times: writes a new message with a unique subject
# to DELIVER-COMMAND's standard input (`doveadm save` into the Inbox), and waits until the
# watch prints a line with that subject. Appends per delivery "LATENCY_MS DELIVERY_MS" to
# RESULT: from just before the delivery started to the line (time.monotonic), and how long
# the delivery command itself took; "FAIL" when no line came within 30 s. Waits a second
# between deliveries, so each starts with the watch idle. Ends the watch with SIGTERM.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import email.utils
import os
import queue
import signal
import subprocess
import sys
import threading
import time

READY_TIMEOUT = 120
LINE_TIMEOUT = 30


def reader(stream, name, lines, log):
    for raw in iter(stream.readline, b""):
        line = raw.decode(errors="replace")
        lines.put((time.monotonic(), name, line))
        log.write("%s: %s" % (name, line))
        log.flush()
    lines.put((time.monotonic(), name, None))


def message(n, token):
    return ("From: Idle Bench <bench@tidings.example>\r\n"
            "To: Alice Liddell <alice@localhost>\r\n"
            "Subject: IDLE probe %d %s\r\n"
            "Date: %s\r\n"
            "Message-ID: <idle.%d.%s@tidings.example>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "\r\n"
            "Probe %d of the IDLE benchmark.\r\n"
            % (n, token, email.utils.formatdate(localtime=True), n, token, n)).encode()


def main():
    argv = sys.argv[1:]
    if len(argv) < 5 or argv[2] != "--" or "--" not in argv[3:]:
        sys.exit("usage: idle-latency.py RESULT DELIVERIES -- WATCH... -- DELIVER...")
    result, deliveries = argv[0], int(argv[1])
    split = argv.index("--", 3)
    watch_cmd, deliver_cmd = argv[3:split], argv[split + 1:]

    lines = queue.Queue()
    log = open(result + ".log", "w")
    watch = subprocess.Popen(watch_cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    for stream, name in ((watch.stdout, "out"), (watch.stderr, "err")):
        threading.Thread(target=reader, args=(stream, name, lines, log), daemon=True).start()

    def next_line(deadline):
        try:
            return lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return None

    status = 0
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            item = next_line(deadline)
            if item is None or item[2] is None:
                sys.exit("idle-latency.py: the watch did not get ready (see %s.log)" % result)
            if item[1] == "err" and "waiting for new mail" in item[2]:
                break
        time.sleep(1)   # let the IDLE command reach the server

        token = "%x" % os.getpid()
        with open(result, "a") as out:
            for n in range(1, deliveries + 1):
                subject = "IDLE probe %d %s" % (n, token)
                data = message(n, token)
                start = time.monotonic()
                proc = subprocess.run(deliver_cmd, input=data, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE)
                delivered = time.monotonic()
                if proc.returncode != 0:
                    sys.exit("idle-latency.py: delivering failed: %s"
                             % proc.stderr.decode(errors="replace"))
                deadline = start + LINE_TIMEOUT
                seen = None
                while seen is None:
                    item = next_line(deadline)
                    if item is None:
                        break
                    if item[2] is None:
                        sys.exit("idle-latency.py: the watch ended (see %s.log)" % result)
                    if item[1] == "out" and subject in item[2]:
                        seen = item[0]
                if seen is None:
                    out.write("FAIL\n")
                    print("  delivery %d: no line within %d s" % (n, LINE_TIMEOUT),
                          file=sys.stderr)
                    status = 1
                else:
                    out.write("%.1f %.1f\n" % ((seen - start) * 1000,
                                               (delivered - start) * 1000))
                    print("  delivery %d: %.0f ms (delivering took %.0f ms)"
                          % (n, (seen - start) * 1000, (delivered - start) * 1000),
                          file=sys.stderr)
                out.flush()
                time.sleep(1)
    finally:
        if watch.poll() is None:
            watch.send_signal(signal.SIGTERM)
            try:
                watch.wait(timeout=10)
            except subprocess.TimeoutExpired:
                watch.kill()
                watch.wait()
    sys.exit(status)


if __name__ == "__main__":
    main()
