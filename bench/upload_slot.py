#!/usr/bin/python3
"""Reads `xmsg request`'s output for an XEP-0363 slot request on stdin and
prints curl's arguments for the PUT, one a line: the PUT URL, then
`-H` and `NAME: VALUE` for each of the slot's headers (bench/run).

    xmsg request ... --kind iq ... | upload_slot.py
"""
import json
import sys
import xml.etree.ElementTree as ET

NS = "{urn:xmpp:http:upload:0}"


def main():
    reply = json.loads(sys.stdin.readline())
    slot = ET.fromstring(reply["payload"])
    put = slot.find(NS + "put")
    if reply.get("type") != "result" or put is None:
        sys.exit("upload_slot: no slot in %s" % reply)
    print(put.get("url"))
    for h in put.findall(NS + "header"):
        print("-H")
        print("%s: %s" % (h.get("name"), h.text or ""))


if __name__ == "__main__":
    main()
