#!/usr/bin/env python3
"""evil_server.py - a scripted, recording XMPP-ish server for xmsg's TLS
tests (tests/tls). Standard library only; listens on 127.0.0.1 only.

    evil_server.py --record PREFIX MODE [CERT KEY]

Listens on 127.0.0.1 on a port the kernel chooses and prints "PORT <n>" as
its first line on stdout. It serves every connection it accepts with the
script of MODE, and runs until SIGTERM/SIGINT (then it reads what the
clients still send until they close, at most 3 s more) or --lifetime
seconds.

It records every byte it receives:
  PREFIX.raw     the bytes as they came off the socket (TLS records as such)
  PREFIX.plain   the bytes it could read: cleartext before TLS, the
                 decrypted bytes after the handshake, and whatever arrives
                 after a failed handshake
  PREFIX.events  one line per event: accept, starttls, tls-ok,
                 tls-failed <reason>, auth, close ...

Modes:
  starttls CERT KEY  stream features with <starttls><required/></starttls>;
                     <starttls/> is answered with <proceed/>, then the TLS
                     handshake with CERT; after it the stream offers SASL
                     PLAIN only and every <auth/> gets not-authorized
  direct CERT KEY    TLS from the first byte (XEP-0368, xmsg --legacy-tls),
                     then as starttls after its handshake
  strip              a STARTTLS-stripping attacker: features without
                     <starttls/>, SASL PLAIN only
  plain              a server without TLS: SASL PLAIN only (the same bytes
                     as strip; a client that allows plaintext logs in here).
                     strip and plain answer a TLS ClientHello with that
                     cleartext stream too.
  tlsfail            offers STARTTLS (required), answers <starttls/> with
                     <failure/> and then offers SASL PLAIN on the same,
                     still unencrypted stream: a client must not fall back
  tlsrefuse          offers STARTTLS (required) and refuses it as RFC 6120
                     says: <failure/>, </stream:stream>, close
  garbage            answers <starttls/> with <proceed/>, waits for the
                     ClientHello and answers it with XMPP in clear text (a
                     stream header and SASL PLAIN features)
  inject             answers <starttls/> with <proceed/> and, in the same
                     write, that cleartext stream: bytes a client must not
                     take for part of the TLS session
"""

import argparse
import re
import signal
import socket
import ssl
import sys
import threading
import time

NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
FEAT_STARTTLS = ("<stream:features><starttls xmlns='%s'><required/>"
                 "</starttls></stream:features>" % NS_TLS)
FEAT_PLAIN = ("<stream:features><mechanisms xmlns='%s'>"
              "<mechanism>PLAIN</mechanism></mechanisms>"
              "</stream:features>" % NS_SASL)
PROCEED = "<proceed xmlns='%s'/>" % NS_TLS
TLS_FAILURE = "<failure xmlns='%s'/>" % NS_TLS
CLEAR_STREAM = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                "xmlns:stream='http://etherx.jabber.org/streams' "
                "version='1.0'>" + FEAT_PLAIN)
AUTH_FAILURE = "<failure xmlns='%s'><not-authorized/></failure>" % NS_SASL

RE_STREAM = re.compile(rb"<(?:stream:)?stream\b[^>]*>")
RE_TO = re.compile(rb"""\bto=['"]([^'"]*)['"]""")
RE_STARTTLS = re.compile(rb"<starttls\b[^>]*?(?:/>|>.*?</starttls>)", re.S)
RE_AUTH = re.compile(rb"<auth\b[^>]*?(?:/>|>.*?</auth>)", re.S)
RE_END = re.compile(rb"</stream:stream>")


class Closed(Exception):
    """The peer closed the connection (or it broke)."""


class Recorder:
    def __init__(self, prefix):
        self.lock = threading.Lock()
        self.raw = open(prefix + ".raw", "ab", buffering=0)
        self.plain = open(prefix + ".plain", "ab", buffering=0)
        self.events = open(prefix + ".events", "a", buffering=1)
        self.t0 = time.monotonic()

    def data(self, raw, plain):
        with self.lock:
            if raw:
                self.raw.write(raw)
            if plain:
                self.plain.write(plain)

    def event(self, cid, text):
        with self.lock:
            self.events.write("%.3f conn%d %s\n" %
                              (time.monotonic() - self.t0, cid, text))


class Conn:
    """One client connection: cleartext, then possibly TLS over memory BIOs
    so that both the raw and the decrypted bytes are seen."""

    def __init__(self, sock, cid, rec, stopping):
        self.sock = sock
        self.cid = cid
        self.rec = rec
        self.stopping = stopping
        self.tls = None
        self.inbio = self.outbio = None
        self.buf = b""
        self.eof = False
        sock.settimeout(0.2)

    def event(self, text):
        self.rec.event(self.cid, text)

    def _recv_raw(self):
        """Bytes off the socket; b'' at EOF. Gives up 3 s after stop."""
        deadline = None
        while True:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                if self.stopping.is_set():
                    deadline = deadline or time.monotonic() + 3
                    if time.monotonic() > deadline:
                        raise Closed("stopped")
                continue
            except OSError as e:
                raise Closed(str(e))
            self.rec.data(data, None)
            return data

    def _flush_tls(self):
        out = self.outbio.read() if self.outbio else b""
        if out:
            try:
                self.sock.sendall(out)
            except OSError as e:
                raise Closed(str(e))

    def read(self):
        """The next readable bytes (decrypted under TLS), recorded."""
        if self.tls is None:
            data = self._recv_raw()
            if not data:
                raise Closed("eof")
            self.rec.data(None, data)
            return data
        while True:
            try:
                data = self.tls.read(65536)
            except ssl.SSLWantReadError:
                self._flush_tls()
                raw = self._recv_raw()
                if not raw:
                    raise Closed("eof under TLS")
                self.inbio.write(raw)
                continue
            except ssl.SSLZeroReturnError:
                raise Closed("TLS close_notify")
            except ssl.SSLError as e:
                raise Closed("TLS error: %s" % e)
            self._flush_tls()
            if not data:
                raise Closed("eof under TLS")
            self.rec.data(None, data)
            return data

    def send(self, text):
        data = text.encode() if isinstance(text, str) else text
        try:
            if self.tls is None:
                self.sock.sendall(data)
            else:
                self.tls.write(data)
                self._flush_tls()
        except (OSError, ssl.SSLError) as e:
            raise Closed(str(e))

    def wait_for(self, regex):
        """Reads until regex matches the unconsumed bytes; consumes them."""
        while True:
            m = regex.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            self.buf += self.read()

    def handshake(self, cert, key):
        """Server side TLS handshake. True on success; on failure the rest
        of what the client sends is drained and recorded."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.inbio, self.outbio = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = ctx.wrap_bio(self.inbio, self.outbio, server_side=True)
        if self.buf:  # a client that did not wait for <proceed/>
            self.inbio.write(self.buf)
            self.buf = b""
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush_tls()
                raw = self._recv_raw()
                if not raw:
                    self.event("tls-failed eof during the handshake")
                    return False
                self.inbio.write(raw)
            except ssl.SSLError as e:
                try:
                    self._flush_tls()
                except Closed:
                    pass
                self.event("tls-failed %s" % (e.reason or e))
                self.drain()
                return False
        self._flush_tls()
        self.tls = tls
        self.event("tls-ok %s %s" % (tls.version(), tls.cipher()[0]))
        return True

    def drain(self):
        """Records all the client still sends (as readable bytes too)."""
        while True:
            data = self._recv_raw()
            if not data:
                return
            self.rec.data(None, data)
            self.event("drained %d bytes" % len(data))

    def open_stream(self, features):
        if self.tls is None and not self.buf:
            self.buf = self.read()
        if self.tls is None and self.buf[:1] == b"\x16":
            # A ClientHello on a cleartext port: answer in cleartext all
            # the same (a client must fail its handshake, not go on).
            self.event("TLS ClientHello on a cleartext stream")
            self.send(CLEAR_STREAM)
            self.drain()
            return False
        m = self.wait_for(RE_STREAM)
        to = RE_TO.search(m.group(0))
        dom = to.group(1).decode("utf-8", "replace") if to else "localhost"
        self.event("stream to=%s" % dom)
        self.send("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                  "xmlns:stream='http://etherx.jabber.org/streams' "
                  "id='evil-%d' from='%s' version='1.0' xml:lang='en'>%s" %
                  (self.cid, dom.replace("'", ""), features))
        return True

    def serve_sasl(self):
        """Refuses every <auth/>, closes on </stream:stream>."""
        while True:
            m_auth = RE_AUTH.search(self.buf)
            m_end = RE_END.search(self.buf)
            if m_auth and (not m_end or m_auth.start() < m_end.start()):
                self.buf = self.buf[m_auth.end():]
                self.event("auth (%s)" % ("TLS" if self.tls else "CLEARTEXT"))
                self.send(AUTH_FAILURE)
                continue
            if m_end:
                self.buf = self.buf[m_end.end():]
                self.event("stream end")
                self.send("</stream:stream>")
                self.drain_stream()
                return
            self.buf += self.read()

    def drain_stream(self):
        while True:
            self.buf += self.read()


def serve(conn, mode, cert, key):
    if mode == "direct":
        if not conn.handshake(cert, key):
            return
        conn.open_stream(FEAT_PLAIN)
        conn.serve_sasl()
    elif mode in ("starttls", "garbage", "inject", "tlsfail", "tlsrefuse"):
        conn.open_stream(FEAT_STARTTLS)
        conn.wait_for(RE_STARTTLS)
        conn.event("starttls")
        if mode == "tlsrefuse":
            conn.send(TLS_FAILURE + "</stream:stream>")
            conn.sock.shutdown(socket.SHUT_WR)
            conn.drain()
            return
        if mode == "tlsfail":
            conn.send(TLS_FAILURE + FEAT_PLAIN)
            conn.serve_sasl()
            return
        if mode == "inject":
            conn.send(PROCEED + CLEAR_STREAM)
            conn.drain()
            return
        conn.send(PROCEED)
        if mode == "garbage":
            hello = conn.read()
            conn.event("client hello %d bytes" % len(hello))
            conn.send(CLEAR_STREAM)
            conn.drain()
            return
        if not conn.handshake(cert, key):
            return
        conn.open_stream(FEAT_PLAIN)
        conn.serve_sasl()
    else:  # strip, plain
        if conn.open_stream(FEAT_PLAIN):
            conn.serve_sasl()


def handle(sock, cid, rec, stopping, mode, cert, key):
    conn = Conn(sock, cid, rec, stopping)
    try:
        serve(conn, mode, cert, key)
        reason = "done"
    except Closed as e:
        reason = str(e)
    except Exception as e:  # a bug here must show in the events
        reason = "server error: %r" % e
    rec.event(cid, "close %s" % reason)
    try:
        sock.close()
    except OSError:
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--record", required=True, metavar="PREFIX")
    ap.add_argument("--lifetime", type=float, default=300)
    ap.add_argument("mode", choices=["starttls", "direct", "strip", "plain",
                                     "tlsfail", "tlsrefuse", "garbage",
                                     "inject"])
    ap.add_argument("cert", nargs="?")
    ap.add_argument("key", nargs="?")
    a = ap.parse_args()
    if a.mode in ("starttls", "direct") and not (a.cert and a.key):
        ap.error("mode %s needs CERT and KEY" % a.mode)
    if a.cert:  # fail now, not in the middle of a handshake
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(a.cert, a.key)

    rec = Recorder(a.record)
    stopping = threading.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, lambda *_: stopping.set())
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    lsock.settimeout(0.1)
    print("PORT %d" % lsock.getsockname()[1], flush=True)

    threads = []
    end = time.monotonic() + a.lifetime
    cid = 0
    while not stopping.is_set() and time.monotonic() < end:
        try:
            sock, peer = lsock.accept()
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        cid += 1
        rec.event(cid, "accept %s:%d" % peer)
        t = threading.Thread(target=handle, daemon=True,
                             args=(sock, cid, rec, stopping, a.mode, a.cert,
                                   a.key))
        t.start()
        threads.append(t)
    stopping.set()
    lsock.close()
    for t in threads:
        t.join(5)
    rec.event(0, "exit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
