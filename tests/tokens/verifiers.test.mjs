// Gatehouse's access tokens checked by verifiers that nobody here wrote,
// against real gatehouse servers on loopback (issue 14, "Tests (real,
// independent verifiers)"):
//   - jose (tests/peers), knowing only the discovery URL: each asymmetric
//     JWT_ALG (RS256, ES256, EdDSA) through openid-configuration, jwks_uri and
//     createRemoteJWKSet; HS256 with the shared secret;
//   - an emulation of API Gateway HTTP API's JWT authorizer from its
//     documented rules (apigw-jwt-authorizer.mjs, on node:crypto): RS256
//     tokens pass, ES256 and EdDSA ones do not (its documented limitation);
//   - forgeries (alg none, HS256 keyed with the RSA public key, a foreign key
//     under the published kid, an ES256 token naming the RSA kid, an altered
//     payload, wrong iss, aud or typ, expired, issued in the future), each
//     refused by Gatehouse (401, WWW-Authenticate: Bearer error="invalid_token")
//     and by jose, each beside a control that the same harness gets accepted;
//   - the cut-over from the Node.js original: tokens made by jsonwebtoken
//     exactly as bench/express-original/app.js makes them, with and without
//     LEGACY_JWT_SECRET;
//   - the JWKS and discovery documents over HTTP: ETag and 304, Cache-Control,
//     public members only, kid = RFC 7638 thumbprint (jose's).
//
//   node verifiers.test.mjs <gatehouse binary>
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { startGatehouse as startServer } from '../support/gatehouse-server.mjs';
import { createJwtAuthorizer } from './apigw-jwt-authorizer.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const peersDir = path.resolve(here, '../peers');

const [gatehouseBinary] = process.argv.slice(2);
if (!gatehouseBinary) {
  console.error('usage: node verifiers.test.mjs <gatehouse binary>');
  process.exit(2);
}
let jose;
let jsonwebtoken;
try {
  const peers = createRequire(path.join(peersDir, 'package.json'));
  jose = await import(pathToFileURL(peers.resolve('jose')).href);
  jsonwebtoken = peers('jsonwebtoken');
} catch (e) {
  console.error(`jose or jsonwebtoken is missing: run \`npm ci\` in ${peersDir} (${e.message})`);
  process.exit(1);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => process.exit(128 + os.constants.signals[signal]));

const AUDIENCE = 'https://api.gatehouse.test';
const PASSWORD = 'correct horse battery';
const LEEWAY = 30;  // API.md: a past exp is refused beyond 30 s

// Each server runs under the helper's watchdog: however this script ends,
// it stops and its data goes.
const startGatehouse = (env) => startServer(gatehouseBinary, { dataDirPrefix: 'gatehouse-tokens-', env, watchdog: true });

// ---------------------------------------------------------------------------
// Helpers: HTTP, token pieces, signing.

const now = () => Math.floor(Date.now() / 1000);

async function postJson(base, route, body) {
  const res = await fetch(base + route, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

let users = 0;
// A new account on `base` and a login: { user, login, token }.
async function signUpAndLogIn(base) {
  const email = `verifier-${++users}-${process.pid}@example.com`;
  const signup = await postJson(base, '/signup', { name: `Verifier ${users}`, email, password: PASSWORD });
  assert.equal(signup.status, 201, JSON.stringify(signup.body));
  const login = await postJson(base, '/login', { email, password: PASSWORD });
  assert.equal(login.status, 200, JSON.stringify(login.body));
  assert.equal(login.body.token_type, 'Bearer');
  return { user: signup.body.user, login: login.body, token: login.body.token };
}

async function usersMe(base, token) {
  const res = await fetch(base + '/users/me', { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, wwwAuthenticate: res.headers.get('www-authenticate'), body: await res.json() };
}

async function assertGatehouseAccepts(base, token, user) {
  const me = await usersMe(base, token);
  assert.equal(me.status, 200, `Gatehouse refused a token it should accept: ${JSON.stringify(me.body)}`);
  assert.equal(me.body.user.userId, user.userId);
  assert.equal(me.body.user.email, user.email);
}

async function assertGatehouseRefuses(base, token) {
  const me = await usersMe(base, token);
  assert.equal(me.status, 401, `Gatehouse accepted a token it should refuse: ${JSON.stringify(me.body)}`);
  assert.equal(me.wwwAuthenticate, 'Bearer error="invalid_token"');
  assert.equal(me.body.error.code, 'unauthorized');
}

const b64url = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function decode(token) {
  const [header, payload] = token.split('.').slice(0, 2).map((s) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8')));
  return { header, payload };
}

// A compact JWS of `header` and `payload` (objects, serialized as given),
// signed per header.alg with `key`: a private KeyObject for RS256, ES256 and
// EdDSA, a Buffer or string for HS256, nothing for none.
function sign(header, payload, key) {
  const input = `${b64url(header)}.${b64url(payload)}`;
  let signature;
  switch (header.alg) {
    case 'RS256': signature = crypto.sign('sha256', Buffer.from(input), key); break;
    case 'ES256': signature = crypto.sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }); break;
    case 'EdDSA': signature = crypto.sign(null, Buffer.from(input), key); break;
    case 'HS256': signature = crypto.createHmac('sha256', key).update(input).digest(); break;
    default: signature = Buffer.alloc(0);
  }
  return `${input}.${signature.toString('base64url')}`;
}

// jose's verdict on a token that must be refused: the error's code.
async function joseRefusal(verify) {
  try {
    const { payload } = await verify();
    assert.fail(`jose accepted a token it should refuse: ${JSON.stringify(payload)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    assert.ok(e.code, `jose failed without a JOSE error code: ${e.stack}`);
    return e;
  }
}

// Discovery the way a relying party does it: from the issuer alone.
async function discover(issuer) {
  const res = await fetch(`${issuer}/.well-known/openid-configuration`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  return res.json();
}

// ---------------------------------------------------------------------------
// a. jose, knowing only the discovery URL.

for (const [alg, kty] of [['RS256', 'RSA'], ['ES256', 'EC'], ['EdDSA', 'OKP']]) {
  describe(`${alg}: jose from the discovery URL alone`, () => {
    let server;
    let account;
    before(async () => {
      server = await startGatehouse({ JWT_ALG: alg, JWT_AUDIENCE: AUDIENCE });
      account = await signUpAndLogIn(server.base);
    });
    after(async () => { if (server) await server.stop(); });

    test(`a ${alg} access token verifies with createRemoteJWKSet(jwks_uri)`, async () => {
      const { header, payload: unverified } = decode(account.token);
      assert.equal(header.alg, alg);
      assert.equal(header.typ, 'at+jwt');
      // The issuer is the server's base URL (PUBLIC_URL's default) and the
      // token says so; discovery starts from it.
      assert.equal(unverified.iss, server.base);
      const config = await discover(unverified.iss);
      assert.equal(config.issuer, unverified.iss);
      assert.equal(config.jwks_uri, `${config.issuer}/.well-known/jwks.json`);
      assert.ok(config.id_token_signing_alg_values_supported.includes(alg), JSON.stringify(config));
      const jwks = jose.createRemoteJWKSet(new URL(config.jwks_uri));
      const { payload, protectedHeader } = await jose.jwtVerify(account.token, jwks, {
        issuer: config.issuer, audience: AUDIENCE, typ: 'at+jwt', algorithms: [alg],
      });
      assert.equal(protectedHeader.kid, header.kid);
      assert.equal(payload.sub, account.user.userId);
      assert.equal(payload.userId, account.user.userId);
      assert.equal(payload.email, account.user.email);
      assert.equal(payload.aud, AUDIENCE);
      assert.equal(payload.role, 'user');
      assert.match(payload.sid, /^[0-9a-f-]{36}$/);
      assert.match(payload.jti, /^[A-Za-z0-9_-]{16,}$/);
      assert.equal(payload.exp - payload.iat, account.login.expires_in);
      assert.ok(Math.abs(payload.iat - now()) < 60, `iat ${payload.iat} is not about now`);
      // A second login is a second session and a second token id.
      const again = await postJson(server.base, '/login', { email: account.user.email, password: PASSWORD });
      const second = await jose.jwtVerify(again.body.token, jwks, { issuer: config.issuer, audience: AUDIENCE, typ: 'at+jwt', algorithms: [alg] });
      assert.notEqual(second.payload.jti, payload.jti);
      assert.notEqual(second.payload.sid, payload.sid);
    });

    test(`jose refuses the ${alg} token for another audience, issuer or algorithm`, async () => {
      const config = await discover(server.base);
      const jwks = jose.createRemoteJWKSet(new URL(config.jwks_uri));
      const base = { issuer: config.issuer, audience: AUDIENCE, typ: 'at+jwt', algorithms: [alg] };
      // Controls that jose is really checking: the same token, one option changed.
      assert.equal((await joseRefusal(() => jose.jwtVerify(account.token, jwks, { ...base, audience: 'https://other.test' }))).claim, 'aud');
      assert.equal((await joseRefusal(() => jose.jwtVerify(account.token, jwks, { ...base, issuer: 'https://evil.example' }))).claim, 'iss');
      const other = alg === 'RS256' ? 'ES256' : 'RS256';
      assert.equal((await joseRefusal(() => jose.jwtVerify(account.token, jwks, { ...base, algorithms: [other] }))).code, 'ERR_JOSE_ALG_NOT_ALLOWED');
    });

    // e. The documents over HTTP, for each algorithm's key.
    test(`the ${alg} JWKS publishes the public key only, kid = its RFC 7638 thumbprint`, async () => {
      const config = await discover(server.base);
      const res = await fetch(config.jwks_uri);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'public, max-age=300');
      const { keys } = await res.json();
      assert.equal(keys.length, 1, JSON.stringify(keys));
      const [jwk] = keys;
      assert.equal(jwk.kty, kty);
      assert.equal(jwk.use, 'sig');
      assert.equal(jwk.alg, alg);
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']) assert.equal(jwk[member], undefined, `private member ${member}`);
      if (kty === 'RSA') assert.equal(Buffer.from(jwk.n, 'base64url').length * 8 >= 2048, true);
      if (kty === 'EC') assert.equal(jwk.crv, 'P-256');
      if (kty === 'OKP') assert.equal(jwk.crv, 'Ed25519');
      assert.equal(jwk.kid, await jose.calculateJwkThumbprint(jwk, 'sha256'));
      assert.equal(decode(account.token).header.kid, jwk.kid);
      // node:crypto takes it as a public key, and that key verifies the token.
      const publicKey = crypto.createPublicKey({ key: jwk, format: 'jwk' });
      assert.equal(publicKey.type, 'public');
      const [h, p, s] = account.token.split('.');
      const verified = alg === 'ES256'
        ? crypto.verify('sha256', Buffer.from(`${h}.${p}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'))
        : crypto.verify(alg === 'EdDSA' ? null : 'sha256', Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s, 'base64url'));
      assert.equal(verified, true);
    });

    test(`the ${alg} JWKS and discovery answer 304 to their own ETag`, async () => {
      for (const route of ['/.well-known/jwks.json', '/.well-known/openid-configuration']) {
        const first = await fetch(server.base + route);
        assert.equal(first.status, 200);
        const body = await first.text();
        const etag = first.headers.get('etag');
        assert.match(etag ?? '', /^(W\/)?"[^"]+"$/, `${route}: no ETag`);
        assert.match(first.headers.get('cache-control') ?? '', /^public, max-age=\d+$/, route);
        const again = await fetch(server.base + route, { headers: { 'if-none-match': etag } });
        assert.equal(again.status, 304, route);
        assert.equal(await again.text(), '', `${route}: a 304 with a body`);
        assert.equal(again.headers.get('etag'), etag);
        // Another ETag is no match: the whole document again.
        const stale = await fetch(server.base + route, { headers: { 'if-none-match': '"not-the-etag"' } });
        assert.equal(stale.status, 200, route);
        assert.equal(await stale.text(), body);
      }
    });
  });
}

describe('HS256: jose with the shared secret', () => {
  const secret = crypto.randomBytes(32).toString('hex');
  let server;
  let account;
  before(async () => {
    server = await startGatehouse({ JWT_ALG: 'HS256', JWT_SECRET: secret, JWT_AUDIENCE: AUDIENCE });
    account = await signUpAndLogIn(server.base);
  });
  after(async () => { if (server) await server.stop(); });

  test('an HS256 access token verifies with the secret; the JWKS has no keys', async () => {
    const { header, payload: unverified } = decode(account.token);
    assert.deepEqual(header, { alg: 'HS256', typ: 'at+jwt' });  // no kid
    assert.equal(unverified.iss, 'gatehouse');
    // The issuer is no URL here, so discovery is found from the server.
    const config = await discover(server.base);
    assert.equal(config.issuer, unverified.iss);
    const res = await fetch(server.base + '/.well-known/jwks.json');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { keys: [] });
    const { payload } = await jose.jwtVerify(account.token, new TextEncoder().encode(secret), {
      issuer: config.issuer, audience: AUDIENCE, typ: 'at+jwt', algorithms: ['HS256'],
    });
    assert.equal(payload.sub, account.user.userId);
    assert.equal(payload.userId, account.user.userId);
    assert.equal(payload.email, account.user.email);
    assert.equal(payload.role, 'user');
    assert.match(payload.sid, /^[0-9a-f-]{36}$/);
    assert.match(payload.jti, /^[A-Za-z0-9_-]{16,}$/);
    // Control: another secret does not verify it.
    const e = await joseRefusal(() => jose.jwtVerify(account.token, new TextEncoder().encode(`${secret}x`), { algorithms: ['HS256'] }));
    assert.equal(e.code, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  });
});

// ---------------------------------------------------------------------------
// b. API Gateway's JWT authorizer, emulated from its documentation.

describe('API Gateway HTTP API JWT authorizer (emulated)', () => {
  const servers = {};
  const accounts = {};
  before(async () => {
    for (const alg of ['RS256', 'ES256', 'EdDSA']) {
      servers[alg] = await startGatehouse({ JWT_ALG: alg, JWT_AUDIENCE: AUDIENCE });
      accounts[alg] = await signUpAndLogIn(servers[alg].base);
    }
    // Without JWT_AUDIENCE the tokens carry no aud.
    servers.noAudience = await startGatehouse({ JWT_ALG: 'RS256' });
    accounts.noAudience = await signUpAndLogIn(servers.noAudience.base);
  });
  after(async () => { for (const s of Object.values(servers)) await s.stop(); });

  test('accepts an RS256 access token (identity source with and without "Bearer")', async () => {
    const { base } = servers.RS256;
    const authorizer = await createJwtAuthorizer({ issuer: base, audience: ['https://another.test', AUDIENCE] });
    assert.equal(authorizer.discovery.jwks_uri, `${base}/.well-known/jwks.json`);
    for (const source of [`Bearer ${accounts.RS256.token}`, accounts.RS256.token]) {
      const verdict = authorizer.authorize(source);
      assert.equal(verdict.authorized, true, verdict.reason);
      // What the integration sees in requestContext.authorizer.jwt.claims.
      assert.equal(verdict.claims.sub, accounts.RS256.user.userId);
      assert.equal(verdict.claims.email, accounts.RS256.user.email);
      assert.equal(verdict.claims.role, 'user');
    }
  });

  test('refuses ES256 and EdDSA tokens: only RSA-based algorithms are supported', async () => {
    for (const alg of ['ES256', 'EdDSA']) {
      const authorizer = await createJwtAuthorizer({ issuer: servers[alg].base, audience: [AUDIENCE] });
      const verdict = authorizer.authorize(`Bearer ${accounts[alg].token}`);
      assert.deepEqual(verdict, { authorized: false, reason: `algorithm "${alg}" is not RSA-based` });
    }
  });

  test('refuses an RS256 token for another audience or issuer, or with a route scope it lacks', async () => {
    const { base } = servers.RS256;
    const token = `Bearer ${accounts.RS256.token}`;
    const wrongAudience = await createJwtAuthorizer({ issuer: base, audience: ['https://other.test'] });
    assert.deepEqual(wrongAudience.authorize(token), { authorized: false, reason: 'aud matches no configured audience' });
    // Another issuer's authorizer (the ES256 server's) has other keys.
    const otherIssuer = await createJwtAuthorizer({ issuer: servers.ES256.base, audience: [AUDIENCE] });
    assert.equal(otherIssuer.authorize(token).authorized, false);
    assert.match(otherIssuer.authorize(token).reason, /^kid .* matches no key of jwks_uri$/);
    const right = await createJwtAuthorizer({ issuer: base, audience: [AUDIENCE] });
    // Gatehouse's tokens carry no scope: a route that requires one is closed to them.
    assert.deepEqual(right.authorize(token, { authorizationScopes: ['users:read'] }), { authorized: false, reason: 'no scope of the route' });
  });

  test('refuses an RS256 token once expired, and before it was issued (no skew)', async () => {
    const { base } = servers.RS256;
    const authorizer = await createJwtAuthorizer({ issuer: base, audience: [AUDIENCE] });
    const token = `Bearer ${accounts.RS256.token}`;
    const { exp, iat } = decode(accounts.RS256.token).payload;
    assert.equal(authorizer.authorize(token, { now: exp - 1 }).authorized, true);
    assert.deepEqual(authorizer.authorize(token, { now: exp }), { authorized: false, reason: 'exp is not after the current time' });
    assert.deepEqual(authorizer.authorize(token, { now: exp + 3600 }), { authorized: false, reason: 'exp is not after the current time' });
    assert.equal(authorizer.authorize(token, { now: iat }).authorized, true);
    assert.deepEqual(authorizer.authorize(token, { now: iat - 1 }), { authorized: false, reason: 'iat is not before the current time' });
  });

  test('refuses an RS256 token without aud (JWT_AUDIENCE unset): the authorizer needs one', async () => {
    const { base } = servers.noAudience;
    assert.equal(decode(accounts.noAudience.token).payload.aud, undefined);
    const authorizer = await createJwtAuthorizer({ issuer: base, audience: [AUDIENCE] });
    assert.deepEqual(authorizer.authorize(`Bearer ${accounts.noAudience.token}`), { authorized: false, reason: 'client_id matches no configured audience' });
  });

  test('refuses a tampered RS256 token', async () => {
    const authorizer = await createJwtAuthorizer({ issuer: servers.RS256.base, audience: [AUDIENCE] });
    const [h, p, s] = accounts.RS256.token.split('.');
    const altered = b64url({ ...JSON.parse(Buffer.from(p, 'base64url')), role: 'admin' });
    assert.deepEqual(authorizer.authorize(`${h}.${altered}.${s}`), { authorized: false, reason: 'bad signature' });
  });
});

// ---------------------------------------------------------------------------
// c. Forgeries, against a server whose RSA key the harness holds
//    (JWT_PRIVATE_KEY), so that a forgery that differs from an accepted
//    token in one point only can be made.

describe('forgeries: refused by Gatehouse and by jose', () => {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  let server;
  let account;
  let config;
  let jwks;
  let kid;
  let claims;      // the real token's claims
  let joseVerify;  // jose as a relying party, configured as Gatehouse's contract says

  before(async () => {
    server = await startGatehouse({
      JWT_ALG: 'RS256', JWT_AUDIENCE: AUDIENCE,
      JWT_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    });
    account = await signUpAndLogIn(server.base);
    ({ header: { kid }, payload: claims } = decode(account.token));
    config = await discover(claims.iss);
    jwks = jose.createRemoteJWKSet(new URL(config.jwks_uri));
    joseVerify = (token) => jose.jwtVerify(token, jwks, {
      issuer: config.issuer, audience: AUDIENCE, typ: 'at+jwt', algorithms: ['RS256'],
      clockTolerance: LEEWAY, maxTokenAge: '1h',  // maxTokenAge: jose refuses a future iat only with it
    });
  });
  after(async () => { if (server) await server.stop(); });

  // The real header, the real claims with `changes` (undefined drops one),
  // signed with the server's own key unless told otherwise.
  function forge({ header = {}, changes = {}, key = privateKey } = {}) {
    const payload = { ...claims, jti: crypto.randomBytes(16).toString('base64url'), ...changes };
    for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
    return sign({ alg: 'RS256', kid, typ: 'at+jwt', ...header }, payload, key);
  }

  test('controls: the real token and the harness\'s copy of it are accepted', async () => {
    // The published key is the one the harness gave the server.
    const [jwk] = (await (await fetch(config.jwks_uri)).json()).keys;
    assert.equal(jwk.n, crypto.createPublicKey(privateKey).export({ format: 'jwk' }).n);
    await assertGatehouseAccepts(server.base, account.token, account.user);
    assert.equal((await joseVerify(account.token)).payload.sub, account.user.userId);
    const copy = forge();
    assert.notEqual(copy, account.token);
    await assertGatehouseAccepts(server.base, copy, account.user);
    assert.equal((await joseVerify(copy)).payload.sub, account.user.userId);
    // The contract's leeway: 10 s past exp still passes, as does typ JWT or none.
    await assertGatehouseAccepts(server.base, forge({ changes: { iat: now() - 900, exp: now() - 10 } }), account.user);
    await assertGatehouseAccepts(server.base, forge({ header: { typ: 'JWT' } }), account.user);
    await assertGatehouseAccepts(server.base, forge({ header: { typ: undefined } }), account.user);
  });

  test('alg none', async () => {
    for (const alg of ['none', 'None', 'NONE']) {
      const token = sign({ alg, kid, typ: 'at+jwt' }, claims);
      assert.ok(token.endsWith('.'));
      await assertGatehouseRefuses(server.base, token);
      assert.equal((await joseRefusal(() => joseVerify(token))).code, 'ERR_JOSE_ALG_NOT_ALLOWED');
    }
  });

  test('HS256 keyed with the server\'s RSA public key (PEM, DER, JWK JSON) from the JWKS', async () => {
    const [jwk] = (await (await fetch(config.jwks_uri)).json()).keys;
    const publicKey = crypto.createPublicKey({ key: jwk, format: 'jwk' });
    const secrets = [
      publicKey.export({ type: 'spki', format: 'pem' }),
      publicKey.export({ type: 'pkcs1', format: 'pem' }),
      publicKey.export({ type: 'spki', format: 'der' }),
      publicKey.export({ type: 'pkcs1', format: 'der' }),
      JSON.stringify(jwk),
    ];
    for (const secret of secrets) {
      for (const header of [{ alg: 'HS256', kid, typ: 'at+jwt' }, { alg: 'HS256', typ: 'at+jwt' }]) {
        const token = sign(header, claims, secret);
        await assertGatehouseRefuses(server.base, token);
        assert.equal((await joseRefusal(() => joseVerify(token))).code, 'ERR_JOSE_ALG_NOT_ALLOWED');
      }
    }
  });

  test('the published kid on a token signed by another RSA key', async () => {
    const { privateKey: other } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const token = forge({ key: other });
    await assertGatehouseRefuses(server.base, token);
    assert.equal((await joseRefusal(() => joseVerify(token))).code, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  });

  test('an ES256 token whose header names the RSA key\'s kid', async () => {
    const { privateKey: ec } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const token = forge({ header: { alg: 'ES256' }, key: ec });
    await assertGatehouseRefuses(server.base, token);
    assert.equal((await joseRefusal(() => joseVerify(token))).code, 'ERR_JOSE_ALG_NOT_ALLOWED');
    // Even a verifier that allows ES256 finds no EC key under that kid.
    const lax = await joseRefusal(() => jose.jwtVerify(token, jwks, { algorithms: ['RS256', 'ES256'] }));
    assert.equal(lax.code, 'ERR_JWKS_NO_MATCHING_KEY');
  });

  test('an unknown kid on a token signed by the server\'s key', async () => {
    const token = forge({ header: { kid: 'not-a-published-kid' } });
    await assertGatehouseRefuses(server.base, token);
    assert.equal((await joseRefusal(() => joseVerify(token))).code, 'ERR_JWKS_NO_MATCHING_KEY');
  });

  test('a valid token with its payload altered (the signature kept)', async () => {
    // The real token first, so that a cache of verified tokens holds it.
    await assertGatehouseAccepts(server.base, account.token, account.user);
    const victim = (await signUpAndLogIn(server.base)).user;
    const [h, , s] = account.token.split('.');
    for (const changes of [{ role: 'admin' }, { sub: victim.userId, userId: victim.userId, email: victim.email }, { exp: claims.exp + 86400 }]) {
      const token = `${h}.${b64url({ ...claims, ...changes })}.${s}`;
      await assertGatehouseRefuses(server.base, token);
      assert.equal((await joseRefusal(() => joseVerify(token))).code, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
    }
    // The same claims in other bytes (whitespace in the JSON) are another
    // signing input too.
    const spaced = `${h}.${Buffer.from(JSON.stringify(claims, null, 1)).toString('base64url')}.${s}`;
    await assertGatehouseRefuses(server.base, spaced);
    assert.equal((await joseRefusal(() => joseVerify(spaced))).code, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  });

  test('wrong iss, wrong or missing aud (signed with the server\'s key)', async () => {
    for (const [changes, claim] of [
      [{ iss: 'https://evil.example' }, 'iss'],
      [{ iss: undefined }, 'iss'],
      [{ iss: `${claims.iss}/` }, 'iss'],
      [{ aud: 'https://other.test' }, 'aud'],
      [{ aud: ['https://other.test'] }, 'aud'],
      [{ aud: undefined }, 'aud'],
    ]) {
      const token = forge({ changes });
      await assertGatehouseRefuses(server.base, token);
      const e = await joseRefusal(() => joseVerify(token));
      assert.equal(e.claim, claim, `${JSON.stringify(changes)}: ${e.code} ${e.message}`);
    }
    // Control: aud as an array holding ours is accepted by both.
    const listed = forge({ changes: { aud: ['https://other.test', AUDIENCE] } });
    await assertGatehouseAccepts(server.base, listed, account.user);
    await joseVerify(listed);
    // API Gateway's authorizer (emulated) draws the same lines.
    const authorizer = await createJwtAuthorizer({ issuer: config.issuer, audience: [AUDIENCE] });
    assert.equal(authorizer.authorize(listed).authorized, true);
    assert.deepEqual(authorizer.authorize(forge({ changes: { iss: 'https://evil.example' } })),
                     { authorized: false, reason: 'iss "https://evil.example" is not the configured issuer' });
    assert.deepEqual(authorizer.authorize(forge({ changes: { aud: 'https://other.test' } })),
                     { authorized: false, reason: 'aud matches no configured audience' });
  });

  test('expired beyond the 30 s leeway, or without exp', async () => {
    const expired = forge({ changes: { iat: now() - 900, exp: now() - LEEWAY - 30 } });
    await assertGatehouseRefuses(server.base, expired);
    assert.equal((await joseRefusal(() => joseVerify(expired))).code, 'ERR_JWT_EXPIRED');
    const noExp = forge({ changes: { exp: undefined } });
    await assertGatehouseRefuses(server.base, noExp);
    // jose requires no exp unless told to: its own control shows it checks
    // everything else about this token.
    const e = await joseRefusal(() => jose.jwtVerify(noExp, jwks, { issuer: config.issuer, audience: AUDIENCE, requiredClaims: ['exp'] }));
    assert.equal(e.claim, 'exp');
  });

  test('issued in the future, or not valid before an hour from now (iat, nbf)', async () => {
    const token = forge({ changes: { iat: now() + 3600, exp: now() + 4500 } });
    await assertGatehouseRefuses(server.base, token);
    assert.equal((await joseRefusal(() => joseVerify(token))).claim, 'iat');
    const notYet = forge({ changes: { nbf: now() + 3600 } });
    await assertGatehouseRefuses(server.base, notYet);
    assert.equal((await joseRefusal(() => joseVerify(notYet))).claim, 'nbf');
  });

  test('another token type in typ', async () => {
    // API.md: any typ but at+jwt or JWT (or none) is refused, so that a
    // token of another kind signed with the same key is not an access token.
    for (const typ of ['dpop+jwt', 'secevent+jwt', 'application/at+jwt+x']) {
      const token = forge({ header: { typ } });
      await assertGatehouseRefuses(server.base, token);
      assert.equal((await joseRefusal(() => joseVerify(token))).claim, 'typ');
    }
  });
});

// ---------------------------------------------------------------------------
// d. The cut-over from the Node.js original (bench/express-original/app.js):
//      jwt.sign({ userId: user.userId, email: user.email }, JWT_SECRET, { expiresIn: TOKEN_LIFETIME_S })

describe('legacy cut-over: tokens of the Node.js original (jsonwebtoken)', () => {
  const legacySecret = crypto.randomBytes(24).toString('base64');  // 32 characters
  const TOKEN_LIFETIME_S = 3600;
  let legacy;   // LEGACY_JWT_SECRET and JWT_AUDIENCE set, as deploy/serverless.yml sets the audience
  let plain;    // neither
  let account;
  const original = (user, secret = legacySecret, options = {}) =>
    jsonwebtoken.sign({ userId: user.userId, email: user.email }, secret, { expiresIn: TOKEN_LIFETIME_S, ...options });

  before(async () => {
    assert.ok(legacySecret.length >= 32);
    legacy = await startGatehouse({ LEGACY_JWT_SECRET: legacySecret, JWT_AUDIENCE: AUDIENCE });
    plain = await startGatehouse({});
    account = await signUpAndLogIn(legacy.base);
  });
  after(async () => {
    if (legacy) await legacy.stop();
    if (plain) await plain.stop();
  });

  test('an original token is accepted until it expires', async () => {
    const token = original(account.user);
    const { header, payload } = decode(token);
    assert.deepEqual(header, { alg: 'HS256', typ: 'JWT' });
    assert.deepEqual(Object.keys(payload).sort(), ['email', 'exp', 'iat', 'userId']);
    await assertGatehouseAccepts(legacy.base, token, account.user);
    // Expired by more than the leeway (iat backdated, so exp = iat + lifetime).
    const shortLived = original(account.user, legacySecret, { expiresIn: 60 });
    const backdated = jsonwebtoken.sign({ userId: account.user.userId, email: account.user.email, iat: now() - 1000 }, legacySecret, { expiresIn: 60 });
    assert.ok(decode(backdated).payload.exp < now() - LEEWAY);
    await assertGatehouseAccepts(legacy.base, shortLived, account.user);
    await assertGatehouseRefuses(legacy.base, backdated);
  });

  test('an original-style token with another secret, or another issuer or audience, is refused', async () => {
    await assertGatehouseRefuses(legacy.base, original(account.user, crypto.randomBytes(24).toString('base64')));
    await assertGatehouseRefuses(legacy.base, original(account.user, legacySecret, { issuer: 'https://evil.example' }));
    await assertGatehouseRefuses(legacy.base, original(account.user, legacySecret, { audience: 'https://other.test' }));
    // Ours are fine: they must only be ours when present.
    await assertGatehouseAccepts(legacy.base, original(account.user, legacySecret, { issuer: legacy.base }), account.user);
    await assertGatehouseAccepts(legacy.base, original(account.user, legacySecret, { audience: AUDIENCE }), account.user);
  });

  test('Gatehouse never issues an HS256 token there: its logins are RS256', async () => {
    const { header, payload } = decode(account.token);
    assert.equal(header.alg, 'RS256');
    assert.equal(header.typ, 'at+jwt');
    assert.equal(payload.iss, legacy.base);
    const refreshed = await postJson(legacy.base, '/token/refresh', { refresh_token: account.login.refresh_token });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    assert.equal(decode(refreshed.body.token).header.alg, 'RS256');
    // The legacy secret verifies; it is never published.
    const { keys } = await (await fetch(`${legacy.base}/.well-known/jwks.json`)).json();
    assert.deepEqual(keys.map((k) => k.alg), ['RS256']);
  });

  test('without LEGACY_JWT_SECRET the same kind of token is refused', async () => {
    const other = await signUpAndLogIn(plain.base);
    await assertGatehouseAccepts(plain.base, other.token, other.user);  // control: the user and server are fine
    await assertGatehouseRefuses(plain.base, original(other.user));
    await assertGatehouseRefuses(plain.base, original(other.user, legacySecret, { issuer: plain.base }));
  });
});
