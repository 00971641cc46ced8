#!/usr/bin/python3
"""cb_test.py - src/xmpp/stream (through stream_probe) against cbserver, a
scripted TLS 1.3 XMPP server of our own: SCRAM-*-PLUS with tls-exporter
(RFC 9266) listed per XEP-0440, checked by the server against its own
SSL_export_keying_material; refusals (a binding that does not match, a
forged server signature, <failure/>, e=channel-bindings-dont-match, a
-PLUS-only restriction against a server without -PLUS); what the stream
does without an XEP-0440 list on TLS 1.3; and TLS handshakes the server
stalls (the stream's deadline ends them, no login byte is sent).

    cb_test.py PROBE CBSERVER
Exit 0 when every check passed. No lab fixture: the PKI is made here
(tests/lab/certs.sh) and every server is started and stopped here."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

PROBE, SERVER = sys.argv[1], sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))
WORK = tempfile.mkdtemp(prefix="xmsg-cb-")
CERTS = os.path.join(WORK, "certs")
PASSWORD = "pw-cb,=Zq8"
FAILS = []


def run(server_args, probe_args, timeout=10, password=PASSWORD):
    """Starts cbserver, runs the probe against it; returns (probe json,
    server RESULT dict)."""
    srv = subprocess.Popen(
        [SERVER, "--cert", os.path.join(CERTS, "localhost.crt"),
         "--key", os.path.join(CERTS, "localhost.key"),
         "--password", PASSWORD] + server_args,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = srv.stdout.readline()
        if not first.startswith("PORT "):
            raise SystemExit("cbserver did not start: " + first +
                             srv.stderr.read())
        port = first.split()[1]
        state = tempfile.mkdtemp(prefix="state-", dir=WORK)
        env = dict(os.environ, XMSG_PASSWORD=password, XDG_STATE_HOME=state,
                   XMSG_PROBE_LOG="1")
        cmd = [PROBE, "--jid", "cbuser@localhost", "--host", "127.0.0.1",
               "--port", port, "--ca-file", os.path.join(CERTS, "ca.pem"),
               "--timeout", str(timeout)] + probe_args
        p = subprocess.run(cmd, env=env, capture_output=True, text=True,
                           timeout=120)
        out, _ = srv.communicate(timeout=60)
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()
    try:
        res = json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        res = {"ok": False, "error": "no-json", "text": p.stdout + p.stderr}
    if "Sanitizer" in p.stderr:  # the ASan build: a finding fails
        res = {"ok": False, "error": "sanitizer", "text": p.stderr[-2000:]}
    res["log"] = p.stderr
    line = [l for l in out.splitlines() if l.startswith("RESULT ")]
    srv_res = dict(kv.split("=", 1) for kv in line[0].split()[1:]) \
        if line else {}
    return res, srv_res


def check(name, cond, res, srv):
    shown = {k: v for k, v in res.items() if k != "log"}
    print("%s %s: %s server: %s" % ("ok  " if cond else "FAIL", name,
                                    json.dumps(shown, sort_keys=True), srv))
    if not cond:
        FAILS.append(name)
        print("     probe log:\n" + res.get("log", "")[-3000:])


def logged_in(r, s, mech, cb):
    return (r["ok"] and r["tls"] == "1.3" and r["mech"] == mech and
            r["cb"] == cb and r["sm"] and r["acked"] == 1 and
            r["jid"].startswith("cbuser@localhost/") and
            s.get("proof") == "ok" and s.get("stanzas") == "1" and
            s.get("bound") == r["jid"] and s.get("end") == "close")


def test_plus():
    for mode, sargs, pargs in (("STARTTLS", [], []),
                               ("direct TLS", ["--direct"], ["--legacy-tls"])):
        r, s = run(sargs, pargs + ["--send", "cbuser@localhost"])
        check("%s: SCRAM-SHA-256-PLUS over tls-exporter, bound, acked"
              % mode, logged_in(r, s, "SCRAM-SHA-256-PLUS", "tls-exporter")
              and s.get("gs2") == "p=tls-exporter,," and
              s.get("cbind") == "match" and s.get("tls") == "TLSv1.3", r, s)
    r, s = run(["--mechs", "SCRAM-SHA-256,SCRAM-SHA-512-PLUS,"
                "SCRAM-SHA-256-PLUS"], ["--send", "cbuser@localhost"])
    check("SCRAM-SHA-512-PLUS preferred when offered",
          logged_in(r, s, "SCRAM-SHA-512-PLUS", "tls-exporter") and
          s.get("cbind") == "match", r, s)
    r, s = run([], ["--mechs", "plus-only", "--send", "cbuser@localhost"])
    check("plus-only logs in over tls-exporter",
          logged_in(r, s, "SCRAM-SHA-256-PLUS", "tls-exporter"), r, s)


def test_refusals():
    r, s = run(["--mode", "flip"], [])
    check("binding data that does not match the server's: refused, auth",
          not r["ok"] and r["error"] == "auth" and
          r["mech"] == "SCRAM-SHA-256-PLUS" and
          s.get("cbind") == "mismatch" and s.get("end") == "auth-refused",
          r, s)
    r, s = run(["--mode", "forge"], [])
    check("forged server signature: auth (the server had accepted us)",
          not r["ok"] and r["error"] == "auth" and s.get("proof") == "ok" and
          s.get("cbind") == "match" and s.get("bound") == "-", r, s)
    r, s = run(["--mode", "fail"], [])
    check("<failure/> after a valid proof: auth, condition named",
          not r["ok"] and r["error"] == "auth" and
          "account-disabled" in r["text"], r, s)
    r, s = run(["--mode", "cbrefuse"], [])
    check("e=channel-bindings-dont-match: auth, named",
          not r["ok"] and r["error"] == "auth" and
          "channel-bindings-dont-match" in r["text"], r, s)
    r, s = run(["--mode", "ok"], [], password="not-the-password")
    check("wrong password: the server's proof check refuses, auth",
          not r["ok"] and r["error"] == "auth" and s.get("proof") == "bad" and
          s.get("cbind") == "match", r, s)


def test_no_plus():
    r, s = run(["--mechs", "SCRAM-SHA-256"], ["--mechs", "plus-only"])
    check("plus-only against a server without -PLUS: auth, no <auth> sent",
          not r["ok"] and r["error"] == "auth" and r["mech"] == "" and
          s.get("mech") == "-", r, s)
    r, s = run(["--mechs", "SCRAM-SHA-256"], ["--send", "cbuser@localhost"])
    check("server without -PLUS: SCRAM-SHA-256, gs2 'y' (we could bind)",
          logged_in(r, s, "SCRAM-SHA-256", "none") and s.get("gs2") == "y,,",
          r, s)
    # TLS 1.3 and -PLUS offered without an XEP-0440 list: the stream does
    # not guess tls-exporter (a server meaning tls-unique would refuse the
    # login, and falling back after a refusal would be a downgrade): it
    # uses SCRAM without binding, gs2 'n'.
    r, s = run(["--no-cb-list"], ["--send", "cbuser@localhost"])
    check("no XEP-0440 list on TLS 1.3: no -PLUS, SCRAM-SHA-256, gs2 'n'",
          logged_in(r, s, "SCRAM-SHA-256", "none") and s.get("gs2") == "n,,"
          and "no channel-binding types listed" in r["log"], r, s)
    r, s = run(["--no-cb-list", "--mechs", "SCRAM-SHA-256-PLUS"],
               ["--mechs", "plus-only"])
    check("no XEP-0440 list, plus-only: auth, no <auth> sent",
          not r["ok"] and r["error"] == "auth" and s.get("mech") == "-",
          r, s)


def test_stalls():
    """The server reads the ClientHello and never answers (or answers
    half of its first flight): the stream's deadline ends the handshake
    (timeout, never before it: nothing else can end it), and the client
    sends no byte after its ClientHello."""
    cases = (("STARTTLS, no answer to the ClientHello", ["--mode", "stall"],
              [], "hello"),
             ("STARTTLS, half the server's first flight",
              ["--mode", "stall-mid"], [], "hello+half"),
             ("direct TLS, no answer", ["--direct", "--mode", "stall"],
              ["--legacy-tls"], "hello"),
             ("direct TLS, half the first flight",
              ["--direct", "--mode", "stall-mid"], ["--legacy-tls"],
              "hello+half"))
    for name, sargs, pargs, end in cases:
        r, s = run(sargs, pargs, timeout=2)
        check("stalled handshake (%s): timeout at the deadline" % name,
              not r["ok"] and r["error"] == "timeout" and r["mech"] == "" and
              r["elapsed_ms"] >= 2000 and s.get("end") == end and
              s.get("after_hello") == "0", r, s)


def main():
    try:
        subprocess.run(["bash", os.path.join(HERE, "..", "lab", "certs.sh"),
                        WORK], check=True, capture_output=True, timeout=120)
        for t in (test_plus, test_refusals, test_no_plus, test_stalls):
            t()
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    if FAILS:
        print("%d failed: %s" % (len(FAILS), ", ".join(FAILS)))
        return 1
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
