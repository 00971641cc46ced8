#!/usr/bin/python3
"""Collection peer of bench/run: log in with slixmpp and read the account's
message archive (XEP-0313, urn:xmpp:mam:2) after archive id AFTER in RSM
pages of PAGE messages, as xmsg connect does; print each message as one JSON
line on stdout (a page at a time), the count on stderr. No presence, no
roster.

    SLIX_PASSWORD=pw slix_collect.py JID HOST PORT CAFILE AFTER PAGE
"""
import asyncio
import json
import logging
import os
import sys
import xml.etree.ElementTree as ET

import slixmpp
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

NS_MAM = "urn:xmpp:mam:2"
NS_RSM = "http://jabber.org/protocol/rsm"
NS_FWD = "urn:xmpp:forward:0"
NS_DELAY = "urn:xmpp:delay"
NS_XML = "http://www.w3.org/XML/1998/namespace"


class Collector(slixmpp.ClientXMPP):
    def __init__(self, jid, password, after, page):
        super().__init__(jid, password)
        self.after = after
        self.page = page
        self.queryid = ""
        self.lines = []
        self.count = 0
        self.done = asyncio.get_event_loop().create_future()
        self.register_handler(Callback(
            "mam result",
            MatchXPath("{jabber:client}message/{%s}result" % NS_MAM),
            self.on_result))
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("failed_auth", self.on_fail)
        self.add_event_handler("disconnected", self.on_fail)

    def on_fail(self, _event):
        if not self.done.done():
            self.done.set_result(False)

    def on_result(self, msg):
        res = msg.xml.find("{%s}result" % NS_MAM)
        if res is None or res.get("queryid") != self.queryid:
            return
        fwd = res.find("{%s}forwarded" % NS_FWD)
        inner = fwd.find("{jabber:client}message") if fwd is not None else None
        if inner is None:
            return
        out = {k.replace("{%s}" % NS_XML, "xml:"): v
               for k, v in inner.attrib.items()}
        body = inner.find("{jabber:client}body")
        if body is None:
            return
        out["body"] = body.text or ""
        delay = fwd.find("{%s}delay" % NS_DELAY)
        if delay is not None:
            out["stamp"] = delay.get("stamp")
        out["archiveId"] = res.get("id")
        self.lines.append(json.dumps(out, ensure_ascii=False) + "\n")

    def query(self, after):
        iq = self.make_iq_set()
        self.queryid = iq["id"] + "q"
        q = ET.SubElement(iq.xml, "{%s}query" % NS_MAM, queryid=self.queryid)
        rsm = ET.SubElement(q, "{%s}set" % NS_RSM)
        ET.SubElement(rsm, "{%s}max" % NS_RSM).text = str(self.page)
        if after:
            ET.SubElement(rsm, "{%s}after" % NS_RSM).text = after
        return iq.send()

    async def on_start(self, _event):
        after = self.after
        while True:
            res = await self.query(after)
            fin = res.xml.find("{%s}fin" % NS_MAM)
            last = fin.find("{%s}set/{%s}last" % (NS_RSM, NS_RSM))
            sys.stdout.write("".join(self.lines))
            sys.stdout.flush()
            self.count += len(self.lines)
            self.lines = []
            if fin.get("complete") == "true" or last is None:
                break
            after = last.text
        self.done.set_result(True)


def main():
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    jid, host, port, cafile, after, page = sys.argv[1:]
    logging.basicConfig(level=getattr(logging,
                                      os.environ.get("SLIX_LOG", "CRITICAL")))
    client = Collector(jid, os.environ["SLIX_PASSWORD"], after, int(page))
    client.ca_certs = cafile
    client.connect((host, int(port)), use_ssl=False, force_starttls=True)
    loop = asyncio.get_event_loop()
    ok = loop.run_until_complete(
        asyncio.wait_for(client.done,
                         float(os.environ.get("SLIX_TIMEOUT", "600"))))
    client.disconnect()
    loop.run_until_complete(client.disconnected)
    print("slix_collect: %d message(s)" % client.count, file=sys.stderr)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
