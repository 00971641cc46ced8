/* test_net_once.c - src/net initialises c-ares once per process and never
 * tears it down, whichever thread starts a resolver. c-ares 1.18's
 * ares_library_init / ares_library_cleanup count their callers in a plain
 * int and are documented as not thread-safe; resolvers of distinct
 * streams start on distinct threads. The two calls are wrapped
 * (-Wl,--wrap) and counted: 8 threads making 50 resolvers each must cause
 * one init and no cleanup. */
#include "unit.h"

#include <pthread.h>
#include <sys/select.h>

#include <ares.h>

#include "net/net.h"

#define THREADS 8
#define ROUNDS 50

int __real_ares_library_init(int flags);
int __wrap_ares_library_init(int flags);
void __real_ares_library_cleanup(void);
void __wrap_ares_library_cleanup(void);

static int inits, cleanups;

int __wrap_ares_library_init(int flags)
{
    __atomic_fetch_add(&inits, 1, __ATOMIC_SEQ_CST);
    return __real_ares_library_init(flags);
}

void __wrap_ares_library_cleanup(void)
{
    __atomic_fetch_add(&cleanups, 1, __ATOMIC_SEQ_CST);
    __real_ares_library_cleanup();
}

/* A resolver started and freed (its queries cancelled): 0 on success. */
static int start_and_free(void)
{
    xmsg_net_cfg cfg = {"d.test", "127.0.0.1", 5300, 0};
    xmsg_net_err err = {0};
    xmsg_resolver *r =
        xmsg_resolver_new(&cfg, xmsg_now_ms() + 30000, NULL, NULL, &err);

    xmsg_resolver_free(r);
    return r ? 0 : -1;
}

static void *rounds(void *arg)
{
    int *fails = arg, i;

    for (i = 0; i < ROUNDS; i++)
        *fails += start_and_free() != 0;
    return NULL;
}

static void test_init_once(void **state)
{
    pthread_t th[THREADS];
    int fails[THREADS] = {0}, i;

    (void)state;
    for (i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, rounds, &fails[i]), 0);
    for (i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(fails[i], 0);
    }
    assert_int_equal(start_and_free(), 0);
    assert_int_equal(__atomic_load_n(&inits, __ATOMIC_SEQ_CST), 1);
    assert_int_equal(__atomic_load_n(&cleanups, __ATOMIC_SEQ_CST), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_once),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
