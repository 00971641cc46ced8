#!/usr/bin/env python3
"""Runs a command, then writes its peak resident memory (KiB) to FILE and
exits with the command's own exit status.   rss.py FILE CMD [ARG...]"""
import os
import subprocess
import sys

child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
with open(sys.argv[1], "w") as f:
    f.write("%d\n" % usage.ru_maxrss)
sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)
