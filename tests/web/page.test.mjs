// The web page (web/) end to end, in Debian's headless Chromium driven by
// playwright-core (tests/peers), against a real gatehouse on loopback:
// sign-up, login, upload with progress, avatars in the paged list, the
// silent refresh of an expired access token, the way back to the login form
// when the refresh is refused, logout, and the human error messages; the
// account e-mails (the outbox's files, as mailparser reads them): a link
// opened spends nothing until its button is pressed, then verifies the
// address, resets the password, or moves the account to a new address; the
// account area's verification e-mail, name, password and e-mail change, the
// download of the account's data (a file, the token in no URL) and the
// account's deletion (password and confirmation); with EMAIL_VERIFICATION=
// required (a server of its own), login's refusal and "Send the link again".
// The page comes from gatehouse itself (embedded, at /); a shorter run loads
// web/ as static files from another loopback origin, its API named in
// config.js as a deployer would. The attack of issue 12 runs against both:
// a second loopback server plays the attacker that a link's ?api= names,
// and receives nothing; a session stored for one API is never sent to
// another; the headers' Content-Security-Policy holds even a script in the
// page to gatehouse, and the API page (/docs) still renders under its own.
//
//   node page.test.mjs <gatehouse binary> <output dir>
//
// Saves <output dir>/page.png: the list showing the uploaded avatar, and
// <output dir>/account.png: the account area.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

import { freePort, startGatehouse as startServer } from '../support/gatehouse-server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const webDir = path.resolve(here, '../../web');
const peersDir = path.resolve(here, '../peers');
const chromiumPath = '/usr/bin/chromium';

const [gatehouseBinary, outputDir] = process.argv.slice(2);
if (!gatehouseBinary || !outputDir) {
  console.error('usage: node page.test.mjs <gatehouse binary> <output dir>');
  process.exit(2);
}
if (!fs.existsSync(chromiumPath)) {
  console.error(`${chromiumPath} is missing: run scripts/install-deps.sh (Debian's chromium)`);
  process.exit(1);
}
let chromium;
try {
  ({ chromium } = createRequire(path.join(peersDir, 'package.json'))('playwright-core'));
} catch (e) {
  console.error(`playwright-core is missing: run \`npm ci\` in ${peersDir} (${e.message})`);
  process.exit(1);
}

const JWT_SECRET = randomBytes(32).toString('hex');
const MAX_IMAGE_BYTES = 256 * 1024;
const PAGE_SIZE = 20;  // web/app.js

// ---------------------------------------------------------------------------
// Helpers: ports, processes, a PNG, tokens.

// The server runs under the helper's watchdog: however this script ends,
// the server stops and its data goes.
function startGatehouse() {
  return startServer(gatehouseBinary, {
    dataDirPrefix: 'gatehouse-web-',
    // Mail to the outbox (MAIL_TRANSPORT's default, DATA_DIR/outbox), and
    // no mail limit: 21 sign-ups come from one address.
    env: { JWT_ALG: 'HS256', JWT_SECRET, JWT_ISSUER: 'gatehouse', MAX_IMAGE_BYTES: String(MAX_IMAGE_BYTES), RATE_LIMIT_MAIL_PER_EMAIL: '0', RATE_LIMIT_MAIL_PER_IP: '0' },
    watchdog: true,
  });
}

// web/ as plain static files on another loopback port: the page deployed
// away from the API. configure(bases) is the deployer's edit of config.js
// (README): the apiBases line of web/config.js, and nothing else, changed.
// No security headers: the page's own meta CSP is all it has.
async function startStaticServer() {
  const types = { '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8',
                  '.js': 'text/javascript; charset=utf-8', '.svg': 'image/svg+xml' };
  const template = fs.readFileSync(path.join(webDir, 'config.js'), 'utf8');
  const emptyList = '  apiBases: [],\n';
  assert.equal(template.split(emptyList).length, 2, 'web/config.js has one empty apiBases line to edit');
  let config = template;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (req.method === 'GET' && url.pathname === '/config.js') {
      res.writeHead(200, { 'content-type': types['.js'], 'cache-control': 'no-store' });
      res.end(config);
      return;
    }
    const rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1));
    const file = path.resolve(webDir, rel);
    if (req.method !== 'GET' || !file.startsWith(webDir + path.sep) || !fs.existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': types[path.extname(file)] || 'application/octet-stream' });
    res.end(fs.readFileSync(file));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    configure(bases) {
      config = template.replace(emptyList, `  apiBases: ${JSON.stringify(bases)},\n`);
    },
    stop: () => new Promise((r) => server.close(r)),
  };
}

// The server a link's ?api= would name: it records every request, lets any
// origin read its answers (CORS, preflights included), and answers 401 to a
// refresh, as an attacker would, so that the page forgets the token it sent
// and reuse detection never fires. It must see nothing at all.
async function startAttacker() {
  const requests = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      requests.push({ method: req.method, url: req.url, body });
      const cors = {
        'access-control-allow-origin': req.headers.origin || '*',
        'access-control-allow-methods': 'GET, POST, PUT, DELETE, OPTIONS',
        'access-control-allow-headers': req.headers['access-control-request-headers'] || '*',
        'access-control-expose-headers': '*',
      };
      if (req.method === 'OPTIONS') {
        res.writeHead(204, cors).end();
        return;
      }
      const [status, code] = req.url === '/token/refresh' ? [401, 'invalid_refresh_token'] : [404, 'not_found'];
      res.writeHead(status, { ...cors, 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ error: { code, message: code.replace(/_/g, ' ') } }));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  let from = 0;
  const describe = (r) => `${r.method} ${r.url} ${r.body}`.trim();
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    // "METHOD /path body" of what arrived since the last startOver(), and
    // of everything: assertions show what was sent.
    seen: () => requests.slice(from).map(describe),
    everything: () => requests.map(describe),
    startOver: () => { from = requests.length; },
    stop: () => new Promise((r) => server.close(r)),
  };
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function pngChunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

// A real RGB PNG: a violet-to-orange gradient with a pale disc, and a little
// noise so that it is some tens of KB (the progress bar has work to show).
function makePng(size) {
  const raw = Buffer.alloc(size * (size * 3 + 1));
  let seed = 12345;
  const noise = () => {  // xorshift32: deterministic, and noisy enough not to compress
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) & 0x0f;
  };
  for (let y = 0; y < size; y++) {
    const row = y * (size * 3 + 1);
    raw[row] = 0;  // filter: none
    for (let x = 0; x < size; x++) {
      const t = (x + y) / (2 * size);
      let r = 110 + 140 * t, g = 60 + 90 * t, b = 210 - 170 * t;
      const dx = x - size * 0.5, dy = y - size * 0.42;
      if (dx * dx + dy * dy < (size * 0.22) ** 2) { r = 250; g = 236; b = 200; }
      const o = row + 1 + x * 3;
      raw[o] = Math.min(255, r + noise());
      raw[o + 1] = Math.min(255, g + noise());
      raw[o + 2] = Math.min(255, b + noise());
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8;  // bit depth
  ihdr[9] = 2;  // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

// An access token exactly like v1's (the page test runs JWT_ALG=HS256), signed with its secret, with
// the given lifetime relative to now (negative: already expired).
function accessToken(user, expiresInSeconds) {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url({ alg: 'HS256', typ: 'JWT' });
  const claims = b64url({ sub: user.userId, userId: user.userId, email: user.email, iat: now - 600,
                          exp: now + expiresInSeconds, iss: 'gatehouse' });
  const sig = createHmac('sha256', JWT_SECRET).update(`${header}.${claims}`).digest('base64url');
  return `${header}.${claims}.${sig}`;
}

async function api(base, method, route, { json, token } = {}) {
  const headers = {};
  if (json !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(base + route, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

// ---------------------------------------------------------------------------
// The fixture: one server, one browser, one page for the whole story.

let gatehouse;
let staticServer;
let attacker;
let browser;
let context;
let page;
let pageUrl;
const foreignRequests = [];
const apiCalls = [];  // "METHOD /path -> status", in order
const apiPaths = new Set(['/signup', '/login', '/users', '/users/me', '/upload_profile_pic', '/token/refresh', '/logout',
  '/email/verify/request', '/email/verify/confirm', '/password/forgot', '/password/reset', '/password/change',
  '/email/change', '/email/change/confirm', '/users/me/export']);
const emailOf = (name) => name.normalize('NFD').replace(/[^A-Za-z ]/g, '').toLowerCase().replace(/ /g, '.') + '@example.com';
const otherNames = ['Grace Hopper', 'Alan Turing', 'Barbara Liskov', 'Edsger Dijkstra', 'Frances Allen',
  'Donald Knuth', 'Margaret Hamilton', 'John Backus', 'Radia Perlman', 'Ken Thompson', 'Hedy Lamarr',
  'Dennis Ritchie', 'Karen Spärck Jones', 'Tony Hoare', 'Adele Goldberg', 'Niklaus Wirth', 'Shafi Goldwasser',
  'Leslie Lamport', 'Sophie Wilson', 'Claude Shannon', 'Anita Borg'];

const ada = { name: 'Ada Lovelace', email: 'ada@example.com', password: 'correct horse battery' };
let adaUser;  // the User object, once signed up
const png = makePng(160);
const outputPng = path.join(path.resolve(outputDir), 'page.png');
const accountPng = path.join(path.resolve(outputDir), 'account.png');

before(async () => {
  assert.ok(png.length > 20 * 1024 && png.length < MAX_IMAGE_BYTES, `fixture PNG is ${png.length} bytes`);
  gatehouse = await startGatehouse();
  staticServer = await startStaticServer();
  attacker = await startAttacker();

  // The page is embedded in the binary and served at / (src/web): the story
  // runs on gatehouse's own origin; ?api= has a test of its own below.
  pageUrl = gatehouse.base + '/';
  console.log(`# page: ${pageUrl}`);

  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    // Chromium's sandbox needs user namespaces it cannot have as root.
    args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
  });
  context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  // Only loopback: no CDN, no fonts, nothing else. Anything else is
  // recorded (and fails the last test) and never leaves the machine.
  await context.route((url) => !['127.0.0.1'].includes(url.hostname) && !['data:', 'blob:'].includes(url.protocol),
                      (route) => { foreignRequests.push(route.request().url()); return route.abort(); });
  context.on('request', (req) => {
    const url = new URL(req.url());
    if (url.protocol !== 'data:' && url.protocol !== 'blob:' && url.hostname !== '127.0.0.1') foreignRequests.push(req.url());
  });
  context.on('response', (res) => {
    const url = new URL(res.url());
    if (url.origin === gatehouse.base && res.request().method() !== 'OPTIONS' && apiPaths.has(url.pathname)) {
      apiCalls.push(`${res.request().method()} ${url.pathname} -> ${res.status()}`);
    }
  });
  page = await context.newPage();
  page.on('pageerror', (e) => console.log(`# page error: ${e.message}`));

  // Others were here first: 21 users, so that Ada is on the second page.
  const others = await Promise.all(otherNames.map((name, i) => api(gatehouse.base, 'POST', '/signup', {
    json: { name, email: emailOf(name), password: 'password123' },
  })));
  assert.deepEqual(others.map((r) => r.status), Array(21).fill(201));
});

after(async () => {
  await browser?.close();
  await staticServer?.stop();
  await attacker?.stop();
  await gatehouse?.stop();
});

const text = (selector) => page.locator(selector).innerText();
const activeIdOf = (on) => on.evaluate(() => document.activeElement && document.activeElement.id);
const activeId = () => activeIdOf(page);

async function login(email, password) {
  const form = page.locator('#login-form');
  await form.getByLabel('E-mail').fill(email);
  await form.getByLabel('Password').fill(password);
  await form.getByRole('button', { name: 'Log in' }).click();
}

async function waitForList(count, on = page) {
  await on.waitForFunction((n) => document.querySelectorAll('#users-list > li').length === n &&
                                  document.getElementById('users-list').getAttribute('aria-busy') === 'false', count);
}

// The page's stored session: {api, refresh_token}, or null.
const storedSession = (on = page) => on.evaluate(() => JSON.parse(sessionStorage.getItem('gatehouse.session')));

// Makes the next GET /users carry `token` instead of the page's own: what the
// page sends once its access token has expired. Returns the undo.
async function presentOnNextUsersCall(token) {
  let used = false;
  const matches = (url) => url.origin === gatehouse.base && url.pathname === '/users';
  const handler = async (route) => {
    if (used || route.request().method() !== 'GET') return route.fallback();
    used = true;
    await route.continue({ headers: { ...route.request().headers(), authorization: `Bearer ${token}` } });
  };
  await page.route(matches, handler);
  return () => page.unroute(matches, handler);
}

// ---------------------------------------------------------------------------

test('every error code the server can send has a human message in the page', () => {
  // The codes as src/ raises them: error(error_kind::..., "<code>", ...).
  const srcDir = path.resolve(here, '../../src');
  const codes = new Set();
  for (const file of fs.readdirSync(srcDir, { recursive: true })) {
    if (!/\.[ch]pp$/.test(file)) continue;
    const code = fs.readFileSync(path.join(srcDir, file), 'utf8');
    for (const m of code.matchAll(/error_kind::\w+,\s*"([a-z_]+)"/g)) codes.add(m[1]);
  }
  assert.ok(codes.size >= 20 && codes.has('email_taken'), `found ${[...codes]}`);
  const app = fs.readFileSync(path.join(webDir, 'app.js'), 'utf8');
  const missing = [...codes].filter((c) => !app.includes(`case '${c}':`));
  assert.deepEqual(missing, [], 'codes without a message in web/app.js describeError');
});

test('gatehouse serves web/ as it is in the tree, index.html at /', async () => {
  for (const [route, file, type] of [['/', 'index.html', 'text/html'], ['/app.js', 'app.js', 'javascript'],
                                     ['/style.css', 'style.css', 'text/css']]) {
    const res = await fetch(gatehouse.base + route);
    assert.equal(res.status, 200, route);
    assert.ok(res.headers.get('content-type').includes(type), `${route}: ${res.headers.get('content-type')}`);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(fs.readFileSync(path.join(webDir, file))),
              `${route} is web/${file} (rebuild gatehouse after editing web/)`);
  }
});

test('the page loads signed out, with labelled forms', async () => {
  await page.goto(pageUrl);
  await page.locator('#signed-out-view').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#signed-in-view').isVisible(), false);
  assert.equal(await text('#api-base'), gatehouse.base);
  assert.equal(await text('#page-error'), '');
  assert.equal(await page.locator('#api-chooser').isVisible(), false);
  // Every input has a label (getByLabel finds each one).
  for (const [form, labels] of [['#login-form', ['E-mail', 'Password']], ['#signup-form', ['Name', 'E-mail', 'Password']]]) {
    for (const label of labels) assert.equal(await page.locator(form).getByLabel(label, { exact: true }).count(), 1, `${form} ${label}`);
  }
});

test('sign-up creates the account and moves on to the login form', async () => {
  const form = page.locator('#signup-form');
  await form.getByLabel('Name').fill(ada.name);
  await form.getByLabel('E-mail').fill(ada.email.toUpperCase());
  await form.getByLabel('Password', { exact: true }).fill(ada.password);
  await form.getByRole('button', { name: 'Create account' }).click();
  await page.locator('#notice', { hasText: 'Account created' }).waitFor();
  assert.equal(await text('#notice'), `Account created for ${ada.email}. Log in with your password.`);
  // The e-mail as stored (lower-cased) is filled in; focus waits in the password field.
  assert.equal(await page.locator('#login-email').inputValue(), ada.email);
  assert.equal(await activeId(), 'login-password');
  assert.ok(apiCalls.includes('POST /signup -> 201'), apiCalls.join('\n'));
});

test('sign-up errors are human messages tied to their field', async () => {
  const form = page.locator('#signup-form');
  await form.getByLabel('Name').fill('Someone Else');
  await form.getByLabel('E-mail').fill(ada.email);
  await form.getByLabel('Password', { exact: true }).fill('another password');
  await form.getByRole('button', { name: 'Create account' }).click();
  await page.locator('#signup-error', { hasText: 'already exists' }).waitFor();
  assert.equal(await text('#signup-error'), 'An account with this e-mail already exists. Log in instead.');
  assert.equal(await page.locator('#signup-email').getAttribute('aria-invalid'), 'true');
  assert.equal(await activeId(), 'signup-email');

  await form.getByLabel('E-mail').fill('not-an-address');
  await form.getByRole('button', { name: 'Create account' }).click();
  await page.locator('#signup-error', { hasText: 'valid e-mail' }).waitFor();
  assert.equal(await text('#signup-error'), 'Enter a valid e-mail address, like ada@example.com.');
  assert.ok(apiCalls.includes('POST /signup -> 409') && apiCalls.includes('POST /signup -> 400'), apiCalls.join('\n'));
  await form.getByLabel('Name').fill('');
  await form.getByLabel('E-mail').fill('');
  await form.getByLabel('Password', { exact: true }).fill('');
});

// Issue 21: a sign-up that did create the account is answered 503 (the
// store took the write, its answer was lost): the route lets the request
// reach gatehouse, then answers the page as an honest 503 would. The page
// sends the same request again with the same Idempotency-Key and gets the
// first answer: "Account created", not "this e-mail is taken" for the
// user's own new account.
test('a sign-up answered 503 after it happened is retried with its Idempotency-Key and ends as created, once', async () => {
  const lost = { name: 'Lou Stanswer', email: 'lost.answer@example.com', password: 'a lost answer password' };
  const keys = [];
  await page.route(`${gatehouse.base}/signup`, async (route) => {
    keys.push(route.request().headers()['idempotency-key']);
    if (keys.length > 1) return route.continue();
    const created = await route.fetch();  // gatehouse creates the account...
    assert.equal(created.status(), 201);
    return route.fulfill({  // ...and the page is told the storage failed
      status: 503,
      headers: { 'content-type': 'application/json; charset=utf-8', 'retry-after': '1',
                 'access-control-allow-origin': '*' },
      body: JSON.stringify({ error: { code: 'storage_unavailable', message: 'the service is temporarily unavailable' } }),
    });
  });
  try {
    const form = page.locator('#signup-form');
    await form.getByLabel('Name').fill(lost.name);
    await form.getByLabel('E-mail').fill(lost.email);
    await form.getByLabel('Password', { exact: true }).fill(lost.password);
    await form.getByRole('button', { name: 'Create account' }).click();
    await page.locator('#notice', { hasText: `Account created for ${lost.email}` }).waitFor();
  } finally {
    await page.unroute(`${gatehouse.base}/signup`);
  }
  assert.equal(keys.length, 2, 'one answered 503, one retry');
  assert.match(keys[0], /^[ -~]{1,255}$/);
  assert.equal(keys[1], keys[0], 'the retry carries the same key');
  assert.equal((await userOnServer(lost.email, lost.password)).name, lost.name);
  assert.equal((await api(gatehouse.base, 'POST', '/signup', { json: lost })).status, 409, 'exactly one account');
  // Gone again, so the list's counts below are the suite's own.
  const session = await api(gatehouse.base, 'POST', '/login', { json: { email: lost.email, password: lost.password } });
  const gone = await api(gatehouse.base, 'DELETE', '/users/me', { json: { password: lost.password }, token: session.body.token });
  assert.equal(gone.status, 204);
  await page.locator('#login-password').fill('');
});

test('every request that changes something carries a fresh Idempotency-Key', async () => {
  const sent = [];
  const onRequest = (r) => {
    if (r.url().startsWith(gatehouse.base) && ['POST', 'PATCH', 'DELETE'].includes(r.method()))
      sent.push(r.headers()['idempotency-key']);
  };
  page.on('request', onRequest);
  try {
    for (const password of ['not the password', 'still not the password']) {
      const answered = page.waitForResponse((r) => r.url() === `${gatehouse.base}/login`);
      await login(ada.email, password);
      await answered;
    }
  } finally {
    page.off('request', onRequest);
  }
  assert.equal(sent.length, 2);
  for (const key of sent) assert.match(key || '', /^[ -~]{1,255}$/);
  assert.notEqual(sent[0], sent[1], 'two actions, two keys');
});

test('a wrong password says so, on the password field', async () => {
  await login(ada.email, 'not the password');
  await page.locator('#login-error', { hasText: 'Wrong' }).waitFor();
  assert.equal(await text('#login-error'), 'Wrong e-mail or password.');
  assert.equal(await page.locator('#login-password').getAttribute('aria-invalid'), 'true');
  assert.equal(await activeId(), 'login-password');
});

test('login shows the first page of users and keeps only the refresh token in storage', async () => {
  await login(ada.email, ada.password);
  await page.locator('#signed-in-view').waitFor({ state: 'visible' });
  assert.equal(await text('#signed-in-title'), `Welcome, ${ada.name}`);
  assert.equal(await activeId(), 'signed-in-title');
  await waitForList(PAGE_SIZE);
  assert.equal(await page.locator('#users-more').isVisible(), true);
  assert.equal(await text('#my-name'), ada.name);
  assert.equal(await text('#my-avatar'), 'AL');  // no picture yet: initials

  const stored = await page.evaluate(() => ({ session: { ...sessionStorage }, local: { ...localStorage } }));
  assert.deepEqual(Object.keys(stored.session), ['gatehouse.session']);
  // Bound to the API that issued it.
  const session = JSON.parse(stored.session['gatehouse.session']);
  assert.deepEqual(Object.keys(session), ['api', 'refresh_token']);
  assert.equal(session.api, gatehouse.base);
  assert.match(session.refresh_token, /^[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(stored.local, {});
  // Ada's userId for the checks below, and proof that tokens made by this
  // test (to stand for an expired one) are the server's own kind.
  adaUser = (await api(gatehouse.base, 'POST', '/login', { json: { email: ada.email, password: ada.password } })).body.user;
  const me = await api(gatehouse.base, 'GET', '/users/me', { token: accessToken(adaUser, 600) });
  assert.equal(me.status, 200, 'a token made here is accepted: the expired ones below differ only in exp');
  assert.equal(me.body.user.userId, adaUser.userId);
});

test('uploads that the server refuses show why (415, 413)', async () => {
  const form = page.locator('#upload-form');
  await form.getByLabel('Picture (JPEG, PNG, GIF or WebP)').setInputFiles({ name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('these are notes, not a picture\n') });
  await form.getByRole('button', { name: 'Upload picture' }).click();
  await page.locator('#upload-error', { hasText: 'not a JPEG' }).waitFor();
  assert.equal(await text('#upload-error'), 'This file is not a JPEG, PNG, GIF or WebP image. Choose a picture in one of these formats.');
  assert.equal(await page.locator('#upload-file').getAttribute('aria-invalid'), 'true');

  const big = Buffer.concat([png, randomBytes(MAX_IMAGE_BYTES)]);
  await form.getByLabel('Picture (JPEG, PNG, GIF or WebP)').setInputFiles({ name: 'huge.png', mimeType: 'image/png', buffer: big });
  await form.getByRole('button', { name: 'Upload picture' }).click();
  await page.locator('#upload-error', { hasText: 'too large' }).waitFor();
  assert.match(await text('#upload-error'), /^This picture \(\d+ KB\) is too large for the server\. Choose a smaller one\.$/);
  assert.ok(apiCalls.includes('POST /upload_profile_pic -> 415') && apiCalls.includes('POST /upload_profile_pic -> 413'), apiCalls.join('\n'));
});

test('a PNG uploads with the progress bar reaching 100%, and becomes the avatar', async () => {
  // Slow uploads down (CDP network emulation) so the bar has steps to show.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 64 * 1024 });
  await page.evaluate(() => {
    window.__progressSeen = [];
    const bar = document.getElementById('upload-progress');
    new MutationObserver(() => window.__progressSeen.push(Number(bar.value))).observe(bar, { attributes: true, attributeFilter: ['value'] });
  });
  const uploadRequest = page.waitForRequest((r) => r.url() === gatehouse.base + '/upload_profile_pic' && r.method() === 'POST');
  const form = page.locator('#upload-form');
  await form.getByLabel('Picture (JPEG, PNG, GIF or WebP)').setInputFiles({ name: 'ada.png', mimeType: 'image/png', buffer: png });
  await form.getByRole('button', { name: 'Upload picture' }).click();
  await page.locator('#upload-status', { hasText: 'saved' }).waitFor();
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await cdp.detach();

  const body = (await uploadRequest).postDataBuffer();
  assert.ok(body.includes('Content-Disposition: form-data; name="image"; filename="ada.png"'), 'the file goes in the part named image');
  assert.ok(body.includes(png), 'the bytes are the PNG');
  const seen = await page.evaluate(() => window.__progressSeen);
  console.log(`# progress values seen: ${seen.join(', ')}`);
  assert.equal(seen.at(-1), 100);
  assert.ok(seen.some((v) => v > 0 && v < 100), 'the bar showed progress between 0 and 100');
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i] >= seen[i - 1], `progress went back: ${seen.join(', ')}`);
  assert.equal(await page.locator('#upload-progress').evaluate((p) => p.value), 100);
  assert.equal(await text('#upload-percent'), '100%');
  assert.equal(await text('#upload-error'), '');
  assert.ok(apiCalls.includes('POST /upload_profile_pic -> 200'), apiCalls.join('\n'));

  const mine = page.locator('#my-avatar img');
  await page.waitForFunction(() => { const i = document.querySelector('#my-avatar img'); return i && i.complete && i.naturalWidth > 0; });
  assert.equal(await mine.evaluate((i) => i.naturalWidth), 160);
  assert.ok((await mine.getAttribute('src')).startsWith(gatehouse.base + '/files/profile-images/'), 'a signed /files URL');
});

test('"Load more users" pages on, and Ada is listed with her picture', async () => {
  await page.getByRole('button', { name: 'Load more users' }).click();
  await waitForList(22);
  assert.equal(await page.locator('#users-more').isVisible(), false, 'no more pages');
  const ids = await page.locator('#users-list > li').evaluateAll((lis) => lis.map((li) => li.dataset.userId));
  assert.equal(new Set(ids).size, 22, 'every user once');
  const item = page.locator(`#users-list > li[data-user-id="${adaUser.userId}"]`);
  assert.match(await item.innerText(), /Ada Lovelace\s+you\s+/);
  // The public view: only Ada's own entry shows an e-mail, hers.
  assert.deepEqual(await page.locator('#users-list .user-email').allInnerTexts(), [ada.email]);
  await page.waitForFunction((id) => {
    const img = document.querySelector(`#users-list > li[data-user-id="${id}"] img`);
    return img && img.complete && img.naturalWidth > 0;
  }, adaUser.userId);
  assert.equal(await item.locator('img').evaluate((i) => i.naturalWidth), 160);
  // Everyone else has initials.
  assert.equal(await page.locator('#users-list img').count(), 1);
  const first = page.locator('#users-list > li').first();
  const firstName = await first.locator('.user-name').innerText();
  const expected = firstName.split(' ')[0][0] + firstName.split(' ').at(-1)[0];
  assert.equal(await first.locator('.avatar').innerText(), expected);

  await item.scrollIntoViewIfNeeded();
  fs.mkdirSync(path.dirname(outputPng), { recursive: true });
  await page.screenshot({ path: outputPng, fullPage: true });
  console.log(`# screenshot: ${outputPng}`);
});

test('an expired access token is refreshed silently and the call retried', async () => {
  const before = (await storedSession()).refresh_token;
  const restore = await presentOnNextUsersCall(accessToken(adaUser, -120));
  const from = apiCalls.length;
  await page.getByRole('button', { name: 'Reload' }).click();
  await waitForList(PAGE_SIZE);
  await restore();
  assert.deepEqual(apiCalls.slice(from), ['GET /users -> 401', 'POST /token/refresh -> 200', 'GET /users -> 200']);
  assert.equal(await page.locator('#signed-in-view').isVisible(), true);
  assert.equal(await text('#users-error'), '');
  const { api: boundTo, refresh_token: afterRefresh } = await storedSession();
  assert.notEqual(afterRefresh, before, 'the refresh token rotated');
  assert.equal(boundTo, gatehouse.base);
  // The used one is spent: past the reuse grace it would revoke the session.
  assert.match(afterRefresh, /^[A-Za-z0-9_-]{43}$/);
});

test('a reload keeps the session (refresh token from sessionStorage)', async () => {
  const from = apiCalls.length;
  await page.reload();
  await page.locator('#signed-in-view').waitFor({ state: 'visible' });
  await waitForList(PAGE_SIZE);
  assert.deepEqual(apiCalls.slice(from, from + 2), ['POST /token/refresh -> 200', 'GET /users -> 200']);
  assert.equal(await text('#my-name'), ada.name);
});

test('logout revokes the session on the server and returns to the login form', async () => {
  const token = (await storedSession()).refresh_token;
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.locator('#notice', { hasText: 'logged out' }).waitFor();
  assert.equal(await text('#notice'), 'You are logged out.');
  assert.equal(await page.locator('#signed-out-view').isVisible(), true);
  assert.equal(await page.locator('#session-bar').isVisible(), false);
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  assert.equal(apiCalls.at(-1), 'POST /logout -> 204');
  const refused = await api(gatehouse.base, 'POST', '/token/refresh', { json: { refresh_token: token } });
  assert.equal(refused.status, 401);
  assert.equal(refused.body.error.code, 'invalid_refresh_token');
});

test('a refused refresh mid-session returns to the login form with the reason', async () => {
  await login(ada.email, ada.password);
  await waitForList(PAGE_SIZE);
  // The session is revoked elsewhere (logout in another client), and then
  // the access token expires.
  const token = (await storedSession()).refresh_token;
  assert.equal((await api(gatehouse.base, 'POST', '/logout', { json: { refresh_token: token } })).status, 204);
  const restore = await presentOnNextUsersCall(accessToken(adaUser, -120));
  const from = apiCalls.length;
  await page.getByRole('button', { name: 'Reload' }).click();
  await page.locator('#signed-out-view').waitFor({ state: 'visible' });
  await restore();
  assert.deepEqual(apiCalls.slice(from), ['GET /users -> 401', 'POST /token/refresh -> 401']);
  assert.equal(await text('#login-error'),
               'Your session has ended (it expired, was logged out, or was used elsewhere). Log in again.');
  assert.equal(await activeId(), 'signed-out-title');
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  assert.equal(await page.locator('#users-list > li').count(), 0, 'nothing of the session is left on screen');
});

// Fills and submits a form of `on`, then waits for its outcome: the notice
// `done` or the form's error.
async function submit(on, formId, fields, button, done) {
  const form = on.locator(formId);
  for (const [label, value] of fields) await form.getByLabel(label, { exact: true }).fill(value);
  await form.getByRole('button', { name: button }).click();
  await on.waitForFunction(([id, d]) => document.getElementById('notice').textContent.includes(d) ||
                                        document.querySelector(id + ' .form-error').textContent !== '', [formId, done]);
}

test('a static copy on another origin talks to the API its config.js names', async () => {
  staticServer.configure([gatehouse.base + '/']);  // a trailing slash is fine
  const other = await context.newPage();
  await other.goto(`${staticServer.base}/`);
  assert.equal(await other.locator('#api-base').innerText(), gatehouse.base);
  assert.equal(await other.locator('#page-error').innerText(), '');
  await submit(other, '#login-form', [['E-mail', ada.email], ['Password', ada.password]], 'Log in', 'Logged in');
  await waitForList(PAGE_SIZE, other);
  await other.waitForFunction(() => { const i = document.querySelector('#my-avatar img'); return i && i.complete && i.naturalWidth === 160; });
  assert.equal((await storedSession(other)).api, gatehouse.base);
  await other.close();

  staticServer.configure(['ftp://example.com']);
  const broken = await context.newPage();
  await broken.goto(`${staticServer.base}/`);
  assert.equal(await broken.locator('#page-error').innerText(),
               'config.js lists an API that is not an http:// or https:// base URL: ftp://example.com.');
  assert.equal(await broken.locator('#signed-out-view').isVisible(), false, 'no form to type a password into');
  await broken.close();
});

test('an unreachable server is a clear message, not a hang', async () => {
  const closedPort = await freePort();
  staticServer.configure([`http://127.0.0.1:${closedPort}`]);
  const other = await context.newPage();
  await other.goto(`${staticServer.base}/`);
  await submit(other, '#login-form', [['E-mail', ada.email], ['Password', ada.password]], 'Log in', 'Logged in');
  assert.equal(await other.locator('#login-error').innerText(),
               `Cannot reach the server at http://127.0.0.1:${closedPort}. Check that it is running and try again.`);
  await other.close();
});

// Issue 12, finding 1: https://gatehouse/?api=https://evil made the page
// post the password and, on every load, the refresh token to evil.
test('the page from gatehouse ignores ?api=: the attacker it names receives nothing through sign-up, login and reload', async () => {
  attacker.startOver();
  const victim = { name: 'Victor Tim', email: 'victor@example.com', password: 'a victim password' };
  const tab = await context.newPage();
  await tab.goto(`${gatehouse.base}/?api=${encodeURIComponent(attacker.base)}`);
  await tab.locator('#signed-out-view').waitFor({ state: 'visible' });
  await submit(tab, '#signup-form', [['Name', victim.name], ['E-mail', victim.email], ['Password', victim.password]],
               'Create account', 'Account created');
  assert.deepEqual(attacker.seen(), [], 'the sign-up went to the attacker');
  assert.equal(await tab.locator('#notice').innerText(), `Account created for ${victim.email}. Log in with your password.`);

  await submit(tab, '#login-form', [['Password', victim.password]], 'Log in', 'Logged in');
  assert.deepEqual(attacker.seen(), [], 'the password went to the attacker');
  await waitForList(PAGE_SIZE, tab);
  assert.equal(await tab.locator('#my-name').innerText(), victim.name);
  assert.equal((await storedSession(tab)).api, gatehouse.base);

  // The reload that used to post the refresh token to ?api=.
  const from = apiCalls.length;
  await tab.reload();
  await tab.locator('#signed-in-view').waitFor({ state: 'visible' });
  await waitForList(PAGE_SIZE, tab);
  assert.deepEqual(attacker.seen(), [], 'the refresh token went to the attacker');
  assert.deepEqual(apiCalls.slice(from, from + 2), ['POST /token/refresh -> 200', 'GET /users -> 200'],
                   'the session goes on at gatehouse');
  assert.equal(await tab.locator('#api-base').innerText(), gatehouse.base);
  // Said on the page: someone sent this link on purpose.
  assert.equal(await tab.locator('#page-error').innerText(),
               `The link to this page names a server for it to use (?api=); that was ignored. This page talks only to ${gatehouse.base}.`);
  await tab.close();
});

test('the page from gatehouse cannot reach another origin even from a script in it (Content-Security-Policy header)', async () => {
  attacker.startOver();
  const tab = await context.newPage();
  const response = await tab.goto(`${gatehouse.base}/`);
  const outcome = await tab.evaluate(async (target) => {
    const blocked = new Promise((resolve) => document.addEventListener(
      'securitypolicyviolation', (e) => resolve(`${e.effectiveDirective} ${e.blockedURI}`), { once: true }));
    try {
      await fetch(target + '/token/refresh', { method: 'POST', headers: { 'content-type': 'application/json' },
                                               body: JSON.stringify({ refresh_token: 'stolen' }) });
      return 'sent';
    } catch (e) {
      return `${e.name}; ${await blocked}`;
    }
  }, attacker.base);
  assert.deepEqual(attacker.seen(), []);
  assert.equal(outcome, `TypeError; connect-src ${attacker.base}/token/refresh`);
  assert.match(response.headers()['content-security-policy'], /(^|; )connect-src 'self'(;|$)/);
  await tab.close();
});

test('a static copy ignores ?api= too, without the server\'s header to hold it', async () => {
  attacker.startOver();
  staticServer.configure([gatehouse.base]);
  const tab = await context.newPage();
  await tab.goto(`${staticServer.base}/?api=${encodeURIComponent(attacker.base)}`);
  await submit(tab, '#login-form', [['E-mail', ada.email], ['Password', ada.password]], 'Log in', 'Logged in');
  assert.deepEqual(attacker.seen(), [], 'the password went to the attacker');
  assert.equal(await tab.locator('#api-base').innerText(), gatehouse.base);
  await waitForList(PAGE_SIZE, tab);
  await tab.reload();
  await tab.locator('#signed-in-view').waitFor({ state: 'visible' });
  await waitForList(PAGE_SIZE, tab);
  assert.deepEqual(attacker.seen(), []);
  await tab.close();
});

test('a session stored for one API is never sent to another, however the copy is reconfigured', async () => {
  attacker.startOver();
  staticServer.configure([gatehouse.base]);
  const tab = await context.newPage();
  await tab.goto(`${staticServer.base}/`);
  await submit(tab, '#login-form', [['E-mail', ada.email], ['Password', ada.password]], 'Log in', 'Logged in');
  await waitForList(PAGE_SIZE, tab);
  const issued = await storedSession(tab);
  assert.equal(issued.api, gatehouse.base);

  // Redeployed for another API (the attacker stands in for it): the tab's
  // stored session is not offered there; the page is signed out.
  staticServer.configure([attacker.base]);
  await tab.reload();
  await tab.locator('#signed-out-view').waitFor({ state: 'visible' });
  assert.equal(await tab.locator('#api-base').innerText(), attacker.base);
  assert.deepEqual(attacker.seen(), [], 'a token issued by gatehouse went to another API');
  assert.deepEqual(await storedSession(tab), issued, 'kept for the API that issued it');

  // Both configured: a chooser, on gatehouse (the stored session's API).
  staticServer.configure([attacker.base, gatehouse.base]);
  await tab.reload();
  await tab.locator('#signed-in-view').waitFor({ state: 'visible' });
  await waitForList(PAGE_SIZE, tab);
  const chooser = tab.getByLabel('API', { exact: true });
  assert.deepEqual(await chooser.locator('option').allInnerTexts(), [attacker.base, gatehouse.base]);
  assert.equal(await chooser.inputValue(), gatehouse.base);
  assert.equal(await tab.locator('#api-shown').isVisible(), false);
  // Switching reloads the page on the other API: signed out there.
  await Promise.all([tab.waitForEvent('load'), chooser.selectOption(attacker.base)]);
  await tab.locator('#signed-out-view').waitFor({ state: 'visible' });
  assert.equal(await tab.getByLabel('API', { exact: true }).inputValue(), attacker.base);
  assert.deepEqual(attacker.seen(), []);
  // And back: the session was gatehouse's all along.
  await Promise.all([tab.waitForEvent('load'), tab.getByLabel('API', { exact: true }).selectOption(gatehouse.base)]);
  await tab.locator('#signed-in-view').waitFor({ state: 'visible' });
  await waitForList(PAGE_SIZE, tab);
  assert.deepEqual(attacker.seen(), []);

  // A refresh token stored by the page before sessions were bound (its API
  // unknown) is dropped, never sent.
  staticServer.configure([attacker.base]);
  await tab.evaluate(() => sessionStorage.setItem('gatehouse.refresh_token', 'A'.repeat(43)));
  await tab.reload();
  await tab.locator('#signed-out-view').waitFor({ state: 'visible' });
  assert.equal(await tab.evaluate(() => sessionStorage.getItem('gatehouse.refresh_token')), null);
  assert.deepEqual(attacker.seen(), []);
  await tab.close();
});

test('the API page (/docs) renders and calls this server under its Content-Security-Policy header', async () => {
  const tab = await context.newPage();
  await tab.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(`${e.effectiveDirective} ${e.blockedURI}`));
  });
  const consoleErrors = [];
  tab.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  const response = await tab.goto(`${gatehouse.base}/docs`);
  assert.match(response.headers()['content-security-policy'], /^default-src 'none'; /);
  const spec = fs.readFileSync(path.resolve(here, '../../docs/openapi.yaml'), 'utf8');
  const operations = spec.match(/^ {4}(get|put|post|delete|patch|head):/gm).length;
  await tab.waitForFunction((n) => document.querySelectorAll('.opblock').length === n, operations);
  // "Try it out" on GET /health: a fetch to this server, allowed.
  const health = tab.locator('.opblock-get', { has: tab.locator('[data-path="/health"]') });
  await health.locator('.opblock-summary').first().click();
  await health.getByRole('button', { name: 'Try it out' }).click();
  await health.getByRole('button', { name: 'Execute' }).click();
  const status = health.locator('.live-responses-table tbody .response-col_status');
  await status.waitFor();
  assert.equal((await status.innerText()).trim(), '200');
  assert.match(await health.locator('.live-responses-table tbody .response-col_description').innerText(), /"status": "ok"/);
  assert.deepEqual(await tab.evaluate(() => window.__violations), []);
  assert.deepEqual(consoleErrors, []);
  await tab.close();
});

// ---------------------------------------------------------------------------
// The account e-mails: what lands in the server's outbox (DATA_DIR/outbox,
// one .eml a message), read by mailparser (tests/peers/read-mail.mjs), not
// by Gatehouse's own code.

const execFileAsync = promisify(execFile);
const outbox = () => path.join(gatehouse.dataDir, 'outbox');
const mailFiles = (dir = outbox()) => {
  try {
    return fs.readdirSync(dir).filter((f) => f.endsWith('.eml')).sort();
  } catch (e) {
    if (e.code === 'ENOENT') return [];
    throw e;
  }
};

// Waits for the mail to `to` whose subject matches `subject`, among those
// that were not in the outbox `dir` yet when `since` (mailFiles(dir)) was
// taken.
async function waitForMail(since, to, subject, dir = outbox()) {
  const skip = new Set(since);
  const seen = [];
  const deadline = Date.now() + 10000;
  for (;;) {
    const fresh = mailFiles(dir).filter((f) => !skip.has(f));
    if (fresh.length > 0) {
      const { stdout } = await execFileAsync(process.execPath,
                                             [path.join(peersDir, 'read-mail.mjs'), ...fresh.map((f) => path.join(dir, f))]);
      for (const mail of JSON.parse(stdout)) {
        skip.add(path.basename(mail.file));
        seen.push(`${mail.to && mail.to.address}: ${mail.subject}`);
        if (mail.to && mail.to.address === to && subject.test(mail.subject)) return mail;
      }
    }
    if (Date.now() > deadline) throw new Error(`no mail to ${to} with a subject like ${subject}; arrived: ${seen.join('; ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// The mail's one link: this server's page, #/<action>?token=...
function linkIn(mail, action) {
  const links = mail.text.match(/https?:\/\/\S+/g) || [];
  assert.equal(links.length, 1, `one link in:\n${mail.text}`);
  assert.match(links[0], new RegExp(`^${pageUrl.replace(/[.]/g, '\\.')}#/${action}\\?token=[A-Za-z0-9_-]{20,}$`));
  return links[0];
}

// The user as the server has it now (a login of its own, through the API).
async function userOnServer(email, password) {
  const login = await api(gatehouse.base, 'POST', '/login', { json: { email, password } });
  assert.equal(login.status, 200, `login of ${email}: ${JSON.stringify(login.body)}`);
  const me = await api(gatehouse.base, 'GET', '/users/me', { token: login.body.token });
  assert.equal(me.status, 200);
  return me.body.user;
}

// Opens a mail's link in a tab of its own, as a mail client would: the page
// shows what the link does, and nothing reaches the API.
async function openLink(link, button) {
  const tab = await context.newPage();
  const from = apiCalls.length;
  await tab.goto(link);
  await tab.locator('#link-view').waitFor({ state: 'visible' });
  await tab.waitForLoadState('networkidle');  // whatever the page would send on its own, it has sent
  assert.deepEqual(apiCalls.slice(from), [], 'opening the link called the API');
  assert.equal(await tab.getByRole('button', { name: button }).isVisible(), true);
  assert.equal(await tab.locator('#signed-out-view').isVisible(), false);
  return tab;
}

// Presses the link page's button and waits for its outcome.
async function pressLink(tab, button) {
  await tab.getByRole('button', { name: button }).click();
  await tab.locator('#link-outcome').waitFor({ state: 'visible' });
  return { title: await tab.locator('#link-title').innerText(), text: await tab.locator('#link-outcome-text').innerText() };
}

const mary = { name: 'Mary Somerville', email: 'mary@example.com', password: 'on the connexion', newEmail: 'mary.fairfax@example.com' };
let maryTab;  // Mary's own tab, signed in from the password reset on
let adaVerifyLink;  // from the mail that Ada's "Send verification e-mail" sent

test('sign-up mails a verification link; opening it verifies nothing until "Confirm my address" is pressed', async () => {
  const since = mailFiles();
  const tab = await context.newPage();
  await tab.goto(pageUrl);
  await submit(tab, '#signup-form', [['Name', mary.name], ['E-mail', mary.email], ['Password', mary.password]],
               'Create account', 'Account created');
  assert.equal(await tab.locator('#signup-error').innerText(), '');
  await tab.close();
  const mail = await waitForMail(since, mary.email, /^Confirm your e-mail address/);
  const link = linkIn(mail, 'verify-email');

  // A mail scanner (or the user) opens the link: twice, even.
  let linkTab = await openLink(link, 'Confirm my address');
  assert.equal(await linkTab.locator('#link-title').innerText(), 'Confirm your e-mail address');
  await linkTab.reload();
  await linkTab.getByRole('button', { name: 'Confirm my address' }).waitFor();
  assert.equal((await userOnServer(mary.email, mary.password)).email_verified, false, 'loading the link verified the address');

  const from = apiCalls.length;
  const outcome = await pressLink(linkTab, 'Confirm my address');
  assert.deepEqual(apiCalls.slice(from), ['POST /email/verify/confirm -> 200']);
  assert.deepEqual(outcome, { title: 'Your address is confirmed', text: `Thank you: ${mary.email} is confirmed as your address.` });
  assert.equal(await linkTab.evaluate(() => window.location.href), pageUrl, 'the spent token is out of the address');
  assert.equal((await userOnServer(mary.email, mary.password)).email_verified, true);
  // Onwards: this tab has no session, so the login form.
  await linkTab.getByRole('button', { name: 'Continue to Gatehouse' }).click();
  await linkTab.locator('#signed-out-view').waitFor({ state: 'visible' });
  await linkTab.close();

  // The same link again: refused, with the way to a new one.
  linkTab = await openLink(link, 'Confirm my address');
  const again = await pressLink(linkTab, 'Confirm my address');
  assert.equal(again.title, 'This link cannot be used');
  assert.match(again.text, /^This link can no longer be used: .* Log in and send a new verification e-mail from your account\.$/);
  assert.equal(await linkTab.locator('#link-outcome').getAttribute('class'), 'card outcome-failed');
  assert.equal(await linkTab.evaluate(() => window.location.href), pageUrl);
  await linkTab.close();
});

test('forgot password: the same answer for any address, a link that resets only on the button, then a login with the new password', async () => {
  const newPassword = 'the mechanism of the heavens';
  const tab = await context.newPage();
  await tab.goto(pageUrl);
  await tab.getByRole('button', { name: 'Forgot password?' }).click();
  assert.equal(await tab.locator('#login-form').isVisible(), false);
  assert.equal(await activeIdOf(tab), 'forgot-email');
  const forgot = tab.locator('#forgot-form');
  const askFor = async (email) => {
    await forgot.getByLabel('E-mail', { exact: true }).fill(email);
    await forgot.getByRole('button', { name: 'Send reset link' }).click();
    await tab.locator('#forgot-status', { hasText: email }).waitFor();
    return tab.locator('#forgot-status').innerText();
  };
  const nobody = await askFor('nobody@example.com');
  assert.equal(nobody, 'If an account exists for nobody@example.com, we sent it a link to choose a new password. ' +
                       'Check your inbox: the link works once, for one hour.');
  const since = mailFiles();
  assert.equal(await askFor(mary.email), nobody.replace('nobody@example.com', mary.email), 'the same words either way');
  assert.ok(apiCalls.filter((c) => c === 'POST /password/forgot -> 202').length >= 2, apiCalls.join('\n'));
  const mail = await waitForMail(since, mary.email, /^Reset your .* password$/);
  const link = linkIn(mail, 'reset-password');
  await tab.close();

  const linkTab = await openLink(link, 'Set new password');
  assert.equal(await linkTab.locator('#link-title').innerText(), 'Choose a new password');
  await userOnServer(mary.email, mary.password);  // loading the link changed nothing: the old password works
  const form = linkTab.locator('#reset-form');
  await form.getByLabel('New password').fill('short');
  await form.getByRole('button', { name: 'Set new password' }).click();
  assert.equal(await linkTab.locator('#reset-error').innerText(), 'Choose a password of at least 8 characters.');
  await form.getByLabel('New password').fill(newPassword);
  const outcome = await pressLink(linkTab, 'Set new password');
  assert.deepEqual(outcome, { title: 'Your password is changed',
                              text: `Every session of ${mary.email} was signed out. Log in with your new password.` });
  assert.equal(await linkTab.evaluate(() => window.location.href), pageUrl);
  // On to the login form, the address filled in, the new password to type.
  await linkTab.getByRole('button', { name: 'Log in' }).click();
  await linkTab.locator('#signed-out-view').waitFor({ state: 'visible' });
  assert.equal(await linkTab.locator('#login-email').inputValue(), mary.email);
  assert.equal(await activeIdOf(linkTab), 'login-password');
  await submit(linkTab, '#login-form', [['Password', newPassword]], 'Log in', 'Logged in');
  await linkTab.locator('#signed-in-view').waitFor({ state: 'visible' });
  assert.equal(await linkTab.locator('#signed-in-title').innerText(), `Welcome, ${mary.name}`);
  const old = await api(gatehouse.base, 'POST', '/login', { json: { email: mary.email, password: mary.password } });
  assert.equal(old.status, 401, 'the old password still works');
  mary.password = newPassword;
  maryTab = linkTab;
});

test('the account area: the address verified, a wrong current password refused in place, a password change that ends the other sessions', async () => {
  const tab = maryTab;
  assert.equal(await tab.locator('#account-email').innerText(), mary.email);
  assert.equal(await tab.locator('#account-email-state').innerText(), 'verified');
  assert.equal(await tab.getByRole('button', { name: 'Send verification e-mail' }).isVisible(), false);
  const form = tab.locator('#password-form');
  for (const label of ['Current password', 'New password']) assert.equal(await form.getByLabel(label, { exact: true }).count(), 1);

  // A wrong current password: said on its field, and the session goes on.
  let from = apiCalls.length;
  await submit(tab, '#password-form', [['Current password', 'not my password'], ['New password', 'whatever it is']],
               'Change password', '(none)');
  assert.equal(await tab.locator('#password-error').innerText(), 'Your current password is not correct.');
  assert.equal(await activeIdOf(tab), 'current-password');
  assert.deepEqual(apiCalls.slice(from), ['POST /password/change -> 401']);
  assert.equal(await tab.locator('#signed-in-view').isVisible(), true);

  const before = (await storedSession(tab)).refresh_token;
  const elsewhere = await api(gatehouse.base, 'POST', '/login', { json: { email: mary.email, password: mary.password } });
  const newPassword = 'analytical society';
  from = apiCalls.length;
  await form.getByLabel('Current password').fill(mary.password);
  await form.getByLabel('New password').fill(newPassword);
  await form.getByRole('button', { name: 'Change password' }).click();
  await tab.waitForFunction(() => document.getElementById('password-status').textContent !== '' ||
                                  document.getElementById('password-error').textContent !== '');
  assert.equal(await tab.locator('#password-status').innerText(),
               'Your password is changed. Every other session was signed out; this one goes on.');
  assert.equal(await tab.locator('#password-error').innerText(), '');
  assert.deepEqual(apiCalls.slice(from), ['POST /password/change -> 200']);
  assert.equal(await form.getByLabel('Current password').inputValue(), '', 'the passwords are not left in the form');
  const after = (await storedSession(tab)).refresh_token;
  assert.notEqual(after, before, 'the page adopted the new session');
  for (const token of [before, elsewhere.body.refresh_token]) {
    const refused = await api(gatehouse.base, 'POST', '/token/refresh', { json: { refresh_token: token } });
    assert.equal(refused.status, 401, 'an old session lives on');
    assert.equal(refused.body.error.code, 'invalid_refresh_token');
  }
  assert.equal((await api(gatehouse.base, 'POST', '/login', { json: { email: mary.email, password: mary.password } })).status, 401);
  mary.password = newPassword;
  // The new session is the page's: a reload goes on with it.
  await tab.reload();
  await tab.locator('#signed-in-view').waitFor({ state: 'visible' });
  await waitForList(PAGE_SIZE, tab);
  assert.equal(await tab.locator('#account-email').innerText(), mary.email);
});

test('the account area renames the user', async () => {
  const tab = maryTab;
  const form = tab.locator('#name-form');
  assert.equal(await form.getByLabel('Your name').inputValue(), mary.name);
  await submit(tab, '#name-form', [['Your name', '   ']], 'Save name', '(none)');
  assert.equal(await tab.locator('#name-error').innerText(), 'Enter your name.');
  const name = 'Mary Fairfax Somerville';
  await form.getByLabel('Your name').fill(name);
  await form.getByRole('button', { name: 'Save name' }).click();
  await tab.locator('#name-status', { hasText: 'saved' }).waitFor();
  assert.equal(await tab.locator('#name-error').innerText(), '');
  assert.equal(await tab.locator('#my-name').innerText(), name);
  assert.equal(await tab.locator('#whoami').innerText(), `Signed in as ${name}`);
  assert.equal((await userOnServer(mary.email, mary.password)).name, name);
  mary.name = name;
});

test('the account area changes the e-mail address: a link to the new inbox, spent only on its button', async () => {
  const tab = maryTab;
  const form = tab.locator('#email-form');
  // Taken by another account: said on the field.
  await submit(tab, '#email-form', [['New e-mail', ada.email], ['Password', mary.password]], 'Send confirmation link', '(none)');
  assert.equal(await tab.locator('#email-error').innerText(), 'Another account already uses this e-mail address.');
  assert.equal(await activeIdOf(tab), 'new-email');
  // A wrong password: said, and the session goes on.
  await submit(tab, '#email-form', [['New e-mail', mary.newEmail], ['Password', 'not my password']], 'Send confirmation link', '(none)');
  assert.equal(await tab.locator('#email-error').innerText(), 'The password is not correct.');
  assert.equal(await tab.locator('#signed-in-view').isVisible(), true);

  const since = mailFiles();
  await form.getByLabel('Password', { exact: true }).fill(mary.password);
  await form.getByRole('button', { name: 'Send confirmation link' }).click();
  await tab.locator('#email-status', { hasText: 'Check your new inbox' }).waitFor();
  assert.equal(await tab.locator('#email-status').innerText(),
               `Check your new inbox: we sent a link to ${mary.newEmail}. The account moves there when you open it ` +
               `(within an hour); until then it stays ${mary.email}.`);
  assert.equal(await tab.locator('#email-error').innerText(), '');
  const mail = await waitForMail(since, mary.newEmail, /^Confirm your new e-mail address/);
  await waitForMail(since, mary.email, /e-mail address is being changed$/);  // and a word to the old one
  const link = linkIn(mail, 'confirm-email-change');
  assert.equal((await userOnServer(mary.email, mary.password)).email, mary.email, 'moved before the link was opened');

  const linkTab = await openLink(link, 'Use my new address');
  assert.equal(await linkTab.locator('#link-title').innerText(), 'Confirm your new e-mail address');
  assert.equal((await userOnServer(mary.email, mary.password)).email, mary.email, 'loading the link moved the account');
  const outcome = await pressLink(linkTab, 'Use my new address');
  assert.deepEqual(outcome, { title: 'Your new address is in use', text: `Your account now uses ${mary.newEmail}. Log in with it from now on.` });
  assert.equal(await linkTab.evaluate(() => window.location.href), pageUrl);
  await linkTab.close();
  const moved = await userOnServer(mary.newEmail, mary.password);
  assert.equal(moved.email, mary.newEmail);
  assert.equal(moved.email_verified, true);
  assert.equal((await api(gatehouse.base, 'POST', '/login', { json: { email: mary.email, password: mary.password } })).status, 401);

  // Mary's own tab shows the new address after a reload (its session went on).
  await tab.reload();
  await tab.locator('#signed-in-view').waitFor({ state: 'visible' });
  await waitForList(PAGE_SIZE, tab);
  assert.equal(await tab.locator('#account-email').innerText(), mary.newEmail);
  assert.equal(await tab.locator('#my-email').innerText(), mary.newEmail);
  mary.email = mary.newEmail;
  await tab.close();
});

test('an unverified account says so, and "Send verification e-mail" mails a new link', async () => {
  await login(ada.email, ada.password);
  await page.locator('#signed-in-view').waitFor({ state: 'visible' });
  await waitForList(PAGE_SIZE);
  assert.equal(await text('#account-email'), ada.email);
  assert.equal(await text('#account-email-state'), 'not verified');
  const since = mailFiles();
  await page.getByRole('button', { name: 'Send verification e-mail' }).click();
  await page.locator('#verify-request-status', { hasText: 'We sent a link' }).waitFor();
  assert.equal(await text('#verify-request-status'), `We sent a link to ${ada.email}. Open it to confirm your address; it works for 24 hours.`);
  assert.equal(await text('#verify-request-error'), '');
  assert.equal(apiCalls.at(-1), 'POST /email/verify/request -> 202');
  adaVerifyLink = linkIn(await waitForMail(since, ada.email, /^Confirm your e-mail address/), 'verify-email');
  const card = page.locator('#account-card');
  await card.scrollIntoViewIfNeeded();
  await card.screenshot({ path: accountPng });
  console.log(`# screenshot: ${accountPng}`);
});

test('a link opened in the signed-in tab itself: confirmed on the button, then back to the account, verified', async () => {
  const from = apiCalls.length;
  await page.goto(adaVerifyLink);  // only the fragment changes: no reload
  await page.locator('#link-view').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#signed-in-view').isVisible(), false);
  assert.equal(await page.locator('#session-bar').isVisible(), false);
  assert.deepEqual(apiCalls.slice(from), []);
  const outcome = await pressLink(page, 'Confirm my address');
  assert.equal(outcome.title, 'Your address is confirmed');
  assert.equal(await page.evaluate(() => window.location.href), pageUrl);
  await page.getByRole('button', { name: 'Continue to your account' }).click();
  await page.locator('#signed-in-view').waitFor({ state: 'visible' });
  await waitForList(PAGE_SIZE);
  assert.deepEqual(apiCalls.slice(from), ['POST /email/verify/confirm -> 200', 'POST /token/refresh -> 200', 'GET /users -> 200']);
  assert.equal(await text('#account-email-state'), 'verified');
  assert.equal(await page.getByRole('button', { name: 'Send verification e-mail' }).isVisible(), false);
  assert.equal(await text('#verify-request-status'), '');
});

test('"Download my data" saves the export as a file: the signed-in user and their sessions, the token in no URL', async () => {
  const requests = [];
  const onRequest = (req) => requests.push(req);
  page.on('request', onRequest);
  const from = apiCalls.length;
  const [download] = await Promise.all([page.waitForEvent('download'),
                                        page.getByRole('button', { name: 'Download my data' }).click()]);
  await page.locator('#export-status', { hasText: 'saved' }).waitFor();
  page.off('request', onRequest);
  assert.deepEqual(apiCalls.slice(from), ['GET /users/me/export -> 200']);
  assert.equal(download.suggestedFilename(), 'gatehouse-export.json');
  assert.match(download.url(), /^blob:/, 'the file is made in the page, not fetched by the browser from an address');
  assert.equal(await download.failure(), null);
  const saved = fs.readFileSync(await download.path(), 'utf8');
  const data = JSON.parse(saved);
  assert.equal(data.user.email, ada.email);
  assert.equal(data.user.userId, adaUser.userId);
  assert.ok(!Number.isNaN(Date.parse(data.exported_at)), `exported_at: ${data.exported_at}`);
  assert.ok(Array.isArray(data.sessions) && data.sessions.length >= 1, `sessions: ${JSON.stringify(data.sessions)}`);
  for (const session of data.sessions) assert.deepEqual(Object.keys(session).sort(), ['created_at', 'expires_at', 'id']);
  assert.ok(!saved.includes((await storedSession()).refresh_token), 'the page\'s refresh token is in the file');
  // The access token went in the export's Authorization header, and in no
  // address the page requested.
  const exported = requests.filter((r) => r.url() === gatehouse.base + '/users/me/export');
  assert.equal(exported.length, 1);
  const bearer = /^Bearer (.+)$/.exec(exported[0].headers().authorization || '');
  assert.ok(bearer, 'the export was asked for without the session');
  for (const r of requests) assert.ok(!r.url().includes(bearer[1]), `the token is in ${r.url()}`);
  assert.equal(await text('#export-status'), 'Your data is saved as gatehouse-export.json (in your downloads).');
  assert.equal(await text('#export-error'), '');
});

const charles = { name: 'Charles Babbage', email: 'charles@example.com', password: 'the difference engine' };
let charlesTab;  // signed in as Charles, until the account is deleted
let charlesId;
let elsewhereToken;  // a session of Charles's outside the page

test('"Delete my account" wants the confirmation ticked; a wrong password is refused in place, and the account goes on', async () => {
  const signup = await api(gatehouse.base, 'POST', '/signup', { json: charles });
  assert.equal(signup.status, 201);
  charlesId = signup.body.user.userId;
  const tab = await context.newPage();
  charlesTab = tab;
  await tab.goto(pageUrl);
  await submit(tab, '#login-form', [['E-mail', charles.email], ['Password', charles.password]], 'Log in', 'Logged in');
  await waitForList(PAGE_SIZE, tab);
  // A picture, to see it go with the account.
  await tab.locator('#upload-form').getByLabel('Picture (JPEG, PNG, GIF or WebP)')
    .setInputFiles({ name: 'charles.png', mimeType: 'image/png', buffer: png });
  await tab.getByRole('button', { name: 'Upload picture' }).click();
  await tab.locator('#upload-status', { hasText: 'saved' }).waitFor();

  const form = tab.locator('#delete-form');
  for (const label of ['Password', 'I understand this cannot be undone']) {
    assert.equal(await form.getByLabel(label, { exact: true }).count(), 1, label);
  }
  // Not ticked: said on the box, and nothing sent.
  let from = apiCalls.length;
  await submit(tab, '#delete-form', [['Password', charles.password]], 'Delete my account', '(none)');
  assert.equal(await tab.locator('#delete-error').innerText(), 'Tick "I understand this cannot be undone" to delete the account.');
  assert.equal(await activeIdOf(tab), 'delete-confirm');
  assert.deepEqual(apiCalls.slice(from), []);

  // A wrong password: said on its field; nothing else happens.
  await form.getByLabel('I understand this cannot be undone').check();
  from = apiCalls.length;
  await form.getByLabel('Password', { exact: true }).fill('not my password');
  await form.getByRole('button', { name: 'Delete my account' }).click();
  await tab.locator('#delete-error', { hasText: 'not correct' }).waitFor();
  assert.equal(await tab.locator('#delete-error').innerText(), 'The password is not correct.');
  assert.equal(await tab.locator('#delete-password').getAttribute('aria-invalid'), 'true');
  assert.equal(await activeIdOf(tab), 'delete-password');
  assert.deepEqual(apiCalls.slice(from), ['DELETE /users/me -> 401']);
  assert.equal(await tab.locator('#signed-in-view').isVisible(), true);
  assert.equal((await storedSession(tab)).api, gatehouse.base, 'the page kept its session');
  assert.equal(await tab.locator('#notice').innerText(), 'Logged in as Charles Babbage.');
  const login = await api(gatehouse.base, 'POST', '/login', { json: { email: charles.email, password: charles.password } });
  assert.equal(login.status, 200, 'the account is gone after a wrong password');
  assert.equal(login.body.user.userId, charlesId);
  elsewhereToken = login.body.refresh_token;
  // The page's session still works too.
  from = apiCalls.length;
  await tab.getByRole('button', { name: 'Reload' }).click();
  await waitForList(PAGE_SIZE, tab);
  assert.deepEqual(apiCalls.slice(from), ['GET /users -> 200']);
});

test('"Delete my account" with the right password: signed out, the login refused, the picture and sessions gone, the address free again', async () => {
  const tab = charlesTab;
  const picture = await tab.locator('#my-avatar img').getAttribute('src');
  assert.equal((await fetch(picture)).status, 200);
  const pageToken = (await storedSession(tab)).refresh_token;
  const form = tab.locator('#delete-form');
  assert.equal(await form.getByLabel('I understand this cannot be undone').isChecked(), true);
  const from = apiCalls.length;
  await form.getByLabel('Password', { exact: true }).fill(charles.password);
  await form.getByRole('button', { name: 'Delete my account' }).click();
  await tab.locator('#signed-out-view').waitFor({ state: 'visible' });
  assert.deepEqual(apiCalls.slice(from), ['DELETE /users/me -> 204']);
  assert.equal(await tab.locator('#notice').innerText(),
               `Your account ${charles.email} is deleted, with its picture and every session. You are signed out.`);
  assert.equal(await tab.locator('#signed-in-view').isVisible(), false);
  assert.equal(await tab.locator('#session-bar').isVisible(), false);
  assert.equal(await tab.evaluate(() => sessionStorage.length), 0);
  assert.equal(await tab.locator('#users-list > li').count(), 0);
  assert.equal(await tab.locator('#login-email').inputValue(), '');
  assert.equal(await tab.locator('#delete-password').inputValue(), '', 'the password is not left in the form');
  assert.equal(await activeIdOf(tab), 'signed-out-title');

  const login = await api(gatehouse.base, 'POST', '/login', { json: { email: charles.email, password: charles.password } });
  assert.equal(login.status, 401);
  assert.equal(login.body.error.code, 'invalid_credentials');
  for (const token of [pageToken, elsewhereToken]) {
    const refused = await api(gatehouse.base, 'POST', '/token/refresh', { json: { refresh_token: token } });
    assert.equal(refused.status, 401, 'a session outlived the account');
  }
  assert.notEqual((await fetch(picture)).status, 200, 'the picture outlived the account');

  // The address is free: a new account, through the page.
  await submit(tab, '#signup-form', [['Name', charles.name], ['E-mail', charles.email], ['Password', 'a new engine']],
               'Create account', 'Account created');
  assert.equal(await tab.locator('#notice').innerText(), `Account created for ${charles.email}. Log in with your password.`);
  assert.equal(await tab.locator('#signup-error').innerText(), '');
  const again = await api(gatehouse.base, 'POST', '/login', { json: { email: charles.email, password: 'a new engine' } });
  assert.equal(again.status, 200);
  assert.notEqual(again.body.user.userId, charlesId, 'a new account, not the old one back');
  await tab.close();
});

test('EMAIL_VERIFICATION=required: login to an unconfirmed address says why, and "Send the link again" mails a new link', async () => {
  const strict = await startServer(gatehouseBinary, {
    dataDirPrefix: 'gatehouse-web-required-',
    env: { EMAIL_VERIFICATION: 'required', RATE_LIMIT_MAIL_PER_EMAIL: '0', RATE_LIMIT_MAIL_PER_IP: '0' },
    watchdog: true,
  });
  try {
    const strictOutbox = path.join(strict.dataDir, 'outbox');
    const grace = { name: 'Grace Murray', email: 'grace.murray@example.com', password: 'a compiler first' };
    const calls = [];  // "METHOD /path -> status" at this server
    const sent = [];   // its requests
    const tab = await context.newPage();
    tab.on('request', (req) => { if (req.url().startsWith(strict.base + '/') && req.method() === 'POST') sent.push(req); });
    tab.on('response', (res) => {
      const url = new URL(res.url());
      if (url.origin === strict.base && res.request().method() === 'POST') calls.push(`POST ${url.pathname} -> ${res.status()}`);
    });
    await tab.goto(strict.base + '/');
    await tab.locator('#signed-out-view').waitFor({ state: 'visible' });
    assert.equal(await tab.getByRole('button', { name: 'Send the link again' }).isVisible(), false);

    const since = mailFiles(strictOutbox);
    await submit(tab, '#signup-form', [['Name', grace.name], ['E-mail', grace.email], ['Password', grace.password]],
                 'Create account', 'Account created');
    const first = await waitForMail(since, grace.email, /^Confirm your e-mail address/, strictOutbox);

    await submit(tab, '#login-form', [['Password', grace.password]], 'Log in', 'Logged in');
    assert.equal(await tab.locator('#login-error').innerText(),
                 'Confirm your e-mail address first: open the link in the mail we sent you, then log in.');
    assert.equal(await tab.locator('#signed-in-view').isVisible(), false);
    const resend = tab.getByRole('button', { name: 'Send the link again' });
    assert.equal(await resend.isVisible(), true);
    assert.deepEqual(calls, ['POST /signup -> 201', 'POST /login -> 403']);

    const before = mailFiles(strictOutbox);
    await resend.click();
    await tab.locator('#resend-status', { hasText: 'we sent it a new link' }).waitFor();
    assert.equal(await tab.locator('#resend-status').innerText(),
                 `If the account ${grace.email} exists and is not confirmed yet, we sent it a new link. ` +
                 'Open it, then log in; it works for 24 hours.');
    assert.deepEqual(calls.slice(2), ['POST /email/verify/request -> 202']);
    const request = sent.find((r) => r.url() === strict.base + '/email/verify/request');
    assert.equal(request.headers().authorization, undefined, 'the public request carried a session');
    assert.deepEqual(request.postDataJSON(), { email: grace.email });

    const second = await waitForMail(before, grace.email, /^Confirm your e-mail address/, strictOutbox);
    assert.notEqual(second.file, first.file);
    const links = [first, second].map((m) => (m.text.match(/https?:\/\/\S+/g) || []).join(' '));
    for (const link of links) assert.match(link, new RegExp(`^${strict.base.replace(/[.]/g, '\\.')}/#/verify-email\\?token=[A-Za-z0-9_-]{20,}$`));
    assert.notEqual(links[1], links[0], 'the same link again');
    assert.equal(mailFiles(strictOutbox).length, 2, 'two mails: the sign-up\'s and the one asked for again');

    // The offer is for the address login refused: another one takes it back.
    await tab.locator('#login-form').getByLabel('E-mail').fill('someone.else@example.com');
    assert.equal(await resend.isVisible(), false);
    await tab.close();
  } finally {
    await strict.stop();
  }
});

test('the page requested nothing but loopback, and the attacker received nothing at all', () => {
  assert.deepEqual(foreignRequests, []);
  assert.deepEqual(attacker.everything(), []);
});
