#!/bin/sh
# Checks that README.md says what is true:
#   scripts/check_readme.sh --links      every relative link of README.md and docs/ names a
#                                        file that exists, and every #anchor a heading of it
#   scripts/check_readme.sh --examples   every ```sh block of README.md's "## Examples"
#                                        section, in order, in one shell that stops at the
#                                        first failure (minutes; writes out/ex/)
#   scripts/check_readme.sh              both
set -e
cd "$(dirname "$0")/.."
links=1 examples=1
case ${1:-} in
--links) examples=0 ;;
--examples) links=0 ;;
"") ;;
*) echo "usage: scripts/check_readme.sh [--links|--examples]" >&2; exit 2 ;;
esac

# Links, in README.md and docs/: every [text](target) outside code whose
# target is not a URL names a file that exists, relative to the linking file,
# and its #anchor a heading there.  A heading's anchor is GitHub's: its text in
# lower case, without punctuation other than '-' and '_', spaces turned into '-'.
[ "$links" = 0 ] || python3 - <<'EOF'
import glob, os, re, sys
def anchors(path):
    out, fence = set(), False
    for line in open(path, encoding="utf-8"):
        if line.startswith("```"):
            fence = not fence
        m = None if fence else re.match(r"#+\s+(.*)", line)
        if m:
            text = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower())
            out.add(text.replace(" ", "-"))
    return out
files = ["README.md"] + sorted(glob.glob("docs/**/*.md", recursive=True))
bad = n = 0
for f in files:
    fence = False
    for no, line in enumerate(open(f, encoding="utf-8"), 1):
        if line.startswith("```"):
            fence = not fence
        if fence:
            continue
        for target in re.findall(r"\]\(([^)\s]+)\)", re.sub(r"`[^`]*`", "", line)):
            if re.match(r"[a-z]+:", target):
                continue
            n += 1
            path, _, anchor = target.partition("#")
            path = os.path.normpath(os.path.join(os.path.dirname(f), path)) if path else f
            if not os.path.exists(path):
                print(f"{f}:{no}: {target}: no such file", file=sys.stderr); bad += 1
            elif anchor and (os.path.isdir(path) or anchor not in anchors(path)):
                print(f"{f}:{no}: {target}: no such heading", file=sys.stderr); bad += 1
print(f"check_readme: {n} links in {len(files)} files, {bad} broken")
sys.exit(1 if bad else 0)
EOF
[ "$examples" = 1 ] || exit 0

# Examples: the sh blocks between "## Examples" and the next "## " heading.
# sh -e does not stop when a command before '&&' fails (`cmp A B && echo
# same` would pass when A and B differ), so each 'A && B' runs as
# 'A || exit 1; B'.
make -s -j"$(nproc)" loco
script=$(mktemp)
trap 'rm -f "$script"' EXIT
awk '/^## /{ ex = ($0 == "## Examples") }
     ex && /^```sh$/ { code = 1; print "echo \"== README.md:" NR "\""; next }
     ex && /^```$/   { code = 0; next }
     code { gsub(/ && /, " || exit 1; "); print }' README.md > "$script"
sh -ex "$script"
echo "check_readme: every example ran"
