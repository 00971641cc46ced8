"""python-omemo peers for omemo_recv_e2e.sh (receiving in xmsg), over
omemo_peer.py's client (python3-slixmpp, python3-oldmemo, storage in
memory: a new device each run); run with Debian's /usr/bin/python3.

  omemo_recv_peer.py converse JID PASSWORD TO TEXT1 TEXT2
      sends TEXT1 encrypted to TO (a prekey message: the session is new),
      then waits up to 60 s for an OMEMO message from TO (the heartbeat
      xmsg answers a prekey message with) and decrypts it, then sends
      TEXT2. Prints {"sent": TEXT, "prekey": BOOL} per message (whether
      our key went as a prekey message: python-omemo stops once the
      session is confirmed by a message from the other side) and
      {"heartbeat": BOOL, "empty": BOOL} for the wait.
  omemo_recv_peer.py stale JID PASSWORD TO N
      sends s0 (a prekey message), decrypts the heartbeat it gets, then
      sends s1..sN on that session and waits (up to 60 s) for another
      heartbeat; prints {"heartbeats": COUNT} (2 when the receiver
      answers a chain of more than 53 messages, as Conversations does).
  omemo_recv_peer.py reply JID PASSWORD N TEXT
      prints "ready", decrypts the first N OMEMO messages (a line each as
      omemo_peer.py recv prints); python-omemo answers a prekey message
      with an empty OMEMO message (key transport), sent here to the
      sender's bare JID ({"empty_sent": TO} printed); then sends TEXT
      encrypted to the last sender.
  omemo_recv_peer.py send-wait JID PASSWORD TO TEXT1 FILE TEXT2
      sends TEXT1 to TO, waits (up to 120 s) for FILE to exist, decrypts
      the heartbeat xmsg answered with (up to 30 s more; told as in
      converse), then sends TEXT2 from the same device (the same session:
      no prekey message once the heartbeat came).

Exit 0 when done, 1 on any failure (told on stderr).
"""
import asyncio
import json
import os
import sys
import xml.etree.ElementTree as ET

import omemo
import oldmemo
import oldmemo.etree
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

import omemo_peer
from omemo_peer import NS, MemoryStorage


class Manager(omemo_peer.Manager):
    @staticmethod
    async def _send_message(message, bare_jid):
        peer = omemo_peer.PEER
        enc = oldmemo.etree.serialize_message(message)
        msg = peer.make_message(mto=bare_jid, mtype="chat")
        msg.xml.append(enc)
        ET.SubElement(msg.xml, "{urn:xmpp:hints}store")
        msg.send()
        print(json.dumps({"empty_sent": bare_jid}), flush=True)


class Peer(omemo_peer.Peer):
    def __init__(self, jid, password, mode, args):
        super().__init__(jid, password, mode, args)
        self.incoming = asyncio.Queue()
        self.last_from = None
        # slixmpp's "message" event wants a body: heartbeats have none.
        self.register_handler(Callback("OMEMO", MatchXPath(
            f"{{jabber:client}}message/{{{NS}}}encrypted"), self.on_encrypted))

    async def receive_ready(self):
        storage = MemoryStorage()
        self.manager = await Manager.create(
            [oldmemo.Oldmemo(storage)], storage, self.boundjid.bare, None,
            "TRUSTED")
        # Out of history synchronisation (on at creation): empty messages
        # (session completion, heartbeats) go out at once.
        await self.manager.after_history_sync()
        self.send_presence()
        await self.get_roster()
        print("ready", flush=True)

    def on_message(self, msg):
        pass  # on_encrypted has them all

    def on_encrypted(self, msg):
        enc = msg.xml.find(f"{{{NS}}}encrypted")
        if enc is not None and self.manager is not None:
            self.incoming.put_nowait((msg["from"].bare, msg["body"], enc))

    async def decrypt_next(self, timeout):
        """The next OMEMO message for this device (those for devices of
        earlier runs, kept offline by the server, are skipped)."""
        while True:
            sender, body, enc = await asyncio.wait_for(self.incoming.get(),
                                                       timeout)
            try:
                message = await oldmemo.etree.parse_message(
                    enc, sender, self.boundjid.bare, self.manager)
                plain, device, _ = await self.manager.decrypt(message)
            except omemo.MessageNotForUs:
                continue
            self.last_from = sender
            return sender, body, plain, device

    async def send_one(self, to, text):
        await self.manager.refresh_device_list(NS, to)
        messages, _ = await self.manager.encrypt(
            frozenset([to]), {NS: text.encode("utf-8")})
        enc = oldmemo.etree.serialize_message(next(iter(messages)))
        # Our account's other devices (earlier runs) get keys too: only
        # the recipient's count.
        own = {d.device_id for d in
               await self.manager.get_device_information(self.boundjid.bare)}
        prekey = any(k.get("prekey") in ("true", "1")
                     for k in enc.iter(f"{{{NS}}}key")
                     if int(k.get("rid")) not in own)
        self.send_enc(to, enc)
        await self.plugin["xep_0199"].ping(jid=self.boundjid.domain,
                                           timeout=20)
        print(json.dumps({"sent": text, "prekey": prekey}), flush=True)

    async def converse(self, to, first, second):
        await self.send_one(to, first)
        try:
            _, _, plain, _ = await self.decrypt_next(60)
            out = {"heartbeat": True, "empty": plain is None}
        except asyncio.TimeoutError:
            out = {"heartbeat": False}
        print(json.dumps(out), flush=True)
        await self.send_one(to, second)
        return out["heartbeat"]

    async def stale(self, to, n):
        """s0 (a prekey message), its heartbeat, then s1..sN on one chain:
        past 53 the receiver answers with another heartbeat."""
        beats = 0
        await self.send_one(to, "s0")
        for i in range(1, n + 1):
            if i == 1 or not self.incoming.empty():
                try:
                    await self.decrypt_next(60 if i == 1 else 1)
                    beats += 1
                except asyncio.TimeoutError:
                    pass
            await self.send_one(to, f"s{i}")
        try:
            await self.decrypt_next(60)
            beats += 1
        except asyncio.TimeoutError:
            pass
        print(json.dumps({"heartbeats": beats}), flush=True)
        return True

    async def reply(self, n, text):
        for _ in range(n):
            sender, body, plain, device = await self.decrypt_next(110)
            print(json.dumps({
                "from": sender, "device": device.device_id,
                "body": None if plain is None else plain.decode("utf-8"),
                "fallback": body}), flush=True)
        await self.send_one(self.last_from, text)
        return True

    async def send_wait(self, to, first, path, second):
        await self.send_one(to, first)
        for _ in range(1200):
            if os.path.exists(path):
                break
            await asyncio.sleep(0.1)
        else:
            raise TimeoutError(f"{path} never came")
        # The heartbeat xmsg answered the first with (queued meanwhile):
        # the session is confirmed, the second is no prekey message.
        try:
            _, _, plain, _ = await self.decrypt_next(30)
            print(json.dumps({"heartbeat": True, "empty": plain is None}),
                  flush=True)
        except asyncio.TimeoutError:
            print(json.dumps({"heartbeat": False}), flush=True)
        await self.send_one(to, second)
        return True

    async def start(self, _):
        try:
            await self.receive_ready()
            a = self.args
            if self.mode == "converse":
                self.ok = await self.converse(a[0], a[1], a[2])
            elif self.mode == "stale":
                self.ok = await self.stale(a[0], int(a[1]))
            elif self.mode == "reply":
                self.ok = await self.reply(int(a[0]), a[1])
            else:
                self.ok = await self.send_wait(a[0], a[1], a[2], a[3])
        except Exception as e:  # reported, then exit 1
            print(f"omemo_recv_peer: {type(e).__name__}: {e}",
                  file=sys.stderr)
        self.disconnect()


def main():
    mode, jid, password = sys.argv[1:4]
    omemo_peer.run(Peer(jid, password, mode, sys.argv[4:]),
                   180, "omemo_recv_peer")


if __name__ == "__main__":
    main()
