#!/usr/bin/env python3
"""The checkpoint shared by every collector of one account, against a real
server (XMSG_LAB_ENV):

  jid    JIDs are normalised: collecting as T56@LOCALHOST after
         t56@localhost uses the same checkpoint file, and nothing is
         handed over twice.
  lock   two collectors at once on one account hand each message over
         exactly once in all; a collector that cannot get the state file's
         lock within its timeout fails with `timeout` (exit 6).
  share  connect and listen on one account hand each message over once:
         what connect collected, a later listen does not print, and the
         reverse; a message sent while neither runs comes from exactly one.

  state_e2e.py XMSG FLOOD MODE...
"""
import fcntl
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

from labenv import lab_env

XMSG, FLOOD = sys.argv[1], sys.argv[2]
MODES = sys.argv[3:]
LAB = lab_env(os.environ["XMSG_LAB_ENV"])
DOMAIN = LAB["XMSG_LAB_DOMAIN"]
STATE = tempfile.mkdtemp(prefix="xmsg-state-")
FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILS.append(what)


def env_for(user):
    env = dict(os.environ)
    env["XMSG_PASSWORD"] = "pw-%s-Zq8" % user.lower()
    env["XDG_STATE_HOME"] = STATE
    return env


def args(cmd, jid, *extra):
    return [XMSG, cmd, "-j", jid, "-H", LAB["XMSG_LAB_HOST"], "-P",
            LAB["XMSG_LAB_PORT"], "--ca-file", LAB["XMSG_LAB_CA"], "-l",
            "info", "-T", "60"] + list(extra)


def parse(out):
    lines = [json.loads(l) for l in out.splitlines() if l.strip()]
    return [m for m in lines if "body" in m], (lines[-1] if lines else {})


def xmsg(cmd, user, *extra, jid=None):
    jid = jid or "%s@%s" % (user, DOMAIN)
    p = subprocess.run(args(cmd, jid, *extra), capture_output=True,
                       env=env_for(user), timeout=300, text=True)
    msgs, status = parse(p.stdout)
    return p.returncode, msgs, status, p.stderr


def send(to, body):
    rc, _, _, err = xmsg("send", "alice", "-t", "%s@%s" % (to, DOMAIN),
                         "-m", body)
    check(rc == 0, "sent %s (%s)" % (body, err.strip()[-200:]))


def bodies(msgs):
    return [m["body"] for m in msgs]


# ---- jid: one checkpoint per account, whatever the case of the JID ----

def test_jid():
    user, upper = "t56", "T56@" + DOMAIN.upper()
    xmsg("connect", user)                      # the checkpoint, empty queue
    got = []
    send(user, "jid-1")
    rc, msgs, _, _ = xmsg("connect", user)
    check(rc == 0 and bodies(msgs) == ["jid-1"], "t56 collects jid-1: %s"
          % bodies(msgs))
    got += bodies(msgs)
    send(user, "jid-2")
    rc, msgs, st, err = xmsg("connect", user, jid=upper)
    check(rc == 0 and bodies(msgs) == ["jid-2"],
          "%s collects jid-2 only: %s %s" % (upper, bodies(msgs), err[-200:]))
    got += bodies(msgs)
    rc, msgs, _, _ = xmsg("connect", user)
    check(rc == 0 and msgs == [], "t56 again: nothing twice: %s"
          % bodies(msgs))
    got += bodies(msgs)
    send(user, "jid-3")
    rc, msgs, _, _ = xmsg("connect", user, jid=upper + "/Res")
    check(rc == 0 and bodies(msgs) == ["jid-3"], "%s/Res collects jid-3: %s"
          % (upper, bodies(msgs)))
    got += bodies(msgs)
    check(sorted(got) == ["jid-1", "jid-2", "jid-3"],
          "each message handed over once: %s" % got)
    files = sorted(os.path.basename(f) for f in
                   glob.glob(os.path.join(STATE, "xmsg", "*.json")))
    check(files == ["t56@%s.json" % DOMAIN],
          "one checkpoint file, named by the normalised JID: %s" % files)


# ---- lock: one collector at a time on a state file ----

def flood(user, n, prefix):
    subprocess.run([FLOOD, "alice@" + DOMAIN, "pw-alice-Zq8",
                    LAB["XMSG_LAB_HOST"], LAB["XMSG_LAB_PORT"],
                    LAB["XMSG_LAB_CA"], "%s@%s" % (user, DOMAIN), str(n),
                    prefix], check=True)
    return ["%s-%05d" % (prefix, i) for i in range(n)]


def test_two_collectors():
    user = "t57"
    xmsg("connect", user)                      # the checkpoint, empty queue
    want = flood(user, 200, "two")
    # The second waits for the lock while the first collects 40 pages:
    # its timeout bounds that wait, so it is generous (a loaded machine
    # is slow; this is no speed test).
    procs = [subprocess.Popen(args("connect", "%s@%s" % (user, DOMAIN),
                                   "--page-size", "5", "-T", "240"),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=env_for(user), text=True)
             for _ in range(2)]
    got, rcs, errs = [], [], []
    for p in procs:
        out, err = p.communicate(timeout=600)
        rcs.append(p.returncode)
        got += bodies(parse(out)[0])
        errs.append(parse(out)[1].get("error"))
    check(rcs == [0, 0], "both collectors exit 0: %s %s" % (rcs, errs))
    dup = sorted(b for b in set(got) if got.count(b) > 1)
    check(not dup, "no message handed over twice (%d twice, e.g. %s)"
          % (len(dup), dup[:3]))
    check(sorted(set(got)) == want, "every message handed over (%d of %d)"
          % (len(set(got)), len(want)))


def test_lock_timeout():
    user = "t57"
    path = os.path.join(STATE, "xmsg", "%s@%s.json" % (user, DOMAIN))
    with open(path + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        rc, _, st, err = xmsg("connect", user, "-T", "2")
    check(rc == 6, "a collector that cannot get the lock exits 6: %d" % rc)
    check(st.get("error", {}).get("code") == "timeout" and
          "locked" in st.get("error", {}).get("text", ""),
          "with error.code timeout, saying the state file is locked: %s"
          % st.get("error"))
    rc, _, st, _ = xmsg("connect", user, "-T", "2")
    check(rc == 0, "once the lock is free, the collector runs: %d" % rc)


def main():
    for mode in MODES:
        if mode == "jid":
            test_jid()
        elif mode == "lock":
            test_two_collectors()
            test_lock_timeout()
        elif mode == "share":
            test_share()
    print("%d failed" % len(FAILS))
    return 1 if FAILS else 0


# ---- share: connect and listen hand each message over once ----

def start_listen(user, *extra):
    # At most 60 s: -T is the server's time, not the listening's.
    return subprocess.Popen(args("listen", "%s@%s" % (user, DOMAIN),
                                 "--type", "message", "--duration", "60",
                                 *extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env_for(user), text=True)


def finish(p):
    out, err = p.communicate(timeout=300)
    msgs, status = parse(out)
    return p.returncode, bodies(msgs), status, err


def listen_until(user, count, *senders):
    """A listener printing `count` messages (at most 60 s); each sender
    runs once the listener is online; a string is an option of listen."""
    opts = [a for a in senders if isinstance(a, str)]
    senders = [a for a in senders if not isinstance(a, str)]
    p = start_listen(user, "--count", str(count), *opts)
    time.sleep(2)      # logged in and online; earlier sends come stored
    for f in senders:
        f()
    return finish(p)


def test_share():
    user = "t58"
    xmsg("connect", user)                      # the checkpoint, empty queue
    # 1. connect collects; a listener started afterwards does not print it
    # again (Prosody still holds it in offline storage and pushes it).
    send(user, "dup-1")
    rc, msgs, _, _ = xmsg("connect", user)
    check(rc == 0 and bodies(msgs) == ["dup-1"], "connect collects dup-1: %s"
          % bodies(msgs))
    rc, got, st, err = listen_until(user, 1, lambda: send(user, "live-1"))
    check(rc == 0 and got == ["live-1"],
          "a later listen does not print dup-1 again, prints live-1: %s %s"
          % (got, err.strip()[-300:]))
    # 2. listen printed it; a later connect does not hand it over again.
    rc, got, st, err = listen_until(user, 1, lambda: send(user, "dup-2"))
    check(rc == 0 and got == ["dup-2"], "listen prints dup-2: %s" % got)
    rc, msgs, st, _ = xmsg("connect", user)
    check(rc == 0 and msgs == [] and st.get("collected") == 0,
          "a later connect hands over nothing again: %s" % bodies(msgs))
    # 3. sent while neither runs: printed by exactly one of them.
    send(user, "gap-1")
    rc, got, _, _ = listen_until(user, 1)
    check(got == ["gap-1"], "listen prints what came while nobody ran: %s"
          % got)
    rc, msgs, _, _ = xmsg("connect", user)
    check(msgs == [], "then connect hands it over no more: %s"
          % bodies(msgs))
    send(user, "gap-2")
    rc, msgs, _, _ = xmsg("connect", user)
    check(bodies(msgs) == ["gap-2"], "connect collects gap-2: %s"
          % bodies(msgs))
    rc, got, _, _ = listen_until(user, 1, lambda: send(user, "live-2"))
    check(got == ["live-2"], "then listen prints it no more: %s" % got)
    # 4. a cron connect while listen runs: each message once in all.
    seen = []

    def connect_now():
        rc, msgs, _, _ = xmsg("connect", user)
        seen.extend(bodies(msgs))

    rc, got, _, _ = listen_until(
        user, 2, lambda: send(user, "live-3"), connect_now,
        lambda: send(user, "live-4"), connect_now)
    seen.extend(got)
    connect_now()
    check(sorted(seen) == ["live-3", "live-4"],
          "listen with connects meanwhile: each message once: %s" % seen)
    # 5. listen --from prints only some messages: it shares no checkpoint
    # then, and connect still hands over what it did not print.
    rc, got, _, _ = listen_until(
        user, 1, lambda: send(user, "filtered-1"),
        lambda: xmsg("send", "carol", "-t", "%s@%s" % (user, DOMAIN), "-m",
                     "from-carol"),
        "--from", "carol@" + DOMAIN)
    check(got == ["from-carol"], "listen --from carol prints carol's only: %s"
          % got)
    rc, msgs, _, _ = xmsg("connect", user)
    check("filtered-1" in bodies(msgs),
          "connect hands over what listen --from left: %s" % bodies(msgs))
    # 6. a listen daemon alone: its checkpoint stays small (seen is
    # folded into `after`), and a later connect has nothing to add.
    user = "t60"
    xmsg("connect", user)
    want = []
    rc, got, _, err = listen_until(
        user, 400, lambda: want.extend(flood(user, 400, "many")))
    check(got == want, "listen prints the 400 messages once, in order "
          "(%d) %s" % (len(got), err.strip()[-300:]))
    files = glob.glob(os.path.join(STATE, "xmsg", user + "@*.json"))
    state = json.load(open(files[0])) if len(files) == 1 else {}
    check(state and len(state.get("seen", [])) <= 257,
          "the checkpoint stays small: %d ids in seen"
          % len(state.get("seen", [])))
    rc, msgs, _, _ = xmsg("connect", user)
    check(rc == 0 and msgs == [], "then connect hands over nothing: %d"
          % len(msgs))


if __name__ == "__main__":
    sys.exit(main())
