"""Interop of send --file with a client nobody here wrote: python3-slixmpp
(Debian's /usr/bin/python3), logged in as h02, receives what xmsg sends
with --file as h01, and sees the jabber:x:oob element; its URL is the
body's, and a plain HTTPS fetch (urllib, the lab CA) gives the file.

  upload_interop.py XMSG_BINARY    with XMSG_LAB_ENV naming the lab's env
"""
import asyncio
import hashlib
import os
import ssl
import subprocess
import sys
import tempfile
import urllib.request

import slixmpp

from labenv import lab_env

LAB = lab_env(os.environ["XMSG_LAB_ENV"])
DOMAIN = LAB["XMSG_LAB_DOMAIN"]
NS_OOB = "jabber:x:oob"
# Generous: a send on a loaded machine, under the sanitizers.
LIMIT = 180
failed = []


def check(name, cond, detail=""):
    print("%s - %s%s" % ("ok" if cond else "FAIL", name,
                         "" if cond else ": " + str(detail)[:2000]))
    if not cond:
        failed.append(name)


def password(user):
    return "pw-%s-Zq8" % user


class Receiver(slixmpp.ClientXMPP):
    """h02: once online, runs the sender; keeps the first chat message;
    leaves when both the sender has ended and the message has come."""

    def __init__(self, send):
        super().__init__("h02@" + DOMAIN, password("h02"))
        self.send_cmd, self.got, self.sent = send, None, None
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("message", self.on_message)

    async def start(self, _):
        self.send_presence()
        await self.get_roster()
        proc = await asyncio.create_subprocess_exec(
            *self.send_cmd, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=dict(os.environ, XMSG_PASSWORD=password("h01")))
        out, err = await proc.communicate()
        self.sent = (proc.returncode, out.decode(), err.decode())
        if proc.returncode != 0 or self.got is not None:
            self.disconnect()

    def on_message(self, msg):
        if msg["type"] not in ("chat", "normal") or self.got is not None:
            return
        self.got = msg
        if self.sent is not None:
            self.disconnect()


def oob_url(msg):
    """The <url/> of the message's jabber:x:oob element, as slixmpp parsed
    it, or None."""
    x = msg.xml.find("{%s}x" % NS_OOB)
    url = x.find("{%s}url" % NS_OOB) if x is not None else None
    return url.text if url is not None else None


def fetch(url):
    ctx = ssl.create_default_context(cafile=LAB["XMSG_LAB_CA"])
    with urllib.request.urlopen(url, context=ctx, timeout=60) as r:
        return r.read()


def main():
    xmsg = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "graph.png")
        data = os.urandom(300000)
        with open(path, "wb") as f:
            f.write(data)
        send = [xmsg, "send", "-j", "h01@" + DOMAIN, "-H",
                LAB["XMSG_LAB_HOST"], "-P", LAB["XMSG_LAB_PORT"],
                "--ca-file", LAB["XMSG_LAB_CA"], "-T", "60", "-l", "error",
                "-t", "h02@" + DOMAIN, "-m", "the graph", "--file", path]
        os.environ["XDG_STATE_HOME"] = os.path.join(tmp, "state")
        peer = Receiver(send)
        peer.ca_certs = LAB["XMSG_LAB_CA"]
        peer.connect((LAB["XMSG_LAB_HOST"], int(LAB["XMSG_LAB_PORT"])),
                     force_starttls=True)
        try:
            peer.loop.run_until_complete(
                asyncio.wait_for(peer.disconnected, LIMIT))
        except asyncio.TimeoutError:
            pass
        check("xmsg send --file exits 0", peer.sent and peer.sent[0] == 0,
              peer.sent)
        msg = peer.got
        check("slixmpp received a message", msg is not None, peer.sent)
        if msg is None:
            return 1
        body, url = msg["body"], oob_url(msg)
        check("slixmpp sees jabber:x:oob with a URL",
              url and url.startswith("https://"), msg)
        check("the OOB URL is the body's (after the caption)",
              body == "the graph\n%s" % url, (body, url))
        got = fetch(url) if url else b""
        check("the URL, fetched over HTTPS with the lab CA, gives the file",
              hashlib.sha256(got).digest() == hashlib.sha256(data).digest(),
              "%d bytes" % len(got))
    print("%d failed" % len(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
