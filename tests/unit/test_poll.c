/* test_poll.c - the session's queue of received stanzas: bounded (the
 * oldest dropped, logged once until the next poll), in order, removals
 * from the head and from the middle, scans that resume, the sort of what
 * came since a mark (a catch-up); a paused call gets its status back. */
#include "unit.h"

#include "features/sessobj.h"

struct queue {
    xmsg_session s;
    xmsg_params *p;
    xmsg_status *st;
};

static struct queue *queue_new(void)
{
    struct queue *q = calloc(1, sizeof(*q));

    assert_non_null(q);
    q->p = xmsg_params_new();
    q->st = xmsg_status_new();
    assert_non_null(q->p);
    assert_non_null(q->st);
    assert_int_equal(xmsg_params_set_string(q->p, "logLevel", "warn", NULL), 0);
    q->s.c.params = q->p;
    q->s.c.st = q->st;
    return q;
}

static void queue_free(struct queue *q)
{
    xmsg_session_drop_queue(&q->s);
    xmsg_status_free(q->st);
    xmsg_params_free(q->p);
    free(q);
}

static void keep(struct queue *q, long i)
{
    xmsg_message *m = xmsg_message_new();
    char body[32];

    snprintf(body, sizeof(body), "%ld", i);
    assert_non_null(m);
    assert_int_equal(xmsg_message_put(m, "body", body), 0);
    assert_int_equal(xmsg_session_keep(&q->s, m), 0);
}

static long body_of(const xmsg_message *m)
{
    return strtol(xmsg_message_get(m, "body"), NULL, 10);
}

static int any(const xmsg_message *m, const void *arg)
{
    (void)m;
    (void)arg;
    return 1;
}

static int body_is(const xmsg_message *m, const void *arg)
{
    return body_of(m) == *(const long *)arg;
}

/* Takes the oldest out; its body, -1 when none is kept. */
static long take_oldest(struct queue *q)
{
    size_t from = 0;
    xmsg_message *m = xmsg_session_find(&q->s, &from, any, NULL, 1);
    long b = m ? body_of(m) : -1;

    xmsg_message_free(m);
    return b;
}

static size_t log_lines_with(const xmsg_status *st, const char *needle)
{
    size_t i, n = 0;

    for (i = 0; i < xmsg_status_log_count(st); i++)
        n += strstr(xmsg_status_log_line(st, i), needle) != NULL;
    return n;
}

/* Past the bound the oldest go, one log line says so; the rest stay in
 * order. */
static void test_bounded(void **state)
{
    struct queue *q = queue_new();
    const long extra = 2500;
    long i;

    (void)state;
    for (i = 0; i < XMSG_SESSION_QUEUE_MAX + extra; i++)
        keep(q, i);
    assert_int_equal(q->s.inq_n, XMSG_SESSION_QUEUE_MAX);
    assert_int_equal(q->s.inq_dropped, extra);
    assert_int_equal(log_lines_with(q->st, "the oldest are dropped"), 1);
    assert_int_equal(xmsg_session_kept_end(&q->s),
                     XMSG_SESSION_QUEUE_MAX + extra);
    for (i = extra; i < XMSG_SESSION_QUEUE_MAX + extra; i++)
        assert_int_equal(take_oldest(q), i);
    assert_int_equal(take_oldest(q), -1);
    queue_free(q);
}

/* A stanza taken from the middle leaves the others in order; a scan
 * resumes after what it looked at; an empty slot never blocks. */
static void test_take_from_middle(void **state)
{
    struct queue *q = queue_new();
    const long want[] = {0, 1, 3, 5};
    size_t from = 0, i;
    long two = 2, four = 4;
    xmsg_message *m;

    (void)state;
    for (i = 0; i < 5; i++)
        keep(q, (long)i);
    m = xmsg_session_find(&q->s, &from, body_is, &two, 1);
    assert_non_null(m);
    assert_int_equal(body_of(m), 2);
    xmsg_message_free(m);
    assert_int_equal(from, 3);
    /* Borrowed: found, still kept. */
    m = xmsg_session_find(&q->s, &from, body_is, &four, 0);
    assert_non_null(m);
    assert_int_equal(from, 5);
    m = xmsg_session_find(&q->s, &from, body_is, &four, 1);
    assert_null(m); /* looked at already: the scan does not go back */
    assert_int_equal(from, 5);
    from = 0;
    xmsg_message_free(xmsg_session_find(&q->s, &from, body_is, &four, 1));
    keep(q, 5);
    for (i = 0; i < N_ROWS(want); i++)
        assert_int_equal(take_oldest(q), want[i]);
    assert_int_equal(take_oldest(q), -1);
    assert_int_equal(q->s.inq_n, 0);
    queue_free(q);
}

/* Taking every other stanza from the middle of a full queue, then the
 * rest from the head: nothing lost, nothing twice, the bound holds. */
static void test_many_removals(void **state)
{
    struct queue *q = queue_new();
    size_t from = 0;
    long i;

    (void)state;
    for (i = 0; i < XMSG_SESSION_QUEUE_MAX; i++)
        keep(q, i);
    for (i = 1; i < XMSG_SESSION_QUEUE_MAX; i += 2)
        xmsg_message_free(xmsg_session_find(&q->s, &from, body_is, &i, 1));
    keep(q, XMSG_SESSION_QUEUE_MAX); /* full: 0 goes, and the gap after */
    assert_int_equal(log_lines_with(q->st, "the oldest are dropped"), 1);
    for (i = 2; i < XMSG_SESSION_QUEUE_MAX; i += 2)
        assert_int_equal(take_oldest(q), i);
    assert_int_equal(take_oldest(q), XMSG_SESSION_QUEUE_MAX);
    assert_int_equal(take_oldest(q), -1);
    queue_free(q);
}

/* Rank by body, from a table: a body not in it ranks last. */
static size_t rank_by(const xmsg_message *m, const void *arg)
{
    const long *order = arg;
    size_t i;

    for (i = 0; order[i] >= 0; i++) {
        if (order[i] == body_of(m))
            return i;
    }
    return i;
}

/* What came since a mark is sorted by rank (the archive's order), stably
 * (what ranks last keeps its order); an empty slot goes; what came before
 * the mark stays where it is. */
static void test_sort_since(void **state)
{
    static const long order[] = {13, 11, 12, -1};
    static const long want[] = {0, 1, 13, 11, 12, 10, 14, 16};
    struct queue *q = queue_new();
    size_t mark, from = 0, i;
    long gap = 15;

    (void)state;
    keep(q, 0);
    keep(q, 1);
    mark = xmsg_session_kept_end(&q->s);
    for (i = 10; i <= 16; i++)
        keep(q, (long)i);
    xmsg_message_free(xmsg_session_find(&q->s, &from, body_is, &gap, 1));
    assert_int_equal(xmsg_session_sort_since(&q->s, mark, rank_by, order), 0);
    assert_int_equal(xmsg_session_kept_end(&q->s), N_ROWS(want));
    for (i = 0; i < N_ROWS(want); i++)
        assert_int_equal(take_oldest(q), want[i]);
    assert_int_equal(take_oldest(q), -1);
    queue_free(q);
}

/* A callback that made a call of its own on the session (with a status it
 * then freed) gives the call around it its status back. */
static void test_resume_gives_status_back(void **state)
{
    struct queue *q = queue_new();
    xmsg_status *inner = xmsg_status_new();
    xmsg_conn_paused t;

    (void)state;
    assert_non_null(inner);
    t = xmsg_conn_pause(&q->s.c);
    xmsg_conn_use_status(&q->s.c, inner); /* the callback's own call */
    xmsg_status_free(inner);
    xmsg_conn_resume(&q->s.c, t);
    assert_ptr_equal(q->s.c.st, q->st);
    queue_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_take_from_middle),
        cmocka_unit_test(test_many_removals),
        cmocka_unit_test(test_sort_since),
        cmocka_unit_test(test_resume_gives_status_back),
    };

    return cmocka_run_group_tests_name("poll", tests, NULL, NULL);
}
