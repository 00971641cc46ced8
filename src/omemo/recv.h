/* recv.h - received OMEMO messages decrypted by the library (params
 * omemo): the receive hook of the features layer (features/recvhook.h),
 * registered when the library is loaded, and the decryption of one
 * message into its fields, shared with xmsg_omemo_decrypt. */
#ifndef XMSG_OMEMO_RECV_H
#define XMSG_OMEMO_RECV_H

#include "omemo/decrypt.h"

/* Decrypts enc (from bare JID sender, NULL when unknown) with s into m:
 * "encrypted": "omemo", "senderDevice", "fingerprint", and "body" the
 * text, or "decryptError" saying why not (the fallback body kept). A
 * device whose identity is not pinned, when sender has pins, gets
 * decryptError (untrusted), never the text. Prekeys used are replaced
 * (publishNeeded) and the store saved. *plain tells the rest (its text
 * freed). 0, or -1 out of memory. */
int xmsg_omemo_recv_into(xmsg_omemo_store *s, const char *sender,
                         const xmsg_xel *enc, xmsg_message *m,
                         xmsg_omemo_plain *plain, xmsg_status *st);

/* The <encrypted/> of m's payload: *wrap (owned, free it) holds it.
 * NULL when m has none. */
const xmsg_xel *xmsg_omemo_recv_find(const xmsg_message *m, xmsg_xel **wrap);

#endif
