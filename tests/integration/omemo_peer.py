"""An OMEMO peer nobody here wrote (python3-slixmpp, python3-oldmemo), for
the interoperability tests; run with Debian's /usr/bin/python3.

  omemo_peer.py devices JID PASSWORD TARGET
      fetches TARGET's device list and each device's bundle over PEP and
      parses them with oldmemo (schema-validated, as python-omemo reads
      them), checks the signed prekey's XEdDSA signature against the
      identity key, prints one JSON line per device:
      {"device": N, "fingerprint": HEX, "prekeys": N, "signature": bool}
      (fingerprint: the Curve25519 identity key, 8 groups of 8 hex
      digits), or {"device": N, "bundle": false} for a device without one
  omemo_peer.py publish-list JID PASSWORD ID...
      publishes our device list with these ids, with the server's default
      access model (Prosody: presence, not open), as another client of
      the account would
  omemo_peer.py publish-closed JID PASSWORD NODE
      publishes an empty <bundle/> to our own NODE with the server's
      default access model, to make a node that is not open

Connects to XMSG_LAB_HOST:XMSG_LAB_PORT with TLS verified against
XMSG_LAB_CA (STARTTLS). Exit 0 when done, 1 on any failure.
"""
import asyncio
import json
import os
import sys
import xml.etree.ElementTree as ET

import oldmemo.etree
import slixmpp
import slixmpp.exceptions
import xeddsa

NS = "eu.siacs.conversations.axolotl"
PS = "{http://jabber.org/protocol/pubsub}"


def fingerprint(curve_pub):
    h = curve_pub.hex()
    return " ".join(h[i:i + 8] for i in range(0, 64, 8))


class Peer(slixmpp.ClientXMPP):
    def __init__(self, jid, password, mode, args):
        super().__init__(jid, password)
        self.mode, self.args, self.ok = mode, args, False
        self.register_plugin("xep_0060")
        self.add_event_handler("session_start", self.start)

    async def payload(self, jid, node):
        iq = await self.plugin["xep_0060"].get_items(jid, node, max_items=1,
                                                     timeout=20)
        item = iq.xml.find(f"{PS}pubsub/{PS}items/{PS}item")
        return None if item is None else list(item)[0]

    async def devices(self, target):
        dl = await self.payload(target, NS + ".devicelist")
        ids = oldmemo.etree.parse_device_list(dl)
        for dev in ids:
            try:
                el = await self.payload(target, f"{NS}.bundles:{dev}")
            except slixmpp.exceptions.IqError as e:
                # Prosody: forbidden for a node that does not exist
                if e.condition not in ("item-not-found", "forbidden"):
                    raise
                el = None
            if el is None:
                print(json.dumps({"device": dev, "bundle": False}),
                      flush=True)
                continue
            b = oldmemo.etree.parse_bundle(el, target, dev)
            xb = b.bundle
            ok = xeddsa.ed25519_verify(xb.signed_pre_key_sig, xb.identity_key,
                                       b"\x05" + xb.signed_pre_key)
            ik = xeddsa.ed25519_pub_to_curve25519_pub(xb.identity_key)
            print(json.dumps({"device": dev, "fingerprint": fingerprint(ik),
                              "prekeys": len(xb.pre_keys),
                              "signature": bool(ok)}), flush=True)

    async def publish_closed(self, node, item=None):
        if item is None:
            item = ET.Element(f"{{{NS}}}bundle")
        await self.plugin["xep_0060"].publish(self.boundjid.bare, node,
                                              id="current", payload=item,
                                              timeout=20)

    async def publish_list(self, ids):
        lst = ET.Element(f"{{{NS}}}list")
        for i in ids:
            ET.SubElement(lst, f"{{{NS}}}device", id=i)
        await self.publish_closed(NS + ".devicelist", lst)

    async def start(self, _):
        try:
            if self.mode == "devices":
                await self.devices(self.args[0])
            elif self.mode == "publish-list":
                await self.publish_list(self.args)
            else:
                await self.publish_closed(self.args[0])
            self.ok = True
        except Exception as e:  # reported, then exit 1
            print(f"omemo_peer: {type(e).__name__}: {e}", file=sys.stderr)
        self.disconnect()


def main():
    mode, jid, password = sys.argv[1:4]
    peer = Peer(jid, password, mode, sys.argv[4:])
    peer.ca_certs = os.environ["XMSG_LAB_CA"]
    peer.connect((os.environ["XMSG_LAB_HOST"],
                  int(os.environ["XMSG_LAB_PORT"])), force_starttls=True)
    try:
        peer.loop.run_until_complete(asyncio.wait_for(peer.disconnected, 60))
    except asyncio.TimeoutError:
        print("omemo_peer: timed out", file=sys.stderr)
    sys.exit(0 if peer.ok else 1)


if __name__ == "__main__":
    main()
