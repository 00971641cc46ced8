/* oom.h - allocations that fail on purpose, for unit tests built with
 * oom.c and linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc
 * (the library's allocations and expat's go through them). */
#ifndef XMSG_TEST_OOM_H
#define XMSG_TEST_OOM_H

/* When > 0: the oom_at-th allocation from the arming fails. */
extern long oom_at;

/* Arms the failure of the at-th allocation from now. */
void oom_arm(long at);
/* 1 if the armed failure happened; disarms. */
int oom_disarm(void);

#endif
