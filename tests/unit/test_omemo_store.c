/* test_omemo_store.c - the OMEMO store: created once and reloaded
 * identical, one device id for every run, locked, a corrupt file refused
 * and left as it is, prekeys replenished with fresh ids; and a session
 * through libomemo-c between two stores (bundle XML -> session ->
 * prekey message -> reply), across a save and a reload. */
#include "unit.h"

#include <sys/stat.h>
#include <unistd.h>

#include <session_builder.h>
#include <protocol.h>
#include <session_cipher.h>

#include "omemo/decrypt.h"
#include "features/session.h"
#include "omemo/store.h"

UNIT_TEMP_DIR("omemo")

static char *path_of(const char *name)
{
    static char path[4][256];
    static int i;

    i = (i + 1) % 4;
    snprintf(path[i], sizeof(path[i]), "%s/%s", dir, name);
    return path[i];
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = calloc(1, 1 << 20);

    assert_non_null(f);
    assert_non_null(buf);
    fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    return buf;
}

static xmsg_omemo_store *open_ok(const char *path)
{
    xmsg_status *st = xmsg_status_new();
    xmsg_omemo_store *s = NULL;

    assert_int_equal(xmsg_omemo_store_open(path, 0, &s, st), XMSG_OK);
    xmsg_status_free(st);
    return s;
}

static void test_path_next_to_checkpoint(void **state)
{
    xmsg_params *p = xmsg_params_new();
    char *path;

    (void)state;
    assert_int_equal(
        xmsg_params_set_string(p, "stateFile", "/x/acct.json", NULL), XMSG_OK);
    path = xmsg_omemo_store_path(p, "a@b");
    assert_string_equal(path, "/x/acct.omemo.json");
    free(path);
    xmsg_params_free(p);
}

/* Created once (0600, 100 prekeys); every later open gives the same
 * device id, identity and file, byte for byte. */
static void test_created_once_reloaded_identical(void **state)
{
    const char *path = path_of("once.omemo.json");
    xmsg_omemo_store *s = open_ok(path);
    const uint32_t dev = xmsg_omemo_store_device_id(s);
    char *fp = xmsg_omemo_store_fingerprint(s), *fp2, *first, *again;
    struct stat sb;
    int run;

    (void)state;
    assert_true(dev >= 1 && dev <= 0x7fffffff);
    assert_non_null(fp);
    assert_int_equal(xmsg_omemo_store_prekey_count(s), XMSG_OMEMO_PREKEYS);
    xmsg_omemo_store_free(s);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    first = slurp(path);
    for (run = 0; run < 5; run++) {
        s = open_ok(path);
        assert_int_equal(xmsg_omemo_store_device_id(s), dev);
        fp2 = xmsg_omemo_store_fingerprint(s);
        assert_string_equal(fp2, fp);
        free(fp2);
        xmsg_omemo_store_free(s);
    }
    again = slurp(path);
    assert_string_equal(again, first);
    free(first);
    free(again);
    free(fp);
}

/* A temp file a killed writer left (private keys in it) is removed by the
 * next open; another account's is not. */
static void test_leftovers_removed(void **state)
{
    const char *path = path_of("left.omemo.json");
    const char *tmp = path_of("left.omemo.json.tmp.AbC123");
    const char *other = path_of("leftover.omemo.json.tmp.AbC123");
    FILE *f;

    (void)state;
    xmsg_omemo_store_free(open_ok(path));
    f = fopen(tmp, "w");
    assert_non_null(f);
    fclose(f);
    f = fopen(other, "w");
    assert_non_null(f);
    fclose(f);
    xmsg_omemo_store_free(open_ok(path));
    assert_int_not_equal(access(tmp, F_OK), 0);
    assert_int_equal(access(other, F_OK), 0);
}

/* Two accounts (two files) never share a device id or an identity. */
static void test_two_stores_differ(void **state)
{
    xmsg_omemo_store *a = open_ok(path_of("a.omemo.json"));
    xmsg_omemo_store *b = open_ok(path_of("b.omemo.json"));
    char *fa = xmsg_omemo_store_fingerprint(a);
    char *fb = xmsg_omemo_store_fingerprint(b);

    (void)state;
    assert_int_not_equal(xmsg_omemo_store_device_id(a),
                         xmsg_omemo_store_device_id(b));
    assert_string_not_equal(fa, fb);
    free(fa);
    free(fb);
    xmsg_omemo_store_free(a);
    xmsg_omemo_store_free(b);
}

/* While one holds the store, another open waits, then times out. */
static void test_locked(void **state)
{
    const char *path = path_of("locked.omemo.json");
    xmsg_omemo_store *s = open_ok(path), *t = NULL;
    xmsg_status *st = xmsg_status_new();

    (void)state;
    assert_int_equal(xmsg_omemo_store_open(path, 0, &t, st), XMSG_ERR_TIMEOUT);
    assert_null(t);
    xmsg_omemo_store_free(s);
    xmsg_status_free(st);
    xmsg_omemo_store_free(open_ok(path));
}

static const char *const corrupt[] = {
    "{\"version\":1,\"deviceId\":",
    "",
    "[]",
    "{\"version\":2}",
    /* well-formed JSON, no identity */
    "{\"version\":1,\"deviceId\":5,\"registrationId\":1,\"signedPreKeyId\":1,"
    "\"nextPreKeyId\":1,\"signedPreKeys\":{},\"preKeys\":{},\"sessions\":{},"
    "\"identities\":{},\"trust\":{}}",
    /* an identity key that is not a key */
    "{\"version\":1,\"deviceId\":5,\"registrationId\":1,\"signedPreKeyId\":1,"
    "\"nextPreKeyId\":1,\"signedPreKeys\":{},\"preKeys\":{},\"sessions\":{},"
    "\"identities\":{},\"trust\":{},\"identity\":{\"public\":\"AAAA\","
    "\"private\":\"AAAA\"}}",
    /* a device id out of range */
    "{\"version\":1,\"deviceId\":0,\"registrationId\":1,\"signedPreKeyId\":1,"
    "\"nextPreKeyId\":1,\"signedPreKeys\":{},\"preKeys\":{},\"sessions\":{},"
    "\"identities\":{},\"trust\":{},\"identity\":{\"public\":\"AAAA\","
    "\"private\":\"AAAA\"}}",
};

/* A corrupt file is an input error naming the file, and stays as it was:
 * never silently replaced by a new identity. */
static void test_corrupt_refused_not_replaced(void **state)
{
    const char *path = path_of("corrupt.omemo.json");
    xmsg_omemo_store *s;
    xmsg_status *st;
    char *after;
    size_t i;
    FILE *f;

    (void)state;
    for (i = 0; i < N_ROWS(corrupt); i++) {
        f = fopen(path, "wb");
        assert_non_null(f);
        fputs(corrupt[i], f);
        fclose(f);
        st = xmsg_status_new();
        s = NULL;
        assert_int_equal(xmsg_omemo_store_open(path, 0, &s, st),
                         XMSG_ERR_INPUT);
        assert_null(s);
        assert_non_null(strstr(xmsg_status_text(st), path));
        after = slurp(path);
        assert_string_equal(after, corrupt[i]);
        free(after);
        xmsg_status_free(st);
    }
}

/* Used prekeys are replaced by new ones with ids never used before. */
static void test_replenish(void **state)
{
    const char *path = path_of("pk.omemo.json");
    xmsg_omemo_store *s = open_ok(path);
    xmsg_status *st = xmsg_status_new();
    int i;

    (void)state;
    for (i = 1; i <= 3; i++)
        assert_int_equal(signal_protocol_pre_key_remove_key(s->sctx, i), 0);
    assert_int_equal(xmsg_omemo_store_prekey_count(s), XMSG_OMEMO_PREKEYS - 3);
    assert_int_equal(xmsg_omemo_store_replenish(s), 3);
    assert_int_equal(xmsg_omemo_store_replenish(s), 0);
    for (i = 1; i <= 3; i++)
        assert_int_equal(signal_protocol_pre_key_contains_key(s->sctx, i), 0);
    for (i = 101; i <= 103; i++)
        assert_int_equal(signal_protocol_pre_key_contains_key(s->sctx, i), 1);
    assert_int_equal(xmsg_omemo_store_save(s, st), XMSG_OK);
    xmsg_omemo_store_free(s);
    s = open_ok(path);
    assert_int_equal(signal_protocol_pre_key_contains_key(s->sctx, 103), 1);
    assert_int_equal(signal_protocol_pre_key_contains_key(s->sctx, 2), 0);
    xmsg_omemo_store_free(s);
    xmsg_status_free(st);
}

/* The device list: built, parsed back, junk and duplicates left out. */
static void test_devicelist(void **state)
{
    const uint32_t ids[] = {7, 2147483647, 12345};
    xmsg_xel *list = xmsg_omemo_devicelist_build(ids, 3), *d;
    uint32_t *got = NULL;
    size_t n = 0;

    (void)state;
    assert_non_null(list);
    d = xmsg_xel_add_new(list, NULL, "device");
    xmsg_xel_set_attr(d, "id", "7"); /* duplicate */
    d = xmsg_xel_add_new(list, NULL, "device");
    xmsg_xel_set_attr(d, "id", "2147483648"); /* out of range */
    d = xmsg_xel_add_new(list, NULL, "device");
    xmsg_xel_set_attr(d, "id", "12x");
    xmsg_xel_add_new(list, NULL, "device"); /* no id */
    assert_int_equal(xmsg_omemo_devicelist_parse(list, &got, &n), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(got, ids, sizeof(ids));
    free(got);
    xmsg_xel_free(list);
    assert_int_equal(xmsg_omemo_devicelist_parse(NULL, &got, &n), 0);
    assert_int_equal(n, 0);
}

static ciphertext_message *encrypt_to(xmsg_omemo_store *from, const char *to,
                                      uint32_t dev, const char *text)
{
    const signal_protocol_address a = {to, strlen(to), (int32_t)dev};
    session_cipher *c = NULL;
    ciphertext_message *m = NULL;

    assert_int_equal(session_cipher_create(&c, from->sctx, &a, from->ctx), 0);
    assert_int_equal(
        session_cipher_encrypt(c, (const uint8_t *)text, strlen(text), &m), 0);
    session_cipher_free(c);
    return m;
}

/* Alice builds a session from Bob's bundle (as published: XML), sends a
 * prekey message; Bob decrypts it (the prekey is used up and replaced),
 * both save; after a reload Bob answers on the session and Alice reads
 * it. */
static void test_session_round_trip(void **state)
{
    const char *pa = path_of("alice.omemo.json"),
               *pb = path_of("bob.omemo.json");
    xmsg_omemo_store *alice = open_ok(pa), *bob = open_ok(pb);
    const uint32_t bdev = xmsg_omemo_store_device_id(bob);
    const uint32_t adev = xmsg_omemo_store_device_id(alice);
    const signal_protocol_address to_bob = {"bob@x", 5, (int32_t)bdev};
    const signal_protocol_address to_alice = {"alice@x", 7, (int32_t)adev};
    xmsg_status *st = xmsg_status_new();
    xmsg_xel *bundle_xml = xmsg_omemo_bundle_build(bob);
    session_pre_key_bundle *bundle = NULL;
    session_builder *b = NULL;
    ciphertext_message *m;
    pre_key_signal_message *pkm = NULL;
    signal_message *sm = NULL;
    session_cipher *c = NULL;
    signal_buffer *plain = NULL, *ser;

    (void)state;
    assert_non_null(bundle_xml);
    assert_int_equal(
        xmsg_omemo_bundle_parse(bundle_xml, bdev, alice->ctx, &bundle, st),
        XMSG_OK);
    assert_int_equal(
        session_builder_create(&b, alice->sctx, &to_bob, alice->ctx), 0);
    session_builder_set_version(b, XMSG_OMEMO_VERSION);
    assert_int_equal(session_builder_process_pre_key_bundle(b, bundle), 0);
    session_builder_free(b);
    SIGNAL_UNREF(bundle);

    m = encrypt_to(alice, "bob@x", bdev, "hello bob");
    assert_int_equal(ciphertext_message_get_type(m), CIPHERTEXT_PREKEY_TYPE);
    ser = ciphertext_message_get_serialized(m);
    assert_int_equal(
        pre_key_signal_message_deserialize(&pkm, signal_buffer_data(ser),
                                           signal_buffer_len(ser), bob->ctx),
        0);
    SIGNAL_UNREF(m);
    assert_int_equal(session_cipher_create(&c, bob->sctx, &to_alice, bob->ctx),
                     0);
    assert_int_equal(
        session_cipher_decrypt_pre_key_signal_message(c, pkm, NULL, &plain), 0);
    assert_int_equal(signal_buffer_len(plain), 9);
    assert_memory_equal(signal_buffer_data(plain), "hello bob", 9);
    signal_buffer_free(plain);
    session_cipher_free(c);
    SIGNAL_UNREF(pkm);
    assert_int_equal(xmsg_omemo_store_prekey_count(bob),
                     XMSG_OMEMO_PREKEYS - 1);
    assert_int_equal(xmsg_omemo_store_replenish(bob), 1);

    assert_int_equal(xmsg_omemo_store_save(alice, st), XMSG_OK);
    assert_int_equal(xmsg_omemo_store_save(bob, st), XMSG_OK);
    xmsg_omemo_store_free(alice);
    xmsg_omemo_store_free(bob);
    alice = open_ok(pa);
    bob = open_ok(pb);

    m = encrypt_to(bob, "alice@x", adev, "hi alice");
    assert_int_equal(ciphertext_message_get_type(m), CIPHERTEXT_SIGNAL_TYPE);
    ser = ciphertext_message_get_serialized(m);
    assert_int_equal(signal_message_deserialize(&sm, signal_buffer_data(ser),
                                                signal_buffer_len(ser),
                                                alice->ctx),
                     0);
    SIGNAL_UNREF(m);
    assert_int_equal(
        session_cipher_create(&c, alice->sctx, &to_bob, alice->ctx), 0);
    assert_int_equal(session_cipher_decrypt_signal_message(c, sm, NULL, &plain),
                     0);
    assert_int_equal(signal_buffer_len(plain), 8);
    assert_memory_equal(signal_buffer_data(plain), "hi alice", 8);
    signal_buffer_free(plain);
    session_cipher_free(c);
    SIGNAL_UNREF(sm);
    xmsg_xel_free(bundle_xml);
    xmsg_omemo_store_free(alice);
    xmsg_omemo_store_free(bob);
    xmsg_status_free(st);
}

/* Once a JID has a pinned fingerprint, a session with another identity
 * of that JID is refused (untrusted). */
static void test_pinned_refuses_others(void **state)
{
    xmsg_omemo_store *alice = open_ok(path_of("alice2.omemo.json"));
    xmsg_omemo_store *bob = open_ok(path_of("bob2.omemo.json"));
    const uint32_t bdev = xmsg_omemo_store_device_id(bob);
    const signal_protocol_address to_bob = {"bob@x", 5, (int32_t)bdev};
    xmsg_status *st = xmsg_status_new();
    xmsg_xel *bundle_xml = xmsg_omemo_bundle_build(bob);
    session_pre_key_bundle *bundle = NULL;
    session_builder *b = NULL;

    (void)state;
    json_object_set_new(json_object_get(alice->root, "trust"), "bob@x",
                        json_pack("[s]", "00000000 00000000 00000000 00000000 "
                                         "00000000 00000000 00000000 "
                                         "00000000"));
    assert_int_equal(
        xmsg_omemo_bundle_parse(bundle_xml, bdev, alice->ctx, &bundle, st),
        XMSG_OK);
    assert_int_equal(
        session_builder_create(&b, alice->sctx, &to_bob, alice->ctx), 0);
    session_builder_set_version(b, XMSG_OMEMO_VERSION);
    assert_int_equal(session_builder_process_pre_key_bundle(b, bundle),
                     SG_ERR_UNTRUSTED_IDENTITY);
    session_builder_free(b);
    SIGNAL_UNREF(bundle);
    xmsg_xel_free(bundle_xml);
    xmsg_omemo_store_free(alice);
    xmsg_omemo_store_free(bob);
    xmsg_status_free(st);
}

/* A bundle with a part missing is a protocol error that names it. */
static void test_bundle_malformed(void **state)
{
    xmsg_omemo_store *s = open_ok(path_of("m.omemo.json"));
    xmsg_xel *bundle = xmsg_omemo_bundle_build(s);
    session_pre_key_bundle *out = NULL;
    xmsg_status *st = xmsg_status_new();

    (void)state;
    xmsg_xel_free(xmsg_xel_child(bundle, XMSG_OMEMO_NS, "identityKey"));
    assert_int_equal(xmsg_omemo_bundle_parse(bundle, 9, s->ctx, &out, st),
                     XMSG_ERR_PROTOCOL);
    assert_null(out);
    assert_non_null(strstr(xmsg_status_text(st), "identity key"));
    xmsg_xel_free(bundle);
    xmsg_omemo_store_free(s);
    xmsg_status_free(st);
}

/* Alice's session with Bob's device, from his bundle. */
static void session_from_bundle(xmsg_omemo_store *alice, xmsg_omemo_store *bob,
                                const char *bob_jid)
{
    const uint32_t bdev = xmsg_omemo_store_device_id(bob);
    const signal_protocol_address a = {bob_jid, strlen(bob_jid), (int32_t)bdev};
    xmsg_xel *xml = xmsg_omemo_bundle_build(bob);
    session_pre_key_bundle *bundle = NULL;
    session_builder *b = NULL;

    assert_int_equal(
        xmsg_omemo_bundle_parse(xml, bdev, alice->ctx, &bundle, NULL), 0);
    assert_int_equal(session_builder_create(&b, alice->sctx, &a, alice->ctx),
                     0);
    session_builder_set_version(b, XMSG_OMEMO_VERSION);
    assert_int_equal(session_builder_process_pre_key_bundle(b, bundle), 0);
    session_builder_free(b);
    SIGNAL_UNREF(bundle);
    xmsg_xel_free(xml);
}

/* <encrypted> from alice to (to, rid) carrying text, as clients send it:
 * key||tag through the session, AES-128-GCM payload. */
static xmsg_xel *encrypted_el(xmsg_omemo_store *alice, const char *to,
                              uint32_t rid, const char *text)
{
    uint8_t km[32], iv[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, ct[256];
    xmsg_xel *enc = xmsg_xel_new(XMSG_OMEMO_NS, "encrypted");
    xmsg_xel *h = xmsg_xel_add_new(enc, NULL, "header"), *k;
    const signal_protocol_address a = {to, strlen(to), (int32_t)rid};
    session_cipher *c = NULL;
    ciphertext_message *m = NULL;
    signal_buffer *ser;
    char num[16], *b64;
    const size_t n = strlen(text);
    size_t i;

    for (i = 0; i < 16; i++)
        km[i] = (uint8_t)(i * 7 + 1);
    assert_int_equal(
        xmsg_omemo_gcm_encrypt(km, iv, (const uint8_t *)text, n, ct, km + 16),
        0);
    snprintf(num, sizeof(num), "%u",
             (unsigned)xmsg_omemo_store_device_id(alice));
    xmsg_xel_set_attr(h, "sid", num);
    assert_int_equal(session_cipher_create(&c, alice->sctx, &a, alice->ctx), 0);
    assert_int_equal(session_cipher_encrypt(c, km, 32, &m), 0);
    session_cipher_free(c);
    ser = ciphertext_message_get_serialized(m);
    b64 = xmsg_base64(signal_buffer_data(ser), signal_buffer_len(ser));
    k = xmsg_xel_add_new(h, NULL, "key");
    snprintf(num, sizeof(num), "%u", (unsigned)rid);
    xmsg_xel_set_attr(k, "rid", num);
    if (ciphertext_message_get_type(m) == CIPHERTEXT_PREKEY_TYPE)
        xmsg_xel_set_attr(k, "prekey", "true");
    xmsg_xel_add_text(k, b64, strlen(b64));
    free(b64);
    SIGNAL_UNREF(m);
    b64 = xmsg_base64(iv, 12);
    xmsg_el_add(h, NULL, "iv", b64);
    free(b64);
    b64 = xmsg_base64(ct, n);
    xmsg_el_add(enc, NULL, "payload", b64);
    free(b64);
    return enc;
}

/* A received <encrypted/>: decrypted from a prekey message (the prekey
 * used up); replayed, tampered, not for us, malformed: each a reason,
 * never a crash. */
static void test_decrypt(void **state)
{
    xmsg_omemo_store *alice = open_ok(path_of("da.omemo.json"));
    xmsg_omemo_store *bob = open_ok(path_of("db.omemo.json"));
    const uint32_t bdev = xmsg_omemo_store_device_id(bob);
    xmsg_xel *enc, *pl;
    xmsg_omemo_plain plain;
    const char *why;
    char *text;

    (void)state;
    session_from_bundle(alice, bob, "bob@x");
    enc = encrypted_el(alice, "bob@x", bdev, "secret \xc3\xa9");
    why = xmsg_omemo_decrypt_el(bob, "alice@x", enc, &plain);
    assert_null(why);
    assert_string_equal(plain.text, "secret \xc3\xa9");
    assert_int_equal(plain.sid, xmsg_omemo_store_device_id(alice));
    free(plain.text);
    assert_int_equal(xmsg_omemo_store_prekey_count(bob),
                     XMSG_OMEMO_PREKEYS - 1);
    /* the same again: replayed */
    assert_non_null(xmsg_omemo_decrypt_el(bob, "alice@x", enc, &plain));
    assert_null(plain.text);
    xmsg_xel_free(enc);

    /* a flipped bit of the payload: the tag says so */
    enc = encrypted_el(alice, "bob@x", bdev, "bent");
    pl = xmsg_xel_child(enc, XMSG_OMEMO_NS, "payload");
    text = xmsg_xel_text(pl);
    text[0] = text[0] == 'A' ? 'B' : 'A';
    xmsg_xel_free(pl);
    xmsg_el_add(enc, NULL, "payload", text);
    free(text);
    why = xmsg_omemo_decrypt_el(bob, "alice@x", enc, &plain);
    assert_non_null(why);
    assert_non_null(strstr(why, "tampered"));
    xmsg_xel_free(enc);

    /* for another device only */
    enc = encrypted_el(alice, "bob@x", bdev, "x");
    xmsg_xel_set_attr(
        xmsg_xel_child(xmsg_xel_child(enc, NULL, "header"), NULL, "key"), "rid",
        "1");
    assert_string_equal(xmsg_omemo_decrypt_el(bob, "alice@x", enc, &plain),
                        "not encrypted for this device");
    /* no header */
    xmsg_xel_free(xmsg_xel_child(enc, NULL, "header"));
    assert_non_null(xmsg_omemo_decrypt_el(bob, "alice@x", enc, &plain));
    xmsg_xel_free(enc);
    xmsg_omemo_store_free(alice);
    xmsg_omemo_store_free(bob);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_next_to_checkpoint),
        cmocka_unit_test(test_created_once_reloaded_identical),
        cmocka_unit_test(test_two_stores_differ),
        cmocka_unit_test(test_leftovers_removed),
        cmocka_unit_test(test_locked),
        cmocka_unit_test(test_corrupt_refused_not_replaced),
        cmocka_unit_test(test_replenish),
        cmocka_unit_test(test_devicelist),
        cmocka_unit_test(test_session_round_trip),
        cmocka_unit_test(test_pinned_refuses_others),
        cmocka_unit_test(test_bundle_malformed),
        cmocka_unit_test(test_decrypt),
    };
    return cmocka_run_group_tests(tests, unit_dir_make, unit_dir_remove);
}
