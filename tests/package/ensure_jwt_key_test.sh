#!/usr/bin/env bash
# scripts/ensure-jwt-key.sh against a stand-in `aws` (first on PATH) that
# keeps one secret's AWSCURRENT and AWSPREVIOUS in files and logs every call:
# a key of the right type is put only when AWSCURRENT holds no PEM, the
# temporary key file was 0600 and is gone, and no output shows the key.
#   ensure_jwt_key_test.sh <scripts/ensure-jwt-key.sh>
set -uo pipefail
script=${1:?usage: ensure_jwt_key_test.sh <ensure-jwt-key.sh>}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin"
failures=0 passes=0

cat >"$work/bin/aws" <<'STUB'
#!/usr/bin/env bash
# The stand-in: secretsmanager get-secret-value / put-secret-value, lambda
# update-function-configuration. $STUB/current missing: no such secret.
set -euo pipefail
echo "$*" >>"$STUB/calls"
if [[ -e $STUB/deny ]]; then
  echo "An error occurred (AccessDeniedException) when calling the operation: not allowed" >&2; exit 254
fi
# The region may come first (a global option); it must be the one asked for.
args=()
while (($#)); do
  if [[ $1 == --region ]]; then
    [[ $2 == "$EXPECTED_REGION" ]] || { echo "wrong region $2" >&2; exit 255; }
    shift 2
  else
    args+=("$1"); shift
  fi
done
set -- "${args[@]}"
op="$1 $2"; shift 2
value_of() { local want=$1; shift; while (($#)); do [[ $1 == "$want" ]] && { echo "$2"; return; }; shift; done; }
case "$op" in
  "secretsmanager get-secret-value")
    [[ $(value_of --secret-id "$@") == "$EXPECTED_ID" ]] || { echo "wrong secret id" >&2; exit 255; }
    [[ -e $STUB/current ]] || {
      echo "An error occurred (ResourceNotFoundException) when calling the GetSecretValue operation: Secrets Manager can't find the specified secret." >&2
      exit 254; }
    cat "$STUB/current"; echo ;;
  "secretsmanager put-secret-value")
    [[ -e $STUB/current ]] || { echo "ResourceNotFoundException" >&2; exit 254; }
    source=$(value_of --secret-string "$@")
    path=${source#file://}
    [[ $source == file://* && -f $path ]] || { echo "expected file://<path>, got something else" >&2; exit 255; }
    echo "$path $(stat -c %a "$path")" >>"$STUB/put-files"
    mv "$STUB/current" "$STUB/previous"
    cp "$path" "$STUB/current"
    echo "v-$(wc -l <"$STUB/put-files")" ;;
  "lambda update-function-configuration")
    echo "$(value_of --function-name "$@")" >>"$STUB/restarted"; echo "2024-01-01T00:00:00Z" ;;
  *) echo "unexpected aws call: $op" >&2; exit 255 ;;
esac
STUB
chmod +x "$work/bin/aws"
export PATH="$work/bin:$PATH" EXPECTED_ID=gatehouse/dev/jwt-secret EXPECTED_REGION=eu-west-1

check() {  # check <description> <command...>
  local what=$1; shift
  if "$@"; then
    passes=$((passes + 1))
  else
    echo "FAIL: $what"
    sed 's/^/  | /' "$STUB/out" 2>/dev/null
    failures=$((failures + 1))
  fi
}

# A fresh stub: $1 the current value ('' for no secret).
fresh() {
  export STUB="$work/stub-$RANDOM$RANDOM"
  mkdir -p "$STUB"
  [[ -n $1 ]] && printf '%s' "$1" >"$STUB/current"
  touch "$STUB/calls"
}
run() { bash "$script" --secret-id gatehouse/dev/jwt-secret --region eu-west-1 "$@" >"$STUB/out" 2>&1; }
puts() { [[ -e $STUB/put-files ]] && wc -l <"$STUB/put-files" || echo 0; }
key_text() { openssl pkey -in "$STUB/current" -noout -text 2>/dev/null; }
no_key_in_output() {
  # Neither the PEM armour nor any base64 line of the key appears.
  ! grep -q 'PRIVATE KEY' "$STUB/out" &&
    ! grep -F -x -f <(grep -v -- '-----' "$STUB/current") "$STUB/out" >/dev/null
}
temp_file_was_private_and_is_gone() {
  local path='' mode=''
  [[ -e $STUB/put-files ]] && read -r path mode <"$STUB/put-files"
  [[ $mode == 600 && ! -e $path ]]
}

placeholder='Xq3vL9ZkT2bR7wYp1sN8mC4hF6jD0gA5eU3iO9kL2zX7cV1bN4mQ8wE6rT0yU3iP'

# A new stack's placeholder: an RSA-2048 key is put, the placeholder kept as AWSPREVIOUS.
fresh "{\"jwt_secret\":\"$placeholder\"}"
check "RS256 on a placeholder exits 0" run --alg RS256 --restart gatehouse-dev-api
check "RS256 puts one key" test "$(puts)" = 1
check "the key is RSA-2048" grep -q 'Private-Key: (2048 bit' <(key_text)
check "the key is PKCS#8" grep -q -- '-----BEGIN PRIVATE KEY-----' "$STUB/current"
check "the placeholder is AWSPREVIOUS" grep -q "$placeholder" "$STUB/previous"
check "the temporary key file was 0600 and is removed" temp_file_was_private_and_is_gone
check "no key material in the output" no_key_in_output
check "--restart restarts that function" test "$(cat "$STUB/restarted" 2>/dev/null)" = gatehouse-dev-api

# Run again (the post-deploy step after the pre-deploy one): nothing changes.
cp "$STUB/current" "$work/first-key"
check "a second run exits 0" run --alg RS256 --restart gatehouse-dev-api
check "a second run puts nothing" test "$(puts)" = 1
check "a second run keeps the key" cmp -s "$STUB/current" "$work/first-key"
check "a second run restarts nothing" test "$(wc -l <"$STUB/restarted")" = 1
check "a second run says why" grep -q 'already holds a PEM private key' "$STUB/out"

# A PEM inside {"jwt_secret": "..."}, newlines escaped: left alone.
pem=$(openssl genpkey -algorithm ED25519)  # made here: no key in the repository
fresh "{\"jwt_secret\":\"${pem//$'\n'/\\n}\\n\"}"
check "a JSON-wrapped PEM exits 0" run --alg RS256
check "a JSON-wrapped PEM is left alone" test "$(puts)" = 0

# A stack from v1: its HS256 secret becomes AWSPREVIOUS (v1 tokens keep verifying).
fresh "{\"jwt_secret\":\"$placeholder\"}"
check "ES256 exits 0" run --alg ES256
check "ES256 puts a P-256 key" grep -q 'prime256v1\|P-256' <(key_text)
check "the v1 secret is AWSPREVIOUS" grep -q "$placeholder" "$STUB/previous"
check "no restart unless asked" test ! -e "$STUB/restarted"
fresh "$placeholder"
check "EdDSA exits 0" run --alg EdDSA
check "EdDSA puts an Ed25519 key" grep -q 'ED25519' <(key_text)
check "no key material in the output (EdDSA)" no_key_in_output

# HS256: the generated value is the key; no call at all.
fresh "$placeholder"
check "HS256 exits 0" run --alg HS256
check "HS256 calls nothing" test ! -s "$STUB/calls"

# No secret yet (before a new stack's first deploy).
fresh ''
check "--if-exists without a secret exits 0" run --alg RS256 --if-exists
check "--if-exists without a secret puts nothing" test "$(puts)" = 0
check "without --if-exists a missing secret fails" bash -c '! bash "$0" --secret-id gatehouse/dev/jwt-secret --alg RS256 >/dev/null 2>&1' "$script"

# Any other error: fail, put nothing.
fresh "$placeholder"
touch "$STUB/deny"
check "AccessDenied fails" bash -c '! bash "$0" --secret-id gatehouse/dev/jwt-secret --alg RS256 --if-exists >"$STUB/out" 2>&1' "$script"
check "AccessDenied is reported" grep -q AccessDeniedException "$STUB/out"
check "AccessDenied puts nothing" test "$(puts)" = 0

# Bad arguments.
fresh "$placeholder"
check "an unknown algorithm is refused" bash -c '! bash "$0" --secret-id x --alg RS512 >/dev/null 2>&1' "$script"
check "an unknown algorithm calls nothing" test ! -s "$STUB/calls"

echo "$passes passed, $failures failed"
((failures == 0))
