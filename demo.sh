#!/bin/sh
# The main job: installs what is missing, builds loco, and trains the demo
# model.  Extra arguments go to `loco train` (try --help).
set -e
cd "$(dirname "$0")"
sh scripts/deps.sh
make -s -j"$(nproc)" loco
exec ./loco train "$@"
