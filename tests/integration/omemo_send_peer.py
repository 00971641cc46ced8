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
import json
import sys

import omemo_peer
from omemo_peer import NS, Peer


class CountingPeer(Peer):
    async def decrypt_locked(self, msg, enc):
        prekey = any(k.get("prekey") in ("true", "1")
                     for k in enc.iter(f"{{{NS}}}key"))
        out = await self.decrypted(msg, enc)
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
    omemo_peer.run(peer, int(limit), "omemo_send_peer")


if __name__ == "__main__":
    main()
