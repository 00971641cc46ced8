/* test_keycache.c - the derived-key cache: hit, miss, changed salt or
 * count (miss, then replaced), corrupt and unsafe files (miss with a log
 * line), mode 0600, no temp file left, disabled, forget, the -PLUS
 * memory, and the directory made when missing. */
#include "unit.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xmpp/sasl.h"

static const unsigned char salt[] = "0123456789abcdef";
static const unsigned char salt2[] = "0123456789abcdeX";

struct fixture {
    char dir[64];
    char sub[96]; /* dir/a/b: made by the first store */
    int n_log;
    xmsg_log_level last_lvl;
    char last[512];
    xmsg_sasl_log log;
    xmsg_keycache *kc;
    xmsg_scram_keys keys;
};

static void keep_log(xmsg_log_level lvl, const char *line, void *ud)
{
    struct fixture *f = ud;

    f->n_log++;
    f->last_lvl = lvl;
    snprintf(f->last, sizeof(f->last), "%s", line);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    size_t i;

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/xmsg-keycache-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->sub, sizeof(f->sub), "%s/a/b", f->dir);
    f->log.fn = keep_log;
    f->log.userdata = f;
    f->kc = xmsg_keycache_new(f->sub, 1, &f->log);
    assert_non_null(f->kc);
    f->keys.len = 32;
    for (i = 0; i < 32; i++) {
        f->keys.client_key[i] = (unsigned char)i;
        f->keys.server_key[i] = (unsigned char)(0xff - i);
    }
    *state = f;
    return 0;
}

/* Removes every file of dir, then dir. */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];

    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char a[80];

    xmsg_keycache_free(f->kc);
    remove_dir(f->sub);
    snprintf(a, sizeof(a), "%s/a", f->dir);
    rmdir(a);
    rmdir(f->dir);
    free(f);
    return 0;
}

static int lookup(struct fixture *f, const unsigned char *s, unsigned iter,
                  xmsg_scram_keys *out)
{
    return xmsg_keycache_lookup(f->kc, "example.org", "alice", XMSG_HASH_SHA256,
                                s, 16, iter, out);
}

static int store(struct fixture *f, const unsigned char *s, unsigned iter)
{
    return xmsg_keycache_store(f->kc, "example.org", "alice", XMSG_HASH_SHA256,
                               s, 16, iter, &f->keys);
}

static size_t count_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void test_hit_and_miss(void **state)
{
    struct fixture *f = *state;
    xmsg_scram_keys got;
    struct stat sb;
    char *path;

    assert_int_equal(lookup(f, salt, 4096, &got), 0); /* no entry yet */
    assert_int_equal(store(f, salt, 4096), 0);
    assert_int_equal(lookup(f, salt, 4096, &got), 1);
    assert_int_equal(got.len, 32);
    assert_memory_equal(got.client_key, f->keys.client_key, 32);
    assert_memory_equal(got.server_key, f->keys.server_key, 32);
    /* file and directories private; no temp file left */
    path = xmsg_keycache_path(f->kc, "example.org", "alice", XMSG_HASH_SHA256);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(stat(f->sub, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    assert_int_equal(count_files(f->sub), 1);
    /* no user name in the file name */
    assert_false(unit_contains(path, "alice"));
    free(path);
    /* other keys: other authcid, server or hash */
    assert_int_equal(xmsg_keycache_lookup(f->kc, "example.org", "bob",
                                          XMSG_HASH_SHA256, salt, 16, 4096,
                                          &got),
                     0);
    assert_int_equal(xmsg_keycache_lookup(f->kc, "example.com", "alice",
                                          XMSG_HASH_SHA256, salt, 16, 4096,
                                          &got),
                     0);
    assert_int_equal(xmsg_keycache_lookup(f->kc, "example.org", "alice",
                                          XMSG_HASH_SHA1, salt, 16, 4096, &got),
                     0);
}

static void test_changed_salt_or_count(void **state)
{
    struct fixture *f = *state;
    xmsg_scram_keys got;

    assert_int_equal(store(f, salt, 4096), 0);
    f->n_log = 0;
    assert_int_equal(lookup(f, salt2, 4096, &got), 0);
    assert_true(unit_contains(f->last, "changed"));
    assert_int_equal(lookup(f, salt, 4097, &got), 0);
    assert_int_equal(lookup(f, salt, 409, &got), 0);
    assert_int_equal(f->n_log, 3);
    /* a miss leaves nothing in keys */
    assert_int_equal(got.len, 0);
    /* the recomputed keys replace the entry */
    f->keys.client_key[0] = 0xAA;
    assert_int_equal(store(f, salt2, 4096), 0);
    assert_int_equal(lookup(f, salt2, 4096, &got), 1);
    assert_int_equal(got.client_key[0], 0xAA);
    assert_int_equal(lookup(f, salt, 4096, &got), 0);
    assert_int_equal(count_files(f->sub), 1);
}

/* Writes text over the entry, keeping mode 0600. */
static void overwrite(struct fixture *f, const char *text, size_t len)
{
    char *path =
        xmsg_keycache_path(f->kc, "example.org", "alice", XMSG_HASH_SHA256);
    int fd = open(path, O_WRONLY | O_TRUNC);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    free(path);
}

static void test_corrupt(void **state)
{
    static const char *const bodies[] = {
        "",
        "garbage\n",
        "xmsg-scram-keys 1 sha256 4096\n",
        "xmsg-scram-keys 1 sha256 4096 MDEyMzQ1Njc4OWFiY2RlZg== AAEC "
        "AAEC\n",
        "xmsg-scram-keys 1 sha256 4096 MDEyMzQ1Njc4OWFiY2RlZg== *** ***\n",
        "xmsg-scram-keys 1 sha256 4096 MDEyMzQ1Njc4OWFiY2RlZg== "
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= "
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        "xmsg-scram-keys 1 sha256 4096 MDEyMzQ1Njc4OWFiY2RlZg== "
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= "
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= extra\n",
        "xmsg-scram-keys 2 sha256 4096 MDEyMzQ1Njc4OWFiY2RlZg== "
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= "
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
        "xmsg-scram-keys 1 sha1 4096 MDEyMzQ1Njc4OWFiY2RlZg== "
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= "
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
    };
    static const char good[] =
        "xmsg-scram-keys 1 sha256 4096 MDEyMzQ1Njc4OWFiY2RlZg== "
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= "
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n";
    struct fixture *f = *state;
    xmsg_scram_keys got;
    size_t i;

    assert_int_equal(store(f, salt, 4096), 0);
    for (i = 0; i < N_ROWS(bodies); i++) {
        overwrite(f, bodies[i], strlen(bodies[i]));
        f->n_log = 0;
        if (lookup(f, salt, 4096, &got) != 0)
            fail_msg("body %zu was a hit", i);
        if (f->n_log != 1 || f->last_lvl != XMSG_LOG_WARN ||
            !unit_contains(f->last, "corrupt"))
            fail_msg("body %zu: %d lines, last %s", i, f->n_log, f->last);
    }
    /* the table's bodies are corrupt for one reason each: the good one
     * (same fields) is a hit */
    overwrite(f, good, strlen(good));
    assert_int_equal(lookup(f, salt, 4096, &got), 1);
    assert_int_equal(got.client_key[31], 31);
}

static void test_unsafe_file(void **state)
{
    struct fixture *f = *state;
    xmsg_scram_keys got;
    char *path, *big;

    assert_int_equal(store(f, salt, 4096), 0);
    path = xmsg_keycache_path(f->kc, "example.org", "alice", XMSG_HASH_SHA256);
    assert_int_equal(chmod(path, 0644), 0);
    f->n_log = 0;
    assert_int_equal(lookup(f, salt, 4096, &got), 0);
    assert_true(unit_contains(f->last, "readable by others"));
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(lookup(f, salt, 4096, &got), 1);
    /* another user's file (only root can give one away) */
    if (geteuid() == 0) {
        assert_int_equal(chown(path, 65534, (gid_t)-1), 0);
        assert_int_equal(lookup(f, salt, 4096, &got), 0);
        assert_true(unit_contains(f->last, "not owned by us"));
        assert_int_equal(chown(path, 0, (gid_t)-1), 0);
    }
    /* too large */
    big = unit_repeat('A', 5000);
    overwrite(f, big, 5000);
    assert_int_equal(lookup(f, salt, 4096, &got), 0);
    assert_true(unit_contains(f->last, "too large"));
    free(big);
    /* a symlink is not followed */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(symlink("/etc/hostname", path), 0);
    assert_int_equal(lookup(f, salt, 4096, &got), 0);
    assert_true(unit_contains(f->last, "unreadable"));
    /* a store replaces the link by a file */
    assert_int_equal(store(f, salt, 4096), 0);
    assert_int_equal(lookup(f, salt, 4096, &got), 1);
    free(path);
}

static void test_disabled_and_null(void **state)
{
    struct fixture *f = *state;
    xmsg_keycache *off = xmsg_keycache_new(f->sub, 0, &f->log);
    xmsg_scram_keys got;
    struct stat sb;

    assert_int_equal(store(f, salt, 4096), 0);
    assert_int_equal(xmsg_keycache_lookup(off, "example.org", "alice",
                                          XMSG_HASH_SHA256, salt, 16, 4096,
                                          &got),
                     0);
    assert_int_equal(xmsg_keycache_store(off, "example.net", "alice",
                                         XMSG_HASH_SHA256, salt, 16, 4096,
                                         &f->keys),
                     0);
    assert_int_equal(count_files(f->sub), 1);
    assert_int_equal(xmsg_keycache_plus_note(off, "example.org"), 0);
    assert_int_equal(xmsg_keycache_plus_seen(off, "example.org"), 0);
    xmsg_keycache_free(off);
    /* a disabled cache never makes its directory */
    off = xmsg_keycache_new("/tmp/xmsg-keycache-never/x", 0, NULL);
    assert_int_equal(xmsg_keycache_store(off, "example.org", "alice",
                                         XMSG_HASH_SHA256, salt, 16, 4096,
                                         &f->keys),
                     0);
    assert_int_not_equal(stat("/tmp/xmsg-keycache-never", &sb), 0);
    xmsg_keycache_free(off);
    /* NULL cache: misses, stores nothing */
    assert_int_equal(xmsg_keycache_lookup(NULL, "example.org", "alice",
                                          XMSG_HASH_SHA256, salt, 16, 4096,
                                          &got),
                     0);
    assert_int_equal(xmsg_keycache_store(NULL, "example.org", "alice",
                                         XMSG_HASH_SHA256, salt, 16, 4096,
                                         &f->keys),
                     0);
    assert_null(xmsg_keycache_new("", 1, NULL));
    assert_null(xmsg_keycache_new(NULL, 1, NULL));
    xmsg_keycache_free(NULL);
    /* an empty server has no entry */
    assert_int_equal(xmsg_keycache_store(f->kc, "", "alice", XMSG_HASH_SHA256,
                                         salt, 16, 4096, &f->keys),
                     -1);
}

static void test_unwritable(void **state)
{
    struct fixture *f = *state;
    xmsg_keycache *kc;
    char file[128];
    int fd;

    /* a directory that cannot be made: a file is in the way */
    snprintf(file, sizeof(file), "%s/file", f->dir);
    fd = open(file, O_WRONLY | O_CREAT, 0600);
    assert_true(fd >= 0);
    close(fd);
    snprintf(file, sizeof(file), "%s/file/keys", f->dir);
    kc = xmsg_keycache_new(file, 1, &f->log);
    f->n_log = 0;
    assert_int_equal(xmsg_keycache_store(kc, "example.org", "alice",
                                         XMSG_HASH_SHA256, salt, 16, 4096,
                                         &f->keys),
                     -1);
    assert_int_equal(f->n_log, 1);
    assert_true(unit_contains(f->last, "cannot write"));
    xmsg_keycache_free(kc);
    snprintf(file, sizeof(file), "%s/file", f->dir);
    unlink(file);
}

static void test_forget_and_plus(void **state)
{
    struct fixture *f = *state;
    xmsg_scram_keys got;

    assert_int_equal(store(f, salt, 4096), 0);
    xmsg_keycache_forget(f->kc, "example.org", "alice", XMSG_HASH_SHA256);
    assert_int_equal(lookup(f, salt, 4096, &got), 0);
    xmsg_keycache_forget(f->kc, "example.org", "alice", XMSG_HASH_SHA256);
    assert_int_equal(xmsg_keycache_plus_seen(f->kc, "example.org"), 0);
    assert_int_equal(xmsg_keycache_plus_note(f->kc, "example.org"), 0);
    assert_int_equal(xmsg_keycache_plus_seen(f->kc, "example.org"), 1);
    assert_int_equal(xmsg_keycache_plus_seen(f->kc, "example.com"), 0);
    assert_int_equal(xmsg_keycache_plus_note(f->kc, ""), -1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_hit_and_miss),      T(test_changed_salt_or_count),
        T(test_corrupt),           T(test_unsafe_file),
        T(test_disabled_and_null), T(test_unwritable),
        T(test_forget_and_plus),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
