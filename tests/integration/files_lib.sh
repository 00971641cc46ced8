# shellcheck shell=bash
# Sourced by the file tests (upload_e2e.sh, download_e2e.sh): the lab
# server's env (XMSG_LAB_ENV, with its upload service), a temp dir and a
# state dir of their own, background processes killed at exit (pids), the
# checks and their counts, the CLI's server options (srv) and the domain
# (D); xm and status below. The caller sets -u and xmsg (the CLI).
# shellcheck disable=SC1090
. "$XMSG_LAB_ENV"
tmp=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
export XDG_STATE_HOME=$tmp/state
pass=0 failed=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { failed=$((failed + 1)); echo "FAIL - $1"; }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }

if [ -z "${XMSG_LAB_UPLOAD:-}" ]; then
  echo "FAIL - the lab server has no upload service (XMSG_LAB_UPLOAD)"
  exit 1
fi
# shellcheck disable=SC2034 # used by the caller
srv=(-H "$XMSG_LAB_HOST" -P "$XMSG_LAB_PORT" --ca-file "$XMSG_LAB_CA" -T 60)
# shellcheck disable=SC2034
D=$XMSG_LAB_DOMAIN

# xm USER ARGS...: runs the CLI as USER; sets rc, out, err.
# shellcheck disable=SC2034,SC2154 # rc, out, err: the caller's; xmsg: set by it
xm() {
  local user=$1
  shift
  XMSG_PASSWORD=pw-$user-Zq8 "$xmsg" "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  out=$(cat "$tmp/out")
  err=$(cat "$tmp/err")
}
# status FILTER: jq FILTER of the last line of out (the status).
status() { printf '%s' "$out" | tail -n 1 | jq -r "$1"; }
