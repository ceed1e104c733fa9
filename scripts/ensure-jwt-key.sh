#!/usr/bin/env bash
# Puts a first JWT signing key into the stack's Secrets Manager secret
# (JwtSecret in deploy/serverless.yml), only when its AWSCURRENT holds no PEM
# private key yet. Secrets Manager cannot generate an RSA or EC key, so the
# stack creates the secret with a random placeholder (and a stack from v1
# holds its HS256 secret there); `make deploy` runs this before
# `serverless deploy` (--if-exists: a new stack has no secret yet) and after.
#
#   scripts/ensure-jwt-key.sh --secret-id gatehouse/dev/jwt-secret --alg RS256 \
#       --region eu-west-1 [--if-exists] [--restart gatehouse-dev-api]
#
# RS256: RSA-2048, ES256: P-256, EdDSA: Ed25519, each PKCS#8 PEM from
# `openssl genpkey`, put as the SecretString itself. The previous value
# becomes AWSPREVIOUS, so tokens it signed keep verifying. HS256: nothing to
# do (the placeholder is a random 64-character HS256 secret).
#
# The key is never printed nor held in a variable: openssl writes it to a
# 0600 temporary file, `aws` reads it from there (file://), and the file is
# removed at once (and on any exit). The check of the current value reads it
# through a pipe into grep. Needs the AWS CLI and credentials allowed
# secretsmanager:GetSecretValue and PutSecretValue on the secret (and
# lambda:UpdateFunctionConfiguration with --restart).
set -euo pipefail

secret_id='' alg='' region='' if_exists=0 restart=''
while (($#)); do
  case "$1" in
    --secret-id) secret_id=${2:?}; shift 2 ;;
    --alg) alg=${2:?}; shift 2 ;;
    --region) region=${2:?}; shift 2 ;;
    --if-exists) if_exists=1; shift ;;
    --restart) restart=${2:?}; shift 2 ;;
    *) echo "ensure-jwt-key: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -n $secret_id && -n $alg ]] || { echo "ensure-jwt-key: --secret-id and --alg are required" >&2; exit 2; }

case "$alg" in
  RS256) genpkey=(-algorithm RSA -pkeyopt rsa_keygen_bits:2048) ;;
  ES256) genpkey=(-algorithm EC -pkeyopt ec_paramgen_curve:P-256) ;;
  EdDSA) genpkey=(-algorithm ED25519) ;;
  HS256) echo "ensure-jwt-key: JWT_ALG=HS256 signs with the secret's generated value; nothing to put"; exit 0 ;;
  *) echo "ensure-jwt-key: --alg must be RS256, ES256, EdDSA or HS256, not $alg" >&2; exit 2 ;;
esac

aws_args=()
[[ -n $region ]] && aws_args+=(--region "$region")

umask 077
errors=$(mktemp)
key_file=''
cleanup() { rm -f "$errors" ${key_file:+"$key_file"}; }
trap cleanup EXIT

# How many BEGIN ... PRIVATE KEY lines AWSCURRENT holds: the PEM itself, or
# {"jwt_secret": "<PEM>"} (its newlines escaped, the line still there).
# Prints the count, then aws's exit status.
set +e
found=$(aws "${aws_args[@]}" secretsmanager get-secret-value --secret-id "$secret_id" \
          --version-stage AWSCURRENT --query SecretString --output text 2>"$errors" |
        grep -c -E -e '-----BEGIN ([A-Z0-9]+ )?PRIVATE KEY-----'
        echo "aws=${PIPESTATUS[0]}")
set -e
pem_lines=${found%%$'\n'*}
if [[ ${found##*aws=} != 0 ]]; then
  if ((if_exists)) && grep -q ResourceNotFoundException "$errors"; then
    echo "ensure-jwt-key: $secret_id does not exist yet (the stack creates it); nothing to do now"
    exit 0
  fi
  echo "ensure-jwt-key: cannot read $secret_id:" >&2
  cat "$errors" >&2
  exit 1
fi
if ((pem_lines > 0)); then
  echo "ensure-jwt-key: $secret_id already holds a PEM private key; left as it is"
  exit 0
fi

key_file=$(mktemp)
openssl genpkey "${genpkey[@]}" -out "$key_file" 2>"$errors" || { cat "$errors" >&2; exit 1; }
set +e
version=$(aws "${aws_args[@]}" secretsmanager put-secret-value --secret-id "$secret_id" \
            --secret-string "file://$key_file" --query VersionId --output text 2>"$errors")
status=$?
set -e
rm -f "$key_file"
key_file=''
if ((status != 0)); then
  echo "ensure-jwt-key: cannot put the new key into $secret_id:" >&2
  cat "$errors" >&2
  exit 1
fi
echo "ensure-jwt-key: put a new $alg key into $secret_id (version $version, now AWSCURRENT;" \
     "the value before it is AWSPREVIOUS and still verifies)"

if [[ -n $restart ]]; then
  # New sandboxes for every request from now on, which read both versions.
  aws "${aws_args[@]}" lambda update-function-configuration --function-name "$restart" \
      --description "Gatehouse user and authentication API (JWT key put $(date -u +%FT%TZ))" \
      --query LastModified --output text >/dev/null
  echo "ensure-jwt-key: $restart restarts with the new key"
fi
