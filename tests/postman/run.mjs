// The Postman collection (postman/gatehouse.postman_collection.json) run by
// newman (pinned in tests/peers) against a real gatehouse on loopback:
// a free port, a temporary DATA_DIR, BCRYPT_COST=4, rate limits off.
//
//   node run.mjs <gatehouse binary> [<output dir>]
//
// Besides newman's own verdict it checks that every request of the
// collection has a test script with at least one pm.test (statically), and
// that every request ran and asserted something of its own (from newman's
// JSON report, written to <output dir>/newman-report.json).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { startGatehouse as startServer } from '../support/gatehouse-server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const postmanDir = path.resolve(here, '../../postman');
const collectionPath = path.join(postmanDir, 'gatehouse.postman_collection.json');
const newmanBin = path.resolve(here, '../peers/node_modules/newman/bin/newman.js');

const [gatehouseBinary, outputArg] = process.argv.slice(2);
if (!gatehouseBinary) {
  console.error('usage: node run.mjs <gatehouse binary> [<output dir>]');
  process.exit(2);
}
if (!fs.existsSync(newmanBin)) {
  console.error(`newman is missing: run \`npm ci\` in ${path.dirname(path.dirname(path.dirname(newmanBin)))}`);
  process.exit(1);
}
const outputDir = outputArg || fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-postman-out-'));
fs.mkdirSync(outputDir, { recursive: true });
const reportPath = path.join(outputDir, 'newman-report.json');

// ---------------------------------------------------------------------------
// The static check: every request (an item with a `request`) needs a test
// script that calls pm.test. Returns the names of those that have none.

function requestsOf(items, trail = []) {
  const out = [];
  for (const item of items || []) {
    const where = [...trail, item.name];
    if (item.request) out.push({ id: item.id, name: item.name, where: where.join(' / '), item });
    if (item.item) out.push(...requestsOf(item.item, where));
  }
  return out;
}

function testScriptOf(item) {
  return (item.event || [])
    .filter((e) => e.listen === 'test' && e.script && !e.disabled)
    .map((e) => (Array.isArray(e.script.exec) ? e.script.exec.join('\n') : String(e.script.exec || '')))
    .join('\n');
}

function requestsWithoutTests(collection) {
  return requestsOf(collection.item)
    .filter(({ item }) => !/\bpm\.test\s*\(/.test(testScriptOf(item)))
    .map(({ where }) => where);
}

// ---------------------------------------------------------------------------
// The server.

let server = null;

// Killed, with its data, however this script ends: the signals below become
// process.exit, on which the helper stops the server.
const startGatehouse = () => startServer(gatehouseBinary, { dataDirPrefix: 'gatehouse-postman-' });

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => process.exit(128 + os.constants.signals[signal]));

// newman's CLI, as a user runs it; resolves with its exit code and output.
function runNewman(baseUrl) {
  const args = [newmanBin, 'run', collectionPath,
    '--env-var', `baseUrl=${baseUrl}`,
    // One user a page: the two users of the run take the walk over
    // next_cursor through its loop (pm.execution.setNextRequest).
    '--env-var', 'walkPageSize=1',
    '--working-dir', postmanDir,
    '--timeout-request', '10000',
    '--reporters', 'cli,json', '--reporter-json-export', reportPath,
    '--color', 'off'];
  fs.rmSync(reportPath, { force: true });  // never judge an older run's report
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, output }));
  });
}

// ---------------------------------------------------------------------------

const collection = JSON.parse(fs.readFileSync(collectionPath, 'utf8'));

test('the check finds a request without pm.test', () => {
  // The checker itself can fail: a request whose script only logs, one with
  // a disabled test script, and one with none are all reported.
  const fake = {
    item: [{
      name: 'folder',
      item: [
        { name: 'logs only', request: {}, event: [{ listen: 'test', script: { exec: ['console.log(1)'] } }] },
        { name: 'disabled', request: {}, event: [{ listen: 'test', disabled: true, script: { exec: ['pm.test("x", () => {})'] } }] },
        { name: 'pre-request only', request: {}, event: [{ listen: 'prerequest', script: { exec: ['pm.test("x", () => {})'] } }] },
        { name: 'fine', request: {}, event: [{ listen: 'test', script: { exec: ['pm.test("x", () => {})'] } }] },
      ],
    }],
  };
  assert.deepEqual(requestsWithoutTests(fake), ['folder / logs only', 'folder / disabled', 'folder / pre-request only']);
});

test('every request in the collection has at least one pm.test', () => {
  assert.equal(collection.info.schema, 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json');
  assert.ok(requestsOf(collection.item).length >= 30, 'the collection has lost requests');
  assert.deepEqual(requestsWithoutTests(collection), []);
});

test('every route of the contract has a request', () => {
  const routes = new Set(requestsOf(collection.item).map(({ item }) => {
    const r = item.request;
    const raw = typeof r.url === 'string' ? r.url : r.url.raw;
    return `${r.method} ${raw.replace('{{baseUrl}}', '').split('?')[0]}`;
  }));
  for (const route of ['GET /health', 'POST /signup', 'POST /login', 'GET /users', 'GET /users/me',
    'POST /upload_profile_pic', 'GET {{imageUrl}}', 'POST /profile_pic/upload_url', 'POST {{uploadUrl}}',
    'POST /profile_pic/confirm', 'POST /token/refresh', 'POST /logout', 'GET /', 'GET /openapi.yaml', 'GET /docs',
    'OPTIONS /users', 'PATCH /users/me', 'POST /password/change', 'POST /email/verify/request',
    'POST /email/verify/confirm', 'POST /password/forgot', 'POST /password/reset', 'POST /email/change',
    'POST /email/change/confirm', 'GET /users/me/export', 'DELETE /users/me']) {
    assert.ok(routes.has(route), `no request for ${route}`);
  }
});

describe('against a fresh gatehouse', () => {
  let report = null;

  before(async () => {
    server = await startGatehouse();
  });

  after(async () => {
    if (server) await server.stop();
  });

  test('newman runs the collection green against a fresh gatehouse', async () => {
    const { code, signal, output } = await runNewman(server.base);
    console.log(output);
    assert.ok(fs.existsSync(reportPath), `newman wrote no report (exit ${code}, ${signal})`);
    report = JSON.parse(fs.readFileSync(reportPath, 'utf8'));
    assert.equal(code, 0, `newman failed:\n${report.run.failures.map((f) => `${f.source?.name}: ${f.error?.message}`).join('\n')}\n--- server output:\n${server.output()}`);
    assert.equal(report.run.failures.length, 0);
  });

  test('every request ran and asserted something of its own', () => {
    assert.ok(report, 'no newman report');
    const ran = new Set();
    for (const ex of report.run.executions) {
      // The collection-level checks ("[every response] …") do not count.
      const own = (ex.assertions || []).filter((a) => !a.assertion.startsWith('[every'));
      ran.add(ex.item.id);
      assert.ok(own.length > 0, `"${ex.item.name}" ran without a test of its own`);
      for (const a of ex.assertions || []) assert.equal(a.error, undefined, `"${ex.item.name}": ${a.assertion}`);
    }
    // By the ids newman gave the items (the report holds the collection with them).
    for (const { id, where } of requestsOf(report.collection.item)) assert.ok(ran.has(id), `"${where}" never ran`);
    assert.equal(report.run.stats.requests.failed, 0);
  });
});
