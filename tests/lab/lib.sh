# shellcheck shell=bash
# Shared helpers for tests/lab/prosody.sh and tests/lab/ejabberd.sh (sourced, not run).
# The caller sets LAB_PROG (for messages) and runs under `set -euo pipefail`.

LAB_USERS=(alice bob carol dave)
for _i in $(seq -w 1 64); do LAB_USERS+=("t$_i"); done
# s01..s16: src/xmpp/stream's end-to-end test (tests/integration/stream_e2e.py)
for _i in $(seq -w 1 16); do LAB_USERS+=("s$_i"); done
# u01..u16: the CLI's config file, recipients and examples (cli_e2e.sh, examples/)
for _i in $(seq -w 1 16); do LAB_USERS+=("u$_i"); done
# v01..v04: SRV and direct TLS found through the DNS (srv_e2e.sh)
for _i in 01 02 03 04; do LAB_USERS+=("v$_i"); done
# f01..f04: HTTP File Upload (upload_e2e.sh)
for _i in 01 02 03 04; do LAB_USERS+=("f$_i"); done
# d01..d04: downloading what came with a file (connect|listen --download)
for _i in 01 02 03 04; do LAB_USERS+=("d$_i"); done
# h01..h04: uploads against peers (interop, bench/)
for _i in 01 02 03 04; do LAB_USERS+=("h$_i"); done
# o01..o40: OMEMO. o01..o08 omemo_e2e.sh (publishing, the python3-omemo peer); o09..o16
# sessions, batch, several recipients; o17..o24 receiving; o25..o32 files (XEP-0454);
# o33..o40 rooms
for _i in $(seq -w 1 40); do LAB_USERS+=("o$_i"); done
unset _i

lab_die() {
	echo "${LAB_PROG:-lab}: error: $*" >&2
	exit 1
}

lab_log() {
	[ -n "${XMSG_LAB_QUIET:-}" ] || echo "${LAB_PROG:-lab}: $*" >&2
}

lab_need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || lab_die "'$c' not found in PATH (install it: see tests/lab/README.md)"
	done
}

# lab_absdir DIR: create DIR and print its absolute path. Paths go into Lua and Erlang
# config strings and onto command lines, so only a conservative character set is accepted.
lab_absdir() {
	local d="$1"
	[ -n "$d" ] || lab_die "DIR is empty"
	mkdir -p -- "$d" || lab_die "cannot create directory '$d'"
	d=$(cd -- "$d" && pwd -P) || lab_die "cannot enter directory '$1'"
	case "$d" in
	*[!A-Za-z0-9/._+@:,=-]*) lab_die "DIR '$d' has characters this script does not quote (use [A-Za-z0-9/._+@:,=-])" ;;
	esac
	printf '%s\n' "$d"
}

# lab_lock DIR: hold an exclusive lock on DIR/.lock for the rest of this process (serialises
# start/stop of one instance; distinct DIRs never wait for each other).
lab_lock() {
	exec {LAB_LOCK_FD}>"$1/.lock" || lab_die "cannot open $1/.lock"
	flock -w 60 "$LAB_LOCK_FD" || lab_die "another start/stop holds $1/.lock for more than 60 s"
}

# lab_port_busy PORT: true if a local TCP socket other than a TIME-WAIT leftover uses PORT
# (the servers bind with SO_REUSEADDR, so TIME-WAIT does not stop them).
lab_port_busy() {
	[ -n "$(ss -Htan exclude time-wait "( sport = :$1 )" 2>/dev/null)" ]
}

# lab_pick_ports N [WISH...]: print N distinct TCP ports that are free now. Slot i gets WISH i
# when that is free (a DIR keeps its ports across restarts, so clients can reconnect); other
# slots get random ports below the kernel's ephemeral range. A race with another process is
# still possible: the callers check that the server itself listens on them, and retry.
lab_pick_ports() {
	local n="$1" p lo hi i tries=0
	shift
	local -a wish=("$@") out=()
	read -r lo hi </proc/sys/net/ipv4/ip_local_port_range || { lo=32768; hi=60999; }
	# 20000..lo-1 normally (bind(0) never hands those out); the ephemeral range if that is empty.
	if [ "$lo" -gt 21000 ]; then hi=$((lo - 1)); lo=20000; fi
	for ((i = 0; i < n; i++)); do
		p="${wish[i]:-}"
		if [[ "$p" =~ ^[0-9]+$ ]] && [[ " ${out[*]} " != *" $p "* ]] && ! lab_port_busy "$p"; then
			out+=("$p")
			continue
		fi
		while :; do
			tries=$((tries + 1))
			[ "$tries" -lt 1000 ] || lab_die "no free TCP port found in $lo..$hi"
			p=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1)))
			[[ " ${out[*]} " == *" $p "* ]] && continue
			lab_port_busy "$p" || break
		done
		out+=("$p")
	done
	echo "${out[@]}"
}

# lab_listen_state PID PORT...: 0 when PID listens on every PORT, 2 when another process holds
# one of them (a lost race), 1 when some are not listened on yet. One `ss` run for all ports.
lab_listen_state() {
	local pid="$1" p rc=0 owners
	shift
	local -A own=()
	while read -r p owners; do own[$p]="${own[$p]:-} $owners"; done < <(
		ss -Hltnp 2>/dev/null | awk '{
			n = split($4, a, ":"); port = a[n]; pids = ""; s = $0
			while (match(s, /pid=[0-9]+/)) { pids = pids " " substr(s, RSTART + 4, RLENGTH - 4); s = substr(s, RSTART + RLENGTH) }
			print port, pids }')
	for p in "$@"; do
		owners="${own[$p]:-}"
		if [ -z "${owners// /}" ]; then
			rc=1
		elif [[ " $owners " != *" $pid "* ]]; then
			lab_log "port $p is held by pid(s)$owners"
			return 2
		fi
	done
	return "$rc"
}

# lab_cpu_ticks PID: set LAB_CPU_TICKS to the CPU time PID and its waited-for children used,
# in clock ticks; fails when PID is gone or a zombie. Nothing is forked (called every poll).
lab_cpu_ticks() {
	local line
	local -a f
	[ -n "$1" ] && read -r line 2>/dev/null <"/proc/$1/stat" || return 1
	read -r -a f <<<"${line##*) }"
	[ "${f[0]}" != Z ] && [ "${f[0]}" != X ] || return 1
	LAB_CPU_TICKS=$((f[11] + f[12] + f[13] + f[14]))
}

# lab_alive PID: true while PID exists and is not a zombie.
lab_alive() {
	lab_cpu_ticks "$1"
}

# lab_ours PID DIR: true if PID is alive and its command line mentions DIR (guards against
# signalling an unrelated process that reused a stale pid).
lab_ours() {
	lab_alive "$1" || return 1
	tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$2/"
}

# lab_group_pids PGID: live (non-zombie) pids in process group PGID (the servers run in their
# own session). Zombies are skipped: the init of a container may take a while to reap them.
lab_group_pids() {
	ps -e -o pid=,pgid=,stat= 2>/dev/null | awk -v g="$1" '$2 == g && $3 !~ /^Z/ { print $1 }'
}

# lab_stop_pid PID DIR TIMEOUT: SIGTERM, wait up to TIMEOUT s, then SIGKILL PID and every
# process still in its process group. Returns 0 once nothing of it is left.
lab_stop_pid() {
	local pid="$1" dir="$2" timeout="$3" i left
	# A live pid that is not ours was reused by the system: leave it (and its group) alone.
	if lab_alive "$pid" && ! lab_ours "$pid" "$dir"; then
		lab_log "recorded pid $pid is not this instance's server any more; not signalling it"
		return 0
	fi
	if lab_alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < timeout * 20; i++)); do
			lab_alive "$pid" || break
			sleep 0.05
		done
		if lab_alive "$pid"; then
			lab_log "pid $pid ignored SIGTERM for ${timeout}s, sending SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	# Helpers left in the server's own process group (it was started with setsid, pgid = pid).
	for ((i = 0; i < 40; i++)); do
		left=$(lab_group_pids "$pid")
		[ -n "$left" ] || break
		# shellcheck disable=SC2086  # a list of pids
		kill -KILL $left 2>/dev/null || true
		sleep 0.05
	done
	for ((i = 0; i < 40; i++)); do
		lab_alive "$pid" || return 0
		sleep 0.05
	done
	lab_die "pid $pid is still alive after SIGKILL"
}

# lab_stop DIR: stop the instance recorded in DIR (no-op if none). Removes DIR/env.
lab_stop() {
	local dir="$1" pid=""
	[ -f "$dir/run/server.pid" ] && pid=$(cat "$dir/run/server.pid" 2>/dev/null || true)
	if [[ "$pid" =~ ^[0-9]+$ ]]; then
		lab_stop_pid "$pid" "$dir" "${LAB_STOP_TIMEOUT:-10}"
	fi
	rm -f "$dir/run/server.pid" "$dir/env"
}

# lab_show_logs FILE...: last lines of each existing file, to stderr.
lab_show_logs() {
	local f
	for f in "$@"; do
		[ -s "$f" ] || continue
		echo "----- tail of $f -----" >&2
		tail -n 40 "$f" >&2
	done
}

# lab_wait_ready PID CPU READYFILE PORT...: wait until PID listens on every PORT and READYFILE
# exists. The budget is CPU seconds the server itself spends, not wall time: a loaded machine
# (the sanitizer pass beside it) slows a start down without making it wrong. A wall-clock guard
# of XMSG_LAB_START_WALL s (default 240: the lab_*_start tests' limit is 300) still ends a
# server that hangs without working.
# Returns 0 when ready, 1 if the process died or ran out of budget, 2 if another process holds
# one of the ports (a lost race: pick new ports and retry). Polls every 0.1 s; `ss` runs every
# 0.5 s until READYFILE exists, then every poll: the wait must not take CPU from the server.
lab_wait_ready() {
	local pid="$1" cpu="$2" ready="$3" hz i rc start=$SECONDS wall="${XMSG_LAB_START_WALL:-240}"
	shift 3
	hz=$(getconf CLK_TCK 2>/dev/null) || hz=100
	for ((i = 0; ; i++)); do
		lab_cpu_ticks "$pid" || { lab_log "the server (pid $pid) exited while starting"; return 1; }
		if [ -e "$ready" ] || [ $((i % 5)) = 0 ]; then
			rc=0
			lab_listen_state "$pid" "$@" || rc=$?
			[ "$rc" = 2 ] && return 2
			[ "$rc" = 0 ] && [ -e "$ready" ] && return 0
		fi
		if [ "$LAB_CPU_TICKS" -ge $((cpu * hz)) ]; then
			lab_log "not ready after $((LAB_CPU_TICKS / hz)) s of the server's CPU (budget $cpu s, XMSG_LAB_START_CPU)"
			return 1
		fi
		if [ $((SECONDS - start)) -ge "$wall" ]; then
			lab_log "not ready after $wall s (XMSG_LAB_START_WALL); the server used $((LAB_CPU_TICKS / hz)) s of CPU"
			return 1
		fi
		sleep 0.1
	done
}

# lab_write_env DIR NAME=VALUE...: write DIR/env atomically as `export NAME='VALUE'` lines.
lab_write_env() {
	local dir="$1" kv
	shift
	{
		echo "# written by tests/lab ($(date -u +%Y-%m-%dT%H:%M:%SZ)); source it: . $dir/env"
		for kv in "$@"; do
			printf "export %s='%s'\n" "${kv%%=*}" "${kv#*=}"
		done
		# The server key's pin, as curl's --pinnedpubkey and xmsg's --pin take it.
		if [ -f "$dir/certs/localhost.crt" ]; then
			printf "export XMSG_LAB_PIN='sha256//%s'\n" "$(openssl x509 -in "$dir/certs/localhost.crt" -pubkey -noout |
				openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)"
		fi
	} >"$dir/env.tmp"
	mv -f "$dir/env.tmp" "$dir/env"
}

# lab_write_server_env DIR SERVER MODE C2S_PORT TLS_PORT PID: the env contract (README.md).
lab_write_server_env() {
	local dir="$1"
	lab_write_env "$dir" \
		XMSG_LAB_SERVER="$2" \
		XMSG_LAB_MODE="$3" \
		XMSG_LAB_DOMAIN=localhost \
		XMSG_LAB_HOST=127.0.0.1 \
		XMSG_LAB_PORT="$4" \
		XMSG_LAB_TLS_PORT="$5" \
		XMSG_LAB_CA="$dir/certs/ca.pem" \
		XMSG_LAB_OTHER_CA="$dir/certs/other-ca.pem" \
		XMSG_LAB_PID="$6" \
		XMSG_LAB_DIR="$dir" \
		XMSG_LAB_MUC=conference.localhost
}

# lab_saved_ports DIR: ports of the previous run of DIR (empty if none).
lab_saved_ports() {
	cat "$1/run/ports" 2>/dev/null || true
}

lab_have_ipv6_lo() {
	grep -qi '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null
}

# lab_spawn LOG CMD...: start CMD in the background in its own session (pgid = pid) with
# stdin from /dev/null, stdout/stderr to LOG and every other inherited descriptor closed (our
# lock, a caller's pipes: a server holding those would block the caller). Sets LAB_SPAWNED_PID.
lab_spawn() {
	local log="$1"
	shift
	(
		for fd in /proc/"$BASHPID"/fd/*; do
			fd=${fd##*/}
			[[ "$fd" =~ ^[0-9]+$ ]] && [ "$fd" -gt 2 ] && eval "exec $fd>&-"
		done
		exec setsid "$@" </dev/null >"$log" 2>&1
	) &
	# shellcheck disable=SC2034  # read by the caller
	LAB_SPAWNED_PID=$!
}

# lab_check_start DIR PID CPU ATTEMPT WHAT PORT...: waits for a server just spawned. Returns 0
# when it listens on every PORT and its users are registered; 2 when a port collided and another
# attempt may follow (the server is stopped then); else shows the logs in LAB_LOGS and dies.
lab_check_start() {
	local dir="$1" pid="$2" cpu="$3" attempt="$4" what="$5" rc=0 ready
	shift 5
	lab_wait_ready "$pid" "$cpu" "$dir/run/ready" "$@" || rc=$?
	if [ "$rc" = 0 ]; then
		ready=$(cat "$dir/run/ready")
		if [[ "$ready" == ok* ]]; then return 0; fi
		lab_log "user registration failed: $ready"
		rc=1
	fi
	lab_stop "$dir"
	if [ "$rc" = 2 ] && [ "$attempt" -lt 3 ]; then
		lab_log "port collision, retrying with other ports"
		return 2
	fi
	lab_show_logs "${LAB_LOGS[@]}"
	lab_die "$what did not come up in $dir (see logs above)"
}
