#!/usr/bin/env node
// A local stand-in for AWS Secrets Manager's GetSecretValue (JSON 1.1
// protocol) that answers only correctly SigV4-signed requests.
//
// Each request's signature is checked by aws-signature-check.mjs (rebuilt
// from exactly the headers it signed and signed again with
// @smithy/signature-v4 at its own x-amz-date); any difference is a 403. It
// shares no code with Gatehouse's signer.
//
//   node secrets-stub.mjs --listen-port P --access-key AK --secret-key SK
//        --secrets-file FILE [--region us-east-1] [--session-token TOKEN]
//
// FILE is re-read on every request, so a test can rotate the secret by
// rewriting it:
//   {"name": "gatehouse/test/jwt", "arn": "arn:aws:secretsmanager:...",
//    "AWSCURRENT": "<SecretString>", "AWSPREVIOUS": "<SecretString>"}
// SecretId must equal "name" or "arn"; a stage absent from the file answers
// ResourceNotFoundException, as for a secret that was never rotated.
//
// Binds 127.0.0.1 only and prints "READY <port>" once listening (P may be 0).
// Two unsigned admin paths:
//   GET /__stats  {"requests", "verified", "rejected", "calls": [{"SecretId", "VersionStage"}...]}
//                 (calls: every verified GetSecretValue, in order)
//   POST /__reset zeroes the counters.
import http from "node:http";
import crypto from "node:crypto";
import fs from "node:fs";
import { Failure, headerMap, signatureChecker, single } from "./aws-signature-check.mjs";

const MAX_BODY = 64 * 1024;
const JSON_11 = "application/x-amz-json-1.1";
const TARGET = "secretsmanager.GetSecretValue";

function usage(message) {
  process.stderr.write(`secrets-stub: ${message}\n` +
    "usage: node secrets-stub.mjs --listen-port P --access-key AK --secret-key SK --secrets-file FILE " +
    "[--region R] [--session-token TOKEN]\n");
  process.exit(2);
}

function parseArgs(argv) {
  const o = { region: "us-east-1", sessionToken: undefined };
  const valued = {
    "--listen-port": "listenPort", "--access-key": "accessKey", "--secret-key": "secretKey",
    "--secrets-file": "secretsFile", "--region": "region", "--session-token": "sessionToken",
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!(a in valued)) usage(`unknown argument ${a}`);
    if (i + 1 >= argv.length) usage(`${a} needs a value`);
    o[valued[a]] = argv[++i];
  }
  for (const k of ["listenPort", "accessKey", "secretKey", "secretsFile"])
    if (o[k] === undefined) usage(`missing --${k.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}`);
  if (!/^\d{1,5}$/.test(o.listenPort) || Number(o.listenPort) > 65535) usage(`bad port ${o.listenPort}`);
  o.listenPort = Number(o.listenPort);
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const verifySignature = signatureChecker({
  accessKey: opts.accessKey, secretKey: opts.secretKey, sessionToken: opts.sessionToken,
  region: opts.region, service: "secretsmanager", mustSign: ["host", "x-amz-date", "x-amz-target"],
});

const stats = { requests: 0, verified: 0, rejected: 0, calls: [] };

function send(res, status, value) {
  const body = JSON.stringify(value);
  res.writeHead(status, { "Content-Type": JSON_11, "Content-Length": Buffer.byteLength(body),
    "x-amzn-RequestId": crypto.randomUUID() });
  res.end(body);
}

function sendFailure(res, f) {
  send(res, f.status, { __type: f.type, message: f.message });
}

// ---- GetSecretValue ------------------------------------------------------------

function readSecrets() {
  try {
    return JSON.parse(fs.readFileSync(opts.secretsFile, "utf8"));
  } catch (e) {
    throw new Failure(500, "InternalServiceError", `secrets-stub: cannot read ${opts.secretsFile}: ${e.message}`);
  }
}

function getSecretValue(headers, body) {
  if (single(headers, "content-type") !== JSON_11)
    throw new Failure(400, "SerializationException", `Expected Content-Type ${JSON_11}.`);
  const target = single(headers, "x-amz-target");
  if (target !== TARGET) throw new Failure(400, "UnknownOperationException", `This stub implements ${TARGET} only.`);
  let input;
  try {
    input = JSON.parse(body.toString("utf8"));
  } catch {
    throw new Failure(400, "SerializationException", "The request body is not JSON.");
  }
  if (typeof input !== "object" || input === null || typeof input.SecretId !== "string" || input.SecretId === "")
    throw new Failure(400, "InvalidParameterException", "SecretId is required.");
  const stage = input.VersionStage ?? "AWSCURRENT";
  if (typeof stage !== "string" || input.VersionId !== undefined)
    throw new Failure(400, "InvalidParameterException", "Only VersionStage selects a version here.");
  stats.calls.push({ SecretId: input.SecretId, VersionStage: stage });

  const secret = readSecrets();
  if (input.SecretId !== secret.name && input.SecretId !== secret.arn)
    throw new Failure(400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.");
  const value = secret[stage];
  if (typeof value !== "string")
    throw new Failure(400, "ResourceNotFoundException",
      `Secrets Manager can't find the specified secret value for staging label: ${stage}`);
  const versionId = crypto.createHash("sha256").update(value).digest("hex").slice(0, 32)
    .replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, "$1-$2-$3-$4-$5");
  return { ARN: secret.arn, Name: secret.name, VersionId: versionId, SecretString: value,
    VersionStages: [stage], CreatedDate: Math.floor(Date.now() / 1000) };
}

// ---- serving -------------------------------------------------------------------

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on("end", () => resolve(size > MAX_BODY ? null : Buffer.concat(chunks)));
    req.on("error", () => resolve(undefined));
  });
}

async function handle(req, res) {
  const path = req.url.split("?")[0];
  if (path === "/__stats" && req.method === "GET") {
    const body = JSON.stringify(stats);
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
    return res.end(body);
  }
  if (path === "/__reset" && req.method === "POST") {
    Object.assign(stats, { requests: 0, verified: 0, rejected: 0, calls: [] });
    res.writeHead(204);
    return res.end();
  }
  stats.requests++;
  const body = await readBody(req);
  if (body === undefined) return;
  try {
    if (body === null) throw new Failure(413, "RequestEntityTooLarge", `Request bodies are limited to ${MAX_BODY} bytes.`);
    if (req.method !== "POST" || path !== "/") throw new Failure(404, "UnknownOperationException", "POST / only.");
    const headers = headerMap(req.rawHeaders);
    try {
      await verifySignature(req, headers, body);
    } catch (e) {
      if (e instanceof Failure) {
        stats.rejected++;
        process.stderr.write(`secrets-stub: rejected: ${e.status} ${e.type}: ${e.message}\n`);
      }
      throw e;
    }
    stats.verified++;
    send(res, 200, getSecretValue(headers, body));
  } catch (e) {
    if (!(e instanceof Failure)) throw e;
    sendFailure(res, e);
  }
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    process.stderr.write(`secrets-stub: internal error: ${err.stack ?? err}\n`);
    if (!res.headersSent) sendFailure(res, new Failure(500, "InternalServiceError", "stub internal error"));
    else res.destroy();
  });
});
server.on("error", (err) => {
  process.stderr.write(`secrets-stub: cannot listen on 127.0.0.1:${opts.listenPort}: ${err.message}\n`);
  process.exit(1);
});
server.listen(opts.listenPort, "127.0.0.1", () => {
  process.stdout.write(`READY ${server.address().port}\n`);
});
