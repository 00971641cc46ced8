"""Encrypted files (XEP-0454) with an OMEMO peer nobody here wrote
(python3-oldmemo through omemo_peer.py, python3-cryptography's AES-GCM,
urllib over https with the lab CA); run with Debian's /usr/bin/python3.

  omemo_files_peer.py recv JID PASSWORD N DIR
      publishes its device and bundle, prints "ready", then decrypts the
      first N OMEMO messages and prints one JSON line each:
      {"body": TEXT, "raw": THE_STANZA_AS_RECEIVED, "fallback": BODY}
      and, when TEXT is exactly an aesgcm:// URL: fetches its https URL,
      decrypts it with the fragment's IV and key (AES-256-GCM, the tag the
      last 16 bytes) into DIR/got-K (K: the message's number) and adds
      "sha256" (of the plaintext), "stored" (the ciphertext's size) and
      "stored_sha256" (the ciphertext's SHA-256), or "error"
  omemo_files_peer.py send JID PASSWORD TO FILE [MODE]
      uploads FILE encrypted (its own random key and 12-byte IV, HTTP
      upload XEP-0363 to XMSG_LAB_UPLOAD) and sends the aesgcm:// URL in
      an OMEMO message to TO; MODE: tamper (one bit of the ciphertext
      flipped before the PUT), short (only 10 bytes uploaded), badfrag
      (the fragment cut to 80 hex digits), old-iv (a 16-byte IV, as older
      clients made); prints {"url": URL}

Exit 0 when done, 1 on any failure.
"""
import asyncio
import hashlib
import json
import os
import ssl
import sys
import urllib.request
import xml.etree.ElementTree as ET

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
import oldmemo.etree

import omemo_peer
from omemo_peer import Peer

UP = "urn:xmpp:http:upload:0"


def ssl_ctx():
    return ssl.create_default_context(cafile=os.environ["XMSG_LAB_CA"])


def http(method, url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, method=method,
                                 headers=headers or {})
    with urllib.request.urlopen(req, context=ssl_ctx(), timeout=60) as r:
        return r.read()


def aesgcm_open(url, out):
    """Fetches and decrypts an aesgcm:// URL into out: a dict of facts."""
    rest, frag = url[len("aesgcm://"):].split("#", 1)
    raw = bytes.fromhex(frag)
    iv, key = raw[:-32], raw[-32:]
    blob = http("GET", "https://" + rest)
    plain = AESGCM(key).decrypt(iv, blob, None)
    with open(out, "wb") as f:
        f.write(plain)
    return {"sha256": hashlib.sha256(plain).hexdigest(),
            "stored": len(blob),
            "stored_sha256": hashlib.sha256(blob).hexdigest()}


class FilesPeer(Peer):
    async def decrypt_locked(self, msg, enc):
        sender = msg["from"].bare
        raw = ET.tostring(msg.xml, encoding="unicode")
        out = {"from": sender, "raw": raw, "fallback": msg["body"]}
        try:
            message = await oldmemo.etree.parse_message(
                enc, sender, self.boundjid.bare, self.manager)
            plain, _, _ = await self.manager.decrypt(message)
            out["body"] = plain.decode("utf-8")
        except Exception as e:
            out["error"] = f"{type(e).__name__}: {e}"
        self.got += 1
        body = out.get("body", "")
        if body.startswith("aesgcm://") and body.split() == [body]:
            try:
                path = os.path.join(self.args[1], f"got-{self.got}")
                out.update(await asyncio.get_running_loop().run_in_executor(
                    None, aesgcm_open, body, path))
            except Exception as e:
                out["error"] = f"{type(e).__name__}: {e}"
        print(json.dumps(out), flush=True)
        self.failed = getattr(self, "failed", False) or "error" in out
        if self.got >= int(self.args[0]):
            self.ok = not self.failed
            self.disconnect()

    async def slot(self, name, size):
        iq = self.Iq()
        iq["type"] = "get"
        iq["to"] = os.environ["XMSG_LAB_UPLOAD"]
        ET.SubElement(iq.xml, f"{{{UP}}}request", filename=name,
                      size=str(size),
                      **{"content-type": "application/octet-stream"})
        res = await iq.send(timeout=20)
        s = res.xml.find(f"{{{UP}}}slot")
        put = s.find(f"{{{UP}}}put")
        hdrs = {h.get("name"): h.text for h in put.findall(f"{{{UP}}}header")}
        return put.get("url"), hdrs, s.find(f"{{{UP}}}get").get("url")

    async def upload(self, path, mode):
        with open(path, "rb") as f:
            data = f.read()
        key = os.urandom(32)
        iv = os.urandom(16 if mode == "old-iv" else 12)
        blob = bytearray(AESGCM(key).encrypt(iv, data, None))
        if mode == "tamper":
            blob[len(blob) // 2] ^= 1
        if mode == "short":
            blob = blob[:10]
        put, hdrs, get = await self.slot(os.urandom(8).hex() + ".bin",
                                         len(blob))
        hdrs["Content-Type"] = "application/octet-stream"
        await asyncio.get_running_loop().run_in_executor(
            None, http, "PUT", put, bytes(blob), hdrs)
        frag = (iv + key).hex()
        if mode == "badfrag":
            frag = frag[:80]
        return "aesgcm://" + get[len("https://"):] + "#" + frag

    async def start(self, _):
        if self.mode == "recv":
            await Peer.start(self, _)
            return
        try:
            await self.receive_ready()
            to, path = self.args[0], self.args[1]
            mode = self.args[2] if len(self.args) > 2 else ""
            url = await self.upload(path, mode)
            print(json.dumps({"url": url}), flush=True)
            await self.send_encrypted(to, [url])
            self.ok = True
        except Exception as e:
            print(f"omemo_peer: {type(e).__name__}: {e}", file=sys.stderr)
        self.disconnect()


def main():
    mode, jid, password = sys.argv[1:4]
    omemo_peer.run(FilesPeer(jid, password, mode, sys.argv[4:]),
                   180, "omemo_peer")


if __name__ == "__main__":
    main()
