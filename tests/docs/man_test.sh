#!/bin/bash
# man_test.sh SRC ALIASES - the manual pages format without a warning
# (groff -ww), and "man 3 FUNCTION" has a page for every function of
# include/xmsg.h: a group page in docs/man3, or an alias in ALIASES.
set -u
SRC=${1:?usage: man_test.sh SRC ALIASES}
ALIASES=${2:?usage: man_test.sh SRC ALIASES}
failed=0
fail() { echo "FAIL - $*"; failed=$((failed + 1)); }

for page in "$SRC"/docs/*.[15] "$SRC"/docs/man3/*.3; do
    err=$(groff -ww -man -t -z "$page" 2>&1)
    if [ $? -ne 0 ] || [ -n "$err" ]; then
        fail "$page: $err"
    else
        echo "ok - groff -ww: ${page#"$SRC"/}"
    fi
done
# Rendered through man(1) too, which runs preconv and tbl as installed.
for page in "$SRC"/docs/*.[15] "$SRC"/docs/man3/*.3; do
    err=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
    [ -z "$err" ] || fail "man --warnings $page: $err"
done
funcs=$(grep -oE '\bxmsg_[a-z0-9_]+\(' "$SRC/include/xmsg.h" |
    tr -d '(' | sort -u)
[ -n "$funcs" ] || fail "no function found in xmsg.h"
for f in $funcs; do
    if [ -f "$SRC/docs/man3/$f.3" ]; then
        continue
    fi
    if [ ! -f "$ALIASES/$f.3" ]; then
        fail "man 3 $f: no page"
        continue
    fi
    target=$(sed -n 's/^\.so man3\///p' "$ALIASES/$f.3")
    [ -f "$SRC/docs/man3/$target" ] || fail "$f.3 sources a missing $target"
done
echo "man pages: $(echo "$funcs" | wc -w) functions checked, $failed failed"
[ "$failed" -eq 0 ]
