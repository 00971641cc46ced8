"""The upload side of hostile_server.py (scenarios upload-*): after bind,
the scripted XMPP server offers an HTTP File Upload service (XEP-0363),
hands out slots whose PUT URL points to an HTTP(S) server of its own, and
records what arrived. The HTTP server misbehaves as the scenario says:

  upload-ok       https, the body read to its end, 201 Created
  upload-500      https, the body read to its end, 500
  upload-cut      https, 64 KiB of the body read, then the connection closed
  upload-stall    https, the request's head read, then nothing more: no
                  byte read, no answer, until the client goes
  upload-http     the slot's URLs are http:// (a plain HTTP server, 201)

The record (JSON, written to RECORD when the client has gone):
  messages        every <message/> stanza received, as text
  connections     TCP connections the HTTP server accepted
  tls_failures    TLS handshakes that failed
  requests        request heads read ("PUT /put/f HTTP/1.1", ...)
  body_bytes      body bytes read, all requests
  put_url, get_url  the slot's URLs

hostile_server.py SCENARIO RECORD CERT_DIR; CERT_DIR has localhost.crt
and localhost.key (tests/lab/certs.sh).
"""
import json
import os
import re
import socket
import ssl
import threading
import time

NS_UPLOAD = "urn:xmpp:http:upload:0"
SERVICE = "upload.localhost"
# The file size the service allows: more than the largest test file.
MAX_SIZE = 4 * 1024 * 1024 * 1024
# How long the scripted server waits for a client that stays.
LIFETIME = 900
CUT_AFTER = 64 * 1024


class HttpPeer:
    """One HTTP(S) server on 127.0.0.1 in a thread, serving connections
    one after the other; counts what it saw."""

    def __init__(self, mode, cert_dir):
        self.mode = mode
        self.tls = None
        if mode != "http":
            self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls.load_cert_chain(os.path.join(cert_dir, "localhost.crt"),
                                     os.path.join(cert_dir, "localhost.key"))
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.stats = {"connections": 0, "tls_failures": 0, "requests": [],
                      "body_bytes": 0}
        self.gone = threading.Event()
        # Set while no accepted connection is being served: the record
        # waits for it, so a handshake the client gave up on is counted
        # however late this thread gets to it.
        self.idle = threading.Event()
        self.idle.set()
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while True:
            conn, _ = self.sock.accept()
            self.idle.clear()
            self.stats["connections"] += 1
            try:
                self.serve(conn)
            except (OSError, ValueError):
                pass
            finally:
                conn.close()
                self.idle.set()

    def serve(self, conn):
        conn.settimeout(LIFETIME)
        if self.tls:
            try:
                conn = self.tls.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):
                self.stats["tls_failures"] += 1
                return
        try:
            self.handle(conn)
        finally:
            conn.close()

    def handle(self, conn):
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(4096)
            if not chunk:
                return
            head += chunk
        head, body = head.split(b"\r\n\r\n", 1)
        self.stats["requests"].append(head.split(b"\r\n")[0].decode())
        if self.mode == "stall":
            self.stall(conn)
            return
        m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        length = int(m.group(1)) if m else 0
        limit = CUT_AFTER if self.mode == "cut" else length
        got = self.read_body(conn, len(body), min(length, limit))
        if self.mode == "cut":
            return
        if got < length:
            return
        status = b"500 Internal Server Error" if self.mode == "500" else \
            b"201 Created"
        conn.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\n"
                     b"Connection: close\r\n\r\n")

    def read_body(self, conn, have, want):
        """Reads (and drops) the body until want bytes; returns the count."""
        self.stats["body_bytes"] += have
        while have < want:
            chunk = conn.recv(min(1 << 20, want - have))
            if not chunk:
                break
            have += len(chunk)
            self.stats["body_bytes"] += len(chunk)
        return have

    def stall(self, conn):
        """Reads nothing more, answers nothing, until the client goes."""
        self.gone.wait(LIFETIME)


def attr(data, name):
    m = re.search(r"\s%s=[\"']([^\"']*)[\"']" % name, data)
    return m.group(1) if m else ""


STANZA = re.compile(r"<(iq|message|presence)\b[^>]*?(?:/>|>.*?</\1>)", re.S)


class XmppSide:
    """Answers the client's iqs after bind; records its messages."""

    def __init__(self, conn, http):
        self.conn, self.http = conn, http
        self.messages = []
        scheme = "http" if http.mode == "http" else "https"
        base = "%s://localhost:%d" % (scheme, http.port)
        self.put_url, self.get_url = base + "/put/f", base + "/get/f"

    def reply(self, iq, inner):
        frm = attr(iq, "to")
        frm = " from='%s'" % frm if frm else ""
        payload = ("<iq type='result' id='%s'%s>%s</iq>" %
                   (attr(iq, "id"), frm, inner))
        self.conn.sendall(payload.encode())

    def answer(self, iq):
        if attr(iq, "type") not in ("get", "set"):
            return
        to = attr(iq, "to")
        if "disco#items" in iq:
            self.reply(iq, "<query xmlns='http://jabber.org/protocol/"
                       "disco#items'><item jid='%s'/></query>" % SERVICE)
        elif "disco#info" in iq and to == SERVICE:
            self.reply(iq, "<query xmlns='http://jabber.org/protocol/"
                       "disco#info'><identity category='store' type='file'/>"
                       "<feature var='%s'/><x xmlns='jabber:x:data' "
                       "type='result'><field var='FORM_TYPE' type='hidden'>"
                       "<value>%s</value></field><field var='max-file-size'>"
                       "<value>%d</value></field></x></query>" %
                       (NS_UPLOAD, NS_UPLOAD, MAX_SIZE))
        elif "disco#info" in iq:
            self.reply(iq, "<query xmlns='http://jabber.org/protocol/"
                       "disco#info'/>")
        elif NS_UPLOAD in iq:
            self.reply(iq, "<slot xmlns='%s'><put url='%s'><header name="
                       "'Authorization'>Bearer hostile</header></put>"
                       "<get url='%s'/></slot>" %
                       (NS_UPLOAD, self.put_url, self.get_url))
        else:
            self.reply(iq, "")

    def run(self):
        """Until the client closes its stream (or LIFETIME passes)."""
        buf, end = "", time.monotonic() + LIFETIME
        self.conn.settimeout(1)
        while time.monotonic() < end:
            try:
                chunk = self.conn.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                return
            buf += chunk.decode("utf-8", "replace")
            for m in STANZA.finditer(buf):
                if m.group(1) == "iq":
                    self.answer(m.group(0))
                elif m.group(1) == "message":
                    self.messages.append(m.group(0))
            last = None
            for last in STANZA.finditer(buf):
                pass
            buf = buf[last.end():] if last else buf
            if "</stream:stream>" in buf:
                return


def serve(conn, scenario, record, cert_dir):
    """The scenario after bind; the record written when the client went."""
    http = HttpPeer(scenario[len("upload-"):], cert_dir)
    xmpp = XmppSide(conn, http)
    try:
        xmpp.run()
    except OSError:
        pass
    finally:
        http.gone.set()
        # A client that refused the certificate has closed its socket;
        # the server's side of the handshake ends at once after that.
        http.idle.wait(LIFETIME)
        out = dict(http.stats, messages=xmpp.messages, put_url=xmpp.put_url,
                   get_url=xmpp.get_url)
        with open(record + ".new", "w") as f:
            json.dump(out, f)
        os.rename(record + ".new", record)
