#!/usr/bin/python3
"""stream_e2e.py - src/xmpp/stream (through stream_probe) against a real
lab server: login + send + ack, refusals, mechanism restriction, pins, the
derived-key cache, direct TLS, stream management counts, resumption after
a cut made by faultproxy.py, and (tls12 labs) SCRAM -PLUS over tls-unique.

    stream_e2e.py PROBE [main|plain|tls12|legacyauth]
XMSG_LAB_ENV names the lab's env file. Exit 0 when every check passed."""
import base64
import glob
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from labenv import lab_env  # noqa: E402

PROBE = sys.argv[1]
MODE = sys.argv[2] if len(sys.argv) > 2 else "main"
LAB = lab_env(os.environ["XMSG_LAB_ENV"])
HOST, PORT = LAB["XMSG_LAB_HOST"], LAB["XMSG_LAB_PORT"]
CA = LAB.get("XMSG_LAB_CA", "")
STATE = tempfile.mkdtemp(prefix="xmsg-stream-e2e-")
FAILS = []
ME = "@me"  # in probe()'s arguments: the user's own bare JID


def probe(user, *args, password=None, state=None, port=None, log=False):
    """Runs stream_probe as user; returns (json, stderr)."""
    env = dict(os.environ)
    env["XMSG_PASSWORD"] = password or "pw-%s-Zq8" % user
    env["XDG_STATE_HOME"] = state or STATE
    if log:
        env["XMSG_PROBE_LOG"] = "1"
    cmd = [PROBE, "--jid", "%s@%s" % (user, LAB["XMSG_LAB_DOMAIN"]),
           "--host", HOST, "--port", str(port or PORT), "--timeout", "15"]
    cmd += [a if a != ME else "%s@%s" % (user, LAB["XMSG_LAB_DOMAIN"])
            for a in args]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True,
                       timeout=120)
    try:
        res = json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        res = {"ok": False, "error": "no-json", "text": p.stdout + p.stderr}
    if "Sanitizer" in p.stderr:  # the ASan build: a finding fails
        res = {"ok": False, "error": "sanitizer", "text": p.stderr[-2000:]}
    return res, p.stderr


def check(name, cond, res):
    print("%s %s: %s" % ("ok  " if cond else "FAIL", name,
                         json.dumps(res, sort_keys=True)))
    if not cond:
        FAILS.append(name)


def fresh_state():
    return tempfile.mkdtemp(prefix="state-", dir=STATE)


def test_login_send_ack():
    r, _ = probe("s01", "--ca-file", CA, "--send", ME,
                 "--ping")
    check("login + send + ack", r["ok"] and r["sm"] and r["sent"] == 2 and
          r["acked"] == 2 and r["pings"] == 1 and r["tls"] in ("1.2", "1.3")
          and r["jid"].startswith("s01@"), r)


def test_wrong_password():
    r, _ = probe("s02", "--ca-file", CA, password="wrong-pw",
                 state=fresh_state())
    check("wrong password is auth", not r["ok"] and r["error"] == "auth", r)


def test_mechanisms():
    for spec, want in (("SCRAM-SHA-1", "SCRAM-SHA-1"), ("PLAIN", "PLAIN"),
                       ("no-plain", None)):
        r, _ = probe("s03", "--ca-file", CA, "--mechs", spec)
        ok = r["ok"] and (r["mech"] == want if want else
                          r["mech"].startswith("SCRAM-"))
        check("saslMechanisms %s -> %s" % (spec, want or "SCRAM"), ok, r)
    r, _ = probe("s03", "--ca-file", CA, "--mechs", "SCRAM-SHA-256,no-plain")
    check("a restriction the server cannot meet is auth",
          not r["ok"] and r["error"] == "auth" and r["mech"] == "", r)


def test_tls_refusals():
    r, _ = probe("s04", "--ca-file", LAB["XMSG_LAB_OTHER_CA"])
    check("wrong CA is tls", not r["ok"] and r["error"] == "tls", r)
    r, _ = probe("s04", "--trust", "--pin", LAB["XMSG_LAB_PIN"])
    check("right pin (trustTLS) logs in", r["ok"], r)
    wrong = "sha256//" + base64.b64encode(b"\0" * 32).decode()
    r, _ = probe("s04", "--ca-file", CA, "--pin", wrong)
    check("wrong pin is tls, nothing sent", not r["ok"] and
          r["error"] == "tls" and r["mech"] == "", r)
    r, _ = probe("s04", "--no-tls")
    check("disableTLS against a TLS-only server is tls",
          not r["ok"] and r["error"] == "tls" and r["mech"] == "", r)


def rewrite_cache(state, user, other_password):
    """Replaces the cached keys of user by keys of other_password (same salt
    and count): the cache hits, the server refuses the proof."""
    files = glob.glob(os.path.join(state, "xmsg", "keys", "*.key"))
    if len(files) != 1:
        return False
    with open(files[0]) as f:
        parts = f.read().split()
    hname, iters, salt = parts[2], int(parts[3]), base64.b64decode(parts[4])
    salted = hashlib.pbkdf2_hmac(hname, other_password.encode(), salt, iters)
    ck = hmac.new(salted, b"Client Key", hname).digest()
    sk = hmac.new(salted, b"Server Key", hname).digest()
    parts[5] = base64.b64encode(ck).decode()
    parts[6] = base64.b64encode(sk).decode()
    with open(files[0], "w") as f:
        f.write(" ".join(parts) + "\n")
    return True


def test_key_cache():
    state = fresh_state()
    r, _ = probe("s05", "--ca-file", CA, state=state)
    check("first login runs PBKDF2", r["ok"] and r["pbkdf2"] == 1, r)
    r, _ = probe("s05", "--ca-file", CA, state=state)
    check("second login runs no PBKDF2", r["ok"] and r["pbkdf2"] == 0, r)
    r, _ = probe("s05", "--ca-file", CA, "--no-key-cache", state=state)
    check("saslKeyCache false runs PBKDF2", r["ok"] and r["pbkdf2"] == 1, r)
    ok = rewrite_cache(state, "s05", "an-old-password")
    r, err = probe("s05", "--ca-file", CA, state=state, log=True)
    check("refused cached keys: forgotten, PBKDF2, success", ok and r["ok"]
          and r["pbkdf2"] == 1 and "refused the cached keys" in err, r)
    r, _ = probe("s05", "--ca-file", CA, state=state)
    check("then cached again", r["ok"] and r["pbkdf2"] == 0, r)
    if LAB["XMSG_LAB_SERVER"] == "ejabberd":
        set_password("s05", "pw-s05-new")
        try:
            r, _ = probe("s05", "--ca-file", CA, state=state,
                         password="pw-s05-new")
        finally:
            set_password("s05", "pw-s05-Zq8")
        check("changed password on the server: PBKDF2, success",
              r["ok"] and r["pbkdf2"] == 1, r)


def set_password(user, password):
    # ejabberdctl starts an Erlang node of its own: a minute and more on a
    # loaded machine. A run cut short would change the password later, after
    # the one that sets it back (stream_threads uses s05 next).
    subprocess.run(["bash", os.path.join(LAB_DIR, "ejabberd.sh"), "ctl",
                    LAB["XMSG_LAB_DIR"], "change_password", user,
                    "localhost", password], check=True,
                   capture_output=True, timeout=240)


def test_direct_tls():
    if not LAB.get("XMSG_LAB_TLS_PORT"):
        return
    r, _ = probe("s06", "--ca-file", CA, "--legacy-tls", "--send", ME,
                 port=LAB["XMSG_LAB_TLS_PORT"])
    check("legacyTLS on the direct TLS port", r["ok"] and r["acked"] == 1, r)


def start_proxy(args):
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "faultproxy.py")]
                         + args, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    first = p.stdout.readline().decode()
    if not first.startswith("PORT "):
        p.kill()
        raise SystemExit("faultproxy did not start: " + first)
    return p, first.split()[1]


def cut_run(user, *extra):
    # Past the login (< 10 records) into the messages (one record each).
    proxy, port = start_proxy(["--target", "%s:%s" % (HOST, PORT),
                               "--trigger", "c2s:appdata:14",
                               "--action", "cut"])
    try:
        return probe(user, "--ca-file", CA, "--send", ME,
                     "--until-cut", "40", *extra, port=port, log=True)
    finally:
        proxy.terminate()
        proxy.wait()


def test_resume():
    r, _ = cut_run("s07")
    check("cut after enable, resumed on a new connection", r["ok"] and
          r["cut"] and r["resumed"] and r["sm"] and r["sent"] > 0 and
          r["acked"] == r["sent"], r)
    r, err = cut_run("s11", "--steal")
    check("session replaced meanwhile: resume fails, fresh login, "
          "unacknowledged re-sent", r["ok"] and r["cut"] and
          not r["resumed"] and r["sm"] and
          "could not resume" in err and
          r["sent"] == r["acked"] == r["unacked_at_cut"], r)


def test_silent_peers():
    """A peer that accepts and never answers, and one that answers with a
    header and then nothing: timeout at the deadline (never earlier)."""
    for mode in ("--silent", "--header"):
        proxy, port = start_proxy([mode])
        try:
            r, _ = probe("s12", "--ca-file", CA, "--timeout", "1",
                         port=port)
        finally:
            proxy.terminate()
            proxy.wait()
        check("peer %s: timeout" % mode, not r["ok"] and
              r["error"] == "timeout" and r["elapsed_ms"] >= 1000, r)


def test_plain_server():
    r, _ = probe("s08")
    check("mandatoryTLS refuses a server without STARTTLS",
          not r["ok"] and r["error"] == "tls" and r["mech"] == "", r)
    r, _ = probe("s08", "--allow-plaintext", "--send", ME)
    check("allowed plaintext logs in with SCRAM",
          r["ok"] and r["tls"] == "none" and r["mech"].startswith("SCRAM"),
          r)
    r, _ = probe("s08", "--allow-plaintext", "--mechs", "PLAIN")
    check("PLAIN without TLS is refused (tls), nothing sent",
          not r["ok"] and r["error"] == "tls", r)


def test_tls12_plus():
    want = {"prosody": "SCRAM-SHA-1-PLUS",
            "ejabberd": "SCRAM-SHA-512-PLUS"}[LAB["XMSG_LAB_SERVER"]]
    r, _ = probe("s09", "--ca-file", CA, "--send", ME)
    check("TLS 1.2: %s over tls-unique" % want, r["ok"] and
          r["tls"] == "1.2" and r["mech"] == want and
          r["cb"] == "tls-unique" and r["acked"] == 1, r)
    r, _ = probe("s09", "--ca-file", CA, "--mechs", "plus-only")
    check("plus-only logs in", r["ok"] and r["mech"] == want, r)


def test_legacy_auth():
    r, _ = probe("s10", "--ca-file", CA)
    check("no SASL and no enableLegacyAuth is auth",
          not r["ok"] and r["error"] == "auth", r)
    r, _ = probe("s10", "--ca-file", CA, "--legacy-auth", "--send", ME)
    check("XEP-0078 with a bare JID gets a resource", r["ok"] and
          r["mech"] == "XEP-0078" and r["jid"].startswith("s10@localhost/"),
          r)
    r, _ = probe("s10", "--ca-file", CA, "--legacy-auth", password="wrong")
    check("XEP-0078 wrong password is auth",
          not r["ok"] and r["error"] == "auth", r)


HERE = os.path.dirname(os.path.abspath(__file__))
LAB_DIR = os.path.join(HERE, "..", "lab")


def main():
    try:
        if MODE == "plain":
            test_plain_server()
        elif MODE == "tls12":
            test_tls12_plus()
        elif MODE == "legacyauth":
            test_legacy_auth()
        else:
            for t in (test_login_send_ack, test_wrong_password,
                      test_mechanisms, test_tls_refusals, test_key_cache,
                      test_direct_tls, test_resume):
                t()
            if LAB["XMSG_LAB_SERVER"] == "prosody":
                test_silent_peers()
    finally:
        shutil.rmtree(STATE, ignore_errors=True)
    if FAILS:
        print("%d failed: %s" % (len(FAILS), ", ".join(FAILS)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
