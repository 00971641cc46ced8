#!/bin/bash
# config_test.sh - the config file, accounts, password sources and the
# migration from go-sendxmpp and sendxmpp (xmsg-config(5)). No XMPP
# server: a send that gets as far as connecting meets a closed port on
# 127.0.0.1 (exit 3), which shows that the params were complete.
#
# Usage: config_test.sh PATH/TO/xmsg
# XMSG_VALGRIND=1 runs every case under valgrind (a leak or a memory error
# is exit 99, which no case expects).
set -u

XMSG=${1:?usage: config_test.sh PATH/TO/xmsg}
TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT
OUT=$TMP/out
ERR=$TMP/err
H=$TMP/home
CFG=$H/.config/xmsg/config
# shellcheck source=tests/closed_port.sh
. "$(dirname "$0")/../closed_port.sh"
closed_port "$TMP"
PORT=$CLOSED_PORT
NET=(-H 127.0.0.1 -P "$PORT" -T 5)

passed=0
failed=0
name=
problems=

# run ARGS...: with HOME=$H, no XDG_CONFIG_HOME, XMSG_CONFIG or
# XMSG_PASSWORD unless given as NAME=VALUE in ENVS; stdin from $IN.
VG=()
if [ "${XMSG_VALGRIND:-0}" = 1 ]; then
    VG=(valgrind -q --error-exitcode=99 --leak-check=full
        '--errors-for-leak-kinds=definite,indirect')
fi
run() {
    local cmd=("$@")
    [ "$1" != "$XMSG" ] || cmd=("${VG[@]}" "$@")
    env -u XDG_CONFIG_HOME -u XMSG_CONFIG -u XMSG_PASSWORD HOME="$H" \
        ${ENVS:-} "${cmd[@]}" <"${IN:-/dev/null}" >"$OUT" 2>"$ERR"
    rc=$?
}

problem() { problems+="    $*"$'\n'; }
expect_rc() { [ "$rc" -eq "$1" ] || problem "exit code $rc, expected $1"; }
out_has() { grep -qF -- "$1" "$OUT" || problem "stdout lacks '$1'"; }
err_has() { grep -qF -- "$1" "$ERR" || problem "stderr lacks '$1'"; }
out_lacks() { ! grep -qF -- "$1" "$OUT" || problem "stdout has '$1'"; }
err_lacks() { ! grep -qF -- "$1" "$ERR" || problem "stderr has '$1'"; }
# out_line KEY VALUE SOURCE: xmsg config's line for KEY.
out_line() {
    grep -qE "^$1 += $2 +# $3\$" "$OUT" ||
        problem "no line '$1 = $2 # $3'"
}

begin() {
    name=$1
    problems=
    rm -rf "$H"
    mkdir -p "$H/.config/xmsg"
}

end() {
    if [ -z "$problems" ]; then
        passed=$((passed + 1))
        echo "ok - $name"
        return
    fi
    failed=$((failed + 1))
    echo "FAIL - $name"
    printf '%s' "$problems"
    sed 's/^/    out| /' "$OUT"
    sed 's/^/    err| /' "$ERR"
}

# config LINES...: writes the xmsg config, mode 600.
config() {
    printf '%s\n' "$@" >"$CFG"
    chmod 600 "$CFG"
}

two_accounts() {
    config '# defaults' 'default = work' 'timeout = 30' 'port = 5999' \
        '' '[account work]' 'jid = alice@example.test' 'port = 5998' \
        'password = Work-Secret-1' \
        '[account home]' '  jid = bob@example.test  ' \
        'password = Home-Secret-2'
}

test_precedence() {
    begin "config: defaults, default account, sources with file:line"
    two_accounts
    run "$XMSG" config
    expect_rc 0
    out_has "# config file: $CFG"
    out_has "# account: work"
    out_line jid alice@example.test "$CFG:7 \\[account work\\]"
    out_line port 5998 "$CFG:8 \\[account work\\]"
    out_line timeout 30 "$CFG:3"
    out_line password '\(secret\)' "$CFG:9 \\[account work\\]"
    out_line logLevel warn "default of the command line"
    out_lacks Work-Secret-1
    end

    begin "config: -a picks an account; options beat everything"
    two_accounts
    run "$XMSG" config -a home -T 7
    expect_rc 0
    out_line jid bob@example.test "$CFG:11 \\[account home\\]"
    out_line port 5999 "$CFG:4"
    out_line timeout 7 "command line"
    out_lacks Home-Secret-2
    end

    begin "config: --params beats the account, options beat --params"
    two_accounts
    printf '{"port": 6000, "timeout": 8}' >"$TMP/params.json"
    run "$XMSG" config --params "$TMP/params.json" -T 9
    expect_rc 0
    out_line port 6000 "--params file"
    out_line timeout 9 "command line"
    out_line jid alice@example.test "$CFG:7 \\[account work\\]"
    end

    begin "config: the key omemo (a boolean, or optional)"
    config 'default = work' 'omemo = optional' '[account work]' \
        'jid = alice@example.test' 'omemo = yes' '[account home]' \
        'jid = bob@example.test'
    run "$XMSG" config -a home
    expect_rc 0
    out_line omemo optional "$CFG:2"
    run "$XMSG" config
    out_line omemo true "$CFG:5 \\[account work\\]"
    end

    begin "config: XMSG_PASSWORD beats the config"
    two_accounts
    ENVS="XMSG_PASSWORD=Env-Secret-3" run "$XMSG" config
    out_line password '\(secret\)' XMSG_PASSWORD
    out_lacks Env-Secret-3
    end

    begin "config: another --jid sets the default account aside"
    two_accounts
    run "$XMSG" config -j carol@example.test
    expect_rc 0
    out_has "# account: none"
    out_line port 5999 "$CFG:4"
    out_lacks "password "
    end

    begin "send: the default account logs in (connects)"
    two_accounts
    run "$XMSG" send "${NET[@]}" -t bob@example.test -m hi
    expect_rc 3
    out_has '"code":"connection"'
    end
}

test_errors() {
    begin "unknown key: input error with file:line"
    config 'timeout = 3' '[account a]' 'jid = a@example.test' 'colour = red'
    run "$XMSG" send -t bob@example.test -m hi
    expect_rc 2
    out_has '"code":"input"'
    err_has "$CFG:4: unknown key 'colour'"
    end
    local bad
    for bad in 'port = 70000|params.port: must be from 1 to 65535' \
        'trustTLS = maybe|params.trustTLS: must be true or false' \
        'omemo = maybe|params.omemo: must be true, false' \
        'timeout = 5s|params.timeout: must be a whole number' \
        'no equals sign|expected key = value' \
        '[acount x]|a section is written [account NAME]' \
        'default = nobody|default names no account'; do
        begin "bad line '${bad%%|*}': file:line"
        config '# first' "${bad%%|*}"
        run "$XMSG" send -t bob@example.test -m hi
        expect_rc 2
        err_has "$CFG:2: ${bad#*|}"
        end
    done
    begin "two password sources in one section"
    config '[account a]' 'password = x' 'passwordFile = ~/pw'
    run "$XMSG" config -a a
    expect_rc 2
    err_has "$CFG:3: one password source per section"
    end
    begin "a key twice"
    config 'port = 1' 'port = 2'
    run "$XMSG" config
    expect_rc 2
    err_has "$CFG:2: 'port' given twice"
    end
    begin "-a names no account"
    config '[account a]' 'jid = a@example.test'
    run "$XMSG" send -a b -t bob@example.test -m hi
    expect_rc 2
    err_has "no account 'b'"
    end
    begin "-a without any config file"
    rm -f "$CFG"
    run "$XMSG" config -a work
    expect_rc 2
    err_has "there is none"
    end
}

test_files() {
    begin "XDG_CONFIG_HOME comes before ~/.config"
    config 'port = 1111'
    mkdir -p "$TMP/xdg/xmsg"
    printf 'port = 2222\n' >"$TMP/xdg/xmsg/config"
    ENVS="XDG_CONFIG_HOME=$TMP/xdg" run "$XMSG" config
    out_line port 2222 "$TMP/xdg/xmsg/config:1"
    end
    begin "XMSG_CONFIG names the file; a missing one is an error"
    config 'port = 1111'
    printf 'port = 3333\n' >"$TMP/other"
    ENVS="XMSG_CONFIG=$TMP/other" run "$XMSG" config
    out_line port 3333 "$TMP/other:1"
    ENVS="XMSG_CONFIG=$TMP/missing" run "$XMSG" config
    expect_rc 2
    err_has "$TMP/missing"
    end
    begin "a password in a config others may read: warning"
    config 'jid = a@example.test' 'password = x'
    chmod 644 "$CFG"
    run "$XMSG" config
    expect_rc 0
    err_has "holds a password and is readable by group or others"
    chmod 600 "$CFG"
    run "$XMSG" config
    err_lacks "readable"
    end
    begin "passwordFile with ~/ (read only when used)"
    config 'jid = a@example.test' 'passwordFile = ~/pw'
    printf 'File-Secret-4\n' >"$H/pw"
    chmod 600 "$H/pw"
    run "$XMSG" send "${NET[@]}" -t bob@example.test -m hi
    expect_rc 3
    rm "$H/pw"
    run "$XMSG" send "${NET[@]}" -t bob@example.test -m hi
    expect_rc 2
    err_has "$CFG:2: passwordFile"
    end
}

test_password_command() {
    begin "passwordCommand: no shell, quoted words, stdin not its"
    config 'jid = a@example.test' \
        "passwordCommand = sh -c 'echo \"\$1\" >\"\$2\"; cat; echo pw' x \"two words\" $TMP/argv"
    IN=$TMP/body
    printf 'the body\n' >"$IN"
    run "$XMSG" send "${NET[@]}" -t bob@example.test
    IN=
    expect_rc 3
    [ "$(cat "$TMP/argv" 2>/dev/null)" = "two words" ] ||
        problem "argv not split as documented"
    end
    begin "passwordCommand exits non-zero: input error naming it, not its output"
    config 'jid = a@example.test' \
        'passwordCommand = sh -c "echo Leaked-Output-5; exit 3"'
    run "$XMSG" send "${NET[@]}" -t bob@example.test -m hi
    expect_rc 2
    out_has '"code":"input"'
    err_has "passwordCommand 'sh': exited with status 3"
    out_lacks Leaked-Output-5
    err_lacks Leaked-Output-5
    end
    begin "passwordCommand not found"
    config 'jid = a@example.test' 'passwordCommand = /nonexistent/pw-tool'
    run "$XMSG" send "${NET[@]}" -t bob@example.test -m hi
    expect_rc 2
    err_has "'/nonexistent/pw-tool': cannot run it"
    end
    begin "passwordCommand prints nothing"
    config 'jid = a@example.test' 'passwordCommand = true'
    run "$XMSG" send "${NET[@]}" -t bob@example.test -m hi
    expect_rc 2
    err_has "printed no password"
    end
    begin "passwordCommand bounded by the timeout (killed)"
    config 'jid = a@example.test' 'passwordCommand = sleep 600'
    run "$XMSG" send -H 127.0.0.1 -P "$PORT" -T 1 -t bob@example.test -m hi
    expect_rc 2
    err_has "gave no password within 1 s: killed"
    end
    begin "passwordCommand unclosed quote"
    config 'jid = a@example.test' "passwordCommand = echo 'x"
    run "$XMSG" send "${NET[@]}" -t bob@example.test -m hi
    expect_rc 2
    err_has "unclosed quote"
    end
    begin "XMSG_PASSWORD wins: the passwordCommand is not run"
    config 'jid = a@example.test' "passwordCommand = touch $TMP/ran"
    rm -f "$TMP/ran"
    ENVS="XMSG_PASSWORD=x" run "$XMSG" send "${NET[@]}" -t bob@example.test -m hi
    expect_rc 3
    [ ! -e "$TMP/ran" ] || problem "the command ran"
    end
    begin "xmsg config does not run the passwordCommand"
    config 'jid = a@example.test' "passwordCommand = touch $TMP/ran"
    run "$XMSG" config
    expect_rc 0
    out_has "password           = passwordCommand"
    [ ! -e "$TMP/ran" ] || problem "the command ran"
    end
}

test_migration() {
    local go=$H/.config/go-sendxmpp/config
    begin "go-sendxmpp's config, when there is no xmsg config"
    rm -f "$CFG"
    mkdir -p "$(dirname "$go")"
    printf '%s\n' 'username: alice@example.test' 'jserver: 127.0.0.1' \
        "port: $PORT" 'eval_password: echo pw | cat' 'alias: al' \
        'resource: r1' >"$go"
    chmod 600 "$go"
    run "$XMSG" config
    expect_rc 0
    err_has "no xmsg config: using go-sendxmpp's $go"
    err_has "$go:6: 'resource' has no meaning for xmsg: ignored"
    out_line jid alice@example.test "$go:1"
    out_line host 127.0.0.1 "$go:1"
    out_line port "$PORT" "$go:1"
    out_line nick al "$go:1"
    # eval_password is run by sh -c, as go-sendxmpp does: the pipe works.
    run "$XMSG" send -T 5 -t bob@example.test -m hi
    expect_rc 3
    end
    begin "an xmsg config hides the peers' files"
    printf 'port = 4444\n' >"$CFG"
    run "$XMSG" config
    err_lacks "go-sendxmpp"
    out_line port 4444 "$CFG:1"
    end
    begin "~/.sendxmpprc, one-line format user@server;host:port password"
    rm -f "$CFG"
    printf '%s\n' '# mine' "alice@example.test;127.0.0.1:$PORT Rc-Secret-6" \
        >"$H/.sendxmpprc"
    chmod 600 "$H/.sendxmpprc"
    run "$XMSG" config
    err_has "using sendxmpp's $H/.sendxmpprc"
    out_line jid alice@example.test "$H/.sendxmpprc:2"
    out_line host 127.0.0.1 "$H/.sendxmpprc:2"
    out_line port "$PORT" "$H/.sendxmpprc:2"
    out_lacks Rc-Secret-6
    run "$XMSG" send -T 5 -t bob@example.test -m hi
    expect_rc 3
    end
    begin "~/.sendxmpprc, key format with a bare user name"
    printf '%s\n' 'username: alice' 'jserver: example.test' \
        'password: x' >"$H/.sendxmpprc"
    chmod 644 "$H/.sendxmpprc"
    run "$XMSG" config
    out_line jid alice@example.test "$H/.sendxmpprc:1"
    out_lacks "host "
    err_has "readable by group or others"
    end
    begin "~/.sendxmpprc, a line of neither format"
    printf '%s\n' 'what is this' >"$H/.sendxmpprc"
    run "$XMSG" config
    expect_rc 2
    err_has "$H/.sendxmpprc:1: not a line of sendxmpp's format"
    end
    local xc=$H/.config/xmppc.conf
    begin "xmppc's accounts: [default] and -a NAME"
    rm -f "$H/.sendxmpprc"
    printf '%s\n' '[default]' 'jid=alice@example.test' 'pwd=Xc-Secret-7' \
        '' '[work]' 'jid = bob@example.test' 'pwd = x' 'colour=red' >"$xc"
    chmod 600 "$xc"
    run "$XMSG" config
    expect_rc 0
    err_has "using xmppc's $xc"
    err_has "$xc:8: 'colour' has no meaning for xmsg: ignored"
    out_has "# account: default"
    out_line jid alice@example.test "$xc:2 \\[account default\\]"
    out_line password '\(secret\)' "$xc:3 \\[account default\\]"
    out_lacks Xc-Secret-7
    run "$XMSG" config -a work
    out_line jid bob@example.test "$xc:6 \\[account work\\]"
    run "$XMSG" config -a nobody
    expect_rc 2
    err_has "no account 'nobody'"
    end
}

# The README's example config (its first ini block) is a valid config.
test_readme_example() {
    local readme
    readme="$(dirname "$0")/../../README.md"
    begin "the README's example config is valid"
    sed -n '/^```ini$/,/^```$/p' "$readme" | sed '1d;$d' >"$CFG"
    chmod 600 "$CFG"
    [ -s "$CFG" ] || problem "no ini block in $readme"
    run "$XMSG" config
    expect_rc 0
    out_line jid alice@example.org "$CFG:[0-9]+ \\[account work\\]"
    out_line timeout 30 "$CFG:[0-9]+"
    run "$XMSG" config -a alerts
    expect_rc 0
    out_line jid monitor@example.org "$CFG:[0-9]+ \\[account alerts\\]"
    end
}

main() {
    [ -x "$XMSG" ] || { echo "config: $XMSG is not executable"; exit 1; }
    test_readme_example
    test_precedence
    test_errors
    test_files
    test_password_command
    test_migration
    echo "config: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

main
