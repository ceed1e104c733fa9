// An emulation of API Gateway HTTP API's JWT authorizer, from its documented
// rules ("Control access to HTTP APIs with JWT authorizers in API Gateway",
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html,
// "Authorizing API requests with a JWT authorizer"), on node:crypto alone: it
// shares no code with Gatehouse nor with jose. The documented workflow:
//
//   1. The identitySource (here the Authorization header's value) holds the
//      token alone or prefixed with "Bearer".
//   2. Decode the token.
//   3. Check its algorithm and signature with the public key fetched from the
//      issuer's jwks_uri. Only RSA-based algorithms are supported. (API
//      Gateway may cache the keys for up to two hours; this emulation fetches
//      them once, when it is created.)
//   4. Validate the claims:
//      kid        the header's kid must match the key in jwks_uri that signed the token
//      iss        must match the issuer configured for the authorizer
//      aud or client_id   must match one of the audience entries configured;
//                 client_id is checked only when aud is absent
//      exp        must be after the current time in UTC
//      nbf        must be before the current time in UTC
//      iat        must be before the current time in UTC
//      scope or scp   must include at least one of the route's
//                 authorizationScopes (when the route has any)
//   Any failed step denies the request (401); otherwise the claims go on to
//   the integration.
//
// The page states no clock skew, so none is allowed. "Before the current
// time" is read on whole seconds as "not after it" (a token issued this
// second is valid this second), "after" strictly (exp == now is expired).
// The jwks_uri comes from the issuer's OpenID Connect discovery document
// (`{issuer}/.well-known/openid-configuration`), as for any OIDC issuer.
// Real API Gateway fetches only https:// URLs; this one, on loopback, takes
// http:// too.
import crypto from 'node:crypto';

// RS256/384/512: RSASSA-PKCS1-v1_5, the RSA algorithms of RFC 7518 3.1.
const rsaAlgorithms = { RS256: 'sha256', RS384: 'sha384', RS512: 'sha512' };

function decodeSegment(segment) {
  if (!/^[A-Za-z0-9_-]*$/.test(segment)) throw new Error('not base64url');
  return Buffer.from(segment, 'base64url');
}

function deny(reason) {
  return { authorized: false, reason };
}

// createJwtAuthorizer({ issuer, audience: [..] }) fetches the issuer's
// discovery document and JWKS, and resolves with
//   authorize(identitySource, { now, authorizationScopes })
// which returns { authorized: true, claims } or { authorized: false, reason }.
// `now` (seconds since the epoch) defaults to the clock.
export async function createJwtAuthorizer({ issuer, audience }) {
  if (!issuer || !Array.isArray(audience) || audience.length === 0)
    throw new TypeError('an authorizer needs an issuer and at least one audience');
  const discoveryRes = await fetch(`${issuer}/.well-known/openid-configuration`);
  if (discoveryRes.status !== 200) throw new Error(`discovery answered ${discoveryRes.status}`);
  const discovery = await discoveryRes.json();
  if (typeof discovery.jwks_uri !== 'string') throw new Error('discovery has no jwks_uri');
  const jwksRes = await fetch(discovery.jwks_uri);
  if (jwksRes.status !== 200) throw new Error(`jwks_uri answered ${jwksRes.status}`);
  const jwks = await jwksRes.json();
  const keys = Array.isArray(jwks.keys) ? jwks.keys : [];

  function authorize(identitySource, { now = Math.floor(Date.now() / 1000), authorizationScopes = [] } = {}) {
    // 1. The token, alone or after "Bearer ".
    if (typeof identitySource !== 'string' || identitySource === '') return deny('no token in the identity source');
    const token = identitySource.startsWith('Bearer ') ? identitySource.slice(7) : identitySource;

    // 2. Decode.
    const parts = token.split('.');
    if (parts.length !== 3) return deny('not a JWS compact serialization');
    let header;
    let claims;
    let signature;
    try {
      header = JSON.parse(decodeSegment(parts[0]).toString('utf8'));
      claims = JSON.parse(decodeSegment(parts[1]).toString('utf8'));
      signature = decodeSegment(parts[2]);
    } catch (e) {
      return deny(`undecodable token (${e.message})`);
    }
    if (header === null || typeof header !== 'object' || claims === null || typeof claims !== 'object' || Array.isArray(claims))
      return deny('header or claims are not JSON objects');

    // 3. Algorithm (RSA only) and signature, with the jwks_uri key of the token's kid.
    const hash = Object.hasOwn(rsaAlgorithms, header.alg) ? rsaAlgorithms[header.alg] : undefined;
    if (!hash) return deny(`algorithm ${JSON.stringify(header.alg)} is not RSA-based`);
    if (typeof header.kid !== 'string') return deny('no kid in the header');
    const jwk = keys.find((k) => k.kid === header.kid);
    if (!jwk) return deny(`kid ${header.kid} matches no key of jwks_uri`);
    if (jwk.kty !== 'RSA') return deny(`the key of kid ${header.kid} is not an RSA key`);
    let publicKey;
    try {
      publicKey = crypto.createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: 'jwk' });
    } catch (e) {
      return deny(`unusable key (${e.message})`);
    }
    const signingInput = Buffer.from(`${parts[0]}.${parts[1]}`, 'ascii');
    if (!crypto.verify(hash, signingInput, publicKey, signature)) return deny('bad signature');

    // 4. Claims.
    if (claims.iss !== issuer) return deny(`iss ${JSON.stringify(claims.iss)} is not the configured issuer`);
    const audiences = claims.aud !== undefined
      ? (Array.isArray(claims.aud) ? claims.aud : [claims.aud])
      : claims.client_id !== undefined ? [claims.client_id] : [];
    if (!audiences.some((a) => typeof a === 'string' && audience.includes(a)))
      return deny(`${claims.aud !== undefined ? 'aud' : 'client_id'} matches no configured audience`);
    if (typeof claims.exp !== 'number') return deny('no exp');
    if (!(claims.exp > now)) return deny('exp is not after the current time');
    if (claims.nbf !== undefined && !(typeof claims.nbf === 'number' && claims.nbf <= now))
      return deny('nbf is not before the current time');
    if (claims.iat !== undefined && !(typeof claims.iat === 'number' && claims.iat <= now))
      return deny('iat is not before the current time');
    if (authorizationScopes.length > 0) {
      const granted = typeof claims.scope === 'string' ? claims.scope.split(' ')
        : Array.isArray(claims.scp) ? claims.scp : typeof claims.scp === 'string' ? claims.scp.split(' ') : [];
      if (!authorizationScopes.some((s) => granted.includes(s))) return deny('no scope of the route');
    }
    return { authorized: true, claims };
  }

  return { discovery, jwks, authorize };
}
