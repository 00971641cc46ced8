"""A peer nobody here wrote (python3-slixmpp), for the interoperability
tests; run with Debian's /usr/bin/python3.

  slix_peer.py send JID PASSWORD TO BODY...   sends each BODY, then waits
                                              for the server's ack
  slix_peer.py recv JID PASSWORD N SECONDS    prints the bodies of the
                                              first N messages, one a line

Connects to XMSG_LAB_HOST:XMSG_LAB_PORT with TLS verified against
XMSG_LAB_CA (STARTTLS), or in clear on a plain server (XMSG_LAB_MODE).
"""
import asyncio
import os
import sys

import slixmpp


class Peer(slixmpp.ClientXMPP):
    def __init__(self, jid, password, mode, args):
        super().__init__(jid, password)
        self.mode, self.args, self.got = mode, args, []
        self.ok = False
        self.register_plugin("xep_0199")
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("message", self.on_message)

    async def start(self, _):
        self.send_presence()
        if self.mode == "recv":
            print("ready", flush=True)
            return
        to, bodies = self.args[0], self.args[1:]
        for body in bodies:
            self.send_message(mto=to, mbody=body, mtype="chat")
        # A ping answered after the messages: the server has them.
        await self.plugin["xep_0199"].ping(jid=self.boundjid.domain,
                                           timeout=10)
        self.ok = True
        self.disconnect()

    def on_message(self, msg):
        if self.mode != "recv" or msg["type"] not in ("chat", "normal"):
            return
        self.got.append(msg["body"])
        print(msg["body"], flush=True)
        if len(self.got) >= int(self.args[0]):
            self.ok = True
            self.disconnect()


def main():
    mode, jid, password = sys.argv[1:4]
    peer = Peer(jid, password, mode, sys.argv[4:])
    plain = os.environ.get("XMSG_LAB_MODE") == "plain"
    if not plain:
        peer.ca_certs = os.environ["XMSG_LAB_CA"]
    peer.connect((os.environ["XMSG_LAB_HOST"],
                  int(os.environ["XMSG_LAB_PORT"])),
                 force_starttls=not plain, disable_starttls=plain)
    limit = int(sys.argv[5]) if mode == "recv" else 20
    try:
        peer.loop.run_until_complete(
            asyncio.wait_for(peer.disconnected, limit))
    except asyncio.TimeoutError:
        pass
    sys.exit(0 if peer.ok else 1)


if __name__ == "__main__":
    main()
