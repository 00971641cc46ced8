#!/usr/bin/env python3
"""xmsg listen / request / send --raw / presence and iq against a real
server (XMSG_LAB_ENV), with peers written with xmsg's session API
(responder) and with python3-slixmpp (a client nobody here wrote).

  session_e2e.py XMSG RESPONDER
  session_e2e.py XMSG RESPONDER restart   (a server this test may restart:
      listen survives it, and gets every message exactly once)
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from labenv import lab_env

XMSG, RESPONDER = sys.argv[1], sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))
FAILS = []


LAB = lab_env(os.environ["XMSG_LAB_ENV"])
DOMAIN = LAB["XMSG_LAB_DOMAIN"]
STATE = tempfile.mkdtemp(prefix="xmsg-session-")


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILS.append(what)


def jid(user):
    return "%s@%s" % (user, DOMAIN)


def env_for(user):
    env = dict(os.environ)
    env.update(LAB)
    env["XMSG_PASSWORD"] = "pw-%s-Zq8" % user
    env["XDG_STATE_HOME"] = STATE
    return env


def args(cmd, user, *extra):
    tls = (["--no-tls"] if LAB["XMSG_LAB_MODE"] == "plain" else
           ["--ca-file", LAB["XMSG_LAB_CA"]])
    return [XMSG, cmd, "-j", jid(user), "-H", LAB["XMSG_LAB_HOST"], "-P",
            LAB["XMSG_LAB_PORT"], "-l", "info"] + tls + list(extra)


def run(cmd, user, *extra, stdin=b""):
    p = subprocess.run(args(cmd, user, *extra), input=stdin,
                       capture_output=True, env=env_for(user), timeout=120)
    lines = [json.loads(l) for l in p.stdout.decode().splitlines()]
    return p.returncode, lines


def start_listen(user, *extra):
    """A listener, once its presence is out (its own presence echoed)."""
    p = subprocess.Popen(args("listen", user, *extra), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env_for(user))
    return p


def wait_listener_ready(user):
    """Time for the listener to log in and send its presence (its login
    takes ~0.1 s; messages to the bare JID sent before would go to
    offline storage, and come stamped)."""
    time.sleep(1.5)


def finish(p, timeout=30):
    out, err = p.communicate(timeout=timeout)
    lines = [json.loads(l) for l in out.decode().splitlines()]
    return p.returncode, lines[:-1], lines[-1] if lines else {}, err.decode()


def send(user, to, body):
    rc, lines = run("send", user, "-t", jid(to), "-m", body)
    return rc


def test_listen_several_senders():
    run("connect", "t36", "--no-mam")  # nothing stored left for t36
    p = start_listen("t36", "--count", "6", "--type", "message", "--duration", "60")
    wait_listener_ready("t36")
    sent = []
    for i in range(3):
        for who in ("t37", "t38"):
            body = "%s says %d" % (who, i)
            check(send(who, "t36", body) == 0, "sent: " + body)
            sent.append((jid(who), body))
    rc, msgs, status, err = finish(p)
    # Messages stored before (offline, stamped) come first: not these.
    got = [(m["from"].split("/")[0], m["body"]) for m in msgs
           if "stamp" not in m]
    check(rc == 0 and "error" not in status, "listen --count 6 exits 0")
    check(got == sent, "six messages from two senders, in order: %s" % got)
    check(all(m["kind"] == "message" for m in msgs), "each has kind message")


def test_listen_ends_on_duration_and_idle():
    t0 = time.time()
    p = start_listen("t36", "--duration", "2")
    rc, msgs, status, _ = finish(p)
    el = time.time() - t0
    check(rc == 0 and el < 15, "listen --duration 2 ends, exit 0 (%.1f s)"
          % el)
    t0 = time.time()
    p = start_listen("t36", "--until-idle", "1")
    rc, msgs, status, _ = finish(p)
    el = time.time() - t0
    check(rc == 0 and el < 15, "listen --until-idle 1 ends (%.1f s)" % el)


def test_timeout_is_the_servers():
    """-T and the params file's timeout are one thing: the server's time
    (login, ping answers). Listening is not owed by the server: neither
    ends it."""
    params = os.path.join(STATE, "t1s.json")
    with open(params, "w") as f:
        json.dump({"timeout": 2}, f)
    for how in (["-T", "2"], ["--params", params]):
        t0 = time.time()
        p = start_listen("t36", "--duration", "4", *how)
        rc, msgs, status, _ = finish(p)
        el = time.time() - t0
        check(rc == 0 and el >= 3.9,
              "listen %s --duration 4 listens 4 s: exit %d after %.1f s"
              % (how[0], rc, el))


def test_listen_counts_messages():
    """--count counts messages by default: our own presence, reflected by
    the server, is neither printed nor counted."""
    run("connect", "t39", "--no-mam")  # nothing stored left for t39
    p = start_listen("t39", "--count", "1", "--duration", "60")
    wait_listener_ready("t39")
    check(send("t37", "t39", "counted") == 0, "sent: counted")
    rc, msgs, status, _ = finish(p)
    check(rc == 0 and [(m.get("kind"), m.get("body")) for m in msgs] ==
          [("message", "counted")],
          "listen --count 1 waits for a message: %s" %
          [(m.get("kind"), m.get("body")) for m in msgs])
    p = start_listen("t39", "--count", "1", "--type", "all", "--duration", "60")
    rc, msgs, status, _ = finish(p)
    check(rc == 0 and [m.get("kind") for m in msgs] == ["presence"],
          "listen --type all --count 1 takes our own presence: %s" %
          [m.get("kind") for m in msgs])


def test_keepalive_ping():
    p = start_listen("t35", "--duration", "4", "--keepalive=1,1", "-l", "debug")
    rc, msgs, status, _ = finish(p)
    sent_pings = [l for l in status.get("log", [])
                  if "SENT:" in l and "urn:xmpp:ping" in l]
    check(rc == 0 and len(sent_pings) >= 2,
          "a silent server is pinged (keepAlive): %d pings in 4 s, exit %d"
          % (len(sent_pings), rc))


def test_sigterm():
    for sig in (signal.SIGTERM, signal.SIGINT):
        p = start_listen("t36")
        time.sleep(2)
        p.send_signal(sig)
        rc, msgs, status, err = finish(p)
        check(rc == 0 and "log" in status and "error" not in status,
              "%s ends listen cleanly: exit %d, status %s" % (
                  sig.name, rc, json.dumps(status)[:100]))


def test_request_reply():
    r = subprocess.Popen([RESPONDER, jid("t39"), "2", "60"],
                         stdout=subprocess.PIPE, env=env_for("t39"))
    ready = r.stdout.readline().decode().split()
    check(ready[:1] == ["ready"], "responder ready")
    full = ready[1] if len(ready) > 1 else jid("t39")
    rc, lines = run("request", "t40", "-t", jid("t39"), "-m", "question",
                    "--thread", "th-1")
    check(rc == 0 and len(lines) == 2, "request exits 0 with the reply")
    reply = lines[0] if lines else {}
    check(reply.get("body") == "re: question" and
          reply.get("thread") == "th-1" and
          reply.get("from", "").startswith(jid("t39")),
          "the responder's reply, same thread: %s" % json.dumps(reply)[:200])
    rc, lines = run("request", "t40", "--kind", "iq", "--type", "get", "-t",
                    full, "--payload",
                    "<query xmlns='urn:example:echo'>hi</query>")
    reply = lines[0] if lines else {}
    check(rc == 0 and reply.get("type") == "result" and
          "urn:example:echo" in reply.get("payload", ""),
          "iq get to the responder: its result: %s" % json.dumps(reply)[:150])
    check(r.wait(timeout=30) == 0, "the responder answered both")


def test_iq_to_server():
    rc, lines = run("request", "t40", "--kind", "iq", "--type", "get", "-t",
                    DOMAIN, "--payload",
                    "<query xmlns='http://jabber.org/protocol/disco#info'/>")
    reply = lines[0] if lines else {}
    check(rc == 0 and reply.get("kind") == "iq" and
          reply.get("type") == "result" and
          "disco#info" in reply.get("payload", ""),
          "disco#info iq round trip: %s" % json.dumps(reply)[:150])
    rc, lines = run("request", "t40", "--kind", "iq", "--type", "get", "-t",
                    DOMAIN, "--payload", "<query xmlns='urn:example:none'/>")
    reply = lines[0] if lines else {}
    check(rc == 8 and reply.get("type") == "error",
          "an unknown iq: the error reply is printed, exit 8 (%d)" % rc)


def test_presence_round_trip():
    # --from compares JIDs as RFC 7622 allows: upper case matches too.
    p = start_listen("t36", "--count", "1", "--type", "presence", "--from",
                     jid("t37").upper(), "--duration", "60")
    wait_listener_ready("t36")
    rc, _ = run("send", "t37", "--kind", "presence", "-t", jid("t36"),
                "--show", "away", "--status", "brb")
    check(rc == 0, "directed presence sent")
    rc, msgs, status, _ = finish(p)
    pres = msgs[0] if msgs else {}
    check(rc == 0 and pres.get("kind") == "presence" and
          pres.get("show") == "away" and pres.get("status") == "brb",
          "presence received: %s" % json.dumps(pres)[:150])


def test_raw():
    p = start_listen("t36", "--count", "1", "--type", "message", "--duration", "60")
    wait_listener_ready("t36")
    raw = ("<message to='%s' type='chat'><body>raw body</body>"
           "<x xmlns='urn:example:x' a='1'>kept</x></message>" % jid("t36"))
    rc, lines = run("send", "t37", "--raw", stdin=raw.encode())
    check(rc == 0 and lines and lines[-1].get("delivered") is True,
          "a raw message is sent and confirmed")
    rc, msgs, status, _ = finish(p)
    m = msgs[0] if msgs else {}
    check(m.get("body") == "raw body" and
          "urn:example:x" in m.get("payload", "") and
          "kept" in m.get("payload", ""),
          "its unknown child arrives as payload: %s" % json.dumps(m)[:200])
    for bad in ("<message to='%s'><body>x</body>" % jid("t36"),
                "<message/><message/>", "<foo xmlns='urn:x'/>", "not xml"):
        rc, lines = run("send", "t37", "--raw", stdin=bad.encode())
        check(rc == 2 and lines and lines[-1]["error"]["code"] == "input",
              "raw %r refused before sending (exit %d)" % (bad[:20], rc))


ROOM_CONFIG = (
    "<query xmlns='http://jabber.org/protocol/muc#owner'>"
    "<x xmlns='jabber:x:data' type='submit'>"
    "<field var='FORM_TYPE'>"
    "<value>http://jabber.org/protocol/muc#roomconfig</value></field>"
    "<field var='muc#roomconfig_passwordprotectedroom'><value>1</value>"
    "</field><field var='muc#roomconfig_roomsecret'><value>s3cret</value>"
    "</field></x></query>")


def groupchat(msgs):
    return [(m["from"].split("/", 1)[1], m["body"]) for m in msgs
            if m.get("type") == "groupchat" and "body" in m]


def test_group_chat():
    room = "talk@" + LAB["XMSG_LAB_MUC"]
    p = start_listen("t41", "--room", room, "--nick", "first", "--type",
                     "message", "--until-idle", "6", "--duration", "60")
    wait_listener_ready("t41")
    for body in ("hello room", "second line"):
        rc, lines = run("send", "t42", "--room", room, "--nick", "second",
                        "-m", body)
        check(rc == 0 and lines[-1].get("delivered") is True,
              "groupchat %r confirmed by the room's reflection" % body)
    rc, msgs, status, _ = finish(p, timeout=90)
    check(rc == 0 and groupchat(msgs) == [("second", "hello room"),
                                          ("second", "second line")],
          "the other member got both: %s" % groupchat(msgs))


def test_group_chat_password():
    room = "locked@" + LAB["XMSG_LAB_MUC"]
    p = start_listen("t43", "--room", room, "--nick", "owner", "--type",
                     "message", "--until-idle", "8", "--duration", "60")
    wait_listener_ready("t43")
    rc, lines = run("request", "t43", "--kind", "iq", "--type", "set", "-t",
                    room, "--payload", ROOM_CONFIG)
    check(rc == 0, "the owner set a room password (exit %d)" % rc)
    rc, lines = run("send", "t44", "--room", room, "-m", "no password")
    err = lines[-1].get("error", {}) if lines else {}
    check(rc == 8 and "not-authorized" in err.get("text", ""),
          "without the password: refused (exit %d, %s)" % (rc, err))
    env = env_for("t44")
    env["XMSG_ROOM_PASSWORD"] = "s3cret"
    q = subprocess.run(args("send", "t44", "--room", room, "-m",
                            "with password", "-l", "debug"),
                       capture_output=True, env=env, timeout=60)
    check(q.returncode == 0, "with XMSG_ROOM_PASSWORD: delivered")
    check(b"s3cret" not in q.stdout + q.stderr,
          "the room password never appears in the output, at debug level")
    rc, msgs, status, _ = finish(p, timeout=90)
    check(groupchat(msgs) == [("t44", "with password")],
          "the owner got only the one sent with the password: %s" %
          groupchat(msgs))


def slix(*argv, timeout=40):
    env = env_for("t36")
    return subprocess.Popen(["/usr/bin/python3", os.path.join(HERE,
                                                              "slix_peer.py")]
                            + list(argv), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=env)


def test_interop_slixmpp():
    # slixmpp sends, xmsg listens.
    p = start_listen("t36", "--count", "2", "--type", "message", "--from",
                     jid("t38"), "--duration", "60")
    wait_listener_ready("t36")
    s = slix("send", jid("t38"), "pw-t38-Zq8", jid("t36"), "slix one",
             "slix two")
    check(s.wait(timeout=60) == 0, "slixmpp sent two messages")
    rc, msgs, status, _ = finish(p)
    check([m.get("body") for m in msgs] == ["slix one", "slix two"],
          "xmsg listen got slixmpp's messages in order")
    # xmsg sends, slixmpp receives.
    r = slix("recv", jid("t38"), "pw-t38-Zq8", "2", "40")
    check(r.stdout.readline().decode().strip() == "ready", "slixmpp ready")
    time.sleep(0.5)
    for body in ("xmsg one", "xmsg two"):
        check(send("t37", "t38", body) == 0, "xmsg sent " + body)
    out = r.communicate(timeout=60)[0].decode().splitlines()
    check(r.returncode == 0 and out == ["xmsg one", "xmsg two"],
          "slixmpp received xmsg's messages in order: %s" % out)


def lab_script():
    return os.path.join(HERE, "..", "lab", LAB["XMSG_LAB_SERVER"] + ".sh")


def test_reconnect_across_restart():
    run("connect", "t45", "--no-mam")  # nothing stored left for t45
    p = start_listen("t45", "--count", "5", "--type", "message", "--duration", "90")
    wait_listener_ready("t45")
    check(send("t46", "t45", "before 1") == 0, "sent before the restart")
    check(send("t46", "t45", "before 2") == 0, "sent before the restart")
    d = LAB["XMSG_LAB_DIR"]
    subprocess.run(["bash", lab_script(), "stop", d], check=True)
    time.sleep(1)
    subprocess.run(["bash", lab_script(), "start", d, LAB["XMSG_LAB_MODE"]],
                   check=True, env=dict(os.environ, XMSG_LAB_QUIET="1"))
    new = lab_env(os.environ["XMSG_LAB_ENV"])
    check(new["XMSG_LAB_PORT"] == LAB["XMSG_LAB_PORT"],
          "the server came back on its port")
    for i in (1, 2, 3):
        check(send("t46", "t45", "after %d" % i) == 0, "sent after %d" % i)
    rc, msgs, status, err = finish(p, timeout=120)
    bodies = [m.get("body") for m in msgs]
    check(rc == 0, "listen survived the restart (exit %d)" % rc)
    check(bodies == ["before 1", "before 2", "after 1", "after 2", "after 3"],
          "every message exactly once, in order: %s" % bodies)
    if rc != 0 or len(bodies) != 5 or os.environ.get("XMSG_TEST_VERBOSE"):
        print("#   error: %s" % json.dumps(status.get("error")))
        for line in status.get("log", [])[-40:]:
            print("#   log: %s" % line)
    check(any("reconnected" in l for l in status.get("log", [])),
          "the log tells of the reconnection")
    check(any("fresh login" in l for l in status.get("log", [])),
          "a restarted server cannot resume: a fresh login, caught up")


def test_resume_after_cut():
    """A cut under a listening session: XEP-0198 resumption (the server
    keeps the session), before any archive catch-up; what the server had
    not delivered comes after the resumption, once, in order."""
    if LAB["XMSG_LAB_MODE"] != "plain":
        return  # the proxy's text trigger needs plaintext
    run("connect", "t02", "--no-mam")
    proxy = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "faultproxy.py"), "--target",
         "%s:%s" % (LAB["XMSG_LAB_HOST"], LAB["XMSG_LAB_PORT"]), "--trigger",
         "s2c:match:resume-2", "--action", "cut", "--once"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        port = proxy.stdout.readline().decode().split()[1]
        p = subprocess.Popen(
            [XMSG, "listen", "-j", jid("t02"), "-H", LAB["XMSG_LAB_HOST"],
             "-P", port, "-l", "info", "--no-tls", "--count", "3",
             "--type", "message", "--duration", "60"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env_for("t02"))
        wait_listener_ready("t02")
        for i in (1, 2, 3):
            check(send("t03", "t02", "resume-%d" % i) == 0,
                  "sent resume-%d" % i)
        rc, msgs, status, err = finish(p, timeout=90)
    finally:
        proxy.terminate()
        proxy.wait()
    log = status.get("log", [])
    bodies = [m.get("body") for m in msgs]
    check(rc == 0, "listen survived the cut (exit %d) %s %s" %
          (rc, status.get("error"), log[-8:]))
    check(bodies == ["resume-1", "resume-2", "resume-3"],
          "every message exactly once, in order: %s" % bodies)
    check(any("resumed (XEP-0198)" in l for l in log),
          "the log tells of the resumption: %s" % log[-6:])
    check(not any("fresh login" in l for l in log),
          "no fresh login, no catch-up")


if len(sys.argv) > 3 and sys.argv[3] == "restart":
    try:
        test_resume_after_cut()
    except Exception as e:
        check(False, "test_resume_after_cut raised %r" % e)
    try:
        test_reconnect_across_restart()
    except Exception as e:
        check(False, "test_reconnect_across_restart raised %r" % e)
    print("%d failed" % len(FAILS))
    sys.exit(1 if FAILS else 0)

for t in (test_listen_several_senders, test_listen_ends_on_duration_and_idle,
          test_timeout_is_the_servers, test_listen_counts_messages,
          test_keepalive_ping,
          test_sigterm, test_request_reply, test_iq_to_server,
          test_presence_round_trip, test_raw, test_interop_slixmpp,
          test_group_chat, test_group_chat_password):
    try:
        t()
    except Exception as e:  # a crash of one test is a failure, not a stop
        check(False, "%s raised %r" % (t.__name__, e))
print("%d failed" % len(FAILS))
sys.exit(1 if FAILS else 0)
