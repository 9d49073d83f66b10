#!/usr/bin/env python3
"""timed_run.py - wall-clock one emulator run for tests/bench/cpu_peers.sh.

usage: timed_run.py [--until-pass] [--timeout S] --log FILE -- CMD ARGS...

Starts CMD (stdin from /dev/null), collects its stdout and stderr into FILE
(stdout first, then a line "---- stderr ----" and stderr) and prints one line
"SECONDS CPU STATUS" on stdout, where SECONDS is the wall time from just before
the process was started, CPU the user + system CPU time of the process (all its
threads, from wait4's rusage) and STATUS is:
  - without --until-pass: the process's exit code (or "timeout");
  - with --until-pass: "pass" once the guest's final "PASS" line appears on the
    process's stdout, "fail" on a "FAIL (exit status N)" line, "exit" if the
    process ended first, "timeout" otherwise.  The process is then killed
    with SIGKILL (Bochs has no exit device and ignores SIGTERM), and SECONDS is
    the time at which the line arrived (CPU still includes the few
    milliseconds until the kill).
"""
import os
import re
import select
import signal
import subprocess
import sys
import time

END_RE = re.compile(rb"(?:^|\n)(PASS|FAIL \(exit status \d+\))\r?\n")


def main(argv):
    until_pass = False
    timeout = 300.0
    log = None
    i = 0
    while i < len(argv) and argv[i] != "--":
        if argv[i] == "--until-pass":
            until_pass = True
        elif argv[i] == "--timeout":
            i += 1
            timeout = float(argv[i])
        elif argv[i] == "--log":
            i += 1
            log = argv[i]
        else:
            print("timed_run.py: unknown option " + argv[i], file=sys.stderr)
            return 2
        i += 1
    cmd = argv[i + 1:]
    if not cmd or log is None:
        print(__doc__, file=sys.stderr)
        return 2

    out, err = bytearray(), bytearray()
    status = None
    t_end = None
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    streams = {p.stdout.fileno(): out, p.stderr.fileno(): err}
    while streams:
        left = t0 + timeout - time.monotonic()
        if left <= 0:
            status = "timeout"
            break
        ready, _, _ = select.select(list(streams), [], [], left)
        for fd in ready:
            data = os.read(fd, 65536)
            if not data:
                del streams[fd]
                continue
            streams[fd] += data
            if until_pass and fd == p.stdout.fileno():
                m = END_RE.search(out)
                if m:
                    t_end = time.monotonic()
                    status = "pass" if m.group(1) == b"PASS" else "fail"
        if status is not None:
            break
    if until_pass or status == "timeout":
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _, wstatus, ru = os.wait4(p.pid, 0)
        if status is None:
            status = "exit"
    else:
        _, wstatus, ru = os.wait4(p.pid, 0)
        t_end = time.monotonic()
        status = str(os.waitstatus_to_exitcode(wstatus))
    p.returncode = os.waitstatus_to_exitcode(wstatus)  # reaped here, not by Popen
    if t_end is None:
        t_end = time.monotonic()
    cpu = ru.ru_utime + ru.ru_stime
    with open(log, "wb") as f:
        f.write(bytes(out))
        f.write(b"\n---- stderr ----\n")
        f.write(bytes(err))
    print("%.6f %.6f %s" % (t_end - t0, cpu, status))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
