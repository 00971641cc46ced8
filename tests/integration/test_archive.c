/* test_archive.c - lossless collection from the message archive with a
 * checkpoint, against a real Prosody or ejabberd (mod_mam) on loopback.
 * Run with XMSG_LAB_ENV naming the server's env file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>

#include "lab.h"

static char *state_path(const char *user)
{
    static char buf[512];

    snprintf(buf, sizeof(buf), "%s/xmsg/%s@%s.json", lab_state_dir(), user,
             lab("DOMAIN"));
    return buf;
}

static json_t *collect(const char *user, long page, const char *code)
{
    json_t *p = lab_params(user), *st;

    json_object_set_new(p, "pageSize", json_integer(page));
    json_object_set_new(p, "logLevel", json_string("info"));
    st = lab_connect(p);
    json_decref(p);
    if (strcmp(lab_code(st), code) != 0)
        fail_msg("expected %s, got: %s", code, lab_dump(st));
    return st;
}

static const char *body(json_t *st, size_t i)
{
    json_t *m = json_array_get(json_object_get(st, "messages"), i);
    const char *b = json_string_value(json_object_get(m, "body"));

    return b ? b : "(none)";
}

static size_t count(json_t *st)
{
    size_t n = json_array_size(json_object_get(st, "messages"));

    assert_int_equal(json_integer_value(json_object_get(st, "collected")), n);
    return n;
}

static void send_n(const char *to, const char *prefix, int n)
{
    char b[64];
    int i;

    for (i = 0; i < n; i++) {
        snprintf(b, sizeof(b), "%s %d", prefix, i);
        lab_send_ok("alice", to, b);
    }
}

static void write_state(const char *user, const char *text)
{
    char dir[512];
    FILE *f;

    snprintf(dir, sizeof(dir), "%s/xmsg", lab_state_dir());
    mkdir(dir, 0700);
    f = fopen(state_path(user), "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Pages of 2 after the checkpoint: all, in order, each once, with their
 * archive ids and stamps; then nothing more. */
static void test_pages_in_order_once(void **state)
{
    json_t *st, *m;
    char want[32];
    const char *ids[7];
    size_t i, j;

    (void)state;
    json_decref(collect("t18", 2, "ok")); /* first run: checkpoint */
    send_n("t18", "page", 7);
    st = collect("t18", 2, "ok");
    assert_int_equal(count(st), 7);
    for (i = 0; i < 7; i++) {
        snprintf(want, sizeof(want), "page %zu", i);
        assert_string_equal(body(st, i), want);
        m = json_array_get(json_object_get(st, "messages"), i);
        ids[i] = json_string_value(json_object_get(m, "archiveId"));
        assert_non_null(ids[i]);
        assert_non_null(json_object_get(m, "stamp"));
        for (j = 0; j < i; j++)
            assert_string_not_equal(ids[i], ids[j]);
    }
    json_decref(st);
    st = collect("t18", 2, "ok");
    assert_int_equal(count(st), 0);
    json_decref(st);
}

/* The first run hands over offline storage; the next run only what came
 * after, although the first messages are in the archive too. */
static void test_first_run_then_archive(void **state)
{
    json_t *st;
    struct stat sb;

    (void)state;
    send_n("t19", "offline", 3);
    st = collect("t19", 100, "ok");
    assert_int_equal(count(st), 3);
    assert_string_equal(body(st, 0), "offline 0");
    assert_string_equal(body(st, 2), "offline 2");
    json_decref(st);
    assert_int_equal(stat(state_path("t19"), &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    send_n("t19", "later", 2);
    st = collect("t19", 100, "ok");
    assert_int_equal(count(st), 2);
    assert_string_equal(body(st, 0), "later 0");
    assert_string_equal(body(st, 1), "later 1");
    json_decref(st);
}

/* A first run killed after the server drained offline storage leaves its
 * marker: the next run hands over the whole archive, losing nothing. */
static void test_interrupted_first_run(void **state)
{
    json_t *st;

    (void)state;
    send_n("t23", "drained", 2);
    write_state("t23", "{\"version\":1,\"after\":null,\"seen\":[],"
                       "\"pending\":true}");
    st = collect("t23", 100, "ok");
    assert_true(lab_log_has(st, "interrupted"));
    assert_int_equal(count(st), 2);
    assert_string_equal(body(st, 0), "drained 0");
    json_decref(st);
    st = collect("t23", 100, "ok");
    assert_int_equal(count(st), 0);
    json_decref(st);
}

/* A checkpoint the archive no longer holds (expired): nothing after it is
 * lost. Prosody answers item-not-found and the whole archive is taken;
 * ejabberd's ids are positions in time (microseconds), so an expired one
 * still works: one older than every message stands for it there. */
static void test_unknown_checkpoint(void **state)
{
    int prosody = strcmp(lab("SERVER"), "prosody") == 0;
    json_t *st;

    (void)state;
    send_n("t24", "expired", 2);
    write_state("t24", prosody ? "{\"version\":1,\"after\":\"no-such-id\","
                                 "\"seen\":[],\"pending\":false}"
                               : "{\"version\":1,\"after\":\"1\","
                                 "\"seen\":[],\"pending\":false}");
    st = collect("t24", 100, "ok");
    if (prosody)
        assert_true(lab_log_has(st, "no longer in the archive"));
    assert_int_equal(count(st), 2);
    assert_string_equal(body(st, 1), "expired 1");
    json_decref(st);
}

static void test_malformed_state_is_input_error(void **state)
{
    json_t *st;

    (void)state;
    write_state("t25", "{not json");
    st = collect("t25", 100, "input");
    assert_non_null(strstr(lab_dump(st), "state file"));
    json_decref(st);
}

/* mam false: offline storage only, as the 4D plugin did. */
static void test_mam_off(void **state)
{
    json_t *p = lab_params("t26"), *st;

    (void)state;
    send_n("t26", "plain", 2);
    json_object_set_new(p, "mam", json_false());
    json_object_set_new(p, "logLevel", json_string("info"));
    st = lab_connect(p);
    assert_string_equal(lab_code(st), "ok");
    assert_int_equal(count(st), 2);
    assert_true(lab_log_has(st, "at most once"));
    json_decref(st);
    json_decref(p);
    assert_int_equal(access(state_path("t26"), F_OK), -1);
}

/* A state file path of the caller's choosing, and no temp file left. */
static void test_state_file_param(void **state)
{
    json_t *p = lab_params("t27"), *st;
    char path[512];
    DIR *d;
    struct dirent *e;

    (void)state;
    snprintf(path, sizeof(path), "%s/custom/t27.json", lab_state_dir());
    json_object_set_new(p, "stateFile", json_string(path));
    st = lab_connect(p);
    assert_string_equal(lab_code(st), "ok");
    json_decref(st);
    json_decref(p);
    assert_int_equal(access(path, R_OK), 0);
    snprintf(path, sizeof(path), "%s/custom", lab_state_dir());
    d = opendir(path);
    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        assert_null(strstr(e->d_name, ".tmp."));
    closedir(d);
}

/* Two collections of one account in two threads of one process: the
 * state file's lock makes them take turns, each message is handed over
 * once in all, and the checkpoint is never torn (temp names of their
 * own). */
static void *collect_thread(void *userdata)
{
    json_t **st = userdata, *p = lab_params("t47");

    json_object_set_new(p, "pageSize", json_integer(3));
    *st = lab_connect(p);
    json_decref(p);
    return NULL;
}

static void test_two_threads_one_account(void **state)
{
    pthread_t t[2];
    json_t *st[2] = {NULL, NULL};
    json_t *all = json_object();
    size_t i, j, n = 0;
    char want[32];

    (void)state;
    json_decref(collect("t47", 100, "ok")); /* the checkpoint */
    send_n("t47", "thr", 30);
    for (i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, collect_thread, &st[i]),
                         0);
    for (i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    for (i = 0; i < 2; i++) {
        if (strcmp(lab_code(st[i]), "ok") != 0)
            fail_msg("thread %zu: %s", i, lab_dump(st[i]));
        for (j = 0; j < count(st[i]); j++, n++) {
            if (json_object_get(all, body(st[i], j)))
                fail_msg("handed over twice: %s", body(st[i], j));
            json_object_set_new(all, body(st[i], j), json_true());
        }
        json_decref(st[i]);
    }
    for (i = 0; i < 30; i++) {
        snprintf(want, sizeof(want), "thr %zu", i);
        if (!json_object_get(all, want))
            fail_msg("never handed over: %s", want);
    }
    assert_int_equal(n, 30);
    json_decref(all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pages_in_order_once),
        cmocka_unit_test(test_first_run_then_archive),
        cmocka_unit_test(test_interrupted_first_run),
        cmocka_unit_test(test_unknown_checkpoint),
        cmocka_unit_test(test_malformed_state_is_input_error),
        cmocka_unit_test(test_mam_off),
        cmocka_unit_test(test_state_file_param),
        cmocka_unit_test(test_two_threads_one_account),
    };

    if (lab_load_env("XMSG_LAB_ENV"))
        return 1;
    return cmocka_run_group_tests_name(lab("SERVER"), tests, NULL, NULL);
}
