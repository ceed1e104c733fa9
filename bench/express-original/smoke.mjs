#!/usr/bin/env node
// Smoke test of the Express original (bench/express-original), for real:
//  1. starts dynalite and s3rver (from tests/peers/node_modules) on free
//     loopback ports with their data in a temporary directory, creates the
//     users table and the bucket with aws-sdk v2;
//  2. starts server.js and checks every route's status codes and JSON shapes
//     against API.md (signup, login, GET /users with paging, GET /users/me,
//     POST /upload_profile_pic with a multipart PNG, 401/404/405/409/400s),
//     plus what must hold of the original: bcrypt cost 10 in the stored
//     hash, JWT HS256 with JWT_SECRET, profile_image = the S3 object URL of
//     the uploaded bytes;
//  3. runs runtime.js against a Runtime API emulator written here: API
//     Gateway 2.0 events (built from tests/data/lambda-events/) through
//     handler.js, a handler error, the context it passes, a callback-style
//     handler, and an init error.
// Everything binds to 127.0.0.1 and is killed at exit. Prints
// "smoke: N passed, N failed"; exits 1 on any failure, 2 if it cannot start.
//
//   node smoke.mjs            (after `npm ci` here and in tests/peers)
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const PEERS = process.env.GATEHOUSE_PEERS_MODULES || path.join(ROOT, 'tests/peers/node_modules');
const EVENTS = path.join(ROOT, 'tests/data/lambda-events');
const require = createRequire(import.meta.url);

for (const [file, fix] of [[path.join(HERE, 'node_modules/aws-sdk/package.json'), `npm ci in ${HERE}`],
  [path.join(PEERS, 'dynalite/cli.js'), `npm ci in ${path.dirname(PEERS)}`],
  [path.join(PEERS, 's3rver/bin/s3rver.js'), `npm ci in ${path.dirname(PEERS)}`]]) {
  if (!fs.existsSync(file)) {
    console.error(`smoke: ${file} is missing; run ${fix}`);
    process.exit(2);
  }
}
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = '1';
const AWS = require('aws-sdk');

// ---------------------------------------------------------------- bookkeeping
let passed = 0;
let failed = 0;
function check(ok, what, detail) {
  if (ok) {
    passed++;
  } else {
    failed++;
    console.log(`FAIL ${what}${detail === undefined ? '' : `: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`}`);
  }
  return ok;
}
const children = new Set();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'express-original-smoke-'));
function cleanup() {
  for (const child of children) {
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  children.clear();
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));
const overall = setTimeout(() => {
  console.error('smoke: timed out after 180 s');
  process.exit(1);
}, 180_000);

// Starts `node args...` in its own process group, its output kept for errors.
function start(name, args, env, extra = {}) {
  const child = spawn(process.execPath, args, {
    cwd: extra.cwd || HERE, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.log = '';
  child.name = name;
  child.spawnedAt = process.hrtime.bigint();
  child.exited = new Promise((resolve) => child.on('exit', (code, signal) => {
    children.delete(child);
    resolve({ code, signal });
  }));
  for (const s of [child.stdout, child.stderr]) s.on('data', (d) => { child.log += d; });
  children.add(child);
  return child;
}

function waitForLine(child, pattern, ms = 20_000) {
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      const m = child.log.match(pattern);
      if (m) { clearInterval(timer); resolve(m); }
    }, 10);
    setTimeout(() => { clearInterval(timer); reject(new Error(`${child.name} did not print ${pattern}:\n${child.log}`)); }, ms);
    child.exited.then(({ code, signal }) => {
      clearInterval(timer);
      reject(new Error(`${child.name} exited (${code ?? signal}):\n${child.log}`));
    });
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// One HTTP exchange on loopback; the JSON body parsed when there is one.
function request(port, method, urlPath, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined
      : Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const h = Object.assign({}, headers);
    if (payload) {
      if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['Content-Type'] = 'application/json';
      h['Content-Length'] = payload.length;
    }
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers: h, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

// --------------------------------------------------------------- shape checks
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const USER_KEYS = ['createdAt', 'email', 'name', 'profile_image', 'userId'];

function checkUser(user, expect, what) {
  if (!check(user && typeof user === 'object', `${what}: a user object`, user)) return;
  check(JSON.stringify(Object.keys(user).sort()) === JSON.stringify(USER_KEYS), `${what}: exactly the User keys`, Object.keys(user));
  check(UUID_V4.test(user.userId), `${what}: userId is a UUID v4`, user.userId);
  check(ISO_TIME.test(user.createdAt), `${what}: createdAt is ISO 8601`, user.createdAt);
  for (const [k, v] of Object.entries(expect)) {
    check(v instanceof RegExp ? v.test(user[k]) : user[k] === v, `${what}: ${k}`, { got: user[k], want: String(v) });
  }
}

function checkError(res, status, code, what, field) {
  check(res.status === status, `${what}: status ${status}`, { got: res.status, body: res.text });
  check(/^application\/json; charset=utf-8$/i.test(res.headers['content-type'] || ''), `${what}: JSON content type`, res.headers['content-type']);
  const e = res.json && res.json.error;
  check(e && e.code === code && typeof e.message === 'string' && e.message.length > 0,
    `${what}: {"error":{"code":"${code}","message"}}`, res.json);
  if (field) check(e && e.field === field, `${what}: error.field ${field}`, res.json);
  if (e) check(Object.keys(e).every((k) => ['code', 'message', 'field'].includes(k)), `${what}: no extra error keys`, e);
}

function decodeJwt(token, secret) {
  const [h, p, s] = String(token).split('.');
  const expected = crypto.createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString()),
    signatureOk: s === expected,
  };
}

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

function multipart(fieldName, filename, type, bytes) {
  const boundary = `----smoke${crypto.randomBytes(8).toString('hex')}`;
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${fieldName}"; filename="${filename}"\r\n` +
      `Content-Type: ${type}\r\n\r\n`),
    bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

// ------------------------------------------------------------------- the peers
const ACCESS_KEY = 'S3RVER'; // s3rver rejects any other key id
const SECRET_KEY = 'S3RVER';
const REGION = 'us-east-1';
const TABLE = `users-smoke-${crypto.randomBytes(4).toString('hex')}`;
const BUCKET = `profile-images-smoke-${crypto.randomBytes(4).toString('hex')}`;
const JWT_SECRET = crypto.randomBytes(32).toString('hex');
const peerEnv = Object.assign({}, process.env, { NODE_NO_WARNINGS: '1' });
delete peerEnv.NODE_OPTIONS;

async function startPeers() {
  fs.mkdirSync(path.join(tmp, 'dynamodb'));
  fs.mkdirSync(path.join(tmp, 's3'));
  // dynalite takes no port 0 (it falls back to 4567), so a free port is
  // picked first; a lost race is retried.
  let dynamoPort;
  for (let attempt = 0; ; attempt++) {
    dynamoPort = await freePort();
    const d = start('dynalite', [path.join(PEERS, 'dynalite/cli.js'), '--host', '127.0.0.1', '--port', String(dynamoPort),
      '--createTableMs', '0', '--deleteTableMs', '0', '--updateTableMs', '0', '--path', path.join(tmp, 'dynamodb')], peerEnv);
    try {
      await waitForLine(d, /Dynalite listening at: /);
      break;
    } catch (err) {
      if (attempt === 2) throw err;
    }
  }
  // s3rver's truncated listings need MD5 ciphers from OpenSSL 3's legacy provider.
  const s = start('s3rver', [path.join(PEERS, 's3rver/bin/s3rver.js'), '--address', '127.0.0.1', '--port', '0',
    '--directory', path.join(tmp, 's3')], Object.assign({}, peerEnv, { NODE_OPTIONS: '--openssl-legacy-provider' }));
  const m = await waitForLine(s, /S3rver listening on [^\n]*:(\d+)\n/);
  const s3Port = Number(m[1]);

  const dynamoEndpoint = `http://127.0.0.1:${dynamoPort}`;
  const s3Endpoint = `http://127.0.0.1:${s3Port}`;
  const credentials = { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY };
  const ddb = new AWS.DynamoDB({ endpoint: dynamoEndpoint, region: REGION, credentials });
  await ddb.createTable({
    TableName: TABLE,
    KeySchema: [{ AttributeName: 'userId', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'userId', AttributeType: 'S' }],
    BillingMode: 'PAY_PER_REQUEST',
  }).promise();
  await ddb.waitFor('tableExists', { TableName: TABLE, $waiter: { delay: 0.05, maxAttempts: 100 } }).promise();
  const s3 = new AWS.S3({ endpoint: s3Endpoint, s3ForcePathStyle: true, region: REGION, credentials });
  await s3.createBucket({ Bucket: BUCKET }).promise();
  return {
    dynamoEndpoint, s3Endpoint, s3,
    docs: new AWS.DynamoDB.DocumentClient({ service: ddb }),
  };
}

function appEnv(peers, extra = {}) {
  const env = Object.assign({}, process.env, {
    USERS_TABLE: TABLE, BUCKET, AWS_REGION: REGION, AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: SECRET_KEY,
    DYNAMODB_ENDPOINT: peers.dynamoEndpoint, S3_ENDPOINT: peers.s3Endpoint, JWT_SECRET,
  }, extra);
  for (const k of ['NODE_OPTIONS', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'BCRYPT_COST', 'PORT', '_HANDLER',
    'LAMBDA_TASK_ROOT', 'AWS_EXECUTION_ENV', 'AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE',
    'AWS_NODEJS_CONNECTION_REUSE_ENABLED', 'NODE_NO_WARNINGS']) {
    if (!(k in extra)) delete env[k];
  }
  return env;
}

// ------------------------------------------------------------ HTTP (server.js)
async function httpChecks(peers) {
  const server = start('server.js', [path.join(HERE, 'server.js')],
    appEnv(peers, { PORT: '0', AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1' }));
  const port = Number((await waitForLine(server, /READY (\d+)\n/))[1]);
  const call = (method, p, opts) => request(port, method, p, opts);

  let r = await call('GET', '/health');
  check(r.status === 200 && r.json && r.json.status === 'ok' && Object.keys(r.json).length === 1, 'GET /health: 200 {"status":"ok"}', r.text);
  check(/^[A-Za-z0-9._-]{1,128}$/.test(r.headers['x-request-id'] || ''), 'GET /health: x-request-id', r.headers['x-request-id']);
  r = await call('GET', '/health', { headers: { 'x-request-id': 'client-id.42' } });
  check(r.headers['x-request-id'] === 'client-id.42', 'x-request-id: the client\'s sane id echoed', r.headers['x-request-id']);
  r = await call('GET', '/health', { headers: { 'x-request-id': 'bad id!' } });
  check(r.headers['x-request-id'] && r.headers['x-request-id'] !== 'bad id!', 'x-request-id: an insane one replaced', r.headers['x-request-id']);

  // signup
  const ada = { name: 'Ada', email: 'ada@example.com', password: 'correct horse battery' };
  r = await call('POST', '/signup', { body: ada });
  check(r.status === 201, 'POST /signup: 201', { got: r.status, body: r.text });
  check(r.json && Object.keys(r.json).join() === 'user', 'POST /signup: {"user"}', r.json);
  checkUser(r.json && r.json.user, { name: 'Ada', email: 'ada@example.com', profile_image: null }, 'POST /signup');
  const adaId = r.json && r.json.user && r.json.user.userId;
  check(!r.text.includes('$2'), 'POST /signup: no password hash in the body', r.text);

  const stored = (await peers.docs.get({ TableName: TABLE, Key: { userId: adaId } }).promise()).Item;
  check(stored && /^\$2[aby]\$10\$.{53}$/.test(stored.password), 'stored password: a bcrypt hash at cost 10', stored && stored.password);
  check(stored && stored.password && require('bcryptjs').compareSync(ada.password, stored.password), 'stored password: verifies with bcryptjs');

  r = await call('POST', '/signup', { body: ada });
  checkError(r, 409, 'email_taken', 'POST /signup again');
  r = await call('POST', '/signup', { body: { name: 'No Password', email: 'np@example.com' } });
  checkError(r, 400, 'validation_failed', 'POST /signup without password', 'password');
  r = await call('POST', '/signup', { body: '{"name": "Ada",' });
  checkError(r, 400, 'invalid_json', 'POST /signup malformed JSON');

  // login
  r = await call('POST', '/login', { body: { email: ada.email, password: 'wrong password' } });
  checkError(r, 401, 'invalid_credentials', 'POST /login wrong password');
  const wrongText = r.text;
  r = await call('POST', '/login', { body: { email: 'nobody@example.com', password: 'whatever1' } });
  checkError(r, 401, 'invalid_credentials', 'POST /login unknown email');
  check(r.text === wrongText, 'POST /login: same body for unknown email and wrong password', [r.text, wrongText]);
  r = await call('POST', '/login', { body: { email: ada.email, password: ada.password } });
  check(r.status === 200, 'POST /login: 200', { got: r.status, body: r.text });
  const login = r.json || {};
  check(JSON.stringify(Object.keys(login).sort()) === '["expires_in","token","token_type","user"]', 'POST /login: keys', Object.keys(login));
  check(login.token_type === 'Bearer' && login.expires_in === 3600, 'POST /login: token_type Bearer, expires_in 3600', login);
  checkUser(login.user, { userId: adaId, email: ada.email, name: 'Ada', profile_image: null }, 'POST /login');
  const token = login.token;
  const jwtParts = decodeJwt(token, JWT_SECRET);
  check(jwtParts.header.alg === 'HS256' && jwtParts.header.typ === 'JWT', 'JWT: header HS256', jwtParts.header);
  check(jwtParts.signatureOk, 'JWT: HMAC-SHA256 signature with JWT_SECRET');
  check(jwtParts.payload.userId === adaId && jwtParts.payload.email === ada.email, 'JWT: userId and email claims', jwtParts.payload);
  check(jwtParts.payload.exp - jwtParts.payload.iat === 3600, 'JWT: exp = iat + 3600', jwtParts.payload);
  const bearer = { Authorization: `Bearer ${token}` };

  // auth failures
  r = await call('GET', '/users');
  checkError(r, 401, 'unauthorized', 'GET /users without a token');
  check(r.headers['www-authenticate'] === 'Bearer', 'GET /users without a token: WWW-Authenticate: Bearer', r.headers['www-authenticate']);
  const forged = `${token.split('.').slice(0, 2).join('.')}.${crypto.createHmac('sha256', 'other').update('x').digest('base64url')}`;
  r = await call('GET', '/users/me', { headers: { Authorization: `Bearer ${forged}` } });
  checkError(r, 401, 'unauthorized', 'GET /users/me with a forged token');
  check(r.headers['www-authenticate'] === 'Bearer error="invalid_token"', 'forged token: WWW-Authenticate invalid_token', r.headers['www-authenticate']);
  const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${token.split('.')[1]}.`;
  r = await call('GET', '/users/me', { headers: { Authorization: `Bearer ${none}` } });
  checkError(r, 401, 'unauthorized', 'GET /users/me with alg none');

  // users list and paging
  for (const n of ['Bob', 'Cy', 'Di']) {
    r = await call('POST', '/signup', { body: { name: n, email: `${n.toLowerCase()}@example.com`, password: 'password123' } });
    check(r.status === 201, `POST /signup ${n}: 201`, r.text);
  }
  r = await call('GET', '/users', { headers: bearer });
  check(r.status === 200 && r.json && Array.isArray(r.json.users), 'GET /users: 200 {"users": [...]}', r.text);
  check(r.json && JSON.stringify(Object.keys(r.json).sort()) === '["next_cursor","users"]', 'GET /users: keys users, next_cursor', r.json);
  check(r.json && r.json.users.length === 4 && r.json.next_cursor === null, 'GET /users: all 4 users, next_cursor null', r.json);
  if (r.json) r.json.users.forEach((u, i) => checkUser(u, {}, `GET /users [${i}]`));
  check(!r.text.includes('password') && !r.text.includes('$2'), 'GET /users: no password hashes', r.text);
  const seen = [];
  let cursor;
  let pages = 0;
  do {
    r = await call('GET', `/users?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { headers: bearer });
    if (!check(r.status === 200 && r.json, `GET /users?limit=3 page ${pages}: 200`, r.text)) break;
    check(r.json.users.length <= 3, `GET /users?limit=3 page ${pages}: at most 3`, r.json.users.length);
    seen.push(...r.json.users.map((u) => u.userId));
    cursor = r.json.next_cursor;
  } while (cursor && ++pages < 10);
  check(seen.length === 4 && new Set(seen).size === 4, 'GET /users paging: every user exactly once', seen);
  r = await call('GET', '/users?limit=0', { headers: bearer });
  checkError(r, 400, 'validation_failed', 'GET /users?limit=0', 'limit');
  r = await call('GET', '/users?limit=101', { headers: bearer });
  checkError(r, 400, 'validation_failed', 'GET /users?limit=101', 'limit');
  r = await call('GET', '/users?cursor=%25%25', { headers: bearer });
  checkError(r, 400, 'validation_failed', 'GET /users malformed cursor', 'cursor');
  r = await call('GET', `/users?cursor=${Buffer.from('{"x":{"S":"y"}}').toString('base64url')}`, { headers: bearer });
  checkError(r, 400, 'validation_failed', 'GET /users cursor of another shape', 'cursor');

  // me
  r = await call('GET', '/users/me', { headers: bearer });
  check(r.status === 200 && r.json && Object.keys(r.json).join() === 'user', 'GET /users/me: 200 {"user"}', r.text);
  checkUser(r.json && r.json.user, { userId: adaId, email: ada.email, profile_image: null }, 'GET /users/me');

  // upload
  const form = multipart('image', 'pic.png', 'image/png', PNG);
  r = await call('POST', '/upload_profile_pic', { headers: Object.assign({ 'Content-Type': form.contentType }, bearer), body: form.body });
  check(r.status === 200 && r.json && Object.keys(r.json).join() === 'user', 'POST /upload_profile_pic: 200 {"user"}', { got: r.status, body: r.text });
  const urlPrefix = `${peers.s3Endpoint}/${BUCKET}/profile-images/${adaId}/`;
  const escaped = urlPrefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  checkUser(r.json && r.json.user, { userId: adaId, profile_image: new RegExp(`^${escaped}\\d+-pic\\.png$`) }, 'POST /upload_profile_pic');
  const imageUrl = r.json && r.json.user && r.json.user.profile_image;
  if (typeof imageUrl === 'string' && imageUrl.startsWith(urlPrefix)) {
    const key = decodeURIComponent(imageUrl.slice(`${peers.s3Endpoint}/${BUCKET}/`.length));
    const obj = await peers.s3.getObject({ Bucket: BUCKET, Key: key }).promise().catch((e) => ({ error: e }));
    check(obj.Body && Buffer.compare(obj.Body, PNG) === 0, 'S3 object: the uploaded PNG bytes', obj.error ? String(obj.error) : obj.ContentLength);
  }
  r = await call('GET', '/users/me', { headers: bearer });
  check(r.json && r.json.user && r.json.user.profile_image === imageUrl, 'GET /users/me: the new profile_image', r.text);
  r = await call('POST', '/upload_profile_pic', { headers: Object.assign({ 'Content-Type': 'application/json' }, bearer), body: {} });
  checkError(r, 400, 'missing_file', 'POST /upload_profile_pic without a file');
  const wrongField = multipart('avatar', 'pic.png', 'image/png', PNG);
  r = await call('POST', '/upload_profile_pic', { headers: Object.assign({ 'Content-Type': wrongField.contentType }, bearer), body: wrongField.body });
  checkError(r, 400, 'missing_file', 'POST /upload_profile_pic with the file under another name');
  r = await call('POST', '/upload_profile_pic', { headers: { 'Content-Type': form.contentType }, body: form.body });
  checkError(r, 401, 'unauthorized', 'POST /upload_profile_pic without a token');

  // unknown path, wrong method
  r = await call('GET', '/nope');
  checkError(r, 404, 'not_found', 'GET /nope');
  r = await call('GET', '/signup');
  checkError(r, 405, 'method_not_allowed', 'GET /signup');
  check(r.headers.allow === 'POST', 'GET /signup: Allow: POST', r.headers.allow);
  r = await call('DELETE', '/users/me', { headers: bearer });
  checkError(r, 405, 'method_not_allowed', 'DELETE /users/me');

  check(/^READY \d+\n$/.test(server.log), 'server.js: nothing on stdout/stderr besides READY', server.log);
  return { token, adaId };
}

// ------------------------------------------------- Runtime API (runtime.js)
// A minimal Runtime API: events are queued; GET /next waits for one; the
// runtime's answers resolve the promise enqueue() returned.
class RuntimeEmulator {
  constructor() {
    this.queue = [];
    this.waiting = [];
    this.pending = new Map();
    this.firstNextAt = null;
    this.initError = null;
    this.onInitError = null;
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  listen() {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => resolve(this.server.address().port)));
  }

  close() {
    for (const res of this.waiting) res.destroy();
    this.server.closeAllConnections();
    this.server.close();
  }

  enqueue(event) {
    const id = crypto.randomUUID();
    const deadline = Date.now() + 30_000;
    const done = new Promise((resolve) => this.pending.set(id, resolve));
    this.queue.push({ id, deadline, body: JSON.stringify(event) });
    this.dispatch();
    return { id, deadline, done };
  }

  dispatch() {
    while (this.queue.length && this.waiting.length) {
      const res = this.waiting.shift();
      const inv = this.queue.shift();
      res.writeHead(200, {
        'Content-Type': 'application/json',
        'Lambda-Runtime-Aws-Request-Id': inv.id,
        'Lambda-Runtime-Deadline-Ms': String(inv.deadline),
        'Lambda-Runtime-Invoked-Function-Arn': 'arn:aws:lambda:us-east-1:123456789012:function:express-original',
        'Lambda-Runtime-Trace-Id': `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${crypto.randomBytes(12).toString('hex')};Sampled=0`,
      });
      res.end(inv.body);
    }
  }

  handle(req, res) {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const at = process.hrtime.bigint();
      const base = '/2018-06-01/runtime';
      if (req.method === 'GET' && req.url === `${base}/invocation/next`) {
        if (this.firstNextAt === null) this.firstNextAt = at;
        this.waiting.push(res);
        this.dispatch();
        return;
      }
      const m = req.method === 'POST' && req.url.match(/^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/);
      if (m && this.pending.has(m[1])) {
        const resolve = this.pending.get(m[1]);
        this.pending.delete(m[1]);
        res.writeHead(202, { 'Content-Type': 'application/json' }).end('{"status":"OK"}');
        resolve({ kind: m[2], body, headers: req.headers, at });
        return;
      }
      if (req.method === 'POST' && req.url === `${base}/init/error`) {
        this.initError = { body, headers: req.headers };
        res.writeHead(202, { 'Content-Type': 'application/json' }).end('{"status":"OK"}');
        if (this.onInitError) this.onInitError();
        return;
      }
      res.writeHead(400, { 'Content-Type': 'application/json' }).end('{"errorMessage":"bad request"}');
    });
  }
}

const sampleEvent = JSON.parse(fs.readFileSync(path.join(EVENTS, 'apigw-v2-request-no-authorizer.json'), 'utf8'));

// An API Gateway HTTP API (payload 2.0) event, as API Gateway sends it.
function v2Event({ method = 'GET', rawPath, query = '', headers = {}, body, base64 = false }) {
  const e = structuredClone(sampleEvent);
  e.rawPath = rawPath;
  e.rawQueryString = query;
  e.requestContext.http.method = method;
  e.requestContext.http.path = rawPath;
  e.requestContext.requestId = `${crypto.randomBytes(10).toString('base64')}`;
  e.requestContext.timeEpoch = Date.now();
  if (query) e.queryStringParameters = Object.fromEntries(new URLSearchParams(query));
  Object.assign(e.headers, headers);
  if (body === undefined) {
    e.headers['content-length'] = '0';
  } else {
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
    e.headers['content-length'] = String(bytes.length);
    e.body = base64 ? bytes.toString('base64') : bytes.toString('utf8');
  }
  e.isBase64Encoded = base64;
  return e;
}

async function invokeChecked(emu, event, what) {
  const inv = emu.enqueue(event);
  const out = await Promise.race([inv.done, new Promise((resolve) => setTimeout(() => resolve(null), 20_000))]);
  if (!check(out !== null, `${what}: answered within 20 s`)) return { inv, out: null };
  return { inv, out, result: out.kind === 'response' ? JSON.parse(out.body) : undefined };
}

function checkProxyResult(result, status, what) {
  check(result && result.statusCode === status, `${what}: statusCode ${status}`, result);
  check(result && result.isBase64Encoded === false, `${what}: isBase64Encoded false`, result && result.isBase64Encoded);
  check(result && result.headers && /^application\/json/.test(result.headers['content-type']), `${what}: JSON content type`, result && result.headers);
  try {
    return JSON.parse(result.body);
  } catch {
    check(false, `${what}: a JSON body`, result && result.body);
    return undefined;
  }
}

async function runtimeChecks(peers, { token, adaId }) {
  // 1. The real handler, as Lambda runs it.
  const emu = new RuntimeEmulator();
  const apiPort = await emu.listen();
  const rt = start('runtime.js', [path.join(HERE, 'runtime.js')],
    appEnv(peers, { AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${apiPort}` }));
  const health = v2Event({ rawPath: '/health' });
  let { out, result } = await invokeChecked(emu, health, 'runtime GET /health');
  const timing = {};
  if (emu.firstNextAt !== null) timing.firstNextMs = Number(emu.firstNextAt - rt.spawnedAt) / 1e6;
  if (out) {
    timing.firstResponseMs = Number(out.at - rt.spawnedAt) / 1e6;
    check(out.kind === 'response', 'runtime GET /health: posted to /response', out);
    const body = checkProxyResult(result, 200, 'runtime GET /health');
    check(body && body.status === 'ok', 'runtime GET /health: {"status":"ok"}', body);
    check(result.headers['x-request-id'] === health.requestContext.requestId, 'runtime GET /health: x-request-id = API Gateway requestId',
      { got: result.headers && result.headers['x-request-id'], want: health.requestContext.requestId });
  }

  ({ out, result } = await invokeChecked(emu, v2Event({ rawPath: '/users', query: 'limit=2', headers: { authorization: `Bearer ${token}` } }), 'runtime GET /users?limit=2'));
  let body = out && checkProxyResult(result, 200, 'runtime GET /users?limit=2');
  check(body && Array.isArray(body.users) && body.users.length === 2 && typeof body.next_cursor === 'string',
    'runtime GET /users?limit=2: 2 users and a cursor', body);

  ({ out, result } = await invokeChecked(emu, v2Event({ method: 'POST', rawPath: '/login', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'bob@example.com', password: 'password123' }) }), 'runtime POST /login'));
  body = out && checkProxyResult(result, 200, 'runtime POST /login');
  check(body && typeof body.token === 'string' && body.user && body.user.email === 'bob@example.com', 'runtime POST /login: token and user', body);

  const form = multipart('image', 'me.png', 'image/png', PNG);
  ({ out, result } = await invokeChecked(emu, v2Event({ method: 'POST', rawPath: '/upload_profile_pic',
    headers: { 'content-type': form.contentType, authorization: `Bearer ${token}` }, body: form.body, base64: true }),
  'runtime POST /upload_profile_pic (base64 multipart)'));
  body = out && checkProxyResult(result, 200, 'runtime POST /upload_profile_pic');
  const pic = body && body.user && body.user.profile_image;
  check(typeof pic === 'string' && pic.startsWith(`${peers.s3Endpoint}/${BUCKET}/profile-images/${adaId}/`) && pic.endsWith('-me.png'),
    'runtime POST /upload_profile_pic: profile_image is the object URL', pic);
  if (typeof pic === 'string' && pic.startsWith(peers.s3Endpoint)) {
    const key = decodeURIComponent(pic.slice(`${peers.s3Endpoint}/${BUCKET}/`.length));
    const obj = await peers.s3.getObject({ Bucket: BUCKET, Key: key }).promise().catch((e) => ({ error: e }));
    check(obj.Body && Buffer.compare(obj.Body, PNG) === 0, 'runtime upload: the S3 object holds the PNG bytes', obj.error ? String(obj.error) : obj.ContentLength);
  }

  ({ out, result } = await invokeChecked(emu, v2Event({ rawPath: '/nope' }), 'runtime GET /nope'));
  body = out && checkProxyResult(result, 404, 'runtime GET /nope');
  check(body && body.error && body.error.code === 'not_found', 'runtime GET /nope: not_found', body);

  // A 2.0 event without requestContext.http: serverless-http throws a
  // TypeError; the runtime posts /error and goes on.
  ({ out } = await invokeChecked(emu, { version: '2.0', rawPath: '/health', headers: {}, requestContext: {} },
    'runtime malformed event'));
  if (out) {
    check(out.kind === 'error', 'runtime malformed event: posted to /error', out.kind);
    let err;
    try { err = JSON.parse(out.body); } catch { /* checked below */ }
    check(err && typeof err.errorType === 'string' && typeof err.errorMessage === 'string' && Array.isArray(err.stackTrace),
      'runtime /error body: errorType, errorMessage, stackTrace', out.body);
    check(out.headers['lambda-runtime-function-error-type'] === (err && err.errorType), 'runtime /error: Lambda-Runtime-Function-Error-Type header', out.headers);
  }
  ({ out, result } = await invokeChecked(emu, v2Event({ rawPath: '/health' }), 'runtime GET /health after an error'));
  check(out && out.kind === 'response' && result.statusCode === 200, 'runtime: serves again after an invocation error', out);

  timing.vmHwmKiB = readVmHwm(rt.pid);
  // Nothing logged: no invocation hit a 500, and the SDK's maintenance-mode
  // NOTE stays quiet because runtime.js sets AWS_EXECUTION_ENV as Lambda does.
  check(rt.log === '', 'runtime.js: nothing on stdout/stderr', rt.log);
  emu.close();
  try { process.kill(-rt.pid, 'SIGKILL'); } catch { /* gone */ }
  await rt.exited;

  // 2. The context and a callback-style handler, from a task root of our own.
  const taskRoot = path.join(tmp, 'task');
  fs.mkdirSync(taskRoot);
  fs.writeFileSync(path.join(taskRoot, 'probe.js'), `
    exports.ctx = async (event, context) => ({ event, awsRequestId: context.awsRequestId,
      remaining: context.getRemainingTimeInMillis(), arn: context.invokedFunctionArn,
      trace: process.env._X_AMZN_TRACE_ID, fn: context.functionName });
    exports.nested = { cb: (event, context, callback) => setTimeout(() => callback(null, { cb: event.n + 1 }), 5) };
    exports.boom = async () => { throw new RangeError('boom'); };
  `);
  for (const [handlerName, payload, want] of [
    ['probe.ctx', { n: 1 }, null],
    ['probe.nested.cb', { n: 41 }, { cb: 42 }],
    ['probe.boom', {}, 'RangeError'],
  ]) {
    const e2 = new RuntimeEmulator();
    const p2 = await e2.listen();
    const child = start(`runtime.js ${handlerName}`, [path.join(HERE, 'runtime.js')],
      appEnv(peers, { AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${p2}`, LAMBDA_TASK_ROOT: taskRoot, _HANDLER: handlerName }));
    const r2 = await invokeChecked(e2, payload, `runtime ${handlerName}`);
    if (r2.out) {
      if (handlerName === 'probe.ctx') {
        const c = r2.result || {};
        check(r2.out.kind === 'response' && c.event && c.event.n === 1, 'runtime context: the event passed through', r2.out);
        check(c.awsRequestId === r2.inv.id, 'runtime context: awsRequestId', c);
        check(c.remaining > 0 && c.remaining <= r2.inv.deadline - Date.now() + 5000 && c.remaining <= 30_000,
          'runtime context: getRemainingTimeInMillis from the deadline', c.remaining);
        check(/^arn:aws:lambda:/.test(c.arn) && /^Root=1-/.test(c.trace) && c.fn === 'express-original',
          'runtime context: function ARN, _X_AMZN_TRACE_ID, function name', c);
      } else if (typeof want === 'string') {
        let err;
        try { err = JSON.parse(r2.out.body); } catch { /* checked */ }
        check(r2.out.kind === 'error' && err && err.errorType === want && err.errorMessage === 'boom',
          `runtime ${handlerName}: a rejected handler posts /error ${want}`, r2.out);
      } else {
        check(r2.out.kind === 'response' && JSON.stringify(r2.result) === JSON.stringify(want),
          `runtime ${handlerName}: the callback's result`, r2.out);
      }
    }
    e2.close();
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    await child.exited;
  }

  // 3. An init error: a handler module that is not there.
  const e3 = new RuntimeEmulator();
  const p3 = await e3.listen();
  const initErrorPosted = new Promise((resolve) => { e3.onInitError = resolve; });
  const bad = start('runtime.js (missing handler)', [path.join(HERE, 'runtime.js')],
    appEnv(peers, { AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${p3}`, _HANDLER: 'missing.handler' }));
  const exit = await Promise.race([bad.exited, new Promise((resolve) => setTimeout(() => resolve(null), 20_000))]);
  await Promise.race([initErrorPosted, new Promise((resolve) => setTimeout(resolve, 1000))]);
  check(exit && exit.code === 1, 'runtime init error: exits 1', exit);
  let initErr;
  try { initErr = e3.initError && JSON.parse(e3.initError.body); } catch { /* checked */ }
  check(initErr && initErr.errorType === 'Runtime.ImportModuleError' && e3.firstNextAt === null,
    'runtime init error: posted to /init/error as Runtime.ImportModuleError before any /next', e3.initError);
  e3.close();

  return timing;
}

function readVmHwm(pid) {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmHWM:\s+(\d+) kB/m);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

// ----------------------------------------------------------------------- main
let timing = {};
try {
  const peers = await startPeers();
  const session = await httpChecks(peers);
  timing = await runtimeChecks(peers, session);
} catch (err) {
  console.error(`smoke: could not run: ${err && err.stack}`);
  clearTimeout(overall);
  console.log(`smoke: ${passed} passed, ${failed + 1} failed`);
  process.exit(2);
}
clearTimeout(overall);
const fmt = (v, unit) => (v === undefined ? 'n/a' : `${v.toFixed(1)} ${unit}`);
console.log(`runtime.js: spawn to first /next ${fmt(timing.firstNextMs, 'ms')}, to first response ${fmt(timing.firstResponseMs, 'ms')}, ` +
  `VmHWM after 7 invocations ${fmt(timing.vmHwmKiB && timing.vmHwmKiB / 1024, 'MiB')}`);
console.log(`smoke: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
