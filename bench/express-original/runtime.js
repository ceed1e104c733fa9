'use strict';
// A Lambda Runtime API client for Node.js that runs handler.js the way the
// managed Node.js runtime does, so that the benchmark can spawn the original
// as Lambda would (issue 7: cold start and memory through a Runtime API
// emulator). Node's built-in http module only.
//
//   AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001 node runtime.js
//
// Init: require the handler module named by _HANDLER ("file.export", default
// "handler.handler") from LAMBDA_TASK_ROOT (default: this folder); any error
// is posted to /runtime/init/error and the process exits 1, as the managed
// runtime does. Then forever: GET .../invocation/next, call
// handler(event, context, callback), take the first of the returned promise
// or the callback, POST .../response (JSON) or .../error.
//
// Not imitated: the console patching (request id prefixes), the
// callbackWaitsForEmptyEventLoop semantics, ES module handlers, response
// streaming, and the managed runtime's native HTTP client.
const http = require('http');
const path = require('path');

const API = process.env.AWS_LAMBDA_RUNTIME_API;
if (!API) {
  process.stderr.write('runtime: AWS_LAMBDA_RUNTIME_API is not set\n');
  process.exit(1);
}
const colon = API.lastIndexOf(':');
const HOST = colon > 0 ? API.slice(0, colon) : API;
const PORT = colon > 0 ? Number(API.slice(colon + 1)) : 80;
const BASE = '/2018-06-01/runtime';

// Set in every Lambda sandbox before the runtime starts. Defaulted here so a
// bare spawn behaves as in Lambda (aws-sdk v2, for one, stays quiet about its
// maintenance mode when it sees AWS_EXECUTION_ENV).
const defaults = {
  AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${process.versions.node.split('.')[0]}.x`,
  LAMBDA_TASK_ROOT: __dirname,
  _HANDLER: 'handler.handler',
  AWS_LAMBDA_FUNCTION_NAME: 'express-original',
  AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
};
for (const [k, v] of Object.entries(defaults)) if (process.env[k] === undefined) process.env[k] = v;

// One kept-alive connection to the Runtime API, like the managed runtime's.
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function call(method, urlPath, body, headers) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(body);
    const req = http.request({
      host: HOST, port: PORT, method, path: BASE + urlPath, agent,
      headers: Object.assign(payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {},
        headers || {}),
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

function errorBody(err) {
  const e = err instanceof Error ? err : new Error(String(err));
  return {
    body: JSON.stringify({
      errorType: e.name || 'Error',
      errorMessage: e.message,
      stackTrace: String(e.stack || '').split('\n').slice(1).map((l) => l.trim()),
    }),
    type: e.name || 'Error',
  };
}

async function postError(urlPath, err, fallbackType) {
  const { body, type } = errorBody(err);
  const res = await call('POST', urlPath, body, { 'Lambda-Runtime-Function-Error-Type': fallbackType || type });
  if (res.status !== 202) process.stderr.write(`runtime: ${urlPath} answered ${res.status}\n`);
}

function loadHandler() {
  const spec = process.env._HANDLER;
  const slash = spec.lastIndexOf('/');
  const dot = spec.indexOf('.', slash + 1);
  if (dot < 0) throw Object.assign(new Error(`Bad handler ${spec}`), { name: 'Runtime.MalformedHandlerName' });
  const file = path.resolve(process.env.LAMBDA_TASK_ROOT, spec.slice(0, dot));
  let fn;
  try {
    fn = require(file);
  } catch (err) {
    if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes(file)) {
      err.name = 'Runtime.ImportModuleError';
    }
    throw err;
  }
  for (const part of spec.slice(dot + 1).split('.')) fn = fn == null ? undefined : fn[part];
  if (typeof fn !== 'function') {
    throw Object.assign(new Error(`${spec} is undefined or not exported`), { name: 'Runtime.HandlerNotFound' });
  }
  return fn;
}

function parseHeaderJson(value) {
  if (!value) return undefined;
  try {
    return JSON.parse(value);
  } catch (err) {
    return undefined;
  }
}

function makeContext(headers, deadline) {
  return {
    awsRequestId: headers['lambda-runtime-aws-request-id'],
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    identity: parseHeaderJson(headers['lambda-runtime-cognito-identity']),
    clientContext: parseHeaderJson(headers['lambda-runtime-client-context']),
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

// Resolves with the first outcome of the callback or the returned promise.
function invoke(handler, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const callback = (err, result) => {
      if (settled) return;
      settled = true;
      if (err !== undefined && err !== null) reject(err);
      else resolve(result);
    };
    context.done = callback;
    context.succeed = (result) => callback(null, result);
    context.fail = (err) => callback(err || new Error('handled'));
    let returned;
    try {
      returned = handler(event, context, callback);
    } catch (err) {
      callback(err);
      return;
    }
    if (returned && typeof returned.then === 'function') {
      returned.then((result) => callback(null, result),
        (err) => callback(err === undefined || err === null ? new Error('rejected') : err));
    }
  });
}

let current; // the request id being served, for uncaught errors

async function serve(handler) {
  for (;;) {
    const next = await call('GET', '/invocation/next');
    if (next.status !== 200) throw new Error(`GET /invocation/next answered ${next.status}`);
    const id = next.headers['lambda-runtime-aws-request-id'];
    const deadline = Number(next.headers['lambda-runtime-deadline-ms']);
    const trace = next.headers['lambda-runtime-trace-id'];
    if (trace) process.env._X_AMZN_TRACE_ID = trace;
    else delete process.env._X_AMZN_TRACE_ID;
    current = id;
    let result;
    let failed;
    try {
      const event = JSON.parse(next.body.toString('utf8'));
      result = await invoke(handler, event, makeContext(next.headers, deadline));
    } catch (err) {
      failed = err;
    }
    if (failed !== undefined) {
      await postError(`/invocation/${id}/error`, failed);
    } else {
      const res = await call('POST', `/invocation/${id}/response`,
        JSON.stringify(result === undefined ? null : result));
      if (res.status !== 202) process.stderr.write(`runtime: response for ${id} answered ${res.status}\n`);
    }
    current = undefined;
  }
}

async function main() {
  let handler;
  try {
    handler = loadHandler();
  } catch (err) {
    process.stderr.write(`runtime: init failed: ${err && err.stack}\n`);
    await postError('/init/error', err).catch(() => {});
    process.exit(1);
  }
  process.on('uncaughtException', (err) => {
    process.stderr.write(`runtime: uncaught: ${err && err.stack}\n`);
    const done = () => process.exit(1);
    if (current) postError(`/invocation/${current}/error`, err, 'Runtime.UnhandledError').then(done, done);
    else done();
  });
  await serve(handler);
}

main().catch((err) => {
  process.stderr.write(`runtime: ${err && err.stack}\n`);
  process.exit(1);
});
