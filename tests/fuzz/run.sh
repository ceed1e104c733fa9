#!/usr/bin/env bash
# Runs every libFuzzer target in BIN_DIR for SECONDS each, seeded from a
# temporary copy of tests/fuzz/corpus/<target> (so runs never write into the
# repo). Exits non-zero when any target finds a crash, leak, timeout or
# sanitizer report; its reproducer is kept in $ARTIFACTS (printed).
# Usage: run.sh BIN_DIR SECONDS [extra libFuzzer flags...]
set -euo pipefail

bin_dir=$1
seconds=$2
shift 2
corpus_root=$(cd "$(dirname "$0")" && pwd)/corpus
targets=(lambda_event runtime_reply json_body multipart jws cursor image_sniff signed_url sigv4)

work=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-fuzz.XXXXXX")
artifacts=${ARTIFACTS:-$work/artifacts}
mkdir -p "$artifacts"
failed=()
for t in "${targets[@]}"; do
  corpus="$work/corpus-$t"
  mkdir -p "$corpus"
  cp "$corpus_root/$t"/* "$corpus"/
  echo "fuzz: $t for ${seconds}s"
  if ! "$bin_dir/fuzz_$t" "$corpus" -max_total_time="$seconds" -timeout=10 \
      -artifact_prefix="$artifacts/$t-" -print_final_stats=1 "$@" > "$work/$t.log" 2>&1; then
    failed+=("$t")
    tail -60 "$work/$t.log"
  else
    grep -E '^stat::number_of_executed_units|^Done' "$work/$t.log" | tr '\n' ' '; echo
  fi
done

if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}; reproducers in $artifacts, logs in $work" >&2
  exit 1
fi
rm -rf "$work"
echo "fuzz: all ${#targets[@]} targets clean"
