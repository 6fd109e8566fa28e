#!/bin/sh
# Runs the whole test suite from the repository root; the last line is
# "N passed, N failed, N skipped" and the exit status is non-zero on any failure.
cd "$(dirname "$0")/.." || exit 1
exec "${BUILD:-build}/test_loco" "$@"
