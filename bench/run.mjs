#!/usr/bin/env node
// Issue 7: Gatehouse against the Node.js/Express original, side by side, in
// one run on this machine (`make bench`; `make bench-smoke` is the same
// with tiny durations). docs/BENCHMARKS.md explains every figure.
//
//  1. Starts dynalite and s3rver (tests/peers/node_modules) on free
//     127.0.0.1 ports with their data in a temporary directory; creates
//     Gatehouse's tables (`gatehouse migrate --create-tables`), the
//     original's users table (its own aws-sdk v2) and both buckets. Both
//     implementations talk to the peers directly (no SigV4 proxy).
//  2. Lambda cold start and peak RSS: build/<tree>/bin/lambda_cold_start,
//     three times: the packaged bootstrap on the AWS peers, the same binary
//     on its embedded store (for the record), and `node runtime.js` of the
//     original on the AWS peers.
//  3. Local HTTP with wrk (keep-alive, fixed duration and connections):
//     GET /health, GET /users/me, GET /users?limit=25, POST /login against
//     `gatehouse serve` on the AWS peers, the original's server.js on the
//     same peers, and `gatehouse serve` on its embedded store; all seeded
//     with the same users through POST /signup, bcrypt cost 10 everywhere.
//  4. GET /health (paced) while POST /login runs at saturation on other
//     connections: two wrk processes at once.
//  5. One bcrypt verify at cost 10 (the micro-benchmarks' median when
//     build/<tree>/bin/micro_benchmarks exists, else timed here through
//     libxcrypt, the library Gatehouse hashes with), for the login target.
//  6. Prints one table (Gatehouse, original, ratio, targets), writes the raw
//     numbers to bench/results/*.json and draws the chart with gnuplot.
//
// Everything binds 127.0.0.1. Every child runs in its own process group and
// is killed at exit, on an error, on SIGINT/SIGTERM and on the overall
// time limit. Exits 0 when everything ran (a missed target is a result, not
// a failure), 1 when something could not run, 130 when interrupted.
//
//   node bench/run.mjs [--smoke] [--build-dir build/release]
//     [--package build/lambda-package/bin/gatehouse] [--out bench/results]
//     [--chart docs/benchmarks.png] [--parts cold,http,contention,micro]
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const rel = (p) => path.relative(ROOT, p) || '.';

// ------------------------------------------------------------------ options
function parseArgs(argv) {
  const o = {
    smoke: false,
    buildDir: 'build/release',
    package: 'build/lambda-package/bin/gatehouse',
    out: null,
    chart: null,
    parts: 'cold,http,contention,micro',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--smoke') o.smoke = true;
    else if (a === '--build-dir') o.buildDir = value();
    else if (a === '--package') o.package = value();
    else if (a === '--out') o.out = value();
    else if (a === '--chart') o.chart = value();
    else if (a === '--parts') o.parts = value();
    else if (a === '--help' || a === '-h') usage();
    else usage(`unknown argument ${a}`);
  }
  // A smoke run must not overwrite a full run's results or the committed chart.
  o.out = path.resolve(ROOT, o.out || (o.smoke ? 'bench/results/smoke' : 'bench/results'));
  o.chart = o.chart === null ? (o.smoke ? null : path.resolve(ROOT, 'docs/benchmarks.png')) : path.resolve(ROOT, o.chart);
  o.buildDir = path.resolve(ROOT, o.buildDir);
  o.package = path.resolve(ROOT, o.package);
  o.parts = new Set(o.parts.split(',').map((s) => s.trim()).filter(Boolean));
  return o;
}

function usage(error) {
  const text = 'usage: node bench/run.mjs [--smoke] [--build-dir DIR] [--package BOOTSTRAP] [--out DIR] ' +
    '[--chart PNG] [--parts cold,http,contention,micro]';
  if (error) {
    console.error(`bench: ${error}\n${text}`);
    process.exit(2);
  }
  console.log(text);
  process.exit(0);
}

const opts = parseArgs(process.argv.slice(2));

// Durations and sizes. The full run takes a few minutes; the smoke run only
// proves that every step still works.
const P = opts.smoke ? {
  spawns: 2, invocations: 20, users: 20,
  wrkThreads: 1, connections: 8, duration: 1, warmup: 0,
  loginConnections: 8, contentionDuration: 2, probeConnections: 2, probeDelayMs: 5,
  serialLogins: 2, microRepetitions: 1, microFilter: '-bcrypt',
} : {
  spawns: 20, invocations: 100, users: 200,
  wrkThreads: 2, connections: 32, duration: 10, warmup: 2,
  loginConnections: 16, contentionDuration: 10, probeConnections: 2, probeDelayMs: 5,
  serialLogins: 10, microRepetitions: 5, microFilter: null,
};

const BIN = {
  gatehouse: path.join(opts.buildDir, 'bin/gatehouse'),
  coldStart: path.join(opts.buildDir, 'bin/lambda_cold_start'),
  micro: path.join(opts.buildDir, 'bin/micro_benchmarks'),
  bootstrap: opts.package,
};
const PEERS = path.join(ROOT, 'tests/peers/node_modules');
const ORIGINAL = path.join(ROOT, 'bench/express-original');
const WRK_DIR = path.join(ROOT, 'bench/wrk');

// Same credentials for both: s3rver accepts only this key; dynalite checks none.
const AWS = { region: 'us-east-1', accessKey: 'S3RVER', secretKey: 'S3RVER' };
const JWT_SECRET = crypto.randomBytes(32).toString('hex');
const BCRYPT_COST = 10;
const PASSWORD = 'bench-password-1';
const EMAIL_DOMAIN = 'bench.example.com';
const NAMES = {
  gatehouseTable: 'gatehouse-bench-users',
  gatehouseBucket: 'gatehouse-bench-images',
  originalTable: 'original-bench-users',
  originalBucket: 'original-bench-images',
};
const CORES = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
const CLK_TCK = 100; // /proc/<pid>/stat's unit on Linux (sysconf(_SC_CLK_TCK))

// ---------------------------------------------------------------- processes
const children = new Set();
let tmp = null;
let cleaned = false;

function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const child of children) {
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  children.clear();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    console.error(`\nbench: ${signal}, stopping every child`);
    cleanup();
    process.exit(130);
  });
}
const overall = setTimeout(() => {
  console.error(`bench: still running after ${opts.smoke ? 5 : 20} minutes; stopping`);
  cleanup();
  process.exit(1);
}, (opts.smoke ? 5 : 20) * 60_000);

// Starts a child in its own process group (detached: setsid), its output
// into a log file under the temporary directory (or kept in memory).
function start(name, exe, args, { env, cwd = ROOT, keepOutput = false } = {}) {
  const logPath = path.join(tmp, `${name.replace(/[^\w.-]+/g, '_')}.log`);
  const fd = keepOutput ? null : fs.openSync(logPath, 'a');
  const child = spawn(exe, args, {
    cwd, env, detached: true, stdio: keepOutput ? ['ignore', 'pipe', 'pipe'] : ['ignore', fd, fd],
  });
  if (fd !== null) fs.closeSync(fd);
  child.name = name;
  child.logPath = logPath;
  child.out = '';
  child.err = '';
  if (keepOutput) {
    child.stdout.on('data', (d) => { child.out += d; });
    child.stderr.on('data', (d) => { child.err += d; });
  }
  child.exited = new Promise((resolve) => {
    child.on('error', (err) => { children.delete(child); resolve({ code: null, signal: null, error: err }); });
    child.on('exit', (code, signal) => { children.delete(child); resolve({ code, signal }); });
  });
  children.add(child);
  return child;
}

function logOf(child) {
  try { return fs.readFileSync(child.logPath, 'utf8').slice(-4000); } catch { return child.err.slice(-4000); }
}

async function stop(child) {
  if (!children.has(child)) return;
  try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
  const done = await Promise.race([child.exited, sleep(3000).then(() => null)]);
  if (done === null) {
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    await child.exited;
  }
}

// Runs a command to its end; its stdout/stderr returned. Throws on a
// non-zero exit unless `allowFail`.
async function run(name, exe, args, { env = process.env, cwd = ROOT, timeoutMs = 600_000, allowFail = false } = {}) {
  const child = start(name, exe, args, { env, cwd, keepOutput: true });
  const timer = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, timeoutMs);
  const { code, signal, error } = await child.exited;
  clearTimeout(timer);
  if (!allowFail && code !== 0) {
    throw new Error(`${name} failed (${error ? error.message : code ?? signal}):\n${child.out.slice(-3000)}${child.err.slice(-3000)}`);
  }
  return { code, out: child.out, err: child.err };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function waitForLog(child, pattern, ms = 30_000) {
  const deadline = Date.now() + ms;
  let exited = null;
  child.exited.then((e) => { exited = e; });
  while (Date.now() < deadline) {
    const m = logOf(child).match(pattern);
    if (m) return m;
    if (exited) throw new Error(`${child.name} exited (${exited.code ?? exited.signal}):\n${logOf(child)}`);
    await sleep(20);
  }
  throw new Error(`${child.name} did not print ${pattern} within ${ms / 1000} s:\n${logOf(child)}`);
}

// /proc/<pid>/stat: CPU seconds used so far (user + system).
function cpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

// The whole machine's busy CPU seconds so far (every process, ours or
// not): /proc/stat's first line less idle and iowait. Over a run, busy
// minus our processes' share is what the rest of a shared machine took.
function machineBusySeconds() {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return (total - f[3] - f[4]) / CLK_TCK;
  } catch {
    return null;
  }
}

function procStatusMiB(pid, field) {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- HTTP client
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function request(port, method, urlPath, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const h = { ...headers };
    if (payload) {
      h['Content-Type'] = 'application/json';
      h['Content-Length'] = payload.length;
    }
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers: h, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, text, json });
      });
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${urlPath}: no answer within 30 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

// ---------------------------------------------------------------- checks
function requireFile(file, fix) {
  if (!fs.existsSync(file)) throw new Error(`${rel(file)} is missing; ${fix}`);
}

function haveCommand(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

// ---------------------------------------------------------------- the peers
async function startPeers() {
  fs.mkdirSync(path.join(tmp, 'dynamodb'));
  fs.mkdirSync(path.join(tmp, 's3'));
  const nodeEnv = { PATH: process.env.PATH, HOME: tmp, NODE_NO_WARNINGS: '1' };
  // dynalite takes no port 0, so a free port is picked first; a lost race is retried.
  let dynamo;
  let dynamoPort;
  for (let attempt = 0; ; attempt++) {
    dynamoPort = await freePort();
    dynamo = start('dynalite', process.execPath, [path.join(PEERS, 'dynalite/cli.js'), '--host', '127.0.0.1',
      '--port', String(dynamoPort), '--createTableMs', '0', '--deleteTableMs', '0', '--updateTableMs', '0',
      '--path', path.join(tmp, 'dynamodb')], { env: nodeEnv });
    try {
      await waitForLog(dynamo, /Dynalite listening at: /);
      break;
    } catch (err) {
      await stop(dynamo);
      if (attempt === 2) throw err;
    }
  }
  // s3rver's truncated listings need MD5 ciphers from OpenSSL 3's legacy provider.
  const s3 = start('s3rver', process.execPath, [path.join(PEERS, 's3rver/bin/s3rver.js'), '--address', '127.0.0.1',
    '--port', '0', '--directory', path.join(tmp, 's3')], { env: { ...nodeEnv, NODE_OPTIONS: '--openssl-legacy-provider' } });
  const m = await waitForLog(s3, /S3rver listening on [^\n]*:(\d+)\n/);
  const peers = {
    dynamo, s3,
    dynamoEndpoint: `http://127.0.0.1:${dynamoPort}`,
    s3Endpoint: `http://127.0.0.1:${Number(m[1])}`,
  };

  // The original's table and both buckets with the original's own aws-sdk v2.
  process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = '1';
  const sdk = createRequire(path.join(ORIGINAL, 'package.json'))('aws-sdk');
  const credentials = { accessKeyId: AWS.accessKey, secretAccessKey: AWS.secretKey };
  const ddb = new sdk.DynamoDB({ endpoint: peers.dynamoEndpoint, region: AWS.region, credentials });
  await ddb.createTable({
    TableName: NAMES.originalTable,
    KeySchema: [{ AttributeName: 'userId', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'userId', AttributeType: 'S' }],
    BillingMode: 'PAY_PER_REQUEST',
  }).promise();
  const s3c = new sdk.S3({ endpoint: peers.s3Endpoint, s3ForcePathStyle: true, region: AWS.region, credentials });
  for (const bucket of [NAMES.originalBucket, NAMES.gatehouseBucket]) await s3c.createBucket({ Bucket: bucket }).promise();

  // Gatehouse's tables (users, e-mail claims, refresh tokens, rate limits) its own way.
  await run('gatehouse migrate', BIN.gatehouse, ['migrate', '--create-tables'], { env: gatehouseAwsEnv(peers), timeoutMs: 60_000 });
  return peers;
}

// ---------------------------------------------------------------- environments
function gatehouseAwsEnv(peers) {
  return {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    AWS_ENDPOINT_URL_DYNAMODB: peers.dynamoEndpoint,
    AWS_ENDPOINT_URL_S3: peers.s3Endpoint,
    AWS_ACCESS_KEY_ID: AWS.accessKey,
    AWS_SECRET_ACCESS_KEY: AWS.secretKey,
    AWS_REGION: AWS.region,
    USERS_TABLE: NAMES.gatehouseTable,
    PROFILE_IMAGES_BUCKET: NAMES.gatehouseBucket,
    JWT_SECRET,
  };
}

function originalEnv(peers) {
  return {
    PATH: process.env.PATH,
    HOME: tmp,
    USERS_TABLE: NAMES.originalTable,
    BUCKET: NAMES.originalBucket,
    AWS_REGION: AWS.region,
    AWS_ACCESS_KEY_ID: AWS.accessKey,
    AWS_SECRET_ACCESS_KEY: AWS.secretKey,
    DYNAMODB_ENDPOINT: peers.dynamoEndpoint,
    S3_ENDPOINT: peers.s3Endpoint,
    JWT_SECRET,
    // aws-sdk v2's keep-alive switch: what any tuned deployment sets. Unset,
    // every DynamoDB call would open a new TCP connection.
    AWS_NODEJS_CONNECTION_REUSE_ENABLED: '1',
  };
}

// The HTTP servers: loopback, bcrypt cost 10 on both sides, and Gatehouse's
// rate limits off (the original has none; a load test from one address
// would hit them at once). Gatehouse logs one JSON line per request at its
// default LOG_LEVEL=info (to a file); the original logs nothing.
function serverEnvs(peers, ports, embeddedDir) {
  const gatehouseServe = {
    HOST: '127.0.0.1',
    BCRYPT_COST: String(BCRYPT_COST),
    LOG_LEVEL: 'info',
    RATE_LIMIT_LOGIN_PER_EMAIL_IP: '0',
    RATE_LIMIT_LOGIN_PER_EMAIL: '0',
    RATE_LIMIT_LOGIN_PER_IP: '0',
    RATE_LIMIT_LOGINS_PER_IP: '0',
    RATE_LIMIT_SIGNUP_PER_IP: '0',
  };
  return {
    gatehouse: { ...gatehouseAwsEnv(peers), ...gatehouseServe, PORT: String(ports.gatehouse) },
    original: {
      ...originalEnv(peers), PORT: String(ports.original), BCRYPT_COST: String(BCRYPT_COST),
      AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1',
    },
    embedded: {
      PATH: '/usr/local/bin:/usr/bin:/bin', DATA_DIR: embeddedDir, JWT_SECRET, ...gatehouseServe,
      PORT: String(ports.embedded),
    },
  };
}

// ---------------------------------------------------------------- 2. cold start
async function coldStarts(peers, results) {
  const common = ['--spawns', String(P.spawns), '--invocations', String(P.invocations)];
  const envArgs = (env) => Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
  const { PATH: _unused, ...gatehouseAws } = gatehouseAwsEnv(peers);
  const { PATH: _p, HOME: _h, ...original } = originalEnv(peers);
  const runs = [
    { key: 'gatehouse', label: 'gatehouse-aws', args: [BIN.bootstrap, ...envArgs(gatehouseAws)] },
    { key: 'embedded', label: 'gatehouse-embedded', args: [BIN.bootstrap] },
    {
      key: 'original', label: 'express-original',
      args: ['--command', process.execPath, '--arg', path.join(ORIGINAL, 'runtime.js'), ...envArgs(original)],
    },
  ];
  for (const r of runs) {
    const out = path.join(opts.out, `lambda_cold_start_${r.label}.json`);
    console.log(`\n== Lambda cold start: ${r.label} (${P.spawns} spawns, then ${P.invocations} mixed invocations)`);
    const { out: text } = await run(`lambda_cold_start ${r.label}`, BIN.coldStart,
      [...r.args, '--label', r.label, ...common, '--out', out], { timeoutMs: 300_000 });
    process.stdout.write(text.split('\n').filter((l) => /->|RSS|on-CPU/.test(l)).map((l) => `${l}\n`).join(''));
    results.cold[r.key] = JSON.parse(fs.readFileSync(out, 'utf8'));
  }
}

// ---------------------------------------------------------------- 3. servers
async function startServers(peers) {
  const ports = { gatehouse: await freePort(), original: await freePort(), embedded: await freePort() };
  const embeddedDir = path.join(tmp, 'embedded-data');
  fs.mkdirSync(embeddedDir);
  const envs = serverEnvs(peers, ports, embeddedDir);
  const servers = {
    gatehouse: { name: 'Gatehouse (AWS peers)', port: ports.gatehouse,
      child: start('gatehouse-serve-aws', BIN.gatehouse, ['serve'], { env: envs.gatehouse }) },
    original: { name: 'original (server.js)', port: ports.original,
      child: start('original-server', process.execPath, [path.join(ORIGINAL, 'server.js')], { env: envs.original, cwd: ORIGINAL }) },
    embedded: { name: 'Gatehouse (embedded)', port: ports.embedded,
      child: start('gatehouse-serve-embedded', BIN.gatehouse, ['serve'], { env: envs.embedded }) },
  };
  for (const s of Object.values(servers)) await waitHealthy(s);
  return servers;
}

async function waitHealthy(server) {
  const deadline = Date.now() + 30_000;
  let exited = null;
  server.child.exited.then((e) => { exited = e; });
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${server.name} exited (${exited.code ?? exited.signal}):\n${logOf(server.child)}`);
    try {
      const r = await request(server.port, 'GET', '/health');
      if (r.status === 200) return;
    } catch { /* not listening yet */ }
    await sleep(50);
  }
  throw new Error(`${server.name} did not answer GET /health within 30 s:\n${logOf(server.child)}`);
}

// The same users on every server, through each one's own POST /signup:
// user<i>@bench.example.com, one password, bcrypt cost 10.
async function seed(server) {
  let next = 0;
  const worker = async () => {
    while (next < P.users) {
      const i = next++;
      const r = await request(server.port, 'POST', '/signup',
        { body: { name: `Bench User ${i}`, email: `user${i}@${EMAIL_DOMAIN}`, password: PASSWORD } });
      if (r.status !== 201) throw new Error(`${server.name}: POST /signup user${i} answered ${r.status}: ${r.text}`);
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: 8 }, worker));
  return (Date.now() - started) / 1000;
}

async function login(server, i = 0) {
  const r = await request(server.port, 'POST', '/login', { body: { email: `user${i}@${EMAIL_DOMAIN}`, password: PASSWORD } });
  if (r.status !== 200 || !r.json || typeof r.json.token !== 'string') {
    throw new Error(`${server.name}: POST /login answered ${r.status}: ${r.text}`);
  }
  return r.json.token;
}

// One login at a time on an idle server: how far a login is from one hash.
async function serialLogins(server) {
  const times = [];
  for (let i = 0; i < P.serialLogins; i++) {
    const t = process.hrtime.bigint();
    await login(server, i % P.users);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return stats(times);
}

function stats(v) {
  const s = [...v].sort((a, b) => a - b);
  const n = s.length;
  if (!n) return null;
  return {
    min: s[0], max: s[n - 1], median: n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2,
    p90: s[Math.max(1, Math.ceil(0.9 * n)) - 1], samples: v,
  };
}

// ---------------------------------------------------------------- wrk
const ROUTES = [
  { key: 'health', title: 'GET /health', path: '/health', script: 'health.lua' },
  { key: 'me', title: 'GET /users/me', path: '/users/me', script: 'authorized.lua' },
  { key: 'users', title: 'GET /users?limit=25', path: '/users?limit=25', script: 'authorized.lua' },
  { key: 'login', title: 'POST /login', path: '/login', script: 'login.lua' },
];

function wrkArgs({ threads, connections, duration, script, url }) {
  return ['-t', String(threads), '-c', String(connections), '-d', `${duration}s`, '--timeout', '10s',
    '-s', path.join(WRK_DIR, script), url];
}

function wrkEnv(server, extra = {}) {
  return {
    PATH: process.env.PATH,
    BENCH_TOKEN: server.token || '',
    BENCH_USERS: String(P.users),
    BENCH_PASSWORD: PASSWORD,
    BENCH_EMAIL_DOMAIN: EMAIL_DOMAIN,
    ...extra,
  };
}

function parseWrk(text, what) {
  const line = text.split('\n').find((l) => l.startsWith('BENCH_JSON '));
  if (!line) throw new Error(`${what}: wrk printed no BENCH_JSON line:\n${text.slice(-2000)}`);
  const r = JSON.parse(line.slice('BENCH_JSON '.length));
  const seconds = r.duration_us / 1e6;
  const errors = Object.values(r.errors).reduce((a, b) => a + b, 0);
  return {
    requests: r.requests,
    seconds,
    rps: r.requests / seconds,
    errors: r.errors,
    error_count: errors,
    latency_ms: Object.fromEntries(Object.entries(r.latency_us).map(([k, v]) => [k, v / 1000])),
    cdf_ms: r.cdf_us.map(([p, us]) => [p, us / 1000]),
  };
}

// One wrk run against one server, with the CPU time the server and the
// DynamoDB peer spent during it.
async function wrkRun(server, route, peers, { connections = P.connections, duration = P.duration } = {}) {
  const url = `http://127.0.0.1:${server.port}${route.path}`;
  const args = wrkArgs({ threads: Math.min(P.wrkThreads, connections), connections, duration, script: route.script, url });
  if (P.warmup > 0) {
    await run(`wrk warm-up ${route.key}`, 'wrk', wrkArgs({ threads: 1, connections: Math.min(4, connections), duration: P.warmup, script: route.script, url }),
      { env: wrkEnv(server), timeoutMs: (P.warmup + 30) * 1000 });
  }
  const cpu0 = { server: cpuSeconds(server.child.pid), dynamo: cpuSeconds(peers.dynamo.pid), machine: machineBusySeconds() };
  const { out } = await run(`wrk ${route.key}`, 'wrk', args, { env: wrkEnv(server), timeoutMs: (duration + 60) * 1000 });
  const cpu1 = { server: cpuSeconds(server.child.pid), dynamo: cpuSeconds(peers.dynamo.pid), machine: machineBusySeconds() };
  const r = parseWrk(out, `${server.name} ${route.title}`);
  r.command = `wrk ${args.map((a) => (a.startsWith(ROOT) ? rel(a) : a)).join(' ')}`;
  r.server_cpu_s = cpu1.server - cpu0.server;
  r.dynalite_cpu_s = cpu1.dynamo - cpu0.dynamo;
  r.server_cpu_ms_per_request = r.requests ? (r.server_cpu_s * 1000) / r.requests : null;
  // Cores busy on the whole machine during the run, and how many of them
  // were neither the server nor dynalite (wrk itself, and anything else).
  r.machine_busy_cores = (cpu1.machine - cpu0.machine) / r.seconds;
  r.other_busy_cores = r.machine_busy_cores - (r.server_cpu_s + r.dynalite_cpu_s) / r.seconds;
  return r;
}

function describeRun(r) {
  const err = r.error_count ? `, ${r.error_count} ERRORS ${JSON.stringify(r.errors)}` : '';
  return `${r.rps.toFixed(1)} req/s, p50 ${fmtMs(r.latency_ms.p50)}, p99 ${fmtMs(r.latency_ms.p99)}` +
    ` (cores busy: server ${(r.server_cpu_s / r.seconds).toFixed(2)}, dynalite ${(r.dynalite_cpu_s / r.seconds).toFixed(2)},` +
    ` wrk + rest of machine ${r.other_busy_cores.toFixed(2)}${err})`;
}

async function httpBenchmarks(servers, peers, results) {
  console.log(`\n== HTTP (wrk, keep-alive, ${P.connections} connections, ${P.wrkThreads} threads, ${P.duration} s per run` +
    `${P.warmup ? ` after a ${P.warmup} s warm-up` : ''}; POST /login ${P.loginConnections} connections)`);
  for (const route of ROUTES) {
    results.http[route.key] = {};
    for (const key of ['gatehouse', 'original', 'embedded']) {
      const s = servers[key];
      const r = await wrkRun(s, route, peers, route.key === 'login' ? { connections: P.loginConnections } : {});
      results.http[route.key][key] = r;
      console.log(`  ${route.title.padEnd(20)} ${s.name.padEnd(22)} ${describeRun(r)}`);
    }
  }
}

// ---------------------------------------------------------------- 4. contention
async function contention(servers, peers, results) {
  console.log(`\n== GET /health (${P.probeConnections} connections, ${P.probeDelayMs} ms between requests) while POST /login ` +
    `saturates ${P.loginConnections} other connections, ${P.contentionDuration} s`);
  const login = ROUTES.find((r) => r.key === 'login');
  const probeSeconds = Math.max(1, P.contentionDuration - 2);
  for (const key of ['gatehouse', 'original', 'embedded']) {
    const s = servers[key];
    const loginArgs = wrkArgs({ threads: 1, connections: P.loginConnections, duration: P.contentionDuration, script: login.script,
      url: `http://127.0.0.1:${s.port}/login` });
    const probeArgs = wrkArgs({ threads: 1, connections: P.probeConnections, duration: probeSeconds, script: 'health_paced.lua',
      url: `http://127.0.0.1:${s.port}/health` });
    const cpu0 = { server: cpuSeconds(s.child.pid), machine: machineBusySeconds(), at: Date.now() };
    const loads = run(`wrk login load ${key}`, 'wrk', loginArgs, { env: wrkEnv(s), timeoutMs: (P.contentionDuration + 60) * 1000 });
    await sleep(1000); // the logins are saturating before the probe starts
    const probe = await run(`wrk health probe ${key}`, 'wrk', probeArgs,
      { env: wrkEnv(s, { BENCH_DELAY_MS: String(P.probeDelayMs) }), timeoutMs: (probeSeconds + 60) * 1000 });
    const loginOut = await loads;
    const wall = (Date.now() - cpu0.at) / 1000;
    const r = {
      server_busy_cores: (cpuSeconds(s.child.pid) - cpu0.server) / wall,
      machine_busy_cores: (machineBusySeconds() - cpu0.machine) / wall,
      health: parseWrk(probe.out, `${s.name} health probe`),
      login: parseWrk(loginOut.out, `${s.name} login load`),
      commands: [`wrk ${loginArgs.map((a) => (a.startsWith(ROOT) ? rel(a) : a)).join(' ')}`,
        `BENCH_DELAY_MS=${P.probeDelayMs} wrk ${probeArgs.map((a) => (a.startsWith(ROOT) ? rel(a) : a)).join(' ')}`],
    };
    results.contention[key] = r;
    console.log(`  ${s.name.padEnd(22)} GET /health p50 ${fmtMs(r.health.latency_ms.p50)}, p99 ${fmtMs(r.health.latency_ms.p99)}, ` +
      `max ${fmtMs(r.health.latency_ms.max)} (${r.health.requests} probes); POST /login ${r.login.rps.toFixed(1)} req/s` +
      `${r.health.error_count + r.login.error_count ? ' ERRORS' : ''}`);
  }
}

// ---------------------------------------------------------------- 5. micro-benchmarks and bcrypt
async function microBenchmarks(results) {
  if (!fs.existsSync(BIN.micro)) {
    console.log(`\n== micro-benchmarks: ${rel(BIN.micro)} not built; skipped`);
    return;
  }
  const out = path.join(opts.out, 'micro_benchmarks.json');
  const args = ['--benchmark_format=json', `--benchmark_out=${out}`, `--benchmark_repetitions=${P.microRepetitions}`,
    '--benchmark_report_aggregates_only=true'];
  if (P.microFilter) args.push(`--benchmark_filter=${P.microFilter}`);
  console.log(`\n== micro-benchmarks: ${rel(BIN.micro)} ${args.map((a) => a.replace(ROOT + '/', '')).join(' ')}`);
  await run('micro_benchmarks', BIN.micro, args, { timeoutMs: 600_000 });
  const doc = JSON.parse(fs.readFileSync(out, 'utf8'));
  // Medians when repeated; the single run otherwise.
  const byName = new Map();
  for (const b of doc.benchmarks || []) {
    const name = b.run_name || b.name.replace(/_(median|mean|stddev|cv)$/, '');
    if (b.run_type === 'aggregate' && b.aggregate_name !== 'median') continue;
    if (b.run_type === 'aggregate' || !byName.has(name)) {
      byName.set(name, { name, real_ns: toNs(b.real_time, b.time_unit), cpu_ns: toNs(b.cpu_time, b.time_unit), kind: b.run_type === 'aggregate' ? 'median' : 'single run' });
    }
  }
  results.micro = { file: rel(out), context: doc.context, medians: [...byName.values()] };
  for (const m of results.micro.medians) {
    console.log(`  ${m.name.padEnd(44)} CPU ${fmtNs(m.cpu_ns).padStart(10)}, real ${fmtNs(m.real_ns).padStart(10)} (${m.kind})`);
  }
}

function toNs(v, unit) {
  return v * ({ ns: 1, us: 1e3, ms: 1e6, s: 1e9 }[unit] ?? 1);
}

// The micro-benchmark that times one bcrypt verify at cost 10, if any.
function microBcrypt(results) {
  const all = (results.micro && results.micro.medians) || [];
  const bcrypt = all.filter((m) => /bcrypt/i.test(m.name));
  return bcrypt.find((m) => /verify/i.test(m.name) && /(^|\D)10(\D|$)/.test(m.name)) ||
    bcrypt.find((m) => /(^|\D)10(\D|$)/.test(m.name)) || bcrypt.find((m) => /verify/i.test(m.name)) || null;
}

// The warm handler path (event decode + route + JWT verify + encode):
// bench/micro_benchmarks.cpp's warm/get_users_me, else the first warm one.
function microWarmPath(results) {
  const all = (results.micro && results.micro.medians) || [];
  return all.find((m) => m.name === 'warm/get_users_me') ||
    all.find((m) => /warm|handler/i.test(m.name) && !/bcrypt|multipart|sigv4/i.test(m.name)) || null;
}

// Without the micro-benchmarks: one verify at cost 10 through libxcrypt's
// crypt(3), the same library and $2b$ code Gatehouse's hasher calls, timed
// in Python's crypt module (present in Debian's Python 3.11).
async function timeBcryptHere() {
  const script = [
    'import crypt, statistics, time',
    `h = crypt.crypt("${PASSWORD}", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=${2 ** BCRYPT_COST}))`,
    'ts = []',
    'for _ in range(7):',
    '    t = time.perf_counter()',
    `    assert crypt.crypt("${PASSWORD}", h) == h`,
    '    ts.append((time.perf_counter() - t) * 1000)',
    'print(statistics.median(ts))',
  ].join('\n');
  const r = await run('bcrypt timing', 'python3', ['-W', 'ignore', '-c', script], { allowFail: true, timeoutMs: 60_000 });
  const v = Number(r.out.trim());
  return r.code === 0 && Number.isFinite(v) ? v : null;
}

// ---------------------------------------------------------------- formatting
function fmtMs(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return 'n/a';
  if (v >= 100) return `${v.toFixed(0)} ms`;
  if (v >= 10) return `${v.toFixed(1)} ms`;
  return `${v.toFixed(2)} ms`;
}

function fmtNs(ns) {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${ns.toFixed(0)} ns`;
}

const fmtRps = (v) => (v === null || v === undefined ? 'n/a' : v >= 100 ? `${v.toFixed(0)}/s` : `${v.toFixed(1)}/s`);
const fmtMiB = (v) => (v === null || v === undefined ? 'n/a' : `${v.toFixed(1)} MiB`);
const fmtRatio = (v) => (v === null || !Number.isFinite(v) ? 'n/a' : v >= 10 ? `${v.toFixed(0)}x` : `${v.toFixed(2)}x`);

// ---------------------------------------------------------------- 6. the table
function buildRows(results) {
  const rows = [];
  // higher: bigger is better (ratio G/O); lower: smaller is better (ratio O/G).
  const add = (section, figure, g, o, e, fmt, better, target = null) => {
    const ratio = g === null || o === null || g === undefined || o === undefined || !g || !o ? null
      : better === 'higher' ? g / o : o / g;
    rows.push({ section, figure, gatehouse: g ?? null, original: o ?? null, embedded: e ?? null, ratio, better,
      shown: { gatehouse: fmt(g), original: fmt(o), embedded: fmt(e), ratio: fmtRatio(ratio) }, target });
  };

  const c = results.cold;
  if (c.gatehouse && c.original) {
    const cs = (k) => (x) => x && x.cold_start[k];
    const next = cs('first_next_ms');
    const resp = cs('first_response_ms');
    const cpu = cs('on_cpu_to_first_response_ms');
    const ratioNext = c.original.cold_start.first_next_ms.median / c.gatehouse.cold_start.first_next_ms.median;
    add('Lambda cold start', 'spawn -> first GET /next, median', next(c.gatehouse).median, next(c.original).median,
      next(c.embedded)?.median, fmtMs, 'lower',
      { text: '>= 20x faster', met: ratioNext >= 20 });
    add('Lambda cold start', 'spawn -> first GET /next, p90', next(c.gatehouse).p90, next(c.original).p90, next(c.embedded)?.p90, fmtMs, 'lower');
    add('Lambda cold start', 'spawn -> first GET /next, min..max',
      null, null, null, () => '', 'lower');
    rows[rows.length - 1].shown = {
      gatehouse: `${fmtMs(next(c.gatehouse).min)}..${fmtMs(next(c.gatehouse).max)}`,
      original: `${fmtMs(next(c.original).min)}..${fmtMs(next(c.original).max)}`,
      embedded: c.embedded ? `${fmtMs(next(c.embedded).min)}..${fmtMs(next(c.embedded).max)}` : 'n/a',
      ratio: '',
    };
    add('Lambda cold start', 'spawn -> first response, median', resp(c.gatehouse).median, resp(c.original).median,
      resp(c.embedded)?.median, fmtMs, 'lower');
    if (cpu(c.gatehouse) && cpu(c.original)) {
      add('Lambda cold start', 'on-CPU time to first response, median', cpu(c.gatehouse).median, cpu(c.original).median,
        cpu(c.embedded)?.median, fmtMs, 'lower');
    }
    const rss = (x) => x && x.memory.vm_hwm_mib;
    const rssRatio = rss(c.original) / rss(c.gatehouse);
    add('Lambda cold start', `peak RSS after ${c.gatehouse.memory.invocations} mixed invocations`, rss(c.gatehouse),
      rss(c.original), rss(c.embedded), fmtMiB, 'lower', { text: '<= 1/4 of the original', met: rssRatio >= 4 });
  }

  const h = results.http;
  for (const route of ROUTES) {
    const runs = h[route.key];
    if (!runs) continue;
    const g = runs.gatehouse;
    const o = runs.original;
    const e = runs.embedded;
    let target = null;
    if (route.key === 'health' || route.key === 'me') target = { text: '>= 5x the original', met: g.rps / o.rps >= 5 };
    add(`HTTP ${route.title}`, 'throughput', g.rps, o.rps, e?.rps, fmtRps, 'higher', target);
    add(`HTTP ${route.title}`, 'latency p50', g.latency_ms.p50, o.latency_ms.p50, e?.latency_ms.p50, fmtMs, 'lower');
    add(`HTTP ${route.title}`, 'latency p99', g.latency_ms.p99, o.latency_ms.p99, e?.latency_ms.p99, fmtMs, 'lower');
    add(`HTTP ${route.title}`, 'server CPU per request', g.server_cpu_ms_per_request, o.server_cpu_ms_per_request,
      e?.server_cpu_ms_per_request, fmtMs, 'lower');
  }

  const verifyMs = results.bcrypt && results.bcrypt.verify_ms;
  if (h.login && verifyMs) {
    const bound = (CORES * 1000) / verifyMs;
    results.bcrypt.bound_rps = bound;
    add('POST /login vs the hash', `cores / one verify (${CORES} / ${fmtMs(verifyMs)}, ${results.bcrypt.source})`, bound, null, bound, fmtRps, 'higher');
    rows[rows.length - 1].shown.original = '';
    const share = (x) => (x ? x.rps / bound : null);
    const pct = (v) => (v === null ? 'n/a' : `${(v * 100).toFixed(0)}%`);
    add('POST /login vs the hash', 'throughput / that bound', share(h.login.gatehouse), share(h.login.original),
      share(h.login.embedded), pct, 'higher', { text: '>= 90% (Gatehouse, AWS peers)', met: share(h.login.gatehouse) >= 0.9 });
  }
  if (results.serialLogin.gatehouse) {
    const s = results.serialLogin;
    add('POST /login vs the hash', 'one login at a time, median', s.gatehouse.median, s.original?.median,
      s.embedded?.median, fmtMs, 'lower');
  }

  const k = results.contention;
  if (k.gatehouse && k.original) {
    add('GET /health during POST /login saturation', 'latency p99', k.gatehouse.health.latency_ms.p99,
      k.original.health.latency_ms.p99, k.embedded?.health.latency_ms.p99, fmtMs, 'lower',
      { text: '< 5 ms (Gatehouse, AWS peers)', met: k.gatehouse.health.latency_ms.p99 < 5 });
    add('GET /health during POST /login saturation', 'latency p50', k.gatehouse.health.latency_ms.p50,
      k.original.health.latency_ms.p50, k.embedded?.health.latency_ms.p50, fmtMs, 'lower');
    add('GET /health during POST /login saturation', 'POST /login throughput meanwhile', k.gatehouse.login.rps,
      k.original.login.rps, k.embedded?.login.rps, fmtRps, 'higher');
  }

  if (results.servers) {
    const r = results.servers;
    add('HTTP servers', 'peak RSS after all HTTP runs', r.gatehouse?.vm_hwm_mib, r.original?.vm_hwm_mib,
      r.embedded?.vm_hwm_mib, fmtMiB, 'lower');
  }

  // Gatehouse only: the warm handler path with its target, then every other
  // micro-benchmark's median (bench/micro_benchmarks.cpp, when built).
  const warm = microWarmPath(results);
  const micro = (m, target = null) => {
    add('micro-benchmarks (Gatehouse only; median CPU time of the repetitions)', m ? m.name : 'warm handler path (no micro_benchmarks binary)',
      m ? m.cpu_ns : null, null, null, (v) => (v === null || v === undefined ? 'n/a' : fmtNs(v)), 'lower', target);
    Object.assign(rows[rows.length - 1].shown, { original: '', embedded: '', ratio: '' });
  };
  micro(warm, { text: '< 20 µs median', met: warm ? warm.cpu_ns / 1000 < 20 : null });
  for (const m of (results.micro && results.micro.medians) || []) if (m !== warm) micro(m);
  return rows;
}

function printTable(rows) {
  const head = ['figure', 'Gatehouse', 'original', 'ratio', 'G. embedded', 'target (issue 7)'];
  const body = [];
  let section = null;
  for (const r of rows) {
    if (r.section !== section) {
      section = r.section;
      body.push({ section });
    }
    const t = r.target ? `${r.target.text}: ${r.target.met === null ? 'n/a' : r.target.met ? 'met' : 'MISSED'}` : '';
    body.push([`  ${r.figure}`, r.shown.gatehouse, r.shown.original, r.shown.ratio, r.shown.embedded, t]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...body.filter(Array.isArray).map((b) => b[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 || i === 5 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  console.log(`\n${line(head)}`);
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) console.log(Array.isArray(b) ? line(b) : b.section);
  console.log('\nGatehouse = `gatehouse serve` / the packaged bootstrap on dynalite + s3rver; original = the Express app on the' +
    ' same peers;\nratio > 1 means Gatehouse is better (throughput: Gatehouse / original; times and memory: original / Gatehouse);' +
    '\nG. embedded = Gatehouse on its SQLite + files default, for the record.');
}

// Markdown of the same rows, for docs/BENCHMARKS.md.
function markdownTable(rows) {
  const out = ['| | Gatehouse | original | ratio (>1: Gatehouse better) | Gatehouse embedded | target |', '| --- | ---: | ---: | ---: | ---: | --- |'];
  let section = null;
  for (const r of rows) {
    if (r.section !== section) {
      section = r.section;
      out.push(`| **${section}** | | | | | |`);
    }
    const t = r.target ? `${r.target.text}: **${r.target.met === null ? 'n/a' : r.target.met ? 'met' : 'missed'}**` : '';
    out.push(`| ${r.figure} | ${r.shown.gatehouse} | ${r.shown.original} | ${r.shown.ratio} | ${r.shown.embedded} | ${t} |`);
  }
  return out.join('\n');
}

// ---------------------------------------------------------------- 7. the chart
function writeChart(results) {
  if (!haveCommand('gnuplot')) {
    console.log('\nchart: gnuplot is not installed (scripts/install-deps.sh installs gnuplot-nox); no PNG');
    return null;
  }
  const dir = opts.out;
  const impl = [['gatehouse', 'Gatehouse (AWS peers)', '#1f77b4'], ['original', 'original (Express)', '#d62728'],
    ['embedded', 'Gatehouse (embedded)', '#7f7f7f']];
  const cdfPanels = [];
  const writeCdf = (file, runs, title) => {
    const present = impl.filter(([k]) => runs[k]);
    if (!present.length) return;
    const points = runs[present[0][0]].cdf_ms.map(([p]) => p);
    const lines = points.map((p, i) => [p, ...present.map(([k]) => runs[k].cdf_ms[i][1])].join(' '));
    fs.writeFileSync(path.join(dir, file), `# percentile ${present.map(([k]) => `${k}_ms`).join(' ')}\n${lines.join('\n')}\n`);
    cdfPanels.push({ file, title, present });
  };
  for (const route of ROUTES) {
    if (results.http[route.key]) writeCdf(`cdf_${route.key}.dat`, results.http[route.key], `${route.title} (wrk, ${route.key === 'login' ? P.loginConnections : P.connections} conns)`);
  }
  if (results.contention.gatehouse) {
    const runs = Object.fromEntries(Object.entries(results.contention).map(([k, v]) => [k, v.health]));
    writeCdf('cdf_health_under_login.dat', runs, 'GET /health during POST /login saturation');
  }
  const c = results.cold;
  const coldImpl = impl.filter(([k]) => c[k]);
  if (coldImpl.length) {
    const row = (k, f) => `${c[k].cold_start[f].median} ${c[k].cold_start[f].min} ${c[k].cold_start[f].max}`;
    fs.writeFileSync(path.join(dir, 'cold_start.dat'),
      `# what ${coldImpl.map(([k]) => `${k}_median ${k}_min ${k}_max`).join(' ')}\n` +
      `"first GET /next" ${coldImpl.map(([k]) => row(k, 'first_next_ms')).join(' ')}\n` +
      `"first response" ${coldImpl.map(([k]) => row(k, 'first_response_ms')).join(' ')}\n`);
  }
  const panels = cdfPanels.length + (coldImpl.length ? 1 : 0);
  if (!panels) return null;
  const cols = 3;
  const rowsN = Math.ceil(panels / cols);
  const png = path.join(dir, 'benchmarks.png');
  const q = (s) => `"${s.replace(/"/g, '\\"')}"`;
  const g = [
    `set terminal pngcairo size 1500,${460 * rowsN} font "DejaVu Sans,10" noenhanced`,
    `set output ${q(png)}`,
    `set multiplot layout ${rowsN},${cols} title ${q(`Gatehouse vs the Express original, ${new Date().toISOString().slice(0, 10)}, ${CORES} CPUs${opts.smoke ? ' (SMOKE RUN: tiny durations)' : ''}`)}`,
    'set grid', 'set key top left', 'set logscale x', 'set format x "%g"',
  ];
  for (const p of cdfPanels) {
    g.push(`set title ${q(p.title)}`, 'set xlabel "latency (ms, log scale)"', 'set ylabel "percentile"', 'set yrange [0:100]',
      'set key bottom right',
      `plot ${p.present.map(([k, name, color], i) => `${q(path.join(dir, p.file))} using ${i + 2}:1 with lines lw 2 lc rgb ${q(color)} title ${q(name)}`).join(', ')}`);
  }
  if (coldImpl.length) {
    g.push('unset logscale x', 'set format x', 'set logscale y', 'set yrange [*:*]', 'set xrange [-0.5:1.5]',
      `set title ${q(`Lambda cold start, ${results.cold.gatehouse?.cold_start.spawns ?? ''} spawns: median, min..max`)}`,
      'set xlabel ""', 'set ylabel "ms from spawn (log scale)"', 'set style data histograms',
      'set style histogram errorbars gap 2 lw 1', 'set style fill solid 0.8 border -1', 'set boxwidth 0.9', 'set key top left',
      `plot ${coldImpl.map(([k, name, color], i) => `${q(path.join(dir, 'cold_start.dat'))} using ${2 + 3 * i}:${3 + 3 * i}:${4 + 3 * i}${i === 0 ? ':xtic(1)' : ''} lc rgb ${q(color)} title ${q(name)}`).join(', ')}`);
  }
  g.push('unset multiplot');
  const script = path.join(dir, 'benchmarks.gnuplot');
  fs.writeFileSync(script, `${g.join('\n')}\n`);
  const r = spawnSync('gnuplot', [script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gnuplot failed:\n${r.stderr}`);
  if (opts.chart && opts.chart !== png) fs.copyFileSync(png, opts.chart);
  return png;
}

// ---------------------------------------------------------------- the machine
function machine() {
  const cpu = (os.cpus()[0] || {}).model || 'unknown';
  return {
    cpu, nproc: CORES, memory_gib: +(os.totalmem() / 2 ** 30).toFixed(1), kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    loadavg_at_start: os.loadavg().map((v) => +v.toFixed(2)),
    node: process.version,
    wrk: (spawnSync('wrk', ['--version'], { encoding: 'utf8' }).stdout || '').split('\n')[0].trim(),
  };
}

// ---------------------------------------------------------------- main
async function main() {
  const t0 = Date.now();
  const want = (part) => opts.parts.has(part);
  requireFile(path.join(PEERS, 'dynalite/cli.js'), 'run `npm ci` in tests/peers (make bench does)');
  requireFile(path.join(PEERS, 's3rver/bin/s3rver.js'), 'run `npm ci` in tests/peers (make bench does)');
  requireFile(path.join(ORIGINAL, 'node_modules/aws-sdk/package.json'), 'run `npm ci` in bench/express-original (make bench does)');
  requireFile(BIN.gatehouse, `build it (make build, or cmake --build ${rel(opts.buildDir)} --target gatehouse)`);
  if (want('cold')) {
    requireFile(BIN.coldStart, `build it (cmake --build ${rel(opts.buildDir)} --target lambda_cold_start)`);
    requireFile(BIN.bootstrap, 'build the Lambda artifact (make package)');
  }
  if ((want('http') || want('contention')) && !haveCommand('wrk')) throw new Error('wrk is not installed (scripts/install-deps.sh installs it)');

  fs.mkdirSync(opts.out, { recursive: true });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-bench-'));
  const results = {
    benchmark: 'issue 7: Gatehouse vs the Node.js/Express original',
    when: new Date().toISOString(),
    smoke: opts.smoke,
    machine: machine(),
    parameters: { ...P, bcrypt_cost: BCRYPT_COST, cores: CORES },
    binaries: { gatehouse: rel(BIN.gatehouse), bootstrap: rel(BIN.bootstrap), lambda_cold_start: rel(BIN.coldStart) },
    cold: {}, http: {}, contention: {}, serialLogin: {}, seeding_s: {}, servers: null, bcrypt: null, micro: null,
  };
  console.log(`bench${opts.smoke ? ' (smoke)' : ''}: ${results.machine.cpu}, ${CORES} CPUs, load ${results.machine.loadavg_at_start.join(' ')}; ` +
    `node ${process.version}; ${results.machine.wrk}`);

  if (results.machine.loadavg_at_start[0] > CORES / 2) {
    console.log(`note: the machine is busy (1-minute load ${results.machine.loadavg_at_start[0]} on ${CORES} CPUs): ` +
      'expect noisy figures; the "rest of machine" share of each run below shows how much');
  }
  const needPeers = want('cold') || want('http') || want('contention');
  const peers = needPeers ? await startPeers() : null;
  if (peers) console.log(`peers: dynalite ${peers.dynamoEndpoint}, s3rver ${peers.s3Endpoint}`);

  if (want('cold')) await coldStarts(peers, results);

  if (want('http') || want('contention')) {
    const servers = await startServers(peers);
    console.log(`\n== seeding ${P.users} users on each server (POST /signup, bcrypt cost ${BCRYPT_COST})`);
    for (const [key, s] of Object.entries(servers)) {
      results.seeding_s[key] = await seed(s);
      s.token = await login(s);
      console.log(`  ${s.name.padEnd(22)} ${results.seeding_s[key].toFixed(1)} s`);
    }
    for (const [key, s] of Object.entries(servers)) results.serialLogin[key] = await serialLogins(s);
    if (want('http')) await httpBenchmarks(servers, peers, results);
    if (want('contention')) await contention(servers, peers, results);
    results.servers = Object.fromEntries(Object.entries(servers).map(([k, s]) => [k, {
      vm_hwm_mib: procStatusMiB(s.child.pid, 'VmHWM'), vm_rss_mib: procStatusMiB(s.child.pid, 'VmRSS'),
    }]));
    results.peers_cpu_s = { dynalite: cpuSeconds(peers.dynamo.pid), s3rver: cpuSeconds(peers.s3.pid) };
    for (const s of Object.values(servers)) await stop(s.child);
  }
  if (peers) {
    await stop(peers.dynamo);
    await stop(peers.s3);
  }

  // CPU-bound, so with nothing else of ours running.
  if (want('micro')) await microBenchmarks(results);
  const micro = microBcrypt(results);
  if (micro) {
    // CPU time: what one verify costs a core (on an idle machine it equals
    // the real time; on a shared one the real time also counts waiting).
    results.bcrypt = { verify_ms: micro.cpu_ns / 1e6, real_ms: micro.real_ns / 1e6, source: `${micro.name}, median CPU time` };
  } else if (want('http')) {
    const ms = await timeBcryptHere();
    if (ms !== null) results.bcrypt = { verify_ms: ms, source: 'libxcrypt via python3 crypt, median of 7' };
  }

  const rows = buildRows(results);
  results.table = rows.map(({ shown, ...r }) => ({ ...r, shown }));
  printTable(rows);
  const png = writeChart(results);
  results.chart = png ? rel(png) : null;
  results.elapsed_s = (Date.now() - t0) / 1000;
  const file = path.join(opts.out, 'comparison.json');
  fs.writeFileSync(file, `${JSON.stringify(results, null, 1)}\n`);
  fs.writeFileSync(path.join(opts.out, 'table.md'), `${markdownTable(rows)}\n`);
  console.log(`\nraw results: ${rel(opts.out)}/ (comparison.json, table.md, lambda_cold_start_*.json${results.micro ? ', micro_benchmarks.json' : ''})`);
  if (png) console.log(`chart: ${rel(png)}${opts.chart ? ` and ${rel(opts.chart)}` : ''}`);
  console.log(`bench: done in ${results.elapsed_s.toFixed(0)} s`);
}

main().then(() => {
  clearTimeout(overall);
  cleanup();
  process.exit(0);
}, (err) => {
  console.error(`bench: could not run: ${err && err.stack ? err.stack : err}`);
  cleanup();
  process.exit(1);
});
