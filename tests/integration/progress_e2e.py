#!/usr/bin/env python3
"""The progress line against a lab server: on stderr only, only when
stderr is a terminal (a pty here), never with --no-progress or --quiet.

    progress_e2e.py XMSG    with XMSG_LAB_ENV naming the server's env file

A batch of 300 messages (the sender u13) and a collection of them (u14)
run with stderr on a pty and stdout on a pipe; the same without a pty.
"""
import os
import pty
import subprocess
import sys
import tempfile

from labenv import lab_env

XMSG = sys.argv[1]
ENV = lab_env(os.environ["XMSG_LAB_ENV"])
D = ENV["XMSG_LAB_DOMAIN"]
SRV = ["-H", ENV["XMSG_LAB_HOST"], "-P", ENV["XMSG_LAB_PORT"],
       "--ca-file", ENV["XMSG_LAB_CA"], "-T", "60"]
N = 300
failed = 0


def check(name, ok):
    global failed
    print(("ok - " if ok else "FAIL - ") + name)
    failed += not ok


def run(user, args, stdin=b"", tty=True):
    """Runs xmsg as user; returns (rc, stdout, stderr as the terminal or
    the pipe got it)."""
    env = dict(os.environ, XMSG_PASSWORD="pw-%s-Zq8" % user,
               XDG_STATE_HOME=STATE)
    if not tty:
        p = subprocess.run([XMSG] + args, input=stdin, capture_output=True,
                           env=env, timeout=300)
        return p.returncode, p.stdout, p.stderr
    master, slave = pty.openpty()
    # stdout to a file, not a pipe: nobody reads it before the end.
    with tempfile.TemporaryFile() as inp, tempfile.TemporaryFile() as outf:
        inp.write(stdin)
        inp.seek(0)
        p = subprocess.Popen([XMSG] + args, stdin=inp, stdout=outf,
                             stderr=slave, env=env)
        os.close(slave)
        err = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            err += chunk
        rc = p.wait(timeout=300)
        outf.seek(0)
        out = outf.read()
    os.close(master)
    return rc, out, err


def lines(n, tag):
    return b"".join(b'{"to":"u14@%s","body":"%s %d"}\n' % (D.encode(),
                                                        tag.encode(), i)
                    for i in range(n))


with tempfile.TemporaryDirectory() as STATE:
    run("u14", ["connect", "-j", "u14@" + D] + SRV + ["-l", "error"],
        tty=False)
    rc, out, err = run("u13", ["send", "--batch", "-j", "u13@" + D] + SRV,
                       lines(N, "a"))
    check("batch with a terminal on stderr exits 0", rc == 0)
    check("its progress line on stderr: sent and confirmed, rate",
          b"sent %d, confirmed %d" % (N, N) in err and b"/s" in err)
    check("redrawn in place (carriage return, erase)",
          b"\r" in err and b"\x1b[K" in err)
    check("nothing of it on stdout",
          b"confirmed" not in out and b"\r" not in out
          and out.count(b"\n") == N + 1)
    rc, out, err = run("u14", ["connect", "-j", "u14@" + D, "--page-size",
                               "50"] + SRV)
    check("connect with a terminal on stderr exits 0", rc == 0)
    check("its progress line: messages, pages",
          b"collected %d messages, " % N in err and b"pages" in err)
    check("and stdout holds the messages and the status only",
          out.count(b"\n") == N + 1 and b"collected %d" % N not in out)
    rc, out, err = run("u13", ["send", "--batch", "-j", "u13@" + D] + SRV,
                       lines(5, "b"), tty=False)
    check("stderr not a terminal: no progress",
          rc == 0 and b"sent" not in err and b"\r" not in err)
    for flag in ["--no-progress", "--quiet"]:
        rc, out, err = run("u13", ["send", "--batch", flag, "-j", "u13@" + D]
                           + SRV, lines(5, "c"))
        check("%s on a terminal: no progress" % flag,
              rc == 0 and b"sent" not in err and b"\r" not in err)
    rc, out, err = run("u14", ["connect", "-j", "u14@" + D, "--no-progress"]
                       + SRV)
    check("connect --no-progress: no progress",
          rc == 0 and b"collected" not in err)

print("%s" % ("all passed" if not failed else "%d failed" % failed))
sys.exit(1 if failed else 0)
