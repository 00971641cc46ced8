/* fuzz_omemo.c - a received OMEMO message (a build with XMSG_OMEMO): XML
 * text from the network parsed with the project's parser, the <message/>
 * made into the object model (xmsg_object_from_stanza), its <encrypted/>
 * found in the payload and decrypted with a store made once in
 * LLVMFuzzerInitialize (in a temporary directory; its device id set to
 * FUZZ_DEVICE so that inputs can address it): <header sid>, <key rid
 * prekey>, base64, libomemo-c's protobuf (PreKeySignalMessage,
 * SignalMessage), <iv>, <payload>, AES-GCM.
 *
 * Invariants checked (abort when broken):
 *  - every OMEMO message comes out with "encrypted": "omemo" and either a
 *    decrypted text or a decryptError (a key transport: neither text nor
 *    payload), never silently;
 *  - the message renders as JSON whose names and values are valid UTF-8
 *    without characters XML forbids.
 * Leaks are LeakSanitizer's (libFuzzer checks each input). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "features/session.h"
#include "omemo/recv.h"

#include "fuzz.h"

#define FUZZ_DEVICE 12345

static xmsg_omemo_store *store;
static xmsg_status *st;
static char dir[] = "/tmp/xmsg-fuzz-omemo-XXXXXX";
static char path[sizeof(dir) + 32], lock[sizeof(path) + 8];

/* The temporary store goes at exit. */
static void cleanup(void)
{
    xmsg_omemo_store_free(store);
    xmsg_status_free(st);
    unlink(path);
    unlink(lock);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    FUZZ_CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/fuzz.omemo.json", dir);
    snprintf(lock, sizeof(lock), "%s.lock", path);
    atexit(cleanup);
    st = xmsg_status_new();
    FUZZ_CHECK(st != NULL);
    FUZZ_CHECK(xmsg_omemo_store_open(path, 0, &store, st) == XMSG_OK);
    FUZZ_CHECK(json_object_set_new(store->root, "deviceId",
                                   json_integer(FUZZ_DEVICE)) == 0);
    return 0;
}

static void check_json(const xmsg_message *m)
{
    char *json = xmsg_message_to_json(m);

    FUZZ_CHECK(json != NULL);
    FUZZ_CHECK(xmsg_text_valid(json, strlen(json)));
    free(json);
}

static void decrypt(xmsg_message *m)
{
    xmsg_xel *wrap = NULL;
    const xmsg_xel *enc = xmsg_omemo_recv_find(m, &wrap);
    const char *from = xmsg_message_get(m, "from");
    char *sender = from ? xmsg_jid_bare_norm(from) : NULL;
    xmsg_omemo_plain plain;

    if (enc && xmsg_omemo_recv_into(store, sender, enc, m, &plain, st) == 0) {
        FUZZ_CHECK(fuzz_str_eq(xmsg_message_get(m, "encrypted"), "omemo"));
        FUZZ_CHECK(xmsg_message_get(m, "decryptError") || plain.key_transport ||
                   xmsg_message_get(m, "body"));
        check_json(m);
    }
    xmsg_status_clear_error(st);
    free(sender);
    xmsg_xel_free(wrap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    xmsg_xel *w = xmsg_xml_parse_fragment(text);
    const xmsg_xel *el = w ? xmsg_xel_child(w, NULL, "message") : NULL;
    xmsg_message *m = el ? xmsg_object_from_stanza(el) : NULL;

    if (m)
        decrypt(m);
    xmsg_message_free(m);
    xmsg_xel_free(w);
    free(text);
    return 0;
}
