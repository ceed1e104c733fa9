#!/usr/bin/env node
// A local stand-in for Amazon SES v2 SendEmail (REST-JSON protocol,
// POST /v2/email/outbound-emails with Raw content) that answers only
// correctly SigV4-signed requests.
//
// Each request's signature is checked by aws-signature-check.mjs (rebuilt
// from exactly the headers it signed and signed again with
// @smithy/signature-v4 at its own x-amz-date); any difference is a 403. It
// shares no code with Gatehouse's signer.
//
//   node ses-stub.mjs --listen-port P --access-key AK --secret-key SK --out DIR
//        [--region us-east-1] [--session-token TOKEN] [--reject CODE] [--throttle]
//
// Every accepted message is written, base64-decoded, to DIR/<n>.eml (n = 1,
// 2, ... in order) and answered 200 {"MessageId": "..."}. With --reject CODE
// every signed, well-formed SendEmail is answered that error instead (the
// status SES gives it: 400 for MessageRejected, MailFromDomainNotVerified-
// Exception, AccountSuspendedException, SendingPausedException,
// BadRequestException...; 404 NotFoundException); with --throttle, 429
// TooManyRequestsException. Errors come the way SES v2 sends them: the
// code in x-amzn-ErrorType ("Code:http://internal.amazon.com/..."), a
// body of {"message": ...}.
//
// Binds 127.0.0.1 only and prints "READY <port>" once listening (P may be 0).
// Two unsigned admin paths:
//   GET /__stats  {"requests", "verified", "rejected", "calls": [{"FromEmailAddress",
//                 "ToAddresses", "ConfigurationSetName", "bytes", "file"}...]}
//                 (calls: every verified, well-formed SendEmail, in order;
//                 "file" is null when the answer was an error)
//   POST /__reset zeroes the counters.
import http from "node:http";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Failure, headerMap, signatureChecker, single } from "./aws-signature-check.mjs";

// A 10 MB raw message in base64 inside the JSON request, with room to spare.
const MAX_BODY = 16 * 1024 * 1024;
const MAX_RAW = 10 * 1024 * 1024;
const SEND_EMAIL = "/v2/email/outbound-emails";
const STATUS_OF = { NotFoundException: 404, TooManyRequestsException: 429, InternalFailure: 500 };

function usage(message) {
  process.stderr.write(`ses-stub: ${message}\n` +
    "usage: node ses-stub.mjs --listen-port P --access-key AK --secret-key SK --out DIR " +
    "[--region R] [--session-token TOKEN] [--reject CODE] [--throttle]\n");
  process.exit(2);
}

function parseArgs(argv) {
  const o = { region: "us-east-1", sessionToken: undefined, reject: undefined, throttle: false };
  const valued = {
    "--listen-port": "listenPort", "--access-key": "accessKey", "--secret-key": "secretKey",
    "--out": "out", "--region": "region", "--session-token": "sessionToken", "--reject": "reject",
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--throttle") {
      o.throttle = true;
      continue;
    }
    if (!(a in valued)) usage(`unknown argument ${a}`);
    if (i + 1 >= argv.length) usage(`${a} needs a value`);
    o[valued[a]] = argv[++i];
  }
  for (const k of ["listenPort", "accessKey", "secretKey", "out"])
    if (o[k] === undefined) usage(`missing --${k.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}`);
  if (!/^\d{1,5}$/.test(o.listenPort) || Number(o.listenPort) > 65535) usage(`bad port ${o.listenPort}`);
  if (o.reject !== undefined && !/^[A-Za-z][A-Za-z0-9]{0,127}$/.test(o.reject)) usage(`bad error code ${o.reject}`);
  o.listenPort = Number(o.listenPort);
  return o;
}

const opts = parseArgs(process.argv.slice(2));
fs.mkdirSync(opts.out, { recursive: true, mode: 0o700 });
const verifySignature = signatureChecker({
  accessKey: opts.accessKey, secretKey: opts.secretKey, sessionToken: opts.sessionToken,
  region: opts.region, service: "ses", mustSign: ["host", "x-amz-date"],
});

const stats = { requests: 0, verified: 0, rejected: 0, calls: [] };
let written = 0;

function send(res, status, value, extraHeaders = {}) {
  const body = JSON.stringify(value);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body),
    "x-amzn-RequestId": crypto.randomUUID(), ...extraHeaders });
  res.end(body);
}

// SES v2's shape: the code in x-amzn-ErrorType, the body a message only.
function sendFailure(res, f) {
  send(res, f.status, { message: f.message },
    { "x-amzn-ErrorType": `${f.type}:http://internal.amazon.com/coral/com.amazonaws.services.email/` });
}

// ---- SendEmail -------------------------------------------------------------------

// Strict base64 (standard alphabet, padded), as SES's Blob decoding requires.
function decodeBase64(text) {
  if (typeof text !== "string" || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  const bytes = Buffer.from(text, "base64");
  return bytes.toString("base64") === text ? bytes : undefined;
}

function sendEmail(headers, body) {
  const type = single(headers, "content-type");
  if (type === undefined || type.split(";")[0].trim() !== "application/json")
    throw new Failure(400, "BadRequestException", "Expected Content-Type application/json.");
  let input;
  try {
    input = JSON.parse(body.toString("utf8"));
  } catch {
    throw new Failure(400, "BadRequestException", "The request body is not JSON.");
  }
  if (typeof input !== "object" || input === null) throw new Failure(400, "BadRequestException", "Expected an object.");
  const from = input.FromEmailAddress;
  const to = input.Destination?.ToAddresses;
  if (typeof from !== "string" || from === "") throw new Failure(400, "BadRequestException", "FromEmailAddress is required.");
  if (!Array.isArray(to) || to.length !== 1 || typeof to[0] !== "string" ||
      input.Destination.CcAddresses !== undefined || input.Destination.BccAddresses !== undefined)
    throw new Failure(400, "BadRequestException", "This stub takes exactly one ToAddresses entry.");
  if (input.Content?.Simple !== undefined || input.Content?.Template !== undefined)
    throw new Failure(400, "BadRequestException", "This stub takes Raw content only.");
  const raw = decodeBase64(input.Content?.Raw?.Data);
  if (raw === undefined) throw new Failure(400, "BadRequestException", "Content.Raw.Data must be base64.");
  if (raw.length > MAX_RAW) throw new Failure(400, "MessageRejected", "Message length is more than 10485760 bytes long.");
  const set = input.ConfigurationSetName;
  if (set !== undefined && typeof set !== "string") throw new Failure(400, "BadRequestException", "ConfigurationSetName must be a string.");
  const call = { FromEmailAddress: from, ToAddresses: to, ConfigurationSetName: set ?? null, bytes: raw.length, file: null };
  stats.calls.push(call);

  if (opts.throttle) throw new Failure(429, "TooManyRequestsException", "Maximum sending rate exceeded.");
  if (opts.reject !== undefined) throw new Failure(STATUS_OF[opts.reject] ?? 400, opts.reject, `Rejected by ses-stub (--reject ${opts.reject}).`);
  const file = path.join(opts.out, `${++written}.eml`);
  fs.writeFileSync(file, raw, { mode: 0o600 });
  call.file = file;
  return { MessageId: `0100${crypto.randomBytes(8).toString("hex")}-${crypto.randomUUID()}-000000` };
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
  const urlPath = req.url.split("?")[0];
  if (urlPath === "/__stats" && req.method === "GET") {
    const body = JSON.stringify(stats);
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
    return res.end(body);
  }
  if (urlPath === "/__reset" && req.method === "POST") {
    Object.assign(stats, { requests: 0, verified: 0, rejected: 0, calls: [] });
    res.writeHead(204);
    return res.end();
  }
  stats.requests++;
  const body = await readBody(req);
  if (body === undefined) return;
  try {
    if (body === null) throw new Failure(413, "BadRequestException", `Request bodies are limited to ${MAX_BODY} bytes.`);
    if (req.method !== "POST" || urlPath !== SEND_EMAIL) throw new Failure(404, "NotFoundException", `POST ${SEND_EMAIL} only.`);
    const headers = headerMap(req.rawHeaders);
    try {
      await verifySignature(req, headers, body);
    } catch (e) {
      if (e instanceof Failure) {
        stats.rejected++;
        process.stderr.write(`ses-stub: rejected: ${e.status} ${e.type}: ${e.message}\n`);
      }
      throw e;
    }
    stats.verified++;
    send(res, 200, sendEmail(headers, body));
  } catch (e) {
    if (!(e instanceof Failure)) throw e;
    sendFailure(res, e);
  }
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    process.stderr.write(`ses-stub: internal error: ${err.stack ?? err}\n`);
    if (!res.headersSent) sendFailure(res, new Failure(500, "InternalFailure", "stub internal error"));
    else res.destroy();
  });
});
server.on("error", (err) => {
  process.stderr.write(`ses-stub: cannot listen on 127.0.0.1:${opts.listenPort}: ${err.message}\n`);
  process.exit(1);
});
// Never outlive the test: it holds our stdin, and closes it (or dies).
process.stdin.on("end", () => process.exit(0));
process.stdin.on("close", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();

server.listen(opts.listenPort, "127.0.0.1", () => {
  process.stdout.write(`READY ${server.address().port}\n`);
});
