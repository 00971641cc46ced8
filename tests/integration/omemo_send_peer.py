"""omemo_peer.py's recv, for omemo_send_e2e.sh, with what that test needs
on top (run with Debian's /usr/bin/python3):

  omemo_send_peer.py JID PASSWORD N|until:TEXT LIMIT
      as omemo_peer.py recv (a python-omemo client, oldmemo, storage in
      memory: prints "ready", then one JSON line per OMEMO message), each
      line with "prekey": whether the message was a key exchange
      (PreKeySignalMessage) and "n": its rank; gives up after LIMIT
      seconds (1,000 messages take Python a while on a loaded machine).
      Exit 0 when every message decrypted, else 1.
"""
import asyncio
import json
import os
import sys

import oldmemo.etree

import omemo_peer
from omemo_peer import NS, Peer


class CountingPeer(Peer):
    async def decrypt_locked(self, msg, enc):
        sender = msg["from"].bare
        prekey = any(k.get("prekey") in ("true", "1")
                     for k in enc.iter(f"{{{NS}}}key"))
        try:
            message = await oldmemo.etree.parse_message(
                enc, sender, self.boundjid.bare, self.manager)
            plain, device, _ = await self.manager.decrypt(message)
            out = {"from": sender, "body": plain.decode("utf-8"),
                   "device": device.device_id, "fallback": msg["body"]}
        except Exception as e:  # told, not dropped
            out = {"from": sender, "error": f"{type(e).__name__}: {e}",
                   "fallback": msg["body"]}
        self.got += 1
        out.update({"prekey": prekey, "n": self.got})
        print(json.dumps(out), flush=True)
        self.failed = getattr(self, "failed", False) or "error" in out
        until = self.args[0]
        if until.startswith("until:") and out.get("body") == until[6:]:
            self.ok = not self.failed
            self.disconnect()
        elif not until.startswith("until:") and self.got >= int(until):
            self.ok = not self.failed
            self.disconnect()


def main():
    jid, password, until, limit = sys.argv[1:5]
    peer = CountingPeer(jid, password, "recv", [until])
    peer.got = 0
    omemo_peer.PEER = peer
    peer.ca_certs = os.environ["XMSG_LAB_CA"]
    peer.connect((os.environ["XMSG_LAB_HOST"],
                  int(os.environ["XMSG_LAB_PORT"])), force_starttls=True)
    try:
        peer.loop.run_until_complete(
            asyncio.wait_for(peer.disconnected, int(limit)))
    except asyncio.TimeoutError:
        print(f"omemo_send_peer: timed out after {peer.got}",
              file=sys.stderr)
    sys.exit(0 if peer.ok else 1)


if __name__ == "__main__":
    main()
