/* test_state.c - the checkpoint file: temp names of their own per call,
 * the exclusive lock. */
#include "unit.h"

#include <sys/stat.h>
#include <unistd.h>

#include "features/state.h"

UNIT_TEMP_DIR("state")

/* Two collections in one process (two threads) prepare their checkpoints
 * at the same time: each gets a temp file of its own. */
static void test_temp_names_unique_per_call(void **state)
{
    char path[256];
    xmsg_state a, b;
    xmsg_status *st = xmsg_status_new();

    (void)state;
    snprintf(path, sizeof(path), "%s/acct.json", dir);
    assert_int_equal(xmsg_state_load(&a, path, st), XMSG_OK);
    assert_int_equal(xmsg_state_load(&b, path, st), XMSG_OK);
    assert_int_equal(xmsg_state_set_after(&a, "A"), 0);
    assert_int_equal(xmsg_state_set_after(&b, "B"), 0);
    assert_int_equal(xmsg_state_prepare(&a, 0, st), XMSG_OK);
    assert_int_equal(xmsg_state_prepare(&b, 0, st), XMSG_OK);
    assert_string_not_equal(a.tmp, b.tmp);
    assert_int_equal(xmsg_state_commit(&a, st), XMSG_OK);
    assert_int_equal(xmsg_state_commit(&b, st), XMSG_OK);
    xmsg_state_clear(&a);
    assert_int_equal(xmsg_state_load(&a, path, st), XMSG_OK);
    assert_string_equal(a.after, "B"); /* whole, not torn */
    xmsg_state_clear(&a);
    xmsg_state_clear(&b);
    xmsg_status_free(st);
}

/* A second locker waits up to its time, then fails with timeout; once the
 * first lets go, it gets the lock. */
static void test_lock_excludes_and_times_out(void **state)
{
    char path[256];
    int one = -1, two = -1;
    xmsg_status *st = xmsg_status_new();

    (void)state;
    snprintf(path, sizeof(path), "%s/sub/acct.json", dir);
    assert_int_equal(xmsg_state_lock(path, 0, &one, st), XMSG_OK);
    assert_true(one >= 0);
    assert_int_equal(xmsg_state_lock(path, 100, &two, st), XMSG_ERR_TIMEOUT);
    assert_int_equal(two, -1);
    assert_non_null(strstr(xmsg_status_text(st), "locked"));
    xmsg_state_unlock(&one);
    assert_int_equal(one, -1);
    xmsg_status_free(st);
    st = xmsg_status_new();
    assert_int_equal(xmsg_state_lock(path, 0, &two, st), XMSG_OK);
    xmsg_state_unlock(&two);
    xmsg_status_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_temp_names_unique_per_call),
        cmocka_unit_test(test_lock_excludes_and_times_out),
    };

    return cmocka_run_group_tests(tests, unit_dir_make, unit_dir_remove);
}
