// SigV4 checking for the JSON-protocol AWS stand-ins (secrets-stub.mjs,
// ses-stub.mjs): each request is rebuilt from exactly the headers it claims
// to have signed and signed again with @smithy/signature-v4 (the AWS SDK for
// JavaScript's signer) at the request's own x-amz-date; any difference is a
// Failure(403) carrying the service's own error type. It shares no code with
// Gatehouse's signer.
import crypto from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import { HttpRequest } from "@smithy/protocol-http";
import { Hash } from "@smithy/hash-node";

export const MAX_SKEW_MS = 15 * 60 * 1000;

export class Failure extends Error {
  constructor(status, type, message) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

// name (lower-case) -> every value it came with, in order.
export function headerMap(rawHeaders) {
  const m = new Map();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase();
    if (!m.has(name)) m.set(name, []);
    m.get(name).push(rawHeaders[i + 1]);
  }
  return m;
}

export function single(headers, name) {
  const v = headers.get(name);
  if (!v) return undefined;
  if (v.length !== 1) throw new Failure(403, "IncompleteSignatureException", `The ${name} header appears more than once.`);
  return v[0];
}

function parseAmzDate(s) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s ?? "");
  if (!m) return undefined;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
  return d.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}Z$/, "Z") === s ? d : undefined;
}

function sameText(a, b) {
  const x = Buffer.from(String(a)), y = Buffer.from(String(b));
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

// A checker for one service: `service` the credential scope's service
// ("ses", "secretsmanager"), `mustSign` the headers a request has to sign.
export function signatureChecker({ accessKey, secretKey, sessionToken, region, service, mustSign }) {
  const signer = new SignatureV4({
    credentials: { accessKeyId: accessKey, secretAccessKey: secretKey, sessionToken },
    region, service, sha256: Hash.bind(null, "sha256"), uriEscapePath: true, applyChecksum: false,
  });
  return async function verifySignature(req, headers, body) {
    const auth = single(headers, "authorization");
    if (auth === undefined) throw new Failure(403, "MissingAuthenticationTokenException", "Request is missing Authentication Token");
    const m = /^AWS4-HMAC-SHA256 +Credential=(\S+), *SignedHeaders=(\S+), *Signature=([0-9a-f]{64})$/.exec(auth);
    if (!m) throw new Failure(403, "IncompleteSignatureException", "The Authorization header is malformed.");
    const [, credential, signedHeaders, signature] = m;
    const amzDate = single(headers, "x-amz-date");
    const signingDate = parseAmzDate(amzDate);
    if (!signingDate) throw new Failure(403, "IncompleteSignatureException", "X-Amz-Date is missing or malformed.");
    if (Math.abs(Date.now() - signingDate.getTime()) > MAX_SKEW_MS)
      throw new Failure(403, "InvalidSignatureException", "Signature expired: the request time is too far from the server's.");
    const [key, date, scopeRegion, scopeService, terminator, ...rest] = credential.split("/");
    if (rest.length || terminator !== "aws4_request" || date !== amzDate.slice(0, 8))
      throw new Failure(403, "IncompleteSignatureException", `Credential '${credential}' is malformed.`);
    if (key !== accessKey) throw new Failure(403, "UnrecognizedClientException", "The security token included in the request is invalid.");
    if (region !== scopeRegion || scopeService !== service)
      throw new Failure(403, "InvalidSignatureException", `Credential should be scoped to ${region}/${service}.`);
    const token = single(headers, "x-amz-security-token");
    if (token !== sessionToken) throw new Failure(403, "UnrecognizedClientException", "The security token included in the request is invalid.");
    const signedList = signedHeaders.split(";");
    for (const needed of mustSign)
      if (!signedList.includes(needed)) throw new Failure(403, "InvalidSignatureException", `The ${needed} header must be signed.`);

    // Only the headers it signed, each the comma-joined trimmed list of its values.
    const kept = {};
    for (const name of signedList) {
      const values = headers.get(name);
      if (!values) throw new Failure(403, "InvalidSignatureException", `Signed header ${name} is missing.`);
      kept[name] = values.map((v) => v.trim()).join(",");
    }
    const qpos = req.url.indexOf("?");
    const request = new HttpRequest({
      method: req.method, protocol: "http:", hostname: "127.0.0.1",
      path: qpos < 0 ? req.url : req.url.slice(0, qpos), query: {}, headers: kept, body,
    });
    const signed = await signer.sign(request, { signingDate, signableHeaders: new Set(signedList) });
    const expected = /Credential=(\S+), SignedHeaders=(\S+), Signature=([0-9a-f]{64})$/.exec(signed.headers.authorization);
    if (!expected || !sameText(expected[1], credential) || !sameText(expected[2], signedHeaders) || !sameText(expected[3], signature))
      throw new Failure(403, "InvalidSignatureException",
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.");
  };
}
