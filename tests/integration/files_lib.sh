# shellcheck shell=bash
# Sourced by the file tests (upload_e2e.sh, download_e2e.sh,
# omemo_files_e2e.sh): e2e_lib.sh, with a lab server that has an upload
# service (XMSG_LAB_UPLOAD). The caller sets -u and xmsg (the CLI).
# shellcheck source=tests/integration/e2e_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/e2e_lib.sh"
if [ -z "${XMSG_LAB_UPLOAD:-}" ]; then
  echo "FAIL - the lab server has no upload service (XMSG_LAB_UPLOAD)"
  exit 1
fi
