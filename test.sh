#!/bin/sh
# Runs every test: installs what is missing (PyTorch included, for the
# reference tests), builds, and runs `make test`.
set -e
cd "$(dirname "$0")"
sh scripts/deps.sh test
exec make -s -j"$(nproc)" test
