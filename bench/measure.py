#!/usr/bin/python3
"""Runs one command and appends one sample line to OUT:

    wall_s peak_rss_kib user_s sys_s exit_status server_cpu_s

wall is measured from fork to exit (the measuring Python's start-up is not
in it); peak RSS, user and system CPU come from wait4()'s rusage of that
child alone, with microsecond resolution. With BENCH_SERVER_PID set, the
server's utime+stime (from /proc/PID/stat) consumed meanwhile is recorded
too (else 0). stdin, stdout and stderr are the command's.

    measure.py OUT CMD [ARG...]
"""
import os
import sys
import time


def server_cpu(pid):
    if not pid:
        return 0.0
    with open("/proc/%s/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of stat(5); fields[0] is field 3.
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, argv = sys.argv[1], sys.argv[2:]
    spid = os.environ.get("BENCH_SERVER_PID", "")
    cpu0 = server_cpu(spid)
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    _, status, ru = os.wait4(pid, 0)
    wall = time.monotonic() - t0
    cpu = server_cpu(spid) - cpu0
    rc = os.waitstatus_to_exitcode(status)
    with open(out, "a") as f:
        f.write("%.6f %d %.6f %.6f %d %.3f\n" % (
            wall, ru.ru_maxrss, ru.ru_utime, ru.ru_stime, rc, cpu))
    sys.exit(0)


if __name__ == "__main__":
    main()
