#!/bin/sh
# Installs the Debian packages loco needs, if any are missing.
#   scripts/deps.sh          build and run (compiler, make, OpenBLAS)
#   scripts/deps.sh test     also the PyTorch reference used by the tests
# As root it runs apt-get; otherwise it prints the exact command and fails.
set -e
pkgs="gcc make libc6-dev libopenblas-openmp-dev libpcre2-dev libcjson-dev zlib1g-dev libzmq3-dev libsodium-dev libfreetype-dev libpng-dev fonts-dejavu-core libmicrohttpd-dev libgif-dev libcurl4-openssl-dev"
if [ "$1" = test ] || [ "$1" = bench ]; then
    pkgs="$pkgs python3 python3-numpy python3-torch"
    [ "$1" = test ] && pkgs="$pkgs clang libclang-rt-14-dev libomp-14-dev chromium chromium-driver"
fi
missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "loco needs these Debian packages:$missing" >&2
    echo "install them with: sudo apt-get update && sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
