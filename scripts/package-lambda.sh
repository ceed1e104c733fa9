#!/usr/bin/env bash
# package-lambda.sh [binary] [zip]: checks the static gatehouse build and
# writes the Lambda artifact, a zip holding exactly one file: `bootstrap`
# (mode 0755), which provided.al2023 runs as the function's process.
# `make package` builds the binary (preset `lambda`) and calls this.
set -euo pipefail
cd "$(dirname "$0")/.."

binary=${1:-build/lambda-package/bin/gatehouse}
zip_path=${2:-dist/gatehouse-lambda.zip}

[ -x "$binary" ] || { echo "package-lambda: $binary not found; run \`make package\`" >&2; exit 1; }
command -v zip > /dev/null || { echo "package-lambda: zip not found (scripts/install-deps.sh installs it)" >&2; exit 1; }

# The rules the binary must meet to load on Amazon Linux 2023.
bash scripts/check-lambda-binary.sh "$binary"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
install -m 0755 "$binary" "$stage/bootstrap"
# A fixed timestamp: the same binary gives the same zip, byte for byte, so
# a redeploy of an unchanged build changes nothing (zip cannot go before 1980).
touch -d '2000-01-01T00:00:00Z' "$stage/bootstrap"

mkdir -p "$(dirname "$zip_path")"
rm -f "$zip_path"
# -X: no uid/gid or extra timestamps; -j: no directory names; -9: smallest.
(umask 022 && TZ=UTC zip -X -j -9 -q "$zip_path" "$stage/bootstrap")

size=$(stat -c %s "$zip_path")
binary_size=$(stat -c %s "$binary")
echo "package-lambda: $zip_path: $size bytes ($((size / 1024)) KiB; bootstrap $((binary_size / 1024)) KiB unpacked)"
