#!/bin/sh
# Installs node-llama-cpp, the npm package that ships prebuilt llama.cpp
# libraries, for the GGUF round trip (tests/test_export_llama.c), once, into
# a cache directory; prints that directory.  Exit status 3, with the reason
# on stderr, when it cannot be had here (no node or npm, Node older than 20,
# or the registry refuses); the test then skips.
#   tests/llama_setup.sh            (LOCO_NODE_LLAMA_DIR overrides the directory)
VERSION=3.22.1
dir=${LOCO_NODE_LLAMA_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/loco/node-llama-cpp-$VERSION}
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "node and npm are not installed (apt-get install nodejs npm)" >&2
    exit 3
fi
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)
if [ "${major:-0}" -lt 20 ]; then
    echo "node-llama-cpp $VERSION needs Node 20 or later; this is $(node --version)" >&2
    exit 3
fi
case $(uname -m) in
    x86_64) prebuilt=linux-x64 ;;
    aarch64) prebuilt=linux-arm64 ;;
    *) echo "node-llama-cpp has no prebuilt CPU build for $(uname -m)" >&2; exit 3 ;;
esac
if [ ! -f "$dir/node_modules/node-llama-cpp/package.json" ] ||
   [ ! -f "$dir/node_modules/@node-llama-cpp/$prebuilt/package.json" ]; then
    mkdir -p "$dir" || exit 3
    # The prebuilt binaries come as the package's optional dependencies, one
    # per platform and GPU API (the CUDA ones alone are 540 MB); only the
    # plain CPU build for this machine is installed.  --ignore-scripts skips
    # its postinstall, which would try to build or download llama.cpp.
    if ! NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --prefix "$dir" --no-audit --no-fund --ignore-scripts \
            --omit=optional "node-llama-cpp@$VERSION" "@node-llama-cpp/$prebuilt@$VERSION" \
            >"$dir/install.log" 2>&1; then
        echo "npm install node-llama-cpp@$VERSION failed: $(tail -n 1 "$dir/install.log")" >&2
        rm -rf "$dir/node_modules"
        exit 3
    fi
fi
echo "$dir"
