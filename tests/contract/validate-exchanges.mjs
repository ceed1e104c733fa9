#!/usr/bin/env node
// The contract test: real exchanges against docs/openapi.yaml.
//
//   node tests/contract/validate-exchanges.mjs --spec docs/openapi.yaml rec1.jsonl [rec2.jsonl...]
//
// The records are JSON lines written by the HTTP suites' client with
// GATEHOUSE_RECORD_EXCHANGES=<file> (tests/http/support/http_client.cpp):
// {test, method, target, status, request: {headers, body...}, response: {...}}.
// Each exchange is matched to its operation (path templates, concrete paths
// first; a parameter marked `x-gatehouse-rest-of-path` takes the rest of the
// path, slashes included) and checked:
//   - the status is documented for that operation, and the response has the
//     documented media type (no body where none is documented), every
//     required header with a value of its schema, and a JSON body that
//     validates against the response schema (Ajv, JSON Schema 2020-12);
//   - a 2xx answered a request the spec allows: its JSON body validates
//     against the request schema, query parameters against theirs, and a
//     Bearer token was sent to an operation that requires one;
//   - exchanges that reach no operation get what x-gatehouse-any-request
//     documents: 404 for an unknown path, 405 with `Allow` listing exactly
//     the spec's methods for the path, the CORS preflight for OPTIONS;
// and, over all records, every operation of the spec was exercised.
// Exit status 0 when all holds, 1 with the problems listed otherwise, 2 on
// bad usage or unreadable input.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

// The validator's packages are the test peers' (tests/peers/package-lock.json).
const require = createRequire(new URL('../peers/package.json', import.meta.url));
const YAML = require('yaml');
const Ajv2020 = require('ajv/dist/2020').default;
const addFormatsModule = require('ajv-formats');
const addFormats = addFormatsModule.default ?? addFormatsModule;

function usage(message) {
  console.error(`validate-exchanges: ${message}`);
  console.error('usage: validate-exchanges.mjs --spec <openapi.yaml> [--no-coverage] <exchanges.jsonl>...');
  process.exit(2);
}

const args = process.argv.slice(2);
let specPath = null;
let checkCoverage = true;
const recordFiles = [];
for (let i = 0; i < args.length; ++i) {
  if (args[i] === '--spec') specPath = args[++i];
  else if (args[i] === '--no-coverage') checkCoverage = false;
  else if (args[i].startsWith('--')) usage(`unknown option ${args[i]}`);
  else recordFiles.push(args[i]);
}
if (!specPath) usage('--spec is required');
if (recordFiles.length === 0) usage('no exchange files given');

const spec = YAML.parse(readFileSync(specPath, 'utf8'));
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const SCHEMA_ID = 'urn:gatehouse:openapi-schemas';

// ---- the spec: references, schemas, operations ----------------------------

// Follows a local $ref ('#/components/...') to its target, repeatedly.
function deref(node) {
  let seen = 0;
  while (node && typeof node === 'object' && typeof node.$ref === 'string') {
    if (!node.$ref.startsWith('#/')) throw new Error(`only local references are supported: ${node.$ref}`);
    let target = spec;
    for (const raw of node.$ref.slice(2).split('/')) {
      const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
      target = target?.[key];
    }
    if (target === undefined) throw new Error(`unresolved reference ${node.$ref}`);
    node = target;
    if (++seen > 32) throw new Error('reference cycle');
  }
  return node;
}

// Schemas point at '#/components/schemas/X'; Ajv gets them as $defs of one
// schema document, so the references are rewritten to point there.
function rewriteRefs(value) {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (!value || typeof value !== 'object') return value;
  const out = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/'))
      out[k] = `${SCHEMA_ID}#/$defs/${v.slice('#/components/schemas/'.length)}`;
    else out[k] = rewriteRefs(v);
  }
  return out;
}

// Strict about unknown keywords and formats (a typo in the spec fails loudly);
// not about `type` beside `properties`, which JSON Schema leaves optional.
const ajv = new Ajv2020({ strict: true, strictTypes: false, allErrors: true });
addFormats(ajv);
// OpenAPI's own schema keywords, annotations only.
for (const keyword of ['example', 'xml', 'externalDocs', 'discriminator']) ajv.addKeyword(keyword);
ajv.addSchema({ $id: SCHEMA_ID, $defs: rewriteRefs(spec.components?.schemas ?? {}) });

const compiled = new Map();
function validatorFor(schema) {
  if (!compiled.has(schema)) compiled.set(schema, ajv.compile(rewriteRefs(schema)));
  return compiled.get(schema);
}

function describeErrors(errors) {
  return (errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || '(root)'} ${e.message}${e.params && Object.keys(e.params).length ? ' ' + JSON.stringify(e.params) : ''}`)
    .join('; ');
}

// Path templates, concrete ones first (as OpenAPI requires), then by fewer
// parameters; a rest-of-path parameter matches last.
const templates = [];
for (const [template, rawItem] of Object.entries(spec.paths ?? {})) {
  const item = deref(rawItem);
  const pathParams = (item.parameters ?? []).map(deref);
  const operations = {};
  const restParams = new Set();
  for (const method of METHODS) {
    if (!item[method]) continue;
    const op = item[method];
    const params = [...pathParams, ...(op.parameters ?? []).map(deref)];
    for (const p of params) if (p.in === 'path' && p['x-gatehouse-rest-of-path']) restParams.add(p.name);
    operations[method] = { op, params, id: `${method.toUpperCase()} ${template}` };
  }
  const segments = template.split('/').slice(1).map((s) => {
    const m = /^\{([^}]+)\}$/.exec(s);
    return m ? { param: m[1], rest: restParams.has(m[1]) } : { literal: s };
  });
  const params = segments.filter((s) => s.param).length;
  const rest = segments.some((s) => s.rest);
  templates.push({ template, segments, operations, rank: (rest ? 1000 : 0) + params });
}
templates.sort((a, b) => a.rank - b.rank);

function matchTemplate(t, path) {
  const parts = path.split('/').slice(1);
  const params = {};
  let i = 0;
  for (const s of t.segments) {
    if (i >= parts.length) return null;
    if (s.rest) {
      const rest = parts.slice(i);
      if (rest.some((p) => p === '')) return null;
      params[s.param] = rest.join('/');
      return params;
    }
    if (s.param) {
      if (parts[i] === '') return null;
      params[s.param] = parts[i];
    } else if (parts[i] !== s.literal) {
      return null;
    }
    ++i;
  }
  return i === parts.length ? params : null;
}

const anyRequest = spec['x-gatehouse-any-request'] ?? {};
for (const key of ['unknown_path', 'wrong_method', 'preflight'])
  if (!anyRequest[key]) usage(`the spec has no x-gatehouse-any-request.${key}`);

// ---- the records ------------------------------------------------------------

const exchanges = [];
for (const file of recordFiles) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    console.error(`validate-exchanges: cannot read ${file}: ${e.message}`);
    process.exit(2);
  }
  const lines = text.split('\n').filter((l) => l.length > 0);
  if (lines.length === 0) {
    console.error(`validate-exchanges: ${file} holds no exchange (was GATEHOUSE_RECORD_EXCHANGES honoured?)`);
    process.exit(2);
  }
  lines.forEach((line, n) => {
    try {
      exchanges.push({ ...JSON.parse(line), source: `${file}:${n + 1}` });
    } catch (e) {
      console.error(`validate-exchanges: ${file}:${n + 1}: not JSON: ${e.message}`);
      process.exit(2);
    }
  });
}

function headerMap(pairs) {
  const map = new Map();
  for (const [name, value] of pairs ?? []) {
    const key = name.toLowerCase();
    map.set(key, map.has(key) ? `${map.get(key)}, ${value}` : value);
  }
  return map;
}

function mediaType(value) {
  return (value ?? '').split(';')[0].trim().toLowerCase();
}

function bodyText(message) {
  return message.body_encoding === 'base64' ? null : message.body;
}

function methodSet(text) {
  return new Set((text ?? '').split(',').map((m) => m.trim()).filter((m) => m.length > 0));
}

function sameSet(a, b) {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

// ---- checks -------------------------------------------------------------------

const problems = [];
const exercised = new Map();  // operation id -> Set of statuses seen
for (const t of templates) for (const o of Object.values(t.operations)) exercised.set(o.id, new Set());

function problem(ex, what) {
  problems.push({ where: `${ex.method} ${ex.target} -> ${ex.status}`, test: ex.test || '(outside a test)', source: ex.source, what });
}

// A JSON body against a schema; '' when it validates.
function checkJsonBody(message, schema, label) {
  if (message.body_truncated) return '';  // over 64 KiB: only its status and headers are checked
  const text = bodyText(message);
  if (text === null) return `${label} is not UTF-8 text but should be JSON`;
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return `${label} is not JSON: ${JSON.stringify(text.slice(0, 120))}`;
  }
  const validate = validatorFor(schema);
  return validate(value) ? '' : `${label} does not match its schema: ${describeErrors(validate.errors)}`;
}

// A response against a documented response object (or an any-request entry).
function checkResponse(ex, documented, label) {
  const response = deref(documented);
  const headers = headerMap(ex.response.headers);
  if (!headers.has('x-request-id')) problem(ex, `${label}: no X-Request-Id`);
  for (const [name, rawHeader] of Object.entries(response.headers ?? {})) {
    const header = deref(rawHeader);
    const value = headers.get(name.toLowerCase());
    if (value === undefined) {
      if (header.required) problem(ex, `${label}: required header ${name} is missing`);
      continue;
    }
    if (header.schema) {
      const validate = validatorFor(header.schema);
      if (!validate(value)) problem(ex, `${label}: header ${name}: ${JSON.stringify(value)}: ${describeErrors(validate.errors)}`);
    }
  }
  const content = response.content;
  if (!content) {
    if (ex.response.body_bytes > 0) problem(ex, `${label}: a body (${ex.response.body_bytes} bytes) where none is documented`);
    return;
  }
  const type = mediaType(headers.get('content-type'));
  const key = Object.keys(content).find((k) => k.toLowerCase() === type) ??
              Object.keys(content).find((k) => k.endsWith('/*') && type.startsWith(k.slice(0, -1)));
  if (!key) {
    problem(ex, `${label}: Content-Type ${JSON.stringify(headers.get('content-type'))} is not one of ${Object.keys(content).join(', ')}`);
    return;
  }
  const media = content[key];
  if (media.schema && (type === 'application/json' || type.endsWith('+json'))) {
    const err = checkJsonBody(ex.response, media.schema, `${label}: the body`);
    if (err) problem(ex, err);
  }
}

function checkAnyRequest(ex, entry, label) {
  const headers = headerMap(ex.response.headers);
  if (!headers.has('x-request-id')) problem(ex, `${label}: no X-Request-Id`);
  if (entry.schema) {
    if (mediaType(headers.get('content-type')) !== 'application/json')
      problem(ex, `${label}: Content-Type ${JSON.stringify(headers.get('content-type'))}, expected application/json`);
    const err = checkJsonBody(ex.response, entry.schema, `${label}: the body`);
    if (err) problem(ex, err);
  } else if (ex.response.body_bytes > 0) {
    problem(ex, `${label}: a body where none is documented`);
  }
}

// The refusals any request may get before routing (400 bad_request, 431):
// an exchange is one when its status and its body are those of an entry.
const refusals = Object.entries(anyRequest)
  .filter(([name]) => !['unknown_path', 'wrong_method', 'preflight'].includes(name))
  .map(([, entry]) => entry);
function refusalFor(ex) {
  return refusals.find((entry) => entry.status === ex.status && entry.schema &&
                                  checkJsonBody(ex.response, entry.schema, 'body') === '');
}

function checkRequest(ex, operation, pathParams, query) {
  const { op, params } = operation;
  const reqHeaders = headerMap(ex.request.headers);
  // Security: an operation that needs a Bearer token answered 2xx without one.
  const security = op.security ?? spec.security ?? [];
  const needsBearer = security.length > 0 && security.every((req) => Object.keys(req).length > 0);
  if (needsBearer && !/^bearer\s/i.test(reqHeaders.get('authorization') ?? ''))
    problem(ex, `${operation.id} answered ${ex.status} without the Bearer token its security requires`);
  for (const p of params) {
    let raw;
    if (p.in === 'query') raw = query.has(p.name) ? query.get(p.name) : undefined;
    else if (p.in === 'path') raw = pathParams[p.name];
    else continue;
    if (raw === undefined) {
      if (p.required) problem(ex, `${operation.id} answered ${ex.status} without the required ${p.in} parameter ${p.name}`);
      continue;
    }
    const schema = p.schema ?? {};
    const value = schema.type === 'integer' && /^-?[0-9]+$/.test(raw) ? Number(raw) : raw;
    const validate = validatorFor(schema);
    if (!validate(value))
      problem(ex, `${operation.id} answered ${ex.status} to ${p.in} parameter ${p.name}=${JSON.stringify(raw)} that its schema refuses: ${describeErrors(validate.errors)}`);
  }
  if (op.requestBody) {
    const body = deref(op.requestBody);
    const type = mediaType(reqHeaders.get('content-type'));
    if (!type) {
      if (body.required) problem(ex, `${operation.id} answered ${ex.status} to a request without the required body`);
      return;
    }
    const media = body.content?.[Object.keys(body.content ?? {}).find((k) => k.toLowerCase() === type)];
    if (!media) {
      problem(ex, `${operation.id} answered ${ex.status} to a ${type} body; the spec allows ${Object.keys(body.content ?? {}).join(', ')}`);
      return;
    }
    if (media.schema && type === 'application/json') {
      const err = checkJsonBody(ex.request, media.schema, `${operation.id}: the request body it accepted`);
      if (err) problem(ex, err);
    }
  }
}

for (const ex of exchanges) {
  const q = ex.target.indexOf('?');
  const path = q < 0 ? ex.target : ex.target.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : ex.target.slice(q + 1));
  const method = ex.method.toLowerCase();
  const matches = templates.map((t) => ({ t, params: matchTemplate(t, path) })).filter((m) => m.params);
  const pathMethods = new Set(matches.flatMap((m) => Object.keys(m.t.operations).map((k) => k.toUpperCase())));

  // Refused before routing: whatever the path.
  const refusal = refusalFor(ex);
  if (refusal) {
    checkAnyRequest(ex, refusal, 'refused request');
    continue;
  }
  if (method === 'options' && !pathMethods.has('OPTIONS')) {
    if (matches.length === 0) {
      if (ex.status !== anyRequest.unknown_path.status) problem(ex, `OPTIONS on an unknown path: expected ${anyRequest.unknown_path.status}`);
      else checkAnyRequest(ex, anyRequest.unknown_path, 'unknown path');
      continue;
    }
    if (ex.status !== anyRequest.preflight.status) {
      problem(ex, `the CORS preflight answered ${ex.status}, expected ${anyRequest.preflight.status}`);
      continue;
    }
    checkAnyRequest(ex, anyRequest.preflight, 'preflight');
    const allow = methodSet(headerMap(ex.response.headers).get('allow'));
    const expected = new Set([...pathMethods, 'OPTIONS']);
    if (!sameSet(allow, expected)) problem(ex, `preflight Allow is {${[...allow]}}; the spec gives the path {${[...expected]}}`);
    continue;
  }
  if (matches.length === 0) {
    if (ex.status !== anyRequest.unknown_path.status)
      problem(ex, `no path of the spec matches ${path}, yet the answer is ${ex.status} (undocumented route, or expected ${anyRequest.unknown_path.status})`);
    else checkAnyRequest(ex, anyRequest.unknown_path, 'unknown path');
    continue;
  }
  const found = matches.find((m) => m.t.operations[method]);
  if (!found) {
    if (ex.status !== anyRequest.wrong_method.status) {
      problem(ex, `the spec has no ${ex.method} for ${path} (it has ${[...pathMethods].join(', ')}), yet the answer is ${ex.status}`);
      continue;
    }
    checkAnyRequest(ex, anyRequest.wrong_method, 'wrong method');
    const allow = methodSet(headerMap(ex.response.headers).get('allow'));
    if (!sameSet(allow, pathMethods)) problem(ex, `Allow is {${[...allow]}}; the spec gives the path {${[...pathMethods]}}`);
    continue;
  }
  const operation = found.t.operations[method];
  exercised.get(operation.id).add(ex.status);
  const responses = operation.op.responses ?? {};
  const status = String(ex.status);
  const documented = responses[status] ?? responses[`${status[0]}XX`] ?? responses.default;
  if (!documented) {
    problem(ex, `${operation.id}: status ${ex.status} is not documented (documented: ${Object.keys(responses).join(', ')}); body ${JSON.stringify((bodyText(ex.response) ?? '').slice(0, 200))}`);
    continue;
  }
  checkResponse(ex, documented, `${operation.id} ${status}`);
  if (ex.status >= 200 && ex.status < 300) checkRequest(ex, operation, found.params, query);
}

// ---- report -------------------------------------------------------------------

const missing = [...exercised.entries()].filter(([, statuses]) => statuses.size === 0).map(([id]) => id);
console.log(`validate-exchanges: ${exchanges.length} exchanges from ${recordFiles.length} file(s) against ${specPath}`);
for (const [id, statuses] of exercised) {
  const op = templates.flatMap((t) => Object.values(t.operations)).find((o) => o.id === id).op;
  const documented = Object.keys(op.responses ?? {});
  const unseen = documented.filter((s) => !statuses.has(Number(s)));
  console.log(`  ${id}: seen ${[...statuses].sort().join(', ') || 'nothing'}` +
              (unseen.length ? ` (documented, not exercised: ${unseen.join(', ')})` : ''));
}

// Identical problems (same check, same operation) are reported once, with a count.
const grouped = new Map();
for (const p of problems) {
  const key = p.what.replace(/"[^"]*"/g, '"…"');
  if (!grouped.has(key)) grouped.set(key, { ...p, count: 0 });
  grouped.get(key).count++;
}
let failed = false;
if (grouped.size > 0) {
  failed = true;
  console.log(`\n${problems.length} problem(s), ${grouped.size} distinct:`);
  for (const g of grouped.values())
    console.log(`- ${g.what}\n    first at ${g.where} (test ${g.test}, ${g.source})${g.count > 1 ? `; ${g.count} times` : ''}`);
}
if (checkCoverage && missing.length > 0) {
  failed = true;
  console.log(`\nNever exercised (every operation must be): ${missing.join('; ')}`);
}
console.log(failed ? '\nFAILED: the responses and the spec disagree' : '\nOK: every exchange matches the spec, every operation exercised');
process.exit(failed ? 1 : 0);
