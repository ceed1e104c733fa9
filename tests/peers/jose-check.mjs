// An independent check of Gatehouse's JWS library (src/jose) with the `jose`
// package (panva). It reads one JSON request on stdin and writes one JSON
// answer on stdout; it opens no socket. tests/unit/jose/jose_crosscheck_test.cpp
// runs it.
//
// Request:
//   {"verify": [{"token", "alg", "jwks"?: {"keys": [...]}, "secret"?: base64url,
//                "jwt"?: true}],
//    "sign": [{"alg", "payload": {...}, "secret"?: base64url}],
//    "thumbprint": [jwk, ...]}
// Answer:
//   {"verify": [{"ok": true, "payload": "...", "kid"?} | {"ok": false, "code", "message"}],
//    "sign": [{"token", "spki"?: PEM, "kid"?}],
//    "thumbprint": ["...", ...]}
//
// verify: with `jwks`, the key is chosen by jose's createLocalJWKSet; with
// `secret`, it is that HMAC secret. Only `alg` is allowed. With `jwt`,
// jwtVerify (claims checked as jose does by default: exp, nbf, iat types);
// otherwise compactVerify (any payload). sign: a fresh key per request (or the
// given secret for HS256), header {alg, kid (RFC 7638 thumbprint), typ
// "at+jwt"}; the public key comes back as SPKI PEM for Gatehouse to verify with.
import {
  calculateJwkThumbprint, compactVerify, createLocalJWKSet, exportJWK, exportSPKI,
  generateKeyPair, jwtVerify, SignJWT,
} from 'jose';

const read = async () => {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
};

const secretOf = (b64) => new Uint8Array(Buffer.from(b64, 'base64url'));

async function verifyOne({ token, alg, jwks, secret, jwt }) {
  try {
    const key = jwks ? createLocalJWKSet(jwks) : secretOf(secret);
    const options = { algorithms: [alg] };
    const result = jwt ? await jwtVerify(token, key, options) : await compactVerify(token, key, options);
    const payload = jwt ? JSON.stringify(result.payload) : Buffer.from(result.payload).toString('utf8');
    return { ok: true, payload, kid: result.protectedHeader.kid ?? null };
  } catch (e) {
    return { ok: false, code: e.code ?? e.name, message: String(e.message) };
  }
}

async function signOne({ alg, payload, secret }) {
  if (alg === 'HS256') {
    const token = await new SignJWT(payload).setProtectedHeader({ alg, typ: 'at+jwt' }).sign(secretOf(secret));
    return { token };
  }
  const options = alg === 'EdDSA' ? { crv: 'Ed25519', extractable: true } : { extractable: true };
  const { publicKey, privateKey } = await generateKeyPair(alg, options);
  const kid = await calculateJwkThumbprint(await exportJWK(publicKey));
  const token = await new SignJWT(payload).setProtectedHeader({ alg, kid, typ: 'at+jwt' }).sign(privateKey);
  return { token, kid, spki: await exportSPKI(publicKey) };
}

const request = await read();
const answer = { verify: [], sign: [], thumbprint: [] };
for (const item of request.verify ?? []) answer.verify.push(await verifyOne(item));
for (const item of request.sign ?? []) answer.sign.push(await signOne(item));
for (const jwk of request.thumbprint ?? []) answer.thumbprint.push(await calculateJwkThumbprint(jwk));
process.stdout.write(JSON.stringify(answer));
