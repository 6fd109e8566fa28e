#!/bin/sh
# Downloads shards of allenai/c4 (English) from the Hugging Face Hub, for
# machines with internet access:
#   scripts/fetch_c4.sh OUTDIR [TRAIN_SHARDS] [VALIDATION_SHARDS]
# e.g. scripts/fetch_c4.sh data/c4 2 1 fetches c4-train.00000-of-01024.json.gz,
# c4-train.00001-of-01024.json.gz and c4-validation.00000-of-00008.json.gz
# (about 320 MB and 40 MB each).  The files are gzip-compressed JSON Lines
# with fields text, timestamp and url; loco reads them as they are:
#   loco data prepare --input data/c4/c4-train.00000-of-01024.json.gz ...
# A partly downloaded file is kept as FILE.part and resumed on the next run.
set -e
out=${1:?usage: scripts/fetch_c4.sh OUTDIR [TRAIN_SHARDS] [VALIDATION_SHARDS]}
n_train=${2:-1}
n_val=${3:-1}
for v in "$n_train" "$n_val"; do
    case $v in ''|*[!0-9]*) echo "fetch_c4: shard counts must be non-negative integers (got '$v')" >&2; exit 2 ;; esac
done
base=${LOCO_C4_URL:-https://huggingface.co/datasets/allenai/c4/resolve/main/en}
command -v curl >/dev/null || { echo "fetch_c4: needs curl (apt-get install curl)" >&2; exit 1; }
mkdir -p "$out"
fetch() {
    name=$1
    if [ -s "$out/$name" ]; then echo "fetch_c4: $out/$name already there"; return; fi
    echo "fetch_c4: $base/$name"
    curl --fail --location --retry 3 --continue-at - -o "$out/$name.part" "$base/$name"
    # Reject an HTML error page or a truncated file before it takes the real name.
    gzip -t "$out/$name.part" || { echo "fetch_c4: $name is not a complete gzip file" >&2; exit 1; }
    mv "$out/$name.part" "$out/$name"
}
i=0
while [ "$i" -lt "$n_train" ]; do fetch "$(printf 'c4-train.%05d-of-01024.json.gz' "$i")"; i=$((i + 1)); done
i=0
while [ "$i" -lt "$n_val" ]; do fetch "$(printf 'c4-validation.%05d-of-00008.json.gz' "$i")"; i=$((i + 1)); done
