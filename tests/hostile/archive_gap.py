#!/usr/bin/env python3
"""A message that only the archive holds, across a reconnection: `xmsg
listen` against a scripted server (plaintext, SASL PLAIN, XEP-0198) that
plays what ejabberd did under load after a restart.

  1st connection: login; once the presence is in, "one" arrives live
                  (archived, id 1); when the listener then reads the
                  archive (its checkpoint), the connection is cut.
  2nd connection: resumption refused; a fresh login. "two" was routed
                  while the account was offline: it is in the archive from
                  the moment the presence is in, but its offline copy
                  missed that presence, so it never comes live.

A listener that reads the archive before its presence misses "two" for
good (it waits until --duration and prints "one" only). One that sends its
presence first, then reads the archive, prints both, once each, in order,
and ends on --count.

In mode shutdown the 1st connection ends otherwise: the listener's archive
read is answered, then "one" comes in the same write as a stream error
(system-shutdown) and the close, so that the poll that hands "one" over
also finds the connection gone: the next poll reconnects all the same.

  archive_gap.py XMSG [cut|shutdown]...
"""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading

XMSG = sys.argv[1]
MODES = sys.argv[2:] or ["cut", "shutdown"]
BARE = b"alice@localhost"
HDR = (b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
       b"xmlns:stream='http://etherx.jabber.org/streams' id='g%d' "
       b"from='localhost' version='1.0'>")
MECHS = (b"<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:"
         b"xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms>"
         b"</stream:features>")
BIND_SM = (b"<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
           b"<sm xmlns='urn:xmpp:sm:3'/></stream:features>")
# One element of the client's, at the start of the buffer.
ELEMENT = re.compile(
    rb"\s*(<\?xml[^>]*\?>|<stream:stream[^>]*>|</stream:stream>|"
    rb"<([\w:]+)[^>]*/>|<([\w:]+)[^>]*>.*?</\3>)", re.S)


def attr(data, name):
    m = re.search(rb"%s=[\"']([^\"']*)[\"']" % name, data)
    return m.group(1) if m else b""


def text_of(data, name):
    m = re.search(rb"<%s>([^<]*)</%s>" % (name, name), data)
    return m.group(1) if m else None


ONE = (b"<message from='carol@localhost/x' to='" + BARE + b"' type='chat' "
       b"id='m1'><stanza-id xmlns='urn:xmpp:sid:0' by='" + BARE + b"' "
       b"id='1'/><body>one</body></message>")
SHUTDOWN = (b"<stream:error><system-shutdown xmlns='urn:ietf:params:xml:ns:"
            b"xmpp-streams'/></stream:error></stream:stream>")


class Server:
    def __init__(self, mode):
        self.mode = mode
        self.archive = []        # (id, body), oldest first
        self.log = []            # what the server saw, for the report
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(4)
        self.port = self.srv.getsockname()[1]

    def mam(self, conn, iq):
        qid, iq_id = attr(iq, b"queryid"), attr(iq, b"id")
        after, mx = text_of(iq, b"after"), int(text_of(iq, b"max") or 100)
        items = self.archive
        if after is not None:
            ids = [i for i, _ in items]
            items = items[ids.index(after) + 1:] if after in ids else items
        items = items[-mx:] if b"<before/>" in iq else items[:mx]
        self.log.append("archive query after %s: %d result(s)"
                        % (after, len(items)))
        out = b""
        for aid, body in items:
            out += (b"<message to='alice@localhost/h' from='" + BARE +
                    b"'><result xmlns='urn:xmpp:mam:2' queryid='" + qid +
                    b"' id='" + aid + b"'><forwarded xmlns='urn:xmpp:"
                    b"forward:0'><delay xmlns='urn:xmpp:delay' stamp='2026-"
                    b"01-01T00:00:00Z'/><message xmlns='jabber:client' "
                    b"from='carol@localhost/x' to='" + BARE + b"' type='chat'"
                    b"><body>" + body + b"</body></message></forwarded>"
                    b"</result></message>")
        last = (b"<last>" + items[-1][0] + b"</last>") if items else b""
        out += (b"<iq type='result' id='" + iq_id + b"'><fin xmlns='urn:xmpp:"
                b"mam:2' complete='true'><set xmlns='http://jabber.org/"
                b"protocol/rsm'>" + last + b"</set></fin></iq>")
        conn.sendall(out)

    def serve(self, conn, n):
        """One connection; n counts them from 1."""
        buf, headers, handled, one_sent = b"", 0, 0, False
        while True:
            m = ELEMENT.match(buf)
            if not m:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
                continue
            el, buf = m.group(1), buf[m.end():]
            if el.startswith(b"<?xml"):
                continue
            if el.startswith(b"</stream:stream"):
                conn.sendall(b"</stream:stream>")
                return
            if el.startswith(b"<stream:stream"):
                headers += 1
                conn.sendall((HDR % n) + (MECHS if headers == 1 else BIND_SM))
            elif el.startswith(b"<auth"):
                conn.sendall(b"<success xmlns='urn:ietf:params:xml:ns:"
                             b"xmpp-sasl'/>")
            elif el.startswith(b"<resume"):
                self.log.append("resumption refused")
                conn.sendall(b"<failed xmlns='urn:xmpp:sm:3'><item-not-found "
                             b"xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                             b"</failed>")
            elif el.startswith(b"<enable"):
                handled = 0
                conn.sendall(b"<enabled xmlns='urn:xmpp:sm:3' id='sm%d' "
                             b"resume='true'/>" % n)
            elif el.startswith(b"<r "):
                conn.sendall(b"<a xmlns='urn:xmpp:sm:3' h='%d'/>" % handled)
            elif el.startswith(b"<iq"):
                handled += 1
                if b"urn:ietf:params:xml:ns:xmpp-bind" in el:
                    conn.sendall(b"<iq type='result' id='" + attr(el, b"id") +
                                 b"'><bind xmlns='urn:ietf:params:xml:ns:"
                                 b"xmpp-bind'><jid>alice@localhost/h</jid>"
                                 b"</bind></iq>")
                elif (b"urn:xmpp:mam:2" in el and n == 1 and
                      self.mode == "shutdown"):
                    self.mam(conn, el)
                    self.archive.append((b"1", b"one"))
                    self.log.append("'one', then system-shutdown")
                    conn.sendall(ONE + SHUTDOWN)
                    conn.shutdown(socket.SHUT_RDWR)
                    return
                elif b"urn:xmpp:mam:2" in el and n == 1 and one_sent:
                    # The listener reads the archive once it is listening
                    # (its checkpoint): the server goes down then.
                    self.log.append("cut at the archive query")
                    conn.shutdown(socket.SHUT_RDWR)
                    return
                elif b"urn:xmpp:mam:2" in el:
                    self.mam(conn, el)
                else:
                    conn.sendall(b"<iq type='result' id='" + attr(el, b"id") +
                                 b"'/>")
            elif el.startswith(b"<presence"):
                handled += 1
                self.log.append("presence on connection %d" % n)
                if n == 1 and not one_sent and self.mode == "cut":
                    self.archive.append((b"1", b"one"))
                    conn.sendall(ONE + b"<r xmlns='urn:xmpp:sm:3'/>")
                    one_sent = True
                elif n == 2 and len(self.archive) == 1:
                    self.archive.append((b"2", b"two"))
            else:
                handled += el.startswith(b"<message")

    def run(self):
        for n in (1, 2, 3):
            try:
                conn, _ = self.srv.accept()
            except OSError:
                return
            with conn:
                try:
                    self.serve(conn, n)
                except OSError:
                    pass


def run(mode):
    print("# mode %s" % mode)
    server = Server(mode)
    threading.Thread(target=server.run, daemon=True).start()
    env = dict(os.environ, XMSG_PASSWORD="gap-pw",
               XDG_STATE_HOME=tempfile.mkdtemp(prefix="xmsg-gap-"))
    # --duration only bounds a failure (the client missing "two"); a
    # client that gets both ends on --count at once.
    p = subprocess.run([XMSG, "listen", "-j", "alice@localhost", "-H",
                        "127.0.0.1", "-P", str(server.port),
                        "--allow-plaintext", "--count", "2", "--type",
                        "message", "--duration", "60", "-T", "60", "-l",
                        "info"], capture_output=True, text=True, env=env,
                       timeout=300)
    server.srv.close()
    lines = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    bodies = [m.get("body") for m in lines[:-1]]
    status = lines[-1] if lines else {}
    fails = 0
    for ok, what in (
            (p.returncode == 0, "listen exits 0 (%d)" % p.returncode),
            (bodies == ["one", "two"],
             "both messages, once each, in order: %s" % bodies),
            (any("fresh login" in l for l in status.get("log", [])),
             "the log tells of a fresh login")):
        print(("ok   " if ok else "FAIL ") + what)
        fails += not ok
    if fails:
        print("# server: %s" % "; ".join(server.log))
        for line in status.get("log", [])[-30:]:
            print("#   log: %s" % line)
        print(p.stderr[-2000:])
    return fails


def main():
    return 1 if sum(run(mode) for mode in MODES) else 0


if __name__ == "__main__":
    sys.exit(main())
