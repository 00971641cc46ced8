#!/bin/bash
# deb_test.sh SRC - builds the Debian packages from a copy of SRC with the
# project's debian/ (dpkg-buildpackage), checks them with lintian (no
# error, no warning), installs them, and checks what a user gets: man
# xmsg, man 3 xmsg_send, man 5 xmsg-config, pkg-config --libs xmsg, a
# program built against the installed library, bash completion.
#
# XMSG_DEB_INSTALL=1 installs with dpkg -i on this system and removes the
# packages at the end (CI: a throw-away machine, as root); otherwise the
# packages are unpacked into a throw-away root and used from there.
set -u
SRC=${1:?usage: deb_test.sh SRC}
TMP=$(mktemp -d) || exit 1
installed=0
cleanup() {
    [ "$installed" = 0 ] || dpkg --purge xmsg libxmsg-dev libxmsg0 >/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
bad() { failed=$((failed + 1)); echo "FAIL - $1"; }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
die() { echo "FAIL - $*"; exit 1; }

# A copy without build directories or version control.
mkdir -p "$TMP/src"
tar -C "$SRC" --exclude=./.git --exclude='./build*' --exclude='./obj-*' \
    -cf - . | tar -C "$TMP/src" -xf - || die "cannot copy $SRC"
(cd "$TMP/src" && DEB_BUILD_OPTIONS="parallel=2 nocheck" \
    dpkg-buildpackage -us -uc -b >"$TMP/build.log" 2>&1) || {
    tail -n 40 "$TMP/build.log"
    die "dpkg-buildpackage failed"
}
ok "dpkg-buildpackage -us -uc -b"
for p in xmsg libxmsg0 libxmsg-dev; do
    check "package $p built" 'ls "$TMP"/${p}_*.deb >/dev/null 2>&1'
done
lintian --fail-on error,warning "$TMP"/*.changes >"$TMP/lintian" 2>&1
check "lintian: no error, no warning" '[ $? -eq 0 ]'
sed 's/^/    /' "$TMP/lintian"

root=
if [ "${XMSG_DEB_INSTALL:-0}" = 1 ]; then
    # Container images often exclude manual pages from dpkg: not ours.
    dpkg --path-include='/usr/share/man/*' -i "$TMP"/xmsg_*.deb "$TMP"/libxmsg0_*.deb "$TMP"/libxmsg-dev_*.deb \
        >"$TMP/dpkg.log" 2>&1 || { cat "$TMP/dpkg.log"; die "dpkg -i"; }
    installed=1
    ok "dpkg -i"
else
    root=$TMP/root
    for d in "$TMP"/*.deb; do dpkg-deb -x "$d" "$root"; done
    ok "unpacked into a throw-away root"
    arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
    export PATH=$root/usr/bin:$PATH
    export MANPATH=$root/usr/share/man
    export PKG_CONFIG_SYSROOT_DIR=$root
    export PKG_CONFIG_PATH=$root/usr/lib/$arch/pkgconfig
    export LD_LIBRARY_PATH=$root/usr/lib/$arch
fi

check "xmsg --version runs" 'xmsg --version | grep -q "^xmsg [0-9]"'
check "man xmsg" 'MANWIDTH=80 man xmsg 2>/dev/null | grep -q "xmsg-config"'
check "man 3 xmsg_send" \
    'MANWIDTH=80 man 3 xmsg_send 2>/dev/null | grep -q "XMSG_SEND(3)"'
check "man 3 xmsg_session_poll (an alias)" \
    'MANWIDTH=80 man 3 xmsg_session_poll 2>/dev/null | grep -q "XMSG_SESSION(3)"'
check "man 3 libxmsg" 'MANWIDTH=80 man 3 libxmsg 2>/dev/null | grep -q "LIBXMSG(3)"'
check "man 5 xmsg-config" \
    'MANWIDTH=80 man 5 xmsg-config 2>/dev/null | grep -q "passwordCommand"'
check "pkg-config --libs xmsg" 'pkg-config --libs xmsg | grep -q -- "-lxmsg"'
cat >"$TMP/t.c" <<'C'
#include <stdio.h>
#include <xmsg.h>
int main(void)
{
    puts(xmsg_version());
    return xmsg_params_name(0) ? 0 : 1;
}
C
check "a program builds against the installed library and runs" \
    'cc -o "$TMP/t" "$TMP/t.c" $(pkg-config --cflags --libs xmsg) &&
     "$TMP/t" | grep -q "^0\."'
comp=$root/usr/share/bash-completion/completions/xmsg
check "bash completion installed" '[ -f "$comp" ]'
check "bash completion completes the commands" 'bash -c ". \"$comp\";
    COMP_WORDS=(xmsg se); COMP_CWORD=1; _xmsg; [ \"\${COMPREPLY[*]}\" = send ]"'
if [ -z "$root" ]; then
    check "bash-completion loads it on demand" 'bash -c "
        . /usr/share/bash-completion/bash_completion
        _completion_loader xmsg; complete -p xmsg" | grep -q _xmsg'
fi
# The installed xmsg with only a config file: no flag but -t and -m, no
# environment (the lab's Prosody, accounts v03 and v04 of their own).
if [ -n "${XMSG_LAB_ENV:-}" ] && [ -f "$XMSG_LAB_ENV" ]; then
    # shellcheck disable=SC1090
    . "$XMSG_LAB_ENV"
    home=$TMP/home
    mkdir -p "$home/.config/xmsg"
    cat >"$home/.config/xmsg/config" <<CFG
# written by deb_test.sh
jid = v03@$XMSG_LAB_DOMAIN
password = pw-v03-Zq8
host = $XMSG_LAB_HOST
port = $XMSG_LAB_PORT
caFile = $XMSG_LAB_CA
CFG
    chmod 600 "$home/.config/xmsg/config"
    env -i HOME="$home" PATH="$PATH" LD_LIBRARY_PATH="${LD_LIBRARY_PATH:-}" \
        xmsg send -t "v04@$XMSG_LAB_DOMAIN" -m hi >"$TMP/send.out" \
        2>"$TMP/send.err"
    rc=$?
    check "installed xmsg sends with only ~/.config/xmsg/config (exit $rc)" \
        '[ "$rc" = 0 ] && grep -q "\"delivered\": *true" "$TMP/send.out"'
    [ "$rc" = 0 ] || sed 's/^/    /' "$TMP/send.err"
fi
echo "deb: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
