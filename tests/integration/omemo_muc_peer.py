"""Room peers for the OMEMO group chat tests (omemo_muc_e2e.sh), on
python3-slixmpp's xep_0045 and the python-omemo client of omemo_peer.py;
run with Debian's /usr/bin/python3.

  omemo_muc_peer.py make JID PASSWORD ROOM KIND MEMBER...
      creates ROOM as its owner and configures it (persistent): KIND
      private (members-only, non-anonymous), open (not members-only,
      non-anonymous) or semi (members-only, semi-anonymous); makes each
      MEMBER (a bare JID) a member; leaves; prints "made"
  omemo_muc_peer.py recv JID PASSWORD ROOM until:TEXT
      a python-omemo client (oldmemo, storage in memory): publishes its
      device and bundle, joins ROOM, prints "ready", then prints one JSON
      line per groupchat message with a body from another occupant, until
      one whose text is TEXT: OMEMO ones decrypted with the sender's real
      JID (the room is non-anonymous):
      {"from": REAL_BARE, "body": TEXT, "device": N, "fallback": BODY,
       "rids": [THE DEVICES GIVEN A KEY]}
      ({"from", "error", "fallback"} when it cannot decrypt), the others
      {"from": REAL_BARE|null, "plain": BODY}

Exit 0 when done, 1 on any failure (told on stderr).
"""
import asyncio
import json
import os
import sys

import oldmemo.etree
import slixmpp
from slixmpp.plugins.xep_0004 import Form

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import omemo_peer  # noqa: E402  (its client and session manager)

NS = omemo_peer.NS
KINDS = {"private": (True, "anyone"), "open": (False, "anyone"),
         "semi": (True, "moderators")}


def room_form(kind):
    members_only, whois = KINDS[kind]
    form = Form()
    form["type"] = "submit"
    form.add_field(var="FORM_TYPE", ftype="hidden",
                   value="http://jabber.org/protocol/muc#roomconfig")
    form.add_field(var="muc#roomconfig_persistentroom", ftype="boolean",
                   value=True)
    form.add_field(var="muc#roomconfig_membersonly", ftype="boolean",
                   value=members_only)
    form.add_field(var="muc#roomconfig_whois", ftype="list-single",
                   value=whois)
    return form


def rids(enc):
    """The devices the message has a key for."""
    return [int(k.get("rid")) for k in
            enc.findall(f"{{{NS}}}header/{{{NS}}}key")]


class RoomPeer(omemo_peer.Peer):
    def __init__(self, jid, password, mode, args):
        super().__init__(jid, password, mode, args)
        self.register_plugin("xep_0004")
        self.register_plugin("xep_0045")
        self.room = args[0]
        self.nick = self.boundjid.user

    def muc(self):
        return self.plugin["xep_0045"]

    async def make(self, kind, members):
        await self.muc().join_muc_wait(self.room, self.nick, maxstanzas=0,
                                       timeout=30)
        await self.muc().set_room_config(self.room, room_form(kind),
                                         timeout=30)
        for jid in members:
            await self.muc().set_affiliation(self.room, "member", jid=jid,
                                             timeout=30)
        self.muc().leave_muc(self.room, self.nick)
        await self.plugin["xep_0199"].ping(jid=self.boundjid.domain,
                                           timeout=20)
        print("made", flush=True)

    async def start(self, _):
        try:
            if self.mode == "make":
                await self.make(self.args[1], self.args[2:])
                self.ok = True
                self.disconnect()
                return
            await self.receive_ready_in_room()
        except Exception as e:  # reported, then exit 1
            print(f"omemo_muc_peer: {type(e).__name__}: {e}",
                  file=sys.stderr)
            self.disconnect()

    async def receive_ready_in_room(self):
        await self.receive_ready()
        await self.muc().join_muc_wait(self.room, self.nick, maxstanzas=0,
                                       timeout=30)
        print("ready", flush=True)

    def on_message(self, msg):
        if (self.mode == "recv" and self.manager is not None and
                msg["type"] == "groupchat" and msg["body"] and
                msg["from"].bare == self.room and
                msg["from"].resource != self.nick):
            # The sender's real JID now: its leaving the room may be
            # handled before the task runs.
            real = self.muc().get_jid_property(self.room,
                                               msg["from"].resource, "jid")
            real = slixmpp.JID(real).bare if real else None
            asyncio.ensure_future(self.room_message(msg, real))

    async def room_message(self, msg, real):
        enc = msg.xml.find(f"{{{NS}}}encrypted")
        async with self.lock:
            if enc is None or real is None:
                out = {"from": real, "plain": msg["body"]}
            else:
                out = await self.decrypted(enc, real, msg["body"])
            print(json.dumps(out), flush=True)
            self.failed = getattr(self, "failed", False) or "error" in out
            if out.get("body", out.get("plain")) == self.args[1][6:]:
                self.ok = not self.failed
                self.disconnect()

    async def decrypted(self, enc, sender, fallback):
        try:
            message = await oldmemo.etree.parse_message(
                enc, sender, self.boundjid.bare, self.manager)
            plain, device, _ = await self.manager.decrypt(message)
            return {"from": sender, "body": plain.decode("utf-8"),
                    "device": device.device_id, "fallback": fallback,
                    "rids": rids(enc)}
        except Exception as e:  # told, not dropped
            return {"from": sender, "error": f"{type(e).__name__}: {e}",
                    "fallback": fallback}


def main():
    mode, jid, password = sys.argv[1:4]
    omemo_peer.run(RoomPeer(jid, password, mode, sys.argv[4:]),
                   180 if mode == "recv" else 60, "omemo_muc_peer")


if __name__ == "__main__":
    main()
