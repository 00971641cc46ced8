#!/usr/bin/env bash
# Installs what xmsg needs to build, test and run its demo on Debian
# (bookworm): compiler, libraries, the throw-away servers and test tools.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libjansson-dev libcmocka-dev
  libssl-dev libexpat1-dev libc-ares-dev libcurl4-openssl-dev
  dnsmasq-base bind9-dnsutils
  prosody ejabberd openssl iproute2 procps util-linux
  valgrind jq python3 python3-slixmpp clang-format clang libclang-rt-14-dev
  debhelper dpkg-dev fakeroot lintian groff-base man-db bash-completion
  zsh fish
  libomemo-c-dev python3-omemo python3-oldmemo python3-xmlschema
)

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"
