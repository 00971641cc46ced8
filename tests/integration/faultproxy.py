#!/usr/bin/env python3
"""faultproxy.py - a fault-injecting TCP proxy (and fake peers) on loopback
for xmsg's fault tests (tests/integration/fault_e2e.sh). Standard library
only.

Listens on 127.0.0.1 with a port the kernel chooses, prints "PORT <n>" as
its first line on stdout, then one line per event ("<seconds> <event>").
It runs until it is killed (SIGTERM).

Proxy mode forwards every accepted connection to --target and watches one
direction of it for a trigger; at the trigger point the bytes before it are
forwarded, then the action runs:

  --trigger DIR:KIND[:ARG]   DIR is c2s (client to server) or s2c
      match:TEXT    the first occurrence of TEXT in the byte stream
      bytes:N       stream offset N (0: the first byte)
      record:N      the N-th TLS record (1-based) once TLS runs
      appdata:N     the N-th TLS application-data record (type 23)
      biglen:N      the first TLS record whose length is >= N
  --at start|end   act before the trigger (default) or after it: after
                   the matched text or after the whole TLS record
  --once           watch the first connection only (later ones, such as a
                   reconnection, are forwarded untouched)
  --action ACTION
      cut       close both sockets; the rest is dropped. The bytes before
                the trigger go out with the FIN in one segment.
      reset     close both sockets with TCP resets (SO_LINGER 0)
      freeze    forward nothing more either way; keep both sockets open
                (what arrives is read and discarded)
      stop      SIGSTOP --pid and wait until it is stopped, then go on
                forwarding (the triggering bytes included)
      kill      SIGKILL --pid and wait until it is gone, then go on

TLS is seen from the first byte with --tls, otherwise from STARTTLS on: the
server's <proceed/> switches both directions to TLS records.

Fake peers instead of a proxy:
  --silent    accept, read and discard, never write
  --header    accept; after the client's first bytes answer with a stream
              header (and features: none) and then nothing
  --silent-dns ADDR  a DNS server on UDP ADDR:53 (a loopback address) that
              reads every query and never answers; prints "PORT 53"
  --syn-drop  a listener with backlog 0 whose queue is filled by this
              process's own connections that are never accepted: the kernel
              drops further SYNs. Prints "SYNDROP verified" when a probe
              connection stays unanswered, else "SYNDROP failed" and exits 3.
"""

import argparse
import errno
import os
import select
import selectors
import signal
import socket
import struct
import sys
import time

T0 = time.monotonic()
VERBOSE = False
SERVER_HEADER = (b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                 b"xmlns:stream='http://etherx.jabber.org/streams' "
                 b"id='faultproxy' from='localhost' version='1.0'>")


def event(text):
    print("%.3f %s" % (time.monotonic() - T0, text), flush=True)


def listener(backlog=16):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(backlog)
    print("PORT %d" % s.getsockname()[1], flush=True)
    return s


class Trigger:
    """Finds the trigger's stream offset in one direction's bytes."""

    def __init__(self, spec, at):
        parts = spec.split(":", 2)
        if len(parts) < 2 or parts[0] not in ("c2s", "s2c"):
            raise ValueError("bad --trigger %r" % spec)
        self.dir, self.kind = parts[0], parts[1]
        arg = parts[2] if len(parts) > 2 else ""
        if self.kind == "match":
            if not arg:
                raise ValueError("match needs a text")
            self.text = arg.encode()
        elif self.kind in ("bytes", "record", "appdata", "biglen"):
            self.num = int(arg)
        else:
            raise ValueError("bad trigger kind %r" % self.kind)
        self.at = at
        self.spec = spec

    def tls_kind(self):
        return self.kind in ("record", "appdata", "biglen")


class Stream:
    """One direction of one connection: offsets, TLS records, trigger."""

    def __init__(self, name, trigger, tls_from):
        self.name = name
        self.total = 0          # bytes read so far in this direction
        self.tail = b""         # last bytes, for matches across chunks
        self.tls_from = tls_from  # stream offset where TLS starts, or None
        self.next_rec = None    # offset of the next record header
        self.hdr = b""          # partial record header
        self.records = 0
        self.appdata = 0
        self.trigger = trigger if trigger and trigger.dir == name else None
        self.point = None       # the trigger's stream offset, once known
        self.fired = False

    def start_tls(self, offset):
        if self.tls_from is None:
            self.tls_from = offset
            event("%s TLS from offset %d" % (self.name, offset))

    def _records(self, chunk, base):
        """Walks the TLS record headers inside chunk (at offset base)."""
        if self.tls_from is None:
            return
        if self.next_rec is None:
            self.next_rec = self.tls_from
        end = base + len(chunk)
        while self.next_rec < end and self.point is None:
            i = max(self.next_rec + len(self.hdr) - base, 0)
            need = 5 - len(self.hdr)
            self.hdr += chunk[i:i + need]
            if len(self.hdr) < 5:
                return
            rtype, _, length = struct.unpack("!BHH", self.hdr)
            start, stop = self.next_rec, self.next_rec + 5 + length
            self.hdr = b""
            self.next_rec = stop
            self.records += 1
            self.appdata += rtype == 23
            if VERBOSE:
                event("%s record %d type %d length %d at %d" %
                      (self.name, self.records, rtype, length, start))
            self._check_record(rtype, length, start, stop)

    def _check_record(self, rtype, length, start, stop):
        t = self.trigger
        if not t or not t.tls_kind():
            return
        hit = ((t.kind == "record" and self.records == t.num) or
               (t.kind == "appdata" and rtype == 23 and self.appdata == t.num)
               or (t.kind == "biglen" and length >= t.num))
        if hit:
            self.point = stop if t.at == "end" else start
            event("%s trigger %s: record %d type %d length %d at %d-%d" %
                  (self.name, t.spec, self.records, rtype, length, start,
                   stop))

    def _match(self, chunk, base):
        t = self.trigger
        hay = self.tail + chunk
        i = hay.find(t.text)
        keep = len(t.text) - 1
        self.tail = hay[-keep:] if keep else b""
        if i < 0:
            return
        start = base - (len(hay) - len(chunk)) + i
        self.point = start + len(t.text) if t.at == "end" else start
        event("%s trigger %s at %d" % (self.name, t.spec, start))

    def feed(self, chunk):
        """Returns how many bytes of chunk go before the action, or None
        when the trigger point is not in this chunk."""
        base = self.total
        self._records(chunk, base)
        if self.trigger and self.point is None and not self.fired:
            if self.trigger.kind == "match":
                self._match(chunk, base)
            elif self.trigger.kind == "bytes":
                self.point = self.trigger.num
        self.total += len(chunk)
        if self.fired or self.point is None or self.point > self.total:
            return None
        self.fired = True
        if self.point < base:
            event("%s trigger point %d precedes this chunk (at %d): acting "
                  "at once" % (self.name, self.point, base))
        return min(max(self.point - base, 0), len(chunk))


def proc_state(pid):
    """The states of all threads of pid ("" when it is gone)."""
    states = ""
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                states += f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        pass
    return states


def signal_and_wait(pid, sig, done):
    os.kill(pid, sig)
    until = time.monotonic() + 5
    while time.monotonic() < until:
        if done(proc_state(pid)):
            return True
        time.sleep(0.002)
    return False


class Conn:
    """One proxied client connection."""

    def __init__(self, sel, client, args):
        self.sel, self.client, self.args = sel, client, args
        self.server = socket.create_connection(args.target, timeout=5)
        self.server.settimeout(None)
        for s in (client, self.server):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        tls = 0 if args.tls else None
        trig = args.trig
        if args.once:  # the first connection only: a reconnection passes
            args.trig = None
        self.streams = {"c2s": Stream("c2s", trig, tls),
                        "s2c": Stream("s2c", trig, tls)}
        self.frozen = False
        self.closed = False
        self.proceed = b""
        self.s2c_watched = 0
        sel.register(client, selectors.EVENT_READ, (self, "c2s"))
        sel.register(self.server, selectors.EVENT_READ, (self, "s2c"))

    def peer(self, name):
        return self.server if name == "c2s" else self.client

    def close(self, why, rst=False):
        if self.closed:
            return
        self.closed = True
        try:
            pending = len(self.client.recv(65536, socket.MSG_PEEK |
                                           socket.MSG_DONTWAIT))
        except OSError:
            pending = 0
        for s in (self.client, self.server):
            try:
                self.sel.unregister(s)
            except (KeyError, ValueError):
                pass
            if rst:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             struct.pack("ii", 1, 0))
            s.close()
        event("closed both sides: %s" % why)
        if pending:
            event("c2s %d bytes were pending at the close" % pending)

    def act(self):
        a = self.args.action
        if a in ("cut", "reset"):
            # At once: the client must not get to write in between.
            self.close("action %s" % a, rst=a == "reset")
            event("action %s" % a)
            return
        event("action %s" % a)
        if a == "freeze":
            self.frozen = True
        elif a == "stop":
            ok = signal_and_wait(self.args.pid, signal.SIGSTOP,
                                 lambda st: st and set(st) <= set("tT"))
            event("SIGSTOP %d: %s" % (self.args.pid,
                                      "stopped" if ok else "NOT STOPPED"))
        elif a == "kill":
            ok = signal_and_wait(self.args.pid, signal.SIGKILL,
                                 lambda st: st in ("", "Z") or
                                 set(st) <= set("ZX"))
            event("SIGKILL %d: %s" % (self.args.pid,
                                      "gone" if ok else "STILL THERE"))

    def send(self, name, data):
        try:
            self.peer(name).sendall(data)
        except OSError as e:
            event("%s write failed: %s" % (name, e))
            self.close("%s write failed" % name)

    def watch_starttls(self, name, chunk):
        """The server's <proceed/> switches both directions to TLS."""
        if name != "s2c" or self.streams["s2c"].tls_from is not None:
            return
        self.s2c_watched += len(chunk)
        self.proceed = (self.proceed + chunk)[-4096:]
        i = self.proceed.find(b"<proceed")
        if i < 0:
            return
        j = self.proceed.find(b">", i)
        if j < 0:
            return
        s2c = self.streams["s2c"]
        s2c.start_tls(self.s2c_watched - (len(self.proceed) - j - 1))
        self.streams["c2s"].start_tls(self.streams["c2s"].total)

    def readable(self, name):
        src = self.client if name == "c2s" else self.server
        try:
            chunk = src.recv(65536)
        except OSError as e:
            chunk = b""
            event("%s read failed: %s" % (name, e))
        if not chunk and self.frozen and name == "s2c":
            # Frozen: the client's socket stays open whatever the server does.
            self.sel.unregister(src)
            src.close()
            event("s2c end of stream (frozen: the client's side stays open)")
            return
        if not chunk:
            self.close("%s end of stream" % name)
            return
        if self.frozen:
            event("%s %d bytes discarded (frozen)" % (name, len(chunk)))
            return
        stream = self.streams[name]
        split = stream.feed(chunk)
        if split is None:
            self.send(name, chunk)
            self.watch_starttls(name, chunk)
            return
        if self.args.action == "cut":
            # Held back until the close: the bytes and the FIN arrive in
            # one segment, so the peer cannot answer them before the cut.
            self.peer(name).setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
        self.send(name, chunk[:split])
        if self.closed:
            return
        if self.args.action not in ("cut", "reset"):
            self.watch_starttls(name, chunk[:split])
        self.act()
        if self.closed or self.frozen:
            if len(chunk) > split:
                event("%s %d bytes held back" % (name, len(chunk) - split))
            return
        self.send(name, chunk[split:])
        self.watch_starttls(name, chunk[split:])


def run_proxy(args):
    lsock = listener()
    sel = selectors.DefaultSelector()
    sel.register(lsock, selectors.EVENT_READ, None)
    while True:
        for key, _ in sel.select():
            if key.data is None:
                client, addr = lsock.accept()
                event("accepted %s:%d" % addr)
                try:
                    Conn(sel, client, args)
                except OSError as e:
                    event("cannot reach the target: %s" % e)
                    client.close()
                continue
            conn, name = key.data
            conn.readable(name)


def run_fake(args):
    lsock = listener()
    sel = selectors.DefaultSelector()
    sel.register(lsock, selectors.EVENT_READ, None)
    answered = set()
    while True:
        for key, _ in sel.select():
            if key.data is None:
                client, addr = lsock.accept()
                event("accepted %s:%d" % addr)
                sel.register(client, selectors.EVENT_READ, client)
                continue
            s = key.data
            data = s.recv(65536)
            if not data:
                event("client closed")
                sel.unregister(s)
                s.close()
                continue
            event("%d bytes read and ignored" % len(data))
            if args.header and s not in answered:
                answered.add(s)
                s.sendall(SERVER_HEADER)
                event("stream header sent; silent from now on")


def run_silent_dns(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 53))
    print("PORT 53", flush=True)
    while True:
        data, peer = s.recvfrom(65536)
        event("DNS query of %d bytes from %s:%d ignored" %
              ((len(data),) + peer))


def run_syn_drop():
    lsock = listener(0)
    held = []
    for n in range(1, 9):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.setblocking(False)
        err = c.connect_ex(lsock.getsockname())
        held.append(c)
        if err not in (0, errno.EINPROGRESS):
            event("filler %d: connect error %d" % (n, err))
            continue
        _, w, _ = select.select([], [c], [], 0.3)
        if not w:
            event("SYNDROP verified: connection %d got no answer to its SYN "
                  "in 0.3 s (%d queued, never accepted)" % (n, n - 1))
            break
        event("filler %d connected (queued, never accepted)" % n)
    else:
        event("SYNDROP failed: the kernel answered every SYN")
        sys.exit(3)
    while True:
        time.sleep(3600)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--target", help="HOST:PORT of the server")
    ap.add_argument("--trigger")
    ap.add_argument("--at", choices=("start", "end"), default="start")
    ap.add_argument("--action", choices=("cut", "reset", "freeze", "stop",
                                         "kill"))
    ap.add_argument("--pid", type=int)
    ap.add_argument("--once", action="store_true",
                    help="watch the first connection only")
    ap.add_argument("--tls", action="store_true",
                    help="TLS from the first byte (direct TLS port)")
    ap.add_argument("--verbose", action="store_true",
                    help="log every TLS record")
    ap.add_argument("--silent", action="store_true")
    ap.add_argument("--header", action="store_true")
    ap.add_argument("--syn-drop", action="store_true")
    ap.add_argument("--silent-dns", metavar="ADDR")
    args = ap.parse_args()
    global VERBOSE
    VERBOSE = args.verbose
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if args.syn_drop:
        return run_syn_drop()
    if args.silent_dns:
        if not args.silent_dns.startswith("127."):
            ap.error("loopback addresses only")
        return run_silent_dns(args.silent_dns)
    if args.silent or args.header:
        return run_fake(args)
    if not args.target or not args.trigger or not args.action:
        ap.error("proxy mode needs --target, --trigger and --action")
    if args.action in ("stop", "kill") and not args.pid:
        ap.error("--action %s needs --pid" % args.action)
    host, _, port = args.target.rpartition(":")
    if host not in ("127.0.0.1", "::1", "localhost"):
        ap.error("loopback targets only")
    args.target = (host, int(port))
    args.trig = Trigger(args.trigger, args.at)
    return run_proxy(args)


if __name__ == "__main__":
    main()
