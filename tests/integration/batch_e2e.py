#!/usr/bin/env python3
"""xmsg send --batch against a real server (XMSG_LAB_ENV):
- every input gets one result line, in input order, with the right code
  (good, malformed JSON, missing field, unknown recipient, NUL byte,
  overlong line, explicit id), then the status line; exit code the worst;
- what was reported delivered arrives, in input order (collected back);
- a JSON array file works the same;
- a refused login reports every input as not sent (auth, exit 5);
- a producer slower than the timeout is not the server's fault: its
  input is sent and confirmed;
- 10,000 lines keep peak RSS flat: no more than 2 MiB above 1,000 lines.

- (mode "fault", a plaintext server) the connection cut in the middle of
  a batch: every input is still reported; what was reported delivered
  arrived, what was reported not sent did not.

  batch_e2e.py XMSG [big|fault]   ("big": also the 10,000-line memory check)
"""
import json
import os
import resource
import subprocess
import sys
import tempfile

from labenv import lab_env

XMSG = sys.argv[1]
MODE = sys.argv[2] if len(sys.argv) > 2 else ""
BIG = MODE == "big"
FAILS = []


LAB = lab_env(os.environ["XMSG_LAB_ENV"])
DOMAIN = LAB["XMSG_LAB_DOMAIN"]
STATE = tempfile.mkdtemp(prefix="xmsg-batch-")


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def base(user, password=None, port=None):
    env = dict(os.environ)
    env["XMSG_PASSWORD"] = password or "pw-%s-Zq8" % user
    env["XDG_STATE_HOME"] = STATE
    args = [XMSG, "-j", "%s@%s" % (user, DOMAIN), "-H", LAB["XMSG_LAB_HOST"],
            "-P", port or LAB["XMSG_LAB_PORT"], "-l", "info"]
    if LAB["XMSG_LAB_MODE"] == "plain":
        args += ["--no-tls"]
    else:
        args += ["--ca-file", LAB["XMSG_LAB_CA"]]
    return args, env


def send_batch(user, data, extra=(), password=None, port=None):
    args, env = base(user, password, port)
    p = subprocess.run([XMSG, "send"] + args[1:] + ["--batch"] + list(extra),
                       input=data, capture_output=True, env=env, timeout=300)
    lines = [json.loads(l) for l in p.stdout.decode().splitlines()]
    return p.returncode, lines[:-1], lines[-1] if lines else {}


def collect(user):
    args, env = base(user)
    p = subprocess.run([XMSG, "connect"] + args[1:], capture_output=True,
                       env=env, timeout=300)
    lines = [json.loads(l) for l in p.stdout.decode().splitlines()]
    return [m for m in lines if "body" in m]


def to(user):
    return "%s@%s" % (user, DOMAIN)


def test_mixed_inputs():
    collect("t55")  # the recipient's first collection: checkpoint set
    good = lambda body, **kw: json.dumps(dict(to=to("t55"), body=body, **kw))
    inputs = [
        good("first"),
        "{not json",
        "",  # blank lines are not inputs
        json.dumps({"body": "no recipient"}),
        json.dumps({"to": to("nobody"), "body": "unknown user"}),
        good("with id", id="batch-id-1"),
        '{"to":"%s","body":"nul\x00byte"}' % to("t55"),
        '{"to":"%s","body":"%s"}' % (to("t55"), "x" * (1024 * 1024 + 10)),
        good("last"),
    ]
    data = ("\n".join(inputs) + "\n").encode()
    rc, res, status = send_batch("t54", data)
    check(rc == 8, "mixed batch exits 8 (protocol, the worst) got %d" % rc)
    want = [(1, None), (2, "input"), (4, "input"), (5, "protocol"),
            (6, None), (7, "input"), (8, "input"), (9, None)]
    check(len(res) == len(want), "one result line per input (%d)" % len(res))
    for i, (r, (line, code)) in enumerate(zip(res, want)):
        got = r.get("error", {}).get("code")
        check(r["index"] == i and r["line"] == line and got == code and
              r["delivered"] == (code is None),
              "input %d (line %d): %s" % (i, line, json.dumps(r)[:160]))
    check(len(res) > 4 and res[4].get("id") == "batch-id-1",
          "explicit id kept")
    check(status.get("batch") == {"inputs": 8, "delivered": 3, "failed": 5},
          "status counts %s" % status.get("batch"))
    got = [m["body"] for m in collect("t55")]
    check(got == ["first", "with id", "last"],
          "delivered ones arrive, in order: %s" % got)


def test_order_and_array():
    n = 300
    msgs = [{"to": to("t55"), "body": "m%03d" % i} for i in range(n)]
    data = "".join(json.dumps(m) + "\n" for m in msgs).encode()
    rc, res, status = send_batch("t54", data, ["--window", "7"])
    check(rc == 0 and all(r["delivered"] for r in res) and len(res) == n,
          "300 lines, window 7: all delivered (rc %d)" % rc)
    ids = [r["id"] for r in res]
    check([r["index"] for r in res] == list(range(n)), "results in order")
    got = collect("t55")
    check([m["body"] for m in got] == [m["body"] for m in msgs],
          "300 messages collected in input order")
    check([m.get("id") for m in got] == ids,
          "the ids reported are the ids received")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(msgs[:20], f, indent=1)
        path = f.name
    rc, res, status = send_batch("t54", b"", ["--message", path])
    os.unlink(path)
    check(rc == 0 and len(res) == 20 and all(r["delivered"] for r in res),
          "a JSON array file: 20 delivered")
    check([m["body"] for m in collect("t55")] ==
          [m["body"] for m in msgs[:20]], "array messages in order")


def test_array_malformed():
    good = json.dumps({"to": to("t55"), "body": "array"})
    cases = [("[", ["input"]), ("{}", ["input"]), ("", ["input"]),
             (" [ ] ", []), ("[] x", ["input"]),
             ("[%s] x" % good, [None, "input"]),
             ("[%s, 5, {\"body\":\"b\"}]" % good, [None, "input", "input"]),
             ("[,]", ["input", "input"])]
    for text, want in cases:
        with tempfile.NamedTemporaryFile("w", delete=False) as f:
            f.write(text)
        rc, res, _ = send_batch("t54", b"", ["--message", f.name])
        os.unlink(f.name)
        codes = [r.get("error", {}).get("code") for r in res]
        check(codes == want and rc == (2 if "input" in want else 0),
              "array %r: %s, exit %d" % (text[:30], codes, rc))
    collect("t55")


def test_login_refused():
    data = b'{"to":"%s","body":"a"}\n{bad\n{"to":"%s","body":"b"}\n' % (
        to("t55").encode(), to("t55").encode())
    rc, res, status = send_batch("t58", data, password="wrong")
    codes = [r.get("error", {}).get("code") for r in res]
    check(rc == 5, "refused login exits 5 (got %d)" % rc)
    check(codes == ["auth", "input", "auth"],
          "every input reported, not sent: %s" % codes)


def test_slow_producer():
    """Time the producer takes is not the server's: input that comes 5 s
    after the login, then 5 s after the first result, with -T 3, is sent
    and confirmed (the server kept the stream meanwhile)."""
    collect("t63")
    args, env = base("t50")
    line = lambda body: "echo '%s'" % json.dumps(dict(to=to("t63"),
                                                      body=body))
    producer = "sleep 5; %s; sleep 5; %s" % (line("after a pause"),
                                             line("after another"))
    cmd = "(%s) | %s" % (producer, " ".join(
        "'%s'" % a for a in [XMSG, "send"] + args[1:] + ["--batch", "-T", "3"]))
    p = subprocess.run(["sh", "-c", cmd], capture_output=True, env=env,
                       timeout=120)
    lines = [json.loads(l) for l in p.stdout.decode().splitlines()]
    check(p.returncode == 0 and len(lines) == 3 and
          all(r.get("delivered") for r in lines[:2]),
          "a producer slower than -T: both delivered, exit 0 (got %d: %s)" %
          (p.returncode, lines[:2]))
    check([m["body"] for m in collect("t63")] ==
          ["after a pause", "after another"], "and both arrived")


def peak_rss_kb(n, user_to):
    """xmsg's peak RSS for a batch of n lines. Headlines: the server
    stores none for an offline user, so its own cost (an archive or
    offline store at its quota rewrites the whole file for each message
    on Prosody) stays out of what is measured, and no wait depends on
    the server's speed. -T 120: a loaded machine is slow, no speed test."""
    data = "".join('{"to":"%s","type":"headline","body":"message %d"}\n'
                   % (to(user_to), i) for i in range(n)).encode()
    args, env = base("t56")
    # A child of its own: RUSAGE_CHILDREN's maximum is per waited child.
    p = subprocess.run([sys.executable, "-c", RUSAGE_CHILD, XMSG] + args[1:] +
                       ["-T", "120"], input=data, capture_output=True,
                       env=env, timeout=600)
    out = p.stdout.decode().splitlines()
    results = [json.loads(l) for l in out[:-1]]
    bad = [r for r in results[:-1] if not r.get("delivered")]
    ok = p.returncode == 0 and len(results) == n + 1 and not bad
    if not ok:
        print("     %d lines: exit %d, %d results, %d not delivered, e.g. %s"
              % (n, p.returncode, len(results), len(bad), bad[:2]))
        print("     status: %s" % (results[-1] if results else None))
        print("     stderr: %s" % p.stderr.decode()[-800:])
    return ok, int(out[-1]) if out else -1


RUSAGE_CHILD = """
import resource, subprocess, sys
p = subprocess.run([sys.argv[1], "send"] + sys.argv[2:] + ["--batch"],
                   stdin=sys.stdin, stdout=subprocess.PIPE, stderr=sys.stderr)
sys.stdout.write(p.stdout.decode())
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(p.returncode)
"""


def test_flat_memory():
    ok1, small = peak_rss_kb(1000, "t57")
    ok2, big = peak_rss_kb(10000, "t57")
    check(ok1 and ok2, "1,000 and 10,000 lines all delivered")
    print("     peak RSS: 1,000 lines %d KiB, 10,000 lines %d KiB" % (small,
                                                                     big))
    check(0 < big <= small + 2048,
          "peak RSS flat: 10,000 lines within 2 MiB of 1,000 lines")


def start_proxy(args):
    proxy = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         "faultproxy.py")
    p = subprocess.Popen([sys.executable, proxy] + args, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    first = p.stdout.readline().decode()
    if not first.startswith("PORT "):
        p.kill()
        raise SystemExit("faultproxy did not start: " + first)
    return p, first.split()[1]


def test_cut_mid_batch():
    collect("t48")
    n = 600
    msgs = [{"to": to("t48"), "body": "cut %03d" % i} for i in range(n)]
    data = "".join(json.dumps(m) + "\n" for m in msgs).encode()
    target = "%s:%s" % (LAB["XMSG_LAB_HOST"], LAB["XMSG_LAB_PORT"])
    # Past login (~2 KB) and well into the messages (~150 bytes each).
    proxy, port = start_proxy(["--target", target, "--trigger",
                               "c2s:bytes:40000", "--action", "cut"])
    try:
        rc, res, status = send_batch("t47", data, ["-T", "5"], port=port)
    finally:
        proxy.terminate()
        proxy.wait()
    codes = [r.get("error", {}).get("code") for r in res]
    check(len(res) == n and [r["index"] for r in res] == list(range(n)),
          "cut mid-batch: all %d inputs reported in order (%d)" % (n,
                                                                   len(res)))
    delivered = [m["body"] for m, c in zip(msgs, codes) if c is None]
    unconfirmed = [m["body"] for m, c in zip(msgs, codes)
                   if c == "unconfirmed"]
    not_sent = [m["body"] for m, c, r in zip(msgs, codes, res)
                if c and r["error"]["text"].startswith("not sent")]
    print("     delivered %d, unconfirmed %d, not sent %d, exit %d" % (
        len(delivered), len(unconfirmed), len(not_sent), rc))
    check(0 < len(delivered) < n and len(not_sent) > 0,
          "the cut landed mid-batch")
    check(len(delivered) + len(unconfirmed) + len(not_sent) == n,
          "each input delivered, unconfirmed or not sent")
    check(rc == (7 if unconfirmed else 3), "exit code %d" % rc)
    got = [m["body"] for m in collect("t48")]
    check(got[:len(delivered)] == delivered,
          "every message reported delivered arrived, in order")
    check(not set(got) & set(not_sent), "no message reported not sent came")
    check(set(got) <= set(delivered) | set(unconfirmed),
          "nothing else came (unconfirmed ones may)")


if MODE == "fault":
    test_cut_mid_batch()
    print("%d failed" % len(FAILS))
    sys.exit(1 if FAILS else 0)
test_mixed_inputs()
test_order_and_array()
test_array_malformed()
test_login_refused()
test_slow_producer()
if BIG:
    test_flat_memory()
print("%d failed" % len(FAILS))
sys.exit(1 if FAILS else 0)
