#!/usr/bin/env bash
# Runs scripts/check-lambda-binary.sh the ways ctest needs it:
#   check_binary_test.sh artifact <zip>            the zip holds exactly one
#       entry, `bootstrap`, a regular file of mode 0755, and it passes the check
#   check_binary_test.sh expect-pass <binary>      the check accepts it
#   check_binary_test.sh expect-fail <binary> <ERE>
#       the check rejects it (exit 1) with a message matching <ERE>
set -euo pipefail
check="$(cd "$(dirname "$0")/../.." && pwd)/scripts/check-lambda-binary.sh"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

case "${1:-}" in
  artifact)
    zip=${2:?zip path}
    [ -f "$zip" ] || fail "$zip is missing: run \`make package\` (\`make test\` does)"
    command -v unzip > /dev/null || fail "unzip not found (scripts/install-deps.sh installs it)"
    # zipinfo: "-rwxr-xr-x  3.0 unx  8826960 b- defX 00-Jan-01 00:00 bootstrap"
    listing=$(unzip -Z "$zip" | grep -E '^[-dlrwxsStT]{10} ' || true)
    count=$(printf '%s\n' "$listing" | grep -c . || true)
    [ "$count" -eq 1 ] || fail "$zip holds $count entries, expected exactly one (bootstrap):"$'\n'"$listing"
    read -r mode _ _ _ _ _ _ _ name <<< "$listing"
    [ "$name" = bootstrap ] || fail "the entry is '$name', expected 'bootstrap' at the top level"
    [ "$mode" = "-rwxr-xr-x" ] || fail "bootstrap has mode $mode, expected -rwxr-xr-x (0755)"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    unzip -q "$zip" bootstrap -d "$tmp"
    bash "$check" "$tmp/bootstrap"
    echo "ok: $zip holds only bootstrap (0755), $(stat -c %s "$zip") bytes"
    ;;
  expect-pass)
    bash "$check" "${2:?binary}"
    ;;
  expect-fail)
    binary=${2:?binary}
    pattern=${3:?pattern}
    set +e
    output=$(bash "$check" "$binary" 2>&1)
    code=$?
    set -e
    printf '%s\n' "$output"
    [ $code -eq 1 ] || fail "the check exited $code on $binary, expected 1 (rejected)"
    grep -Eq -- "$pattern" <<< "$output" || fail "the check's output does not match /$pattern/"
    echo "ok: rejected, as expected, with /$pattern/"
    ;;
  *)
    echo "usage: check_binary_test.sh artifact <zip> | expect-pass <binary> | expect-fail <binary> <ERE>" >&2
    exit 2
    ;;
esac
