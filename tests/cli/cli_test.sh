#!/bin/bash
# cli_test.sh - tests of the xmsg command line, without an XMPP server.
#
# Usage: cli_test.sh PATH/TO/xmsg
# Each case checks the exit code and the output. The network cases
# connect to a closed port on 127.0.0.1. XMSG_VALGRIND=1 adds cases run
# under valgrind. jq is used when present, grep otherwise.
set -u

XMSG=${1:?usage: cli_test.sh PATH/TO/xmsg}
TMP=$(mktemp -d) || exit 1
# No config file of the user running the tests may change the cases.
export HOME=$TMP/home
unset XDG_CONFIG_HOME XMSG_CONFIG
trap 'rm -rf "$TMP"' EXIT
OUT=$TMP/out
ERR=$TMP/err
SECRET=Zebra-Secret-913
JID=alice@example.test
PEER=bob@example.test
HAVE_JQ=0
command -v jq >/dev/null 2>&1 && HAVE_JQ=1

passed=0
failed=0
name=
problems=

# ---- running ----

# run ARGS...: runs ARGS with stdin from $IN (default /dev/null) and
# XMSG_PASSWORD unset unless PW is set; sets rc, OUT and ERR.
run() {
    if [ -n "${PW:-}" ]; then
        XMSG_PASSWORD=$PW "$@" <"${IN:-/dev/null}" >"$OUT" 2>"$ERR"
    else
        env -u XMSG_PASSWORD "$@" <"${IN:-/dev/null}" >"$OUT" 2>"$ERR"
    fi
    rc=$?
}

# shellcheck source=tests/closed_port.sh
. "$(dirname "$0")/../closed_port.sh"

# ---- checks: each records a problem, the case fails if any ----

problem() { problems+="    $*"$'\n'; }

expect_rc() { [ "$rc" -eq "$1" ] || problem "exit code $rc, expected $1"; }
out_empty() { [ ! -s "$OUT" ] || problem "stdout not empty"; }
err_empty() { [ ! -s "$ERR" ] || problem "stderr not empty"; }
out_has() { grep -qF -- "$1" "$OUT" || problem "stdout lacks '$1'"; }
err_has() { grep -qF -- "$1" "$ERR" || problem "stderr lacks '$1'"; }
out_lacks() { ! grep -qF -- "$1" "$OUT" || problem "stdout has '$1'"; }
err_lacks() { ! grep -qF -- "$1" "$ERR" || problem "stderr has '$1'"; }

# stdout is one JSON line whose error.code is $1 ("" for no error).
json_code() {
    local lines last
    lines=$(wc -l <"$OUT")
    last=$(tail -c 1 "$OUT" | od -An -c | tr -d ' ')
    if [ "$lines" -ne 1 ] || [ "$last" != '\n' ]; then
        problem "stdout is not one line ending in a newline"
    fi
    if [ "$HAVE_JQ" -eq 1 ]; then
        [ "$(jq -r '.error.code // ""' "$OUT" 2>/dev/null)" = "$1" ] ||
            problem "error.code is not '$1' (jq)"
    elif [ -n "$1" ]; then
        grep -qF "\"code\":\"$1\"" "$OUT" || problem "error.code is not '$1'"
    else
        ! grep -qF '"error"' "$OUT" || problem "stdout has an error"
    fi
}

# A usage error: exit 2, the hint on stderr, nothing on stdout.
usage_error() {
    expect_rc 2
    out_empty
    err_has "Try 'xmsg --help'"
}

# ---- cases ----

begin() {
    name=$1
    problems=
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
    echo "    --- stdout:"
    sed 's/^/    | /' "$OUT"
    echo "    --- stderr:"
    sed 's/^/    | /' "$ERR"
}

test_help() {
    local opt code
    for opt in --help -h; do
        begin "xmsg $opt"
        run "$XMSG" "$opt"
        expect_rc 0
        err_empty
        out_has "xmsg send"
        out_has "xmsg connect"
        out_has "XMSG_PASSWORD"
        for code in 0 1 2 3 4 5 6 7 8 9; do
            grep -qE "^ +$code  [A-Za-z]" "$OUT" || problem "no exit code $code"
        done
        end
    done
    begin "xmsg send --help"
    run "$XMSG" send --help
    expect_rc 0
    err_empty
    for opt in --to --body --message --params --password-file --jid --port \
        --insecure --ca-file --keepalive --attr --log-level; do
        out_has -- "$opt"
    done
    end
    begin "xmsg connect --help has no message options"
    run "$XMSG" connect --help
    expect_rc 0
    out_has "--params"
    out_lacks "--to"
    out_lacks "--body"
    end
    begin "xmsg --version"
    run "$XMSG" --version
    expect_rc 0
    err_empty
    grep -qE '^xmsg [0-9]+\.[0-9]+\.[0-9]+' "$OUT" || problem "no version"
    for opt in jansson OpenSSL expat c-ares; do
        out_has "$opt"
    done
    end
}

test_usage() {
    begin "no command"
    run "$XMSG"
    usage_error
    err_has "missing command"
    end
    begin "unknown command"
    run "$XMSG" fly
    usage_error
    err_has "'fly'"
    end
    begin "unknown option"
    run "$XMSG" send --bogus -t "$PEER" -m hi
    usage_error
    err_has "'--bogus'"
    end
    begin "unknown short option"
    run "$XMSG" connect -Z
    usage_error
    err_has "'-Z'"
    end
    begin "send-only option given to connect"
    run "$XMSG" connect --to "$PEER"
    usage_error
    end
    begin "missing option argument"
    run "$XMSG" send -m hi --to
    usage_error
    err_has "requires an argument"
    end
    begin "unexpected operand"
    run "$XMSG" send -m hi extra
    usage_error
    err_has "'extra'"
    end
    begin "several recipients and --batch"
    run "$XMSG" send -j "$JID" -t "$PEER" -t "$JID" --batch
    usage_error
    err_has "several recipients"
    end
    begin "several recipients and --id"
    run "$XMSG" send -j "$JID" -t "$PEER" -t "$JID" --id x -m hi
    usage_error
    err_has "--id"
    end
    begin "--recipients and --params both on stdin"
    run "$XMSG" send --recipients - --params - -m hi
    usage_error
    err_has "standard input"
    end
    begin "--recipients file without a JID"
    printf '# nobody\n\n' >"$TMP/rcpts"
    PW=$SECRET run "$XMSG" send -j "$JID" --recipients "$TMP/rcpts" -m hi
    expect_rc 2
    err_has "no recipients"
    end
}

test_numbers() {
    local bad
    for bad in abc "" 12x " 5" 99999999999999999999999; do
        begin "bad --port '$bad'"
        run "$XMSG" connect -j "$JID" --port "$bad"
        usage_error
        err_has "--port"
        end
    done
    begin "bad --timeout"
    run "$XMSG" connect -j "$JID" -T 1.5
    usage_error
    end
    for bad in abc '60,' 60,x ,5; do
        begin "bad --keepalive=$bad"
        run "$XMSG" connect -j "$JID" "--keepalive=$bad"
        usage_error
        end
    done
    begin "--attr without '='"
    run "$XMSG" send -t "$PEER" -m hi --attr novalue
    usage_error
    end
    begin "two inputs on stdin"
    run "$XMSG" send --params - --message -
    usage_error
    err_has "standard input"
    end
    begin "--download is not an option of send"
    run "$XMSG" send -t "$PEER" -m hi --download "$TMP"
    usage_error
    end
}

# Cases where the library reports bad input: status JSON, exit 2.
test_input() {
    local port=$1
    local net=(-j "$JID" -H 127.0.0.1 -P "$port" -T 5)
    begin "send without --to"
    PW=$SECRET run "$XMSG" send "${net[@]}" -m hello
    expect_rc 2
    json_code input
    out_has "message.to"
    err_has "xmsg: input: "
    end
    begin "--download-max out of range"
    PW=$SECRET run "$XMSG" connect "${net[@]}" --download "$TMP" \
        --download-max 0
    expect_rc 2
    json_code input
    out_has "params.downloadMax: must be from 1"
    end
    begin "--download DIR that is not a directory"
    PW=$SECRET run "$XMSG" connect "${net[@]}" --download "$TMP/missing"
    expect_rc 2
    json_code input
    out_has "params.downloadDir: $TMP/missing: No such file"
    out_lacks "connecting"
    end
    begin "--download DIR that is a file"
    : >"$TMP/a-file"
    PW=$SECRET run "$XMSG" listen "${net[@]}" --download "$TMP/a-file"
    expect_rc 2
    json_code input
    out_has "not a directory"
    end
    begin "--download with an empty DIR"
    PW=$SECRET run "$XMSG" listen "${net[@]}" --download ""
    expect_rc 2
    json_code input
    out_has "params.downloadDir"
    end
    begin "invalid JID in --to"
    PW=$SECRET run "$XMSG" send "${net[@]}" -m hello -t 'bob@@example test'
    expect_rc 2
    json_code input
    err_has "xmsg: input: "
    end
    begin "message file with a non-string value"
    printf '{"to":"%s","body":5}\n' "$PEER" >"$TMP/m.json"
    PW=$SECRET run "$XMSG" send "${net[@]}" --message "$TMP/m.json"
    expect_rc 2
    json_code input
    out_has "body"
    end
    begin "malformed params JSON"
    printf '{"jid": "%s",' "$JID" >"$TMP/p.json"
    PW=$SECRET run "$XMSG" connect --params "$TMP/p.json"
    expect_rc 2
    json_code input
    end
    begin "unknown key in the params file"
    printf '{"jid": "%s", "prot": 5222}' "$JID" >"$TMP/p.json"
    PW=$SECRET run "$XMSG" connect --params "$TMP/p.json"
    expect_rc 2
    json_code input
    out_has "prot"
    end
    begin "bad --log-level name"
    PW=$SECRET run "$XMSG" connect "${net[@]}" -l chatty
    expect_rc 2
    json_code input
    end
    begin "bad params are reported before the body is awaited"
    PW=$SECRET run "$XMSG" send -j not-an-account -t "$PEER"
    expect_rc 2
    json_code input
    out_has "jid"
    end
    begin "invalid --attr name"
    PW=$SECRET run "$XMSG" send "${net[@]}" -t "$PEER" -m hi --attr 'a b=1'
    expect_rc 2
    json_code input
    end
    begin "no password anywhere"
    run "$XMSG" connect "${net[@]}"
    expect_rc 2
    json_code input
    out_has "password"
    end
    begin "missing params file"
    run "$XMSG" connect --params "$TMP/nonexistent.json"
    expect_rc 2
    out_empty
    err_has "nonexistent.json"
    end
    begin "params file over 1 MiB"
    head -c 1048577 /dev/zero | tr '\0' ' ' >"$TMP/big.json"
    run "$XMSG" connect --params "$TMP/big.json"
    expect_rc 2
    out_empty
    err_has "larger than"
    end
    begin "NUL byte in the message file"
    printf '{"to":"x"}\0{}' >"$TMP/nul.json"
    PW=$SECRET run "$XMSG" send "${net[@]}" --message "$TMP/nul.json"
    expect_rc 2
    out_empty
    err_has "NUL"
    end
    begin "empty body on stdin"
    printf '\n' >"$TMP/empty-body"
    PW=$SECRET IN=$TMP/empty-body run "$XMSG" send "${net[@]}" -t "$PEER"
    expect_rc 2
    out_empty
    err_has "empty message body"
    end
    begin "body wanted from stdin, which --params took"
    printf '{"jid":"%s","host":"127.0.0.1","port":%s}' "$JID" "$port" \
        >"$TMP/p.json"
    PW=$SECRET IN=$TMP/p.json run "$XMSG" send --params - -t "$PEER"
    expect_rc 2
    out_empty
    err_has "--params"
    end
}

test_password_file() {
    local port=$1
    local net=(-j "$JID" -H 127.0.0.1 -P "$port" -T 5)
    printf '%s\n' "$SECRET" >"$TMP/pw"
    begin "password file mode 0644 warns"
    chmod 0644 "$TMP/pw"
    run "$XMSG" connect "${net[@]}" --password-file "$TMP/pw"
    expect_rc 3
    err_has "xmsg: warning: $TMP/pw is readable by group or others"
    json_code connection
    end
    begin "password file mode 0600 does not warn"
    chmod 0600 "$TMP/pw"
    run "$XMSG" connect "${net[@]}" --password-file "$TMP/pw"
    expect_rc 3
    err_lacks "warning"
    json_code connection
    end
    begin "empty password file"
    : >"$TMP/pw-empty"
    chmod 0600 "$TMP/pw-empty"
    run "$XMSG" connect "${net[@]}" --password-file "$TMP/pw-empty"
    expect_rc 2
    out_empty
    err_has "empty password"
    end
    begin "password file with an empty first line"
    printf '\n%s\n' "$SECRET" >"$TMP/pw-empty"
    run "$XMSG" connect "${net[@]}" --password-file "$TMP/pw-empty"
    expect_rc 2
    out_empty
    err_has "empty password"
    end
    begin "password file on stdin"
    IN=$TMP/pw run "$XMSG" connect "${net[@]}" --password-file -
    expect_rc 3
    err_lacks "warning"
    json_code connection
    end
}

test_connect_refused() {
    local port=$1 t0 t1
    local net=(-j "$JID" -H 127.0.0.1 -P "$port" --timeout 60 -l debug)
    begin "connect to a closed port"
    t0=$(date +%s%N)
    PW=$SECRET run "$XMSG" connect "${net[@]}"
    t1=$(date +%s%N)
    expect_rc 3
    json_code connection
    err_has "xmsg: connection: "
    t1=$(((t1 - t0) / 1000000))
    # Refused at once, not at the timeout (generous: a loaded machine).
    [ "$t1" -lt 30000 ] || problem "took $t1 ms, the timeout is 60 s"
    out_has "debug"
    out_lacks "$SECRET"
    err_lacks "$SECRET"
    end
    begin "send to a closed port, body from stdin"
    printf 'hello\nworld\n' >"$TMP/body"
    PW=$SECRET IN=$TMP/body run "$XMSG" send "${net[@]}" -t "$PEER"
    expect_rc 3
    json_code connection
    out_lacks "$SECRET"
    err_lacks "$SECRET"
    end
    begin "options override the params file"
    printf '{"jid":"x@y.z","password":"%s","host":"localhost","port":1}' \
        "$SECRET" >"$TMP/p.json"
    run "$XMSG" connect --params "$TMP/p.json" "${net[@]}"
    expect_rc 3
    json_code connection
    out_has "connecting to 127.0.0.1"
    out_has "127.0.0.1:$port"
    out_lacks "$SECRET"
    end
    begin "--log-level error keeps no debug lines"
    PW=$SECRET run "$XMSG" connect "${net[@]}" --log-level error
    expect_rc 3
    json_code connection
    out_lacks "debug"
    end
    begin "--log-level 3 is --log-level error"
    PW=$SECRET run "$XMSG" connect "${net[@]}" -l 3
    expect_rc 3
    out_lacks "debug"
    end
}

test_full_stdout() {
    begin "--version >/dev/full"
    "$XMSG" --version >/dev/full 2>"$ERR"
    rc=$?
    : >"$OUT"
    expect_rc 1
    err_has "cannot write"
    end
    begin "status >/dev/full"
    env XMSG_PASSWORD=$SECRET "$XMSG" send -j "$JID" -m hi -t 'bad@@jid' \
        >/dev/full 2>"$ERR" </dev/null
    rc=$?
    expect_rc 1
    err_has "cannot write"
    end
}

test_valgrind() {
    local port=$1
    local vg=(valgrind -q --error-exitcode=99 --leak-check=full
        '--errors-for-leak-kinds=definite,indirect')
    local net=(-j "$JID" -H 127.0.0.1 -P "$port" -T 5)
    begin "valgrind: connect to a closed port"
    PW=$SECRET run "${vg[@]}" "$XMSG" connect "${net[@]}"
    expect_rc 3
    json_code connection
    end
    begin "valgrind: send to a closed port, attributes, password file"
    printf '%s\n' "$SECRET" >"$TMP/pw"
    chmod 0600 "$TMP/pw"
    IN=$TMP/body run "${vg[@]}" "$XMSG" send "${net[@]}" -t "$PEER" \
        --password-file "$TMP/pw" --attr x-a=1 --attr x-b=2 --keepalive=30,2
    expect_rc 3
    json_code connection
    end
    begin "valgrind: input error"
    PW=$SECRET run "${vg[@]}" "$XMSG" send "${net[@]}" -m hi -t 'bad@@jid'
    expect_rc 2
    json_code input
    end
    begin "valgrind: usage error"
    run "${vg[@]}" "$XMSG" send --attr x=1 --port abc
    usage_error
    end
}

# A build with OMEMO: --omemo goes with --room (no -t); the option parser
# lets it through to the connection.
test_omemo_room() {
    local port=$1 room=ops@conference.example.test
    "$XMSG" send --help | grep -q -- --omemo || return 0
    begin "send --omemo --room with -t"
    run "$XMSG" send --omemo --room "$room" -t "$PEER" -m hi -j "$JID"
    usage_error
    err_has "no -t"
    end
    begin "send --omemo --room: accepted, then a closed port (exit 3)"
    PW=$SECRET run "$XMSG" send --omemo --room "$room" -m hi -j "$JID" \
        -H 127.0.0.1 -P "$port" --timeout 60
    expect_rc 3
    json_code connection
    end
}

main() {
    local port
    closed_port "$TMP"
    port=$CLOSED_PORT
    [ -x "$XMSG" ] || { echo "cli: $XMSG is not executable"; exit 1; }
    [ "$HAVE_JQ" -eq 1 ] || echo "# jq not found: JSON checked with grep"
    test_help
    test_usage
    test_numbers
    test_input "$port"
    test_password_file "$port"
    test_connect_refused "$port"
    test_full_stdout
    test_omemo_room "$port"
    if [ "${XMSG_VALGRIND:-0}" = 1 ]; then
        test_valgrind "$port"
    fi
    echo "cli: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

main
