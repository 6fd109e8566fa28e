#!/bin/sh
# Fetches MiniWoB++ (Farama-Foundation/miniwob-plusplus) at a pinned commit
# into DIR, for the browser backend (docs/browser.md):
#   scripts/fetch_miniwob.sh DIR
#   loco env run --backend browser --miniwob-dir DIR --task click-test
# Needs git and internet access to github.com.  MiniWoB++ is MIT-licensed;
# it is used from DIR and never copied into this repository.
set -e
dir=${1:?usage: scripts/fetch_miniwob.sh DIR}
commit=3f461ffcca7cecd2e84f603c6908ea16a0dfbc0c   # main of 2026-04-06 (package version 1.0.1)
url=${MINIWOB_URL:-https://github.com/Farama-Foundation/miniwob-plusplus.git}   # MINIWOB_URL: a mirror
command -v git >/dev/null 2>&1 || { echo "fetch_miniwob: needs git (apt-get install git)" >&2; exit 1; }
if [ -e "$dir" ] && [ ! -d "$dir/.git" ]; then
    echo "fetch_miniwob: $dir exists and is not a git checkout; not touched" >&2
    exit 1
fi
[ -d "$dir/.git" ] || git clone --quiet --no-checkout "$url" "$dir"
git -C "$dir" fetch --quiet origin "$commit" 2>/dev/null || git -C "$dir" fetch --quiet origin
git -C "$dir" -c advice.detachedHead=false checkout --quiet "$commit"
[ -f "$dir/miniwob/html/core/core.js" ] || { echo "fetch_miniwob: unexpected layout (no miniwob/html/core/core.js)" >&2; exit 1; }
echo "MiniWoB++ $commit in $dir ($(ls "$dir/miniwob/html/miniwob" | grep -c '\.html$') task pages)"
