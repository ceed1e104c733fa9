// An independent check of Gatehouse's TOTP (src/mfa) with the `otpauth`
// package (hectorm). It reads one JSON request on stdin and writes one JSON
// answer on stdout; it opens no socket. tests/unit/mfa/totp_crosscheck_test.cpp
// runs it.
//
// Request:
//   {"generate": [{"secret": base32, "timestamp_ms", "digits"?: n}],
//    "validate": [{"secret": base32, "token", "timestamp_ms", "window"}],
//    "parse": ["otpauth://...", ...]}
// Answer:
//   {"generate": ["123456", ...],
//    "validate": [delta | null, ...],
//    "parse": [{"ok": true, "type", "secret": base32, "issuer", "label", "algorithm",
//               "digits", "period", "issuerInLabel"} | {"ok": false, "message"}]}
//
// generate and validate use TOTP's defaults (SHA1, 30 s, 6 digits unless
// `digits`); validate answers otpauth's delta, the step of the match less the
// step of `timestamp_ms`. parse is URI.parse, the way an app reads a QR code.
//
// The browser build, whose HMAC-SHA1 is the bundled pure-JavaScript
// noble-hashes: otpauth's Node build would call node:crypto, which is
// OpenSSL, as Gatehouse is, and so would check less.
import { Secret, TOTP, URI } from 'otpauth/dist/otpauth.esm.js';

const read = async () => {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
};

const generateOne = ({ secret, timestamp_ms, digits }) =>
  TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: timestamp_ms, ...(digits ? { digits } : {}) });

const validateOne = ({ secret, token, timestamp_ms, window }) =>
  TOTP.validate({ secret: Secret.fromBase32(secret), token, timestamp: timestamp_ms, window });

function parseOne(uri) {
  try {
    const otp = URI.parse(uri);
    return {
      ok: true, type: otp instanceof TOTP ? 'totp' : 'hotp', secret: otp.secret.base32, issuer: otp.issuer,
      label: otp.label, algorithm: otp.algorithm, digits: otp.digits, period: otp.period,
      issuerInLabel: otp.issuerInLabel,
    };
  } catch (e) {
    return { ok: false, message: String(e.message) };
  }
}

const request = await read();
process.stdout.write(JSON.stringify({
  generate: (request.generate ?? []).map(generateOne),
  validate: (request.validate ?? []).map(validateOne),
  parse: (request.parse ?? []).map(parseOne),
}));
