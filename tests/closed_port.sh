# shellcheck shell=bash
# Sourced by tests. closed_port DIR: sets CLOSED_PORT to a port on
# 127.0.0.1 that refuses connections for the whole run: bound and never
# listened on, held until the script ends (its fd 9), so that no other
# process (tests run side by side) can take it meanwhile. Not in a
# subshell. DIR: a temp dir of the caller's.
closed_port() {
    local dir=$1
    mkfifo "$dir/hold"
    # Not a job of the caller's (a `wait` at its exit would wait for it).
    (python3 -c 'import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
sys.stdin.read()' <"$dir/hold" >"$dir/closed_port" 2>/dev/null &)
    exec 9>"$dir/hold" # python3 ends when this closes (at exit)
    for _ in $(seq 100); do
        [ -s "$dir/closed_port" ] && break
        sleep 0.1
    done
    # shellcheck disable=SC2034 # the caller's
    CLOSED_PORT=$(cat "$dir/closed_port")
}
