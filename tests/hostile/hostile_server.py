#!/usr/bin/env python3
"""A scripted hostile XMPP server for one client connection, plaintext (the
client runs with --allow-plaintext): it lets the client log in with SASL
PLAIN, then misbehaves as SCENARIO says. Prints its port, serves once.

  hostile_server.py SCENARIO
  no-bind-empty   features after login are empty (no <bind/>)
  no-bind-session features after login offer a session but no <bind/>
  huge-stanza     after bind, one <message/> of 100 MB (never finished)
  deep-nesting    after bind, a <message/> nested 200,000 elements deep
  invalid-utf8    after bind, a <message/> whose body is not UTF-8
  entity-bomb     a DOCTYPE with nested entities before the stream
  many-attrs      after bind, a <message/> with 100,000 attributes
  ack-more        stream management acks 5 stanzas when 1 was sent
  entity-bomb     the stream starts with a DOCTYPE of nested entities
  forged-mam      archive results for the client's query, one of them sent
                  by another JID: only the account's own may be taken
  drop-silent     after bind, closes the connection; then accepts every
                  new one and never answers (a reconnection that stalls)
  slow-steps      honest but slow: SLOW seconds before the login's success,
                  SLOW more before acknowledging the message
  flood           after bind, small <message/> stanzas without pause, and
                  never an answer: for FLOOD_SECONDS at most, then silence
  upload-*        after bind, an HTTP File Upload service whose PUTs fail
                  (upload_peer.py; hostile_server.py upload-X RECORD CERTS)
"""
import re
import socket
import sys
import time

import upload_peer

SLOW = 2.5

HDR = (b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
       b"xmlns:stream='http://etherx.jabber.org/streams' id='h1' "
       b"from='localhost' version='1.0'>")
MECHS = (b"<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:"
         b"xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms>"
         b"</stream:features>")
BIND = (b"<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
        b"</stream:features>")
BIND_SM = (b"<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
           b"<sm xmlns='urn:xmpp:sm:3'/></stream:features>")
BOMB = (b"<?xml version='1.0'?><!DOCTYPE stream:stream ["
        b"<!ENTITY a0 'lollollollollollollollollollol'>" +
        b"".join(b"<!ENTITY a%d '%s'>" % (i, (b"&a%d;" % (i - 1)) * 10)
                 for i in range(1, 10)) +
        b"]><stream:stream xmlns='jabber:client' xmlns:stream='http://"
        b"etherx.jabber.org/streams' id='h1' from='localhost' version='1.0'>"
        b"<stream:features>&a9;</stream:features>")
AFTER_LOGIN = {
    "forged-mam": BIND,
    "slow-steps": BIND_SM,
    "drop-silent": BIND,
    "entity-bomb": b"",
    "ack-more": BIND_SM,
    "huge-stanza": BIND,
    "deep-nesting": BIND,
    "invalid-utf8": BIND,
    "many-attrs": BIND,
    "flood": BIND,
    **{"upload-" + m: BIND for m in ("ok", "500", "cut", "stall", "http")},
    "no-bind-empty": b"<stream:features/>",
    "no-bind-session": (b"<stream:features><session xmlns='urn:ietf:params:"
                        b"xml:ns:xmpp-session'/></stream:features>"),
}


def read_until(conn, marker):
    data = b""
    while marker not in data:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError("client closed")
        data += chunk
    return data


def answer_bind(conn):
    data = read_until(conn, b"</iq>")
    iq_id = attr(data, b"id")
    conn.sendall(b"<iq type='result' id='" + iq_id + b"'><bind xmlns='urn:"
                 b"ietf:params:xml:ns:xmpp-bind'><jid>alice@localhost/h</jid>"
                 b"</bind></iq>")


MSG = b"<message from='evil@localhost' to='alice@localhost'"
AFTER_BIND = {
    "huge-stanza": lambda: MSG + b"><body>" + b"a" * (100 * 1024 * 1024),
    "deep-nesting": lambda: (MSG + b"><body>x</body>" + b"<a>" * 200000 +
                             b"</a>" * 200000 + b"</message>"),
    "invalid-utf8": lambda: MSG + b"><body>\xff\xfe bad</body></message>",
    # Twice: expat >= 2.6 (and Debian's 2.5.0 security updates) defers a
    # token this large until about as many bytes again have arrived.
    "many-attrs": lambda: (MSG + b"".join(b" a%d='v'" % i
                                          for i in range(100000)) +
                           b"><body>x</body></message>") * 2,
}


# A flood ends by itself: it is bounded in time, and in bytes.
FLOOD_SECONDS = 30
FLOOD_BYTES = 2 * 1024 * 1024 * 1024


def flood(conn):
    """Small messages as fast as the client takes them, none answered."""
    chunk = b"".join(MSG + b" type='chat' id='f%d'><body>flood %d</body>"
                     b"</message>" % (i, i) for i in range(1000))
    end = time.monotonic() + FLOOD_SECONDS
    sent = 0
    while time.monotonic() < end and sent < FLOOD_BYTES:
        conn.sendall(chunk)
        sent += len(chunk)


def attr(data, name):
    m = re.search(rb"%s=[\"']([^\"']*)[\"']" % name, data)
    return m.group(1) if m else b""


def archive_result(qid, aid, sender, body):
    """One archive result; sender b"" is the account itself (no from)."""
    frm = b" from='" + sender + b"'" if sender else b""
    return (b"<message to='alice@localhost/h'" + frm + b"><result xmlns="
            b"'urn:xmpp:mam:2' queryid='" + qid + b"' id='" + aid + b"'>"
            b"<forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:"
            b"delay' stamp='2026-01-01T00:00:00Z'/><message xmlns='jabber:"
            b"client' from='carol@localhost/x' to='alice@localhost' "
            b"type='chat'><body>" + body + b"</body></message></forwarded>"
            b"</result></message>")


def serve_archive(conn):
    """Answers the archive query with a forged result and a genuine one,
    then pings, until the client closes."""
    buf = b""
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            return
        buf += chunk
        for iq in re.findall(rb"<iq[^>]*>.*?</iq>|<iq[^>]*/>", buf, re.S):
            iq_id = attr(iq, b"id")
            if b"urn:xmpp:mam:2" in iq:
                qid = attr(iq, b"queryid")
                conn.sendall(archive_result(qid, b"F1", b"evil@localhost",
                                            b"forged") +
                             archive_result(qid, b"G1", b"", b"genuine") +
                             b"<iq type='result' id='" + iq_id + b"'><fin "
                             b"xmlns='urn:xmpp:mam:2' complete='true'><set "
                             b"xmlns='http://jabber.org/protocol/rsm'><last>"
                             b"G1</last></set></fin></iq>")
            else:
                conn.sendall(b"<iq type='result' id='" + iq_id + b"'/>")
        buf = re.sub(rb"<iq[^>]*>.*?</iq>|<iq[^>]*/>", b"", buf, flags=re.S)


def serve_acks(conn, delay):
    """Stream management done right, the first answer after delay: each
    <r/> gets the count of stanzas received since <enable/>."""
    buf, count = b"", 0
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            return
        buf += chunk
        for tok in re.findall(rb"<enable |<message |<iq |<presence |<r ",
                              buf):
            if tok == b"<enable ":
                conn.sendall(b"<enabled xmlns='urn:xmpp:sm:3'/>")
                count = 0
            elif tok == b"<r ":
                time.sleep(delay)
                delay = 0
                conn.sendall(b"<a xmlns='urn:xmpp:sm:3' h='%d'/>" % count)
            else:
                count += 1
        buf = buf[-16:] if re.search(rb"<[a-z]*$", buf[-16:]) else b""


def stall_newcomers(srv, seconds):
    """Accepts connections for seconds, answering none of them."""
    kept, until = [], time.monotonic() + seconds
    while time.monotonic() < until:
        srv.settimeout(max(0.1, until - time.monotonic()))
        try:
            kept.append(srv.accept()[0])
        except (socket.timeout, OSError):
            pass
    for c in kept:
        c.close()


def main():
    scenario = sys.argv[1]
    after = AFTER_LOGIN[scenario]
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(30)
    print(srv.getsockname()[1], flush=True)
    conn, _ = srv.accept()
    conn.settimeout(30)
    try:
        read_until(conn, b"<stream:stream")
        if scenario == "entity-bomb":
            conn.sendall(BOMB)
            while conn.recv(65536):
                pass
            return
        conn.sendall(HDR + MECHS)
        read_until(conn, b"</auth>")
        if scenario == "slow-steps":
            time.sleep(SLOW)
        conn.sendall(b"<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
        read_until(conn, b"<stream:stream")
        conn.sendall(HDR + after)
        if scenario == "ack-more":
            answer_bind(conn)
            read_until(conn, b"<enable ")
            conn.sendall(b"<enabled xmlns='urn:xmpp:sm:3'/>")
            read_until(conn, b"<r ")
            conn.sendall(b"<a xmlns='urn:xmpp:sm:3' h='5'/>")
        if scenario == "forged-mam":
            answer_bind(conn)
            serve_archive(conn)
        if scenario == "slow-steps":
            answer_bind(conn)
            serve_acks(conn, SLOW)
        if scenario == "flood":
            answer_bind(conn)
            flood(conn)
        if scenario == "drop-silent":
            answer_bind(conn)
            conn.close()
            stall_newcomers(srv, 10)
            return
        if scenario.startswith("upload-"):
            answer_bind(conn)
            upload_peer.serve(conn, scenario, sys.argv[2], sys.argv[3])
        if scenario in AFTER_BIND:
            answer_bind(conn)
            conn.sendall(AFTER_BIND[scenario]())
        while conn.recv(65536):
            pass
    except (ConnectionError, socket.timeout, OSError):
        pass
    conn.close()


if __name__ == "__main__":
    main()
