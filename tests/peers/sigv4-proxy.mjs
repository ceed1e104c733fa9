#!/usr/bin/env node
// A reverse proxy that lets through only correctly SigV4-signed requests
// (for S3 also POST uploads whose policy signature is correct).
//
// dynalite and s3rver do not check signatures, so the tests put one of
// these in front of each. Every request is rebuilt from exactly the headers
// it claims to have signed and signed again with @smithy/signature-v4 (the
// signer of the AWS SDK for JavaScript) at the request's own timestamp; only
// an identical signature is forwarded. The check deliberately shares no code
// with Gatehouse's signer: it is the independent cross-check.
//
//   node sigv4-proxy.mjs --listen-port P --target-port T --service dynamodb|s3
//        --access-key AK --secret-key SK [--region us-east-1]
//        [--session-token TOKEN] [--fault]
//
// Binds 127.0.0.1 only and prints "READY <port>" once listening (P may be 0).
// With --fault, two unsigned admin paths exist on the proxy (never forwarded):
//   POST /__fault {"throttle":N,"fail":N,"delay":N,"delay_ms":MS,"lose_answers":N,"clear":true}
//     (lose_answers: the next N verified requests reach the peer and take
//     effect, then the connection is reset before the answer: the write
//     happened, but the client cannot know; "lose_skip":K first lets K
//     verified requests through untouched; "lose_operation":"UpdateItem"
//     (DynamoDB) counts only requests of that X-Amz-Target operation)
//     the next N verified requests answer a throttling error (dynamodb: 400
//     ProvisionedThroughputExceededException, s3: 503 SlowDown), or a 500, or
//     are held MS milliseconds before being forwarded.
//   POST /__fault {"hold_reads":N}  (s3) the next N verified ranged GETs wait
//     until POST /__fault {"release":1}, so a test can change the object
//     between a HEAD and the read that follows it.
//   GET /__stats  counters: verified, rejected, forwarded, throttled, failed,
//     delayed, held, if_match_signed, precondition_failed; for dynamodb also
//     `operations`, forwarded requests by "<Operation> <TableName>".
// S3 semantics s3rver lacks, checked here (s3): a GET or HEAD with If-Match
// whose value is not the object's current ETag is answered 412
// PreconditionFailed, as S3 does (counted in precondition_failed; requests
// whose If-Match was among the signed headers in if_match_signed).
import http from "node:http";
import crypto from "node:crypto";
import { SignatureV4, getCanonicalHeaders, getPayloadHash } from "@smithy/signature-v4";
import { HttpRequest } from "@smithy/protocol-http";
import { Hash } from "@smithy/hash-node";

const MAX_BODY = 64 * 1024 * 1024;
const MAX_SKEW_MS = 15 * 60 * 1000;
const MAX_PRESIGN_EXPIRES = 7 * 24 * 3600;
const ALGORITHM = "AWS4-HMAC-SHA256";
// Connection-level headers a proxy must not pass along.
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade", "expect"]);

function usage(message) {
  process.stderr.write(`sigv4-proxy: ${message}\n` +
    "usage: node sigv4-proxy.mjs --listen-port P --target-port T --service dynamodb|s3 " +
    "--access-key AK --secret-key SK [--region R] [--session-token TOKEN] [--fault]\n");
  process.exit(2);
}

function parseArgs(argv) {
  const o = { region: "us-east-1", sessionToken: undefined, fault: false };
  const valued = {
    "--listen-port": "listenPort", "--target-port": "targetPort", "--service": "service",
    "--access-key": "accessKey", "--secret-key": "secretKey", "--region": "region",
    "--session-token": "sessionToken",
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--fault") o.fault = true;
    else if (a in valued) {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      o[valued[a]] = argv[++i];
    } else usage(`unknown argument ${a}`);
  }
  for (const k of ["listenPort", "targetPort", "service", "accessKey", "secretKey"])
    if (o[k] === undefined) usage(`missing --${k.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}`);
  if (o.service !== "dynamodb" && o.service !== "s3") usage("--service must be dynamodb or s3");
  for (const k of ["listenPort", "targetPort"]) {
    if (!/^\d{1,5}$/.test(o[k]) || Number(o[k]) > 65535) usage(`bad port ${o[k]}`);
    o[k] = Number(o[k]);
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const isS3 = opts.service === "s3";
const sha256 = Hash.bind(null, "sha256");
const signer = new SignatureV4({
  credentials: { accessKeyId: opts.accessKey, secretAccessKey: opts.secretKey, sessionToken: opts.sessionToken },
  region: opts.region,
  service: opts.service,
  sha256,
  // S3 signs the path as sent (no normalisation, no second encoding); every
  // other service normalises and double-encodes it.
  uriEscapePath: !isS3,
  // Verification must not add an x-amz-content-sha256 header the client never sent.
  applyChecksum: false,
});

const stats = { verified: 0, rejected: 0, forwarded: 0, throttled: 0, failed: 0, delayed: 0, held: 0, lost: 0,
  if_match_signed: 0, precondition_failed: 0 };
const operations = Object.create(null);

// DynamoDB's "DynamoDB_20120810.GetItem" and the body's TableName, so a
// test can compare which requests two code paths made, not only how many.
function countOperation(req, body) {
  const op = String(req.headers["x-amz-target"] ?? "").split(".").pop();
  let table = "";
  try {
    table = String(JSON.parse(body.toString("utf8")).TableName ?? "");
  } catch {
    // not JSON: counted without a table
  }
  const key = `${op} ${table}`;
  operations[key] = (operations[key] ?? 0) + 1;
}
const faults = { throttle: 0, fail: 0, delay: 0, delayMs: 0, holdReads: 0, loseAnswers: 0, loseSkip: 0, loseOperation: "" };
const heldReads = [];  // resolvers of the reads waiting for {"release":1}
const agent = new http.Agent({ keepAlive: true });

class Rejection extends Error {
  constructor(status, kind, message, detail = {}) {
    super(message);
    this.status = status;
    this.kind = kind;
    this.detail = detail;
  }
}

// The service's own error codes for each kind of failure.
const DYNAMO_CODES = {
  missing: "com.amazon.coral.service#MissingAuthenticationTokenException",
  unknown_key: "com.amazon.coral.service#UnrecognizedClientException",
  bad_token: "com.amazon.coral.service#UnrecognizedClientException",
  mismatch: "com.amazon.coral.service#InvalidSignatureException",
  skew: "com.amazon.coral.service#InvalidSignatureException",
  expired: "com.amazon.coral.service#InvalidSignatureException",
  malformed: "com.amazon.coral.service#IncompleteSignatureException",
  payload: "com.amazon.coral.service#InvalidSignatureException",
  too_large: "com.amazon.coral.service#RequestEntityTooLarge",
  bad_uri: "com.amazon.coral.service#SerializationException",
  unsupported: "com.amazon.coral.service#InvalidSignatureException",
};
const S3_CODES = {
  missing: "AccessDenied",
  unknown_key: "InvalidAccessKeyId",
  bad_token: "InvalidToken",
  mismatch: "SignatureDoesNotMatch",
  skew: "RequestTimeTooSkewed",
  expired: "AccessDenied",
  malformed: "AuthorizationHeaderMalformed",
  payload: "XAmzContentSHA256Mismatch",
  too_large: "EntityTooLarge",
  bad_uri: "InvalidURI",
  unsupported: "NotImplemented",
  unsigned_headers: "AccessDenied",
  missing_sha: "InvalidRequest",
};

function xmlEscape(s) {
  return String(s).replace(/[<>&'"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[c]);
}

function sendError(req, res, status, code, message, extra = {}) {
  if (res.headersSent || res.destroyed) return;
  const requestId = crypto.randomBytes(8).toString("hex").toUpperCase();
  let body, type;
  if (isS3) {
    type = "application/xml";
    body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlEscape(code)}</Code>` +
      `<Message>${xmlEscape(message)}</Message>` +
      Object.entries(extra).map(([k, v]) => `<${k}>${xmlEscape(v)}</${k}>`).join("") +
      `<RequestId>${requestId}</RequestId></Error>`;
    res.setHeader("x-amz-request-id", requestId);
  } else {
    type = "application/x-amz-json-1.0";
    body = JSON.stringify({ __type: code, message, ...extra });
    res.setHeader("x-amzn-RequestId", requestId);
  }
  res.writeHead(status, { "Content-Type": type, "Content-Length": Buffer.byteLength(body) });
  res.end(req.method === "HEAD" ? undefined : body);
}

function sendRejection(req, res, r) {
  const code = (isS3 ? S3_CODES : DYNAMO_CODES)[r.kind] ?? (isS3 ? "AccessDenied" : DYNAMO_CODES.mismatch);
  sendError(req, res, r.status, code, r.message, r.detail);
}

// ---- parsing ---------------------------------------------------------------

function decodeComponent(s) {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new Rejection(400, "bad_uri", "The request URI holds an invalid percent-encoding.");
  }
}

// Raw query -> {name: value | [values]} as @smithy/protocol-http expects;
// a name without "=" has the empty value, as in the canonical query.
function parseQuery(raw) {
  const query = Object.create(null);
  if (raw === "") return query;
  for (const part of raw.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const name = decodeComponent(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? "" : decodeComponent(part.slice(eq + 1));
    if (name in query) query[name] = [].concat(query[name], value);
    else query[name] = value;
  }
  return query;
}

// S3 canonicalises the path it decoded, so a client that encodes a key
// differently from what it signed, or signs it unencoded, fails as with S3.
function s3CanonicalPath(rawPath) {
  return rawPath.split("/").map((seg) => encodeRfc3986(decodeComponent(seg))).join("/");
}

function encodeRfc3986(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

function headerMap(rawHeaders) {
  const m = new Map();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase();
    if (!m.has(name)) m.set(name, []);
    m.get(name).push(rawHeaders[i + 1]);
  }
  return m;
}

function single(headers, name) {
  const v = headers.get(name);
  if (!v) return undefined;
  if (v.length !== 1) throw new Rejection(403, "malformed", `The ${name} header appears more than once.`);
  return v[0];
}

// "20150830T123600Z" -> Date, or undefined when not exactly that form.
function parseAmzDate(s) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s ?? "");
  if (!m) return undefined;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
  const back = d.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}Z$/, "Z");
  return back === s ? d : undefined;
}

const SIGNED_HEADERS_RE = /^[a-z0-9!#$%&'*+.^_`|~-]+(;[a-z0-9!#$%&'*+.^_`|~-]+)*$/;

function parseSignedHeaders(s) {
  if (!SIGNED_HEADERS_RE.test(s ?? "")) throw new Rejection(403, "malformed", "SignedHeaders is malformed.");
  const list = s.split(";");
  for (let i = 1; i < list.length; i++)
    if (list[i - 1] >= list[i]) throw new Rejection(403, "malformed", "SignedHeaders must be sorted and unique.");
  if (!list.includes("host")) throw new Rejection(403, "malformed", "The host header must be signed.");
  for (const h of ["authorization", "date"])
    if (list.includes(h)) throw new Rejection(403, "unsupported", `This proxy does not accept a signed ${h} header.`);
  return list;
}

function checkCredential(credential, amzDate) {
  const parts = (credential ?? "").split("/");
  if (parts.length !== 5) throw new Rejection(403, "malformed", `Credential '${credential}' is malformed.`);
  const [key, date, region, service, terminator] = parts;
  if (key !== opts.accessKey)
    throw new Rejection(403, "unknown_key", "The security token included in the request is invalid.");
  if (date !== amzDate.slice(0, 8))
    throw new Rejection(403, "mismatch", `Credential date ${date} does not match the request date ${amzDate}.`);
  if (region !== opts.region)
    throw new Rejection(403, "mismatch", `Credential should be scoped to a valid region, not '${region}'; expecting '${opts.region}'.`);
  if (service !== opts.service)
    throw new Rejection(403, "mismatch", `Credential should be scoped to correct service: '${opts.service}', not '${service}'.`);
  if (terminator !== "aws4_request")
    throw new Rejection(403, "mismatch", "Credential should be scoped with a valid terminator: 'aws4_request'.");
}

function checkToken(token) {
  if (opts.sessionToken === undefined) {
    if (token !== undefined)
      throw new Rejection(403, "bad_token", "The security token included in the request is invalid.");
  } else if (token !== opts.sessionToken) {
    throw new Rejection(403, "bad_token", "The security token included in the request is missing or invalid.");
  }
}

function sameText(a, b) {
  const x = Buffer.from(String(a)), y = Buffer.from(String(b));
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

function sha256Hex(body) {
  return crypto.createHash("sha256").update(body).digest("hex");
}

// ---- verification ----------------------------------------------------------

// The request with only the signed headers, each value the comma-joined
// trimmed list of its occurrences (the canonical form).
function signedOnlyRequest(req, rawPath, query, headers, signedList, body) {
  const kept = {};
  for (const name of signedList) {
    const values = headers.get(name);
    if (!values) throw new Rejection(403, "mismatch", `Signed header ${name} is missing from the request.`);
    kept[name] = values.map((v) => v.trim()).join(",");
  }
  return new HttpRequest({
    method: req.method,
    protocol: "http:",
    hostname: "127.0.0.1",
    path: isS3 ? s3CanonicalPath(rawPath) : rawPath,
    query,
    headers: kept,
    body,
  });
}

// Every x-amz-* header S3 receives must be signed.
function checkS3HeadersSigned(headers, signedList) {
  const unsigned = [...headers.keys()].filter((h) => h.startsWith("x-amz-") && !signedList.includes(h));
  if (unsigned.length)
    throw new Rejection(403, "unsigned_headers", `There were headers present in the request which were not signed: ${unsigned.join(", ")}`);
}

function checkPayloadHash(headers, body) {
  const claimed = single(headers, "x-amz-content-sha256");
  if (claimed === undefined) {
    if (isS3) throw new Rejection(400, "missing_sha", "Missing required header for this request: x-amz-content-sha256");
    return;
  }
  if (claimed === "UNSIGNED-PAYLOAD" && isS3) return;
  if (claimed.startsWith("STREAMING-"))
    throw new Rejection(501, "unsupported", `This proxy does not implement ${claimed}.`);
  if (!/^[0-9a-f]{64}$/.test(claimed))
    throw new Rejection(400, "payload", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a lower-case hex SHA-256.");
  const actual = sha256Hex(body);
  if (claimed !== actual)
    throw new Rejection(400, "payload", "The provided 'x-amz-content-sha256' header does not match what was computed.",
      { ClientComputedContentSHA256: claimed, S3ComputedContentSHA256: actual });
}

async function mismatch(request, payloadHash, signableHeaders, unsignableHeaders, longDate, scope, what) {
  // What the signature should have covered, to make a failure debuggable
  // (S3 and DynamoDB return the same information).
  const canonical = signer.createCanonicalRequest(request, getCanonicalHeaders(request, unsignableHeaders, signableHeaders), payloadHash);
  const stringToSign = await signer.createStringToSign(longDate, scope, canonical, ALGORITHM);
  const message = isS3
    ? "The request signature we calculated does not match the signature you provided. Check your key and signing method."
    : `The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. ` +
      `The Canonical String for this request should have been\n'${canonical}'\n\nThe String-to-Sign should have been\n'${stringToSign}'\n`;
  process.stderr.write(`sigv4-proxy: ${what} mismatch; canonical request:\n${canonical}\n`);
  return new Rejection(403, "mismatch", message, isS3 ? { CanonicalRequest: canonical, StringToSign: stringToSign } : {});
}

async function verifyHeaderForm(req, auth, rawPath, query, headers, body) {
  const m = /^AWS4-HMAC-SHA256 +(.*)$/s.exec(auth);
  if (!m) throw new Rejection(403, "malformed", "Only the AWS4-HMAC-SHA256 Authorization header is supported.");
  const parts = {};
  for (const piece of m[1].split(",")) {
    const kv = /^\s*(Credential|SignedHeaders|Signature)=(\S*)\s*$/.exec(piece);
    if (!kv || kv[1] in parts) throw new Rejection(403, "malformed", `Authorization header component '${piece.trim()}' is malformed.`);
    parts[kv[1]] = kv[2];
  }
  for (const k of ["Credential", "SignedHeaders", "Signature"])
    if (!(k in parts)) throw new Rejection(403, "malformed", `Authorization header requires '${k}'.`);
  if (!/^[0-9a-f]{64}$/.test(parts.Signature)) throw new Rejection(403, "malformed", "Signature must be 64 lower-case hex digits.");

  const amzDate = single(headers, "x-amz-date");
  const signingDate = parseAmzDate(amzDate);
  if (!signingDate) throw new Rejection(403, "malformed", "The request needs an X-Amz-Date header of the form YYYYMMDDTHHMMSSZ.");
  checkCredential(parts.Credential, amzDate);
  const signedList = parseSignedHeaders(parts.SignedHeaders);
  if (!signedList.includes("x-amz-date")) throw new Rejection(403, "malformed", "The x-amz-date header must be signed.");
  const skew = Math.abs(Date.now() - signingDate.getTime());
  if (skew > MAX_SKEW_MS)
    throw new Rejection(403, "skew", `Signature expired: ${amzDate} is more than 15 minutes away from the proxy's time.`,
      isS3 ? { RequestTime: amzDate, ServerTime: new Date().toISOString() } : {});
  checkToken(single(headers, "x-amz-security-token"));
  if (isS3) checkS3HeadersSigned(headers, signedList);
  checkPayloadHash(headers, body);

  const request = signedOnlyRequest(req, rawPath, query, headers, signedList, body);
  const signableHeaders = new Set(signedList);
  const signed = await signer.sign(request, { signingDate, signableHeaders });
  const expected = /Credential=(\S+), SignedHeaders=(\S+), Signature=([0-9a-f]{64})$/.exec(signed.headers.authorization);
  if (!expected) throw new Error("unexpected signer output");
  if (!sameText(expected[1], parts.Credential) || !sameText(expected[2], parts.SignedHeaders) ||
      !sameText(expected[3], parts.Signature)) {
    const scope = expected[1].slice(expected[1].indexOf("/") + 1);
    throw await mismatch(signed, await getPayloadHash(signed, sha256), signableHeaders, undefined, amzDate, scope, "header signature");
  }
}

const PRESIGN_PARAMS = ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
  "X-Amz-Signature", "X-Amz-Security-Token"];

async function verifyQueryForm(req, rawPath, query, headers) {
  if (!isS3) throw new Rejection(403, "missing", "Request is missing Authentication Token");
  const p = {};
  for (const name of PRESIGN_PARAMS) {
    const v = query[name];
    if (Array.isArray(v)) throw new Rejection(403, "malformed", `${name} appears more than once.`);
    p[name] = v;
  }
  for (const name of PRESIGN_PARAMS.slice(0, 6))
    if (p[name] === undefined) throw new Rejection(403, "malformed", `Query-string authentication requires ${name}.`);
  if (p["X-Amz-Algorithm"] !== ALGORITHM) throw new Rejection(403, "malformed", "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\".");
  if (!/^[0-9a-f]{64}$/.test(p["X-Amz-Signature"])) throw new Rejection(403, "malformed", "X-Amz-Signature must be 64 lower-case hex digits.");
  const amzDate = p["X-Amz-Date"];
  const signingDate = parseAmzDate(amzDate);
  if (!signingDate) throw new Rejection(403, "malformed", "X-Amz-Date must be of the form YYYYMMDDTHHMMSSZ.");
  const expires = p["X-Amz-Expires"];
  if (!/^[1-9]\d{0,5}$/.test(expires) || Number(expires) > MAX_PRESIGN_EXPIRES)
    throw new Rejection(403, "malformed", "X-Amz-Expires must be between 1 and 604800 seconds.");
  checkCredential(p["X-Amz-Credential"], amzDate);
  const signedList = parseSignedHeaders(p["X-Amz-SignedHeaders"]);
  const now = Date.now();
  if (now > signingDate.getTime() + Number(expires) * 1000)
    throw new Rejection(403, "expired", "Request has expired",
      { "X-Amz-Expires": expires, Expires: new Date(signingDate.getTime() + Number(expires) * 1000).toISOString(), ServerTime: new Date(now).toISOString() });
  if (signingDate.getTime() - now > MAX_SKEW_MS)
    throw new Rejection(403, "skew", "X-Amz-Date is more than 15 minutes in the future.");
  checkToken(p["X-Amz-Security-Token"]);
  checkS3HeadersSigned(headers, signedList);

  // The signer adds the X-Amz-* authentication parameters back itself.
  const rest = Object.create(null);
  for (const [k, v] of Object.entries(query)) if (!PRESIGN_PARAMS.includes(k)) rest[k] = v;
  const request = signedOnlyRequest(req, rawPath, rest, headers, signedList, undefined);
  // A pre-signed URL never covers the payload.
  if (!("x-amz-content-sha256" in request.headers)) request.headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD";
  const signableHeaders = new Set(signedList);
  const unsignableHeaders = new Set(["x-amz-content-sha256"]);
  const presigned = await signer.presign(request, {
    signingDate,
    expiresIn: expires,  // as sent, so the canonical query holds the client's own text
    signableHeaders,
    unsignableHeaders,
    unhoistableHeaders: new Set([...signedList, "x-amz-content-sha256"]),
  });
  const q = presigned.query;
  if (!sameText(q["X-Amz-Credential"], p["X-Amz-Credential"]) || !sameText(q["X-Amz-SignedHeaders"], p["X-Amz-SignedHeaders"]) ||
      !sameText(q["X-Amz-Signature"], p["X-Amz-Signature"])) {
    const scope = q["X-Amz-Credential"].slice(q["X-Amz-Credential"].indexOf("/") + 1);
    throw await mismatch(presigned, "UNSIGNED-PAYLOAD", signableHeaders, unsignableHeaders, amzDate, scope, "pre-signed URL");
  }
}

// S3's browser-based upload: a multipart POST to the bucket whose fields
// carry a base64 policy and its signature, hex(HMAC(signing key, policy)).
// Checked here: the credential scope, the token, the expiration and the
// signature, recomputed with node's own HMAC. Not checked: the policy's
// conditions (key, size range, Content-Type), which s3rver does not
// evaluate either; Gatehouse's unit test of the policy document covers them.
function formFields(headers, body) {
  const type = single(headers, "content-type") ?? "";
  const m = /^multipart\/form-data\s*;.*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(type);
  if (!m) throw new Rejection(412, "malformed", "Bucket POST must be of the enclosure-type multipart/form-data.");
  const delimiter = "--" + (m[1] ?? m[2]);
  const fields = Object.create(null);
  // latin1 keeps every byte as one character; only the text fields are read.
  for (const part of body.toString("latin1").split(delimiter).slice(1)) {
    if (part.startsWith("--")) break;
    const end = part.indexOf("\r\n\r\n");
    if (end < 0) throw new Rejection(400, "malformed", "A form part has no header block.");
    const name = /name="([^"]*)"/i.exec(part.slice(0, end))?.[1]?.toLowerCase();
    if (name === undefined) throw new Rejection(400, "malformed", "A form part has no name.");
    if (name === "file") break;  // S3 ignores anything after the file
    if (name in fields) throw new Rejection(400, "malformed", `The form field ${name} appears more than once.`);
    fields[name] = Buffer.from(part.slice(end + 4).replace(/\r\n$/, ""), "latin1").toString("utf8");
  }
  return fields;
}

function verifyPostPolicy(rawPath, headers, body) {
  if (!/^\/[^/]+\/?$/.test(rawPath)) throw new Rejection(403, "missing", "Access Denied");
  const f = formFields(headers, body);
  for (const name of ["policy", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"])
    if (f[name] === undefined) throw new Rejection(403, "malformed", `Bucket POST must contain a field named '${name}'.`);
  if (f["x-amz-algorithm"] !== ALGORITHM) throw new Rejection(403, "malformed", "x-amz-algorithm only supports \"AWS4-HMAC-SHA256\".");
  if (!/^[0-9a-f]{64}$/.test(f["x-amz-signature"])) throw new Rejection(403, "malformed", "x-amz-signature must be 64 lower-case hex digits.");
  const amzDate = f["x-amz-date"];
  if (!parseAmzDate(amzDate)) throw new Rejection(403, "malformed", "x-amz-date must be of the form YYYYMMDDTHHMMSSZ.");
  checkCredential(f["x-amz-credential"], amzDate);
  checkToken(f["x-amz-security-token"]);
  const hmac = (key, data) => crypto.createHmac("sha256", key).update(data).digest();
  let key = hmac("AWS4" + opts.secretKey, amzDate.slice(0, 8));
  for (const part of [opts.region, opts.service, "aws4_request"]) key = hmac(key, part);
  const expected = crypto.createHmac("sha256", key).update(f.policy, "utf8").digest("hex");
  if (!sameText(expected, f["x-amz-signature"]))
    throw new Rejection(403, "mismatch", "The request signature we calculated does not match the signature you provided.");
  let policy;
  try {
    policy = JSON.parse(Buffer.from(f.policy, "base64").toString("utf8"));
  } catch {
    throw new Rejection(400, "malformed", "Invalid Policy: Invalid JSON.");
  }
  const expiration = Date.parse(policy?.expiration ?? "");
  if (!Number.isFinite(expiration)) throw new Rejection(400, "malformed", "Invalid Policy: Policy missing expiration.");
  if (Date.now() > expiration) throw new Rejection(403, "expired", "Invalid according to Policy: Policy expired.");
}

async function verify(req, body) {
  const url = req.url;
  if (!url.startsWith("/")) throw new Rejection(400, "bad_uri", "Only origin-form request targets are accepted.");
  const qpos = url.indexOf("?");
  const rawPath = qpos < 0 ? url : url.slice(0, qpos);
  const query = parseQuery(qpos < 0 ? "" : url.slice(qpos + 1));
  const headers = headerMap(req.rawHeaders);
  const auth = single(headers, "authorization");
  const queryAuth = "X-Amz-Signature" in query || "X-Amz-Algorithm" in query || "X-Amz-Credential" in query;
  if (auth !== undefined && queryAuth)
    throw new Rejection(400, "malformed", "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.");
  if (auth !== undefined) return verifyHeaderForm(req, auth, rawPath, query, headers, body);
  if (queryAuth) return verifyQueryForm(req, rawPath, query, headers);
  if (isS3 && req.method === "POST" && Object.keys(query).length === 0) return verifyPostPolicy(rawPath, headers, body);
  throw new Rejection(403, "missing", isS3 ? "Access Denied" : "Request is missing Authentication Token");
}

// ---- serving ---------------------------------------------------------------

function readBody(req, res) {
  return new Promise((resolve) => {
    const declared = req.headers["content-length"];
    if (declared !== undefined && Number(declared) > MAX_BODY) return resolve(null);
    const chunks = [];
    let size = 0;
    let done = false;
    req.on("data", (c) => {
      if (done) return;
      size += c.length;
      if (size > MAX_BODY) {
        done = true;
        resolve(null);
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => { if (!done) { done = true; resolve(Buffer.concat(chunks)); } });
    req.on("error", () => { if (!done) { done = true; resolve(undefined); } });
    res.on("close", () => { if (!done) { done = true; resolve(undefined); } });
  });
}

function forward(req, res, body, loseAnswer = false) {
  const headers = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2)
    if (!HOP_BY_HOP.has(req.rawHeaders[i].toLowerCase())) headers.push(req.rawHeaders[i], req.rawHeaders[i + 1]);
  stats.forwarded++;
  if (!isS3) countOperation(req, body);
  send(req, res, headers, body, true, loseAnswer);
}

function send(req, res, headers, body, mayRetry, loseAnswer = false) {
  const upstream = http.request({ host: "127.0.0.1", port: opts.targetPort, method: req.method, path: req.url, headers, agent },
    (up) => {
      if (loseAnswer) {
        // The peer has done the work; the client only sees its connection reset.
        stats.lost++;
        up.resume();
        up.on("end", () => req.socket.destroy());
        return;
      }
      const back = [];
      for (let i = 0; i + 1 < up.rawHeaders.length; i += 2)
        if (!HOP_BY_HOP.has(up.rawHeaders[i].toLowerCase())) back.push(up.rawHeaders[i], up.rawHeaders[i + 1]);
      res.writeHead(up.statusCode, up.statusMessage, back);
      up.pipe(res);
      up.on("error", () => res.destroy());
    });
  upstream.on("error", (err) => {
    // A pooled connection the peer closed while idle: the request never
    // reached it, so sending it again on a fresh connection is safe.
    if (mayRetry && upstream.reusedSocket && err.code === "ECONNRESET" && !res.headersSent)
      return send(req, res, headers, body, false, loseAnswer);
    process.stderr.write(`sigv4-proxy: upstream ${opts.service} on port ${opts.targetPort}: ${err.message}\n`);
    if (!res.headersSent) sendError(req, res, 502, isS3 ? "InternalError" : "com.amazonaws.dynamodb.v20120810#InternalServerError",
      `upstream unreachable: ${err.code ?? err.message}`);
    else res.destroy();
  });
  res.on("close", () => { if (!res.writableFinished) upstream.destroy(); });
  upstream.end(body.length ? body : undefined);
}

function throttle(req, res) {
  stats.throttled++;
  if (isS3) sendError(req, res, 503, "SlowDown", "Please reduce your request rate.");
  else sendError(req, res, 400, "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
    "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.");
}

function fail(req, res) {
  stats.failed++;
  if (isS3) sendError(req, res, 500, "InternalError", "We encountered an internal error. Please try again.");
  else sendError(req, res, 500, "com.amazonaws.dynamodb.v20120810#InternalServerError", "Internal server error");
}

function json(res, status, value) {
  const body = JSON.stringify(value);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

async function admin(req, res, path) {
  if (path === "/__stats" && req.method === "GET") return json(res, 200, { ...stats, operations, pending: faults });
  if (path !== "/__fault" || req.method !== "POST") return json(res, 405, { error: "GET /__stats or POST /__fault" });
  const body = await readBody(req, res);
  if (!body) return json(res, 400, { error: "unreadable body" });
  let spec;
  try {
    spec = JSON.parse(body.toString("utf8") || "{}");
  } catch {
    return json(res, 400, { error: "body must be JSON" });
  }
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) return json(res, 400, { error: "body must be a JSON object" });
  const fields = { throttle: "throttle", fail: "fail", delay: "delay", delay_ms: "delayMs", hold_reads: "holdReads",
    lose_answers: "loseAnswers", lose_skip: "loseSkip", lose_operation: "loseOperation" };
  for (const k of Object.keys(spec)) {
    if (k === "clear") continue;
    if (k === "release") {
      heldReads.splice(0).forEach((resume) => resume());
      continue;
    }
    if (k === "lose_operation") {
      if (typeof spec[k] !== "string" || !/^[A-Za-z]{0,64}$/.test(spec[k]))
        return json(res, 400, { error: "lose_operation must be an operation name" });
      continue;
    }
    if (!(k in fields) || !Number.isSafeInteger(spec[k]) || spec[k] < 0)
      return json(res, 400, { error: `unknown field or not a non-negative integer: ${k}` });
  }
  if (spec.clear) Object.assign(faults, { throttle: 0, fail: 0, delay: 0, delayMs: 0, holdReads: 0, loseAnswers: 0, loseSkip: 0, loseOperation: "" });
  for (const [k, f] of Object.entries(fields)) if (k in spec) faults[f] = spec[k];
  return json(res, 200, { pending: faults });
}

async function handle(req, res) {
  const path = req.url.split("?")[0];
  if (opts.fault && (path === "/__fault" || path === "/__stats")) return admin(req, res, path);

  const body = await readBody(req, res);
  if (body === undefined) return;  // the client went away
  if (body === null) {
    stats.rejected++;
    res.setHeader("Connection", "close");
    sendRejection(req, res, new Rejection(413, "too_large", `Request bodies are limited to ${MAX_BODY} bytes.`));
    res.on("finish", () => req.destroy());
    return;
  }
  try {
    await verify(req, body);
  } catch (e) {
    if (!(e instanceof Rejection)) throw e;
    stats.rejected++;
    process.stderr.write(`sigv4-proxy: rejected ${req.method} ${req.url}: ${e.status} ${e.message.split("\n")[0]}\n`);
    return sendRejection(req, res, e);
  }
  stats.verified++;
  if (faults.throttle > 0) {
    faults.throttle--;
    return throttle(req, res);
  }
  if (faults.fail > 0) {
    faults.fail--;
    return fail(req, res);
  }
  if (faults.delay > 0) {
    faults.delay--;
    stats.delayed++;
    await new Promise((r) => setTimeout(r, faults.delayMs));
    if (res.destroyed) return;
  }
  if (isS3 && req.method === "GET" && req.headers.range !== undefined && faults.holdReads > 0) {
    faults.holdReads--;
    stats.held++;
    await new Promise((resume) => heldReads.push(resume));
    if (res.destroyed) return;
  }
  if (isS3 && (req.method === "GET" || req.method === "HEAD") && req.headers["if-match"] !== undefined) {
    const signed = /SignedHeaders=([^,\s]+)/.exec(req.headers.authorization ?? "");
    if (signed && signed[1].split(";").includes("if-match")) stats.if_match_signed++;
    const current = await currentEtag(req.url);
    if (current !== undefined && current !== req.headers["if-match"]) {
      stats.precondition_failed++;
      return sendError(req, res, 412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold",
        { Condition: "If-Match" });
    }
  }
  let loseAnswer = false;
  const operation = String(req.headers["x-amz-target"] ?? "").split(".").pop();
  const targeted = faults.loseAnswers > 0 && (faults.loseOperation === "" || faults.loseOperation === operation);
  if (targeted && faults.loseSkip > 0) {
    faults.loseSkip--;
  } else if (targeted) {
    faults.loseAnswers--;
    loseAnswer = true;
  }
  forward(req, res, body, loseAnswer);
}

// The object's ETag as s3rver has it now (it needs no signature), or
// undefined when there is none.
function currentEtag(url) {
  return new Promise((resolve) => {
    const head = http.request({ host: "127.0.0.1", port: opts.targetPort, method: "HEAD", path: url.split("?")[0], agent },
      (up) => {
        up.resume();
        resolve(up.statusCode === 200 ? up.headers.etag : undefined);
      });
    head.on("error", () => resolve(undefined));
    head.end();
  });
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    process.stderr.write(`sigv4-proxy: internal error: ${err.stack ?? err}\n`);
    if (!res.headersSent) sendError(req, res, 500, isS3 ? "InternalError" : "com.amazon.coral.service#InternalFailure", "proxy internal error");
    else res.destroy();
  });
});
server.keepAliveTimeout = 30_000;
server.headersTimeout = 35_000;
server.on("clientError", (err, socket) => {
  if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  else socket.destroy();
});
server.on("error", (err) => {
  process.stderr.write(`sigv4-proxy: cannot listen on 127.0.0.1:${opts.listenPort}: ${err.message}\n`);
  process.exit(1);
});
server.listen(opts.listenPort, "127.0.0.1", () => {
  process.stdout.write(`READY ${server.address().port}\n`);
});
