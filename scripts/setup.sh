#!/usr/bin/env bash
# Installs every system dependency pocketmind needs on Debian 12 (run as root; safe to re-run).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev libpcre2-dev libicu-dev libsqlite3-dev
  clang libclang-rt-dev
  # local HTTP API (pocketmind serve): cpp-httplib; OpenSSL's libcrypto for token hashes
  libcpp-httplib-dev libssl-dev
  # ARM (phones): cross compiler, qemu-user to run the tests, target libraries
  g++-aarch64-linux-gnu qemu-user googletest libpcre2-dev:arm64 libicu-dev:arm64 libsqlite3-dev:arm64
  libssl-dev:arm64  # the store's encryption at rest (libcrypto.a)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  $SUDO dpkg --add-architecture arm64
  missing+=(libpcre2-dev:arm64)
fi

if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "setup: all dependencies present"
