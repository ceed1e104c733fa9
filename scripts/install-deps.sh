#!/usr/bin/env bash
# Installs the Debian packages Gatehouse builds and tests with, and only
# when one is missing: a machine that has them all runs no apt-get at all.
set -euo pipefail

packages=(
  build-essential g++ cmake ninja-build pkg-config ccache
  clang-14 libclang-rt-14-dev
  libboost1.81-dev
  libssl-dev
  libcrypt-dev
  libsqlite3-dev sqlite3  # the sqlite3 shell: doctor tests plant damage with it, the chaos checker reads the store
  libcli11-dev
  libutf8proc-dev  # names: NFC and Unicode categories (static archive for the Lambda build)
  libgtest-dev libgmock-dev googletest
  libbenchmark-dev
  wrk gnuplot-nox
  chromium  # headless, for the web page's end-to-end test (tests/web)
  curl ca-certificates openssl zip unzip
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js runs the test peers (dynalite, s3rver, the SigV4 cross-checks);
# a machine may have its own build on PATH rather than Debian's.
command -v node > /dev/null || missing+=(nodejs)
command -v npm > /dev/null || missing+=(npm)

[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
