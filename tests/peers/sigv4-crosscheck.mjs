// Signs the cases written by tests/unit/aws/sigv4_crosscheck_test.cpp with
// @smithy/signature-v4 (the AWS SDK for JavaScript's signer), in both forms,
// and prints the results as JSON on stdout.
//
//   node sigv4-crosscheck.mjs <cases.json>
//
// Input: {"cases": [{id, method, path, query, headers: [[name, value]...],
//   body_base64, access_key_id, secret_access_key, session_token, region,
//   service, time, expires, s3_paths, unsigned_payload,
//   content_sha256_header}]}. `path` and `query` are as on the wire.
// Output: [{id, header: {authorization, canonical_request},
//   query: {signature, signed_headers, canonical_request}} | {id, error}].
//
// Only the translation from the wire form into smithy's request model
// happens here (smithy takes decoded query values and one value per header);
// all canonicalisation, encoding, sorting and hashing is smithy's own.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Readable } from "node:stream";

const require = createRequire(import.meta.url);
const { SignatureV4 } = require("@smithy/signature-v4");
const { HttpRequest } = require("@smithy/protocol-http");
const { Hash } = require("@smithy/hash-node");

const utf8 = new TextDecoder("utf-8", { fatal: true });

// %XX to a byte; a '%' without two hex digits stays literal; '+' stays '+'.
// The result must be UTF-8: smithy's query values are JS strings.
function decodeLenient(text) {
  const bytes = Buffer.from(text, "utf8");
  const out = [];
  const hex = (b) => (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x25 && i + 2 < bytes.length && hex(bytes[i + 1]) && hex(bytes[i + 2])) {
      out.push(parseInt(String.fromCharCode(bytes[i + 1], bytes[i + 2]), 16));
      i += 2;
    } else {
      out.push(bytes[i]);
    }
  }
  return utf8.decode(Uint8Array.from(out));
}

// The wire query as smithy's QueryParameterBag: repeated names become arrays.
function queryBag(wire) {
  const bag = {};
  for (const part of wire.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const name = decodeLenient(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? "" : decodeLenient(part.slice(eq + 1));
    if (!Object.hasOwn(bag, name)) bag[name] = value;
    else if (Array.isArray(bag[name])) bag[name].push(value);
    else bag[name] = [bag[name], value];
  }
  return bag;
}

// One value per header name: repeated names (any case) joined with ',' in
// order, under the first spelling seen.
function headerBag(list) {
  const bag = {};
  const first = new Map();
  for (const [name, value] of list) {
    const lower = name.toLowerCase();
    if (first.has(lower)) bag[first.get(lower)] += "," + value;
    else {
      first.set(lower, name);
      bag[name] = value;
    }
  }
  return bag;
}

function makeRequest(c) {
  const bytes = Buffer.from(c.body_base64, "base64");
  return new HttpRequest({
    method: c.method,
    protocol: "https:",
    hostname: "unused.invalid",
    path: c.path,
    query: queryBag(c.query),
    headers: headerBag(c.headers),
    // A stream is what makes smithy sign UNSIGNED-PAYLOAD, as for S3 uploads.
    body: c.unsigned_payload ? Readable.from([bytes]) : bytes,
  });
}

function makeSigner(c) {
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: c.access_key_id,
      secretAccessKey: c.secret_access_key,
      sessionToken: c.session_token === "" ? undefined : c.session_token,
    },
    region: c.region,
    service: c.service,
    sha256: Hash.bind(null, "sha256"),
    uriEscapePath: !c.s3_paths,
    applyChecksum: c.content_sha256_header,
  });
  // Keep the canonical request for the test's mismatch report.
  const original = signer.createCanonicalRequest.bind(signer);
  signer.lastCanonical = "";
  signer.createCanonicalRequest = (...args) => (signer.lastCanonical = original(...args));
  return signer;
}

async function signCase(c) {
  const signingDate = new Date(c.time * 1000);

  const headerSigner = makeSigner(c);
  const signed = await headerSigner.sign(makeRequest(c), { signingDate });

  const querySigner = makeSigner(c);
  const request = makeRequest(c);
  // Gatehouse keeps x-amz-* headers as signed headers in the query form;
  // smithy would otherwise hoist them into the query.
  const unhoistableHeaders = new Set(
    Object.keys(request.headers)
      .map((h) => h.toLowerCase())
      .filter((h) => h.startsWith("x-amz-")),
  );
  const presigned = await querySigner.presign(request, { signingDate, expiresIn: c.expires, unhoistableHeaders });

  return {
    id: c.id,
    header: { authorization: signed.headers.authorization, canonical_request: headerSigner.lastCanonical },
    query: {
      signature: presigned.query["X-Amz-Signature"],
      signed_headers: presigned.query["X-Amz-SignedHeaders"],
      canonical_request: querySigner.lastCanonical,
    },
  };
}

const input = JSON.parse(readFileSync(process.argv[2], "utf8"));
const results = [];
for (const c of input.cases) {
  try {
    results.push(await signCase(c));
  } catch (err) {
    results.push({ id: c.id, error: String(err?.stack ?? err) });
  }
}
process.stdout.write(JSON.stringify(results));
