# shellcheck shell=bash
# Sourced by the CLI's end-to-end scripts: the lab server's env
# (XMSG_LAB_ENV), a temp dir and a state dir of their own (the temp dir is
# kept and named with XMSG_KEEP_TMP=1), background processes killed at exit
# (pids), the checks and their counts, the CLI's server options (srv, with
# -T E2E_T seconds, default 60) and the domain (D); xm and status below.
# The caller sets -u and xmsg (the CLI); after sourcing it may set run (the
# command xm runs, default the CLI alone) and vg_log (xm appends stderr).
# shellcheck disable=SC1090
. "$XMSG_LAB_ENV"
tmp=$(mktemp -d)
[ -z "${XMSG_KEEP_TMP:-}" ] || echo "# tmp: $tmp"
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  [ -n "${XMSG_KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
export XDG_STATE_HOME=$tmp/state
pass=0 failed=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { failed=$((failed + 1)); echo "FAIL - $1"; }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }

# shellcheck disable=SC2034 # used by the caller
srv=(-H "$XMSG_LAB_HOST" -P "$XMSG_LAB_PORT" --ca-file "$XMSG_LAB_CA"
  -T "${E2E_T:-60}")
# shellcheck disable=SC2034
D=$XMSG_LAB_DOMAIN
# shellcheck disable=SC2154 # xmsg: set by the caller
run=("$xmsg")
vg_log=

# xm USER ARGS...: runs the CLI as USER; sets rc, out, err.
# shellcheck disable=SC2034 # rc, out, err: the caller's
xm() {
  local user=$1
  shift
  XMSG_PASSWORD=pw-$user-Zq8 "${run[@]}" "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  out=$(cat "$tmp/out")
  err=$(cat "$tmp/err")
  [ -z "$vg_log" ] || cat "$tmp/err" >>"$vg_log"
}
# status FILTER: jq FILTER of the last line of out (the status).
status() { printf '%s' "$out" | tail -n 1 | jq -r "$1"; }
# e2e_done [WHAT]: the counts; the script's exit status.
e2e_done() {
  echo "# ${1:+$1: }$pass passed, $failed failed"
  [ "$failed" = 0 ]
}
