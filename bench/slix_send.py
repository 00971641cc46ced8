#!/usr/bin/python3
"""Throughput peer of bench/run: log in with slixmpp, send N chat messages
over one connection with XEP-0198 stream management enabled, wait until the
server has acknowledged every one, disconnect. Exit 0 only when all N were
acknowledged.

    SLIX_PASSWORD=pw slix_send.py JID HOST PORT CAFILE TO N
"""
import asyncio
import logging
import os
import sys

import slixmpp


class Sender(slixmpp.ClientXMPP):
    def __init__(self, jid, password, to, count):
        super().__init__(jid, password)
        self.to = to
        self.count = count
        self.acked = 0
        self.done = asyncio.get_event_loop().create_future()
        self.sm_ready = asyncio.get_event_loop().create_future()
        self.register_plugin("xep_0198", {"window": int(os.environ.get("SLIX_WINDOW", "5"))})
        self.add_event_handler("sm_enabled", self.on_sm_enabled)
        self.add_event_handler("sm_failed", self.on_sm_failed)
        self.add_event_handler("stanza_acked", self.on_acked)
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("failed_auth", self.on_fail)
        self.add_event_handler("disconnected", self.on_fail)

    def on_sm_enabled(self, _event):
        if not self.sm_ready.done():
            self.sm_ready.set_result(True)

    def on_sm_failed(self, _event):
        if not self.sm_ready.done():
            self.sm_ready.set_result(False)

    def on_fail(self, _event):
        if not self.done.done():
            self.done.set_result(False)

    def on_acked(self, stanza):
        if stanza.name != "message":
            return
        self.acked += 1
        if self.acked == self.count and not self.done.done():
            self.done.set_result(True)

    async def on_start(self, _event):
        if not await self.sm_ready:
            print("slix_send: stream management not enabled", file=sys.stderr)
            self.on_fail(None)
            return
        for i in range(1, self.count + 1):
            self.send_message(mto=self.to, mbody="m%d" % i, mtype="chat")
        # An <r/> is written at once, not queued: ask for the final ack only
        # when every message has been written.
        await self.waiting_queue.join()
        self.plugin["xep_0198"].request_ack()


def main():
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    jid, host, port, cafile, to, count = sys.argv[1:]
    logging.basicConfig(level=getattr(logging, os.environ.get("SLIX_LOG", "CRITICAL")))
    client = Sender(jid, os.environ["SLIX_PASSWORD"], to, int(count))
    client.ca_certs = cafile
    client.connect((host, int(port)), use_ssl=False, force_starttls=True)
    loop = asyncio.get_event_loop()
    ok = loop.run_until_complete(asyncio.wait_for(client.done, float(os.environ.get("SLIX_TIMEOUT", "600"))))
    client.disconnect()
    loop.run_until_complete(client.disconnected)
    print("slix_send: %d of %d acknowledged" % (client.acked, client.count),
          file=sys.stderr)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
