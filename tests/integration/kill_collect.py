#!/usr/bin/env python3
"""Kills `xmsg connect` with SIGKILL at random moments while it collects
N archived messages in small pages, runs it again until it is done, and
checks the union of what it printed: every message, in order, and exactly
once, except what a killed run printed after its last checkpoint (the
state file tells which), which must come again exactly once more. When a
run gets to the end before TRIALS kills, N more messages are sent, so that
every kill lands while messages remain.

  kill_collect.py XMSG FLOOD USER N TRIALS PAGE   (XMSG_LAB_ENV set)
"""
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

from labenv import lab_env


def parse_lines(text):
    """Complete JSON message lines; a torn last line is not handed over."""
    out = []
    for line in text.split("\n")[:-1]:
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if "body" in obj:
            out.append(obj)
    return out


def main():
    xmsg, flood, user, n, trials, page = sys.argv[1:7]
    n, trials = int(n), int(trials)
    lab = lab_env(os.environ["XMSG_LAB_ENV"])
    dom = lab["XMSG_LAB_DOMAIN"]
    work = tempfile.mkdtemp(prefix="xmsg-kill-")
    state = os.path.join(work, "state.json")
    env = dict(os.environ, XMSG_PASSWORD="pw-%s-Zq8" % user)
    cmd = [xmsg, "connect", "-j", "%s@%s" % (user, dom),
           "-H", lab["XMSG_LAB_HOST"], "-P", lab["XMSG_LAB_PORT"],
           "--ca-file", lab["XMSG_LAB_CA"], "-l", "error", "-T", "60",
           "--state-file", state, "--page-size", page]
    want = []

    def send_chunk():
        prefix = "c%02d" % (len(want) // n)
        subprocess.run([flood, "alice@" + dom, "pw-alice-Zq8",
                        lab["XMSG_LAB_HOST"], lab["XMSG_LAB_PORT"],
                        lab["XMSG_LAB_CA"], "%s@%s" % (user, dom), str(n),
                        prefix], check=True)
        want.extend("%s-%05d" % (prefix, i) for i in range(n))

    send_chunk()
    runs = []          # (lines, uncommitted lines) per run
    killed = windows = attempts = 0
    seed = int(os.environ.get("XMSG_KILL_SEED", time.time()))
    rnd = random.Random(seed)
    while killed < trials and attempts < 20 * trials:
        attempts += 1
        out = os.path.join(work, "out")
        with open(out, "w") as f:
            p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.DEVNULL,
                                 env=env)
            time.sleep(rnd.uniform(0.0, 0.2))
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                killed += 1
            p.wait()
        lines = parse_lines(open(out).read())
        after = None
        if os.path.exists(state):
            after = json.load(open(state)).get("after")
        ids = [m.get("archiveId") for m in lines]
        cut = ids.index(after) + 1 if after in ids else 0
        if p.returncode == 0:
            cut = len(lines)
            send_chunk()
        uncommitted = lines[cut:]
        windows += 1 if uncommitted else 0
        runs.append((lines, uncommitted))
    for _ in range(200):               # then to the end, undisturbed
        r = subprocess.run(cmd, capture_output=True, env=env, text=True)
        if r.returncode != 0:
            print("FAIL - a run without kill exited %d: %s" %
                  (r.returncode, r.stderr.strip()))
            return 1
        lines = parse_lines(r.stdout)
        runs.append((lines, []))
        if not lines:
            break
    seen, again, order_ok = {}, {}, True
    for lines, uncommitted in runs:
        bodies = [m["body"] for m in lines]
        order_ok &= bodies == sorted(bodies)
        for b in bodies:
            seen[b] = seen.get(b, 0) + 1
        for m in uncommitted:
            again[m["body"]] = again.get(m["body"], 0) + 1
    missing = [b for b in want if b not in seen]
    wrong = [b for b in want if b in seen and seen[b] != 1 + again.get(b, 0)]
    extra = [b for b in seen if b not in want]
    print("seed %d: %d kills, %d runs in all, %d messages; %d killed runs had "
          "printed past their checkpoint" % (seed, killed, len(runs),
                                             len(want), windows))
    checks = [("%d runs were killed while collecting" % trials,
               killed >= trials),
              ("every one of the %d messages was handed over" % len(want),
               not missing),
              ("each exactly once (plus the repeat of what a killed run "
               "printed past its checkpoint)", not wrong),
              ("nothing else was handed over", not extra),
              ("each run printed in archive order", order_ok)]
    failed = 0
    for name, ok in checks:
        print(("ok - " if ok else "FAIL - ") + name)
        failed += 0 if ok else 1
    if missing or wrong or extra:
        print("missing %s wrong %s extra %s" % (missing[:5], wrong[:5],
                                                extra[:5]))
    print("%d passed, %d failed" % (len(checks) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
