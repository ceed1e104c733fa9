#!/usr/bin/env node
// The chaos run's load: a bounded, concurrent, seeded load of Gatehouse's
// write routes through whatever faults lie between it and the store, with
// every request and answer recorded for check.mjs.
//
//   node load.mjs --base http://127.0.0.1:PORT --out record.jsonl [--seed N]
//        [--seconds S] [--emails E] [--signups-per-email K] [--concurrency C]
//        [--attempts A] [--retry-for-ms MS] [--timeout-ms MS]
//
// Rounds until --seconds have passed (at least one): each round races K
// sign-ups for each of E fresh e-mails (different names and passwords), then
// runs one script per acknowledged account, C at a time: log in, upload a
// profile picture (multipart), refresh, rename, a direct upload (upload_url,
// the form, confirm), the verification and forgotten-password mails, a
// second login and its refresh, maybe a password change, another upload and
// rename, maybe a logout, maybe DELETE /users/me. The seed decides every
// name, password, image, e-mail spelling and choice.
//
// Each logical action has its own Idempotency-Key, sent again on every retry
// with the same body. Retried: no answer (reset, truncated, timed out,
// refused connection), 503, 429 and 409 request_in_progress, up to
// --attempts times (transport failures and request_in_progress also until
// --retry-for-ms has passed since the first, so a server being restarted and
// the lease of an attempt that died are waited for). One JSON line
// per action goes to --out when it ends: kind, e-mail, key, what was sent
// that matters (passwords, names, image hashes, refresh tokens), every
// attempt's status, code or transport error, and the outcome: "ok" (2xx),
// "refused" (a final answer) or "unknown" (the last attempt had no final
// answer). The last line is {"summary": ...}.
import fs from "node:fs";
import crypto from "node:crypto";
import { prng, parseArgs, sleep, sha256hex, makeClient, jsonOf, errorCode, multipart, png } from "./lib.mjs";

const o = parseArgs(process.argv.slice(2), {
  base: "", out: "", seed: 1, seconds: 20, emails: 12, signupsPerEmail: 4, concurrency: 16,
  attempts: 6, retryForMs: 15000, timeoutMs: 30000,
});
if (!o.base || !o.out) throw new Error("--base and --out are required");

const rnd = prng(o.seed);
const client = makeClient({ maxSockets: o.concurrency * 2, timeoutMs: o.timeoutMs });
const out = fs.openSync(o.out, "w");
const started = Date.now();
let actionNo = 0;
let familyNo = 0;
const counts = {};

function write(line) { fs.writeSync(out, JSON.stringify(line) + "\n"); }

const retryable = (status, code) =>
  status === 0 || status === 503 || status === 429 || (status === 409 && code === "request_in_progress");

// One logical action: the same key and body on every attempt.
async function act(kind, { method = "POST", path, url, headers = {}, json, body, email, userId, meta = {}, idempotent = true, timeout = o.timeoutMs }) {
  const n = ++actionNo;
  const key = `chaos-${o.seed}-${n}-${crypto.randomBytes(6).toString("hex")}`;
  const h = { ...headers };
  if (idempotent) h["idempotency-key"] = key;
  if (json !== undefined) { body = Buffer.from(JSON.stringify(json)); h["content-type"] = "application/json"; }
  const attempts = [];
  const t0 = Date.now();
  let res;
  for (let i = 0; ; i++) {
    const ts = Date.now();
    res = await client.request(url ?? o.base + path, { method, headers: h, body, timeout });
    const code = res.status ? errorCode(res) : undefined;
    attempts.push({ at: ts - started, ms: Date.now() - ts, status: res.status, ...(code ? { code } : {}), ...(res.error ? { error: res.error } : {}) });
    if (!retryable(res.status, code)) break;
    // A restarting server refuses connections, and a key whose attempt died
    // is held until its lease lapses: both are waited for.
    const waitable = res.status === 0 || code === "request_in_progress";
    const more = i + 1 < o.attempts || (waitable && Date.now() - t0 < o.retryForMs);
    if (!more) break;
    const retryAfter = Number(res.headers?.["retry-after"]);
    await sleep(Math.min(1000, 25 * 2 ** i) + (Number.isFinite(retryAfter) ? Math.min(retryAfter, 2) * 1000 : 0) + Math.floor(Math.random() * 50));
  }
  const last = attempts.at(-1);
  // A 5xx other than 503 is a bug the checker reports; what it did is unknown.
  const outcome = res.status >= 200 && res.status < 300 ? "ok"
    : retryable(res.status, last.code) || res.status >= 500 ? "unknown" : "refused";
  const answer = res.status ? jsonOf(res) : undefined;
  const rec = { n, kind, email, ...(userId ? { userId } : {}), key, method, path: path ?? new URL(url).pathname, ...meta,
    attempts, outcome, status: res.status, ...(last.code ? { code: last.code } : {}),
    ambiguous: attempts.slice(0, -1).some((a) => retryable(a.status, a.code)) };
  counts[`${kind} ${outcome}`] = (counts[`${kind} ${outcome}`] ?? 0) + 1;
  return { rec, res, answer, outcome };
}

// Runs fns with at most `limit` at once.
async function bounded(limit, fns) {
  let next = 0;
  const worker = async () => { while (next < fns.length) await fns[next++](); };
  await Promise.all(Array.from({ length: Math.min(limit, fns.length) }, worker));
}

const bearer = (s) => ({ authorization: `Bearer ${s.access}` });

// ---- per-account actions ----------------------------------------------------

async function login(u, password = u.password, probing = false) {
  const r = await act("login", { path: "/login", json: { email: u.email, password }, email: u.email, userId: u.userId,
    meta: { password, ...(probing ? { probing } : {}) } });
  let s;
  if (r.outcome === "ok") {
    s = { family: ++familyNo, tokens: [r.answer.refresh_token], access: r.answer.token, uncertain: false };
    r.rec.family = s.family;
    r.rec.refresh_token = r.answer.refresh_token;
    r.rec.answerUserId = r.answer.user?.userId;
    u.sessions.push(s);
    u.access = s.access;
  }
  write(r.rec);
  return { s, r };
}

async function refresh(u, s) {
  if (!s || s.uncertain || s.closed) return;
  const presented = s.tokens.at(-1);
  const r = await act("refresh", { path: "/token/refresh", json: { refresh_token: presented }, email: u.email, userId: u.userId, meta: { family: s.family, presented } });
  if (r.outcome === "ok") {
    r.rec.successor = r.answer.refresh_token;
    s.tokens.push(r.answer.refresh_token);
    s.access = u.access = r.answer.token;
  } else if (r.outcome === "unknown") s.uncertain = true;
  else s.closed = true;
  write(r.rec);
}

async function logout(u, s) {
  if (!s || s.closed) return;
  const r = await act("logout", { path: "/logout", json: { refresh_token: s.tokens.at(-1) }, email: u.email, userId: u.userId, meta: { family: s.family, presented: s.tokens.at(-1) } });
  s.closed = true;
  write(r.rec);
}

function newImage(rnd) {
  const bytes = png(rnd, 8 + rnd.int(24), 8 + rnd.int(24));
  return { bytes, sha: sha256hex(bytes) };
}

async function upload(u) {
  const img = newImage(u.rnd);
  const boundary = `chaos${u.rnd.hex(16)}`;
  const body = multipart([{ name: "image", filename: "p.png", type: "image/png", value: img.bytes }], boundary);
  const r = await act("upload", { path: "/upload_profile_pic", body, headers: { ...bearer(u), "content-type": `multipart/form-data; boundary=${boundary}` },
    email: u.email, userId: u.userId, meta: { image: img.sha, image_b64: img.bytes.toString("base64") } });
  if (r.outcome === "ok") r.rec.profile_image = r.answer.user?.profile_image;
  write(r.rec);
}

async function directUpload(u) {
  const img = newImage(u.rnd);
  const ask = await act("upload_url", { path: "/profile_pic/upload_url", headers: bearer(u), email: u.email, userId: u.userId });
  write(ask.rec);
  if (ask.outcome !== "ok") return;
  const form = ask.answer.upload;
  const boundary = `chaos${u.rnd.hex(16)}`;
  const parts = Object.entries(form.fields).map(([name, value]) => ({ name, value: String(value) }));
  parts.push({ name: "Content-Type", value: "image/png" });
  parts.push({ name: "file", filename: "p.png", type: "application/octet-stream", value: img.bytes });
  // Straight to storage (S3, or the local /files/upload): a stalled form is given up after 3 s.
  const posted = await act("upload_form", { url: form.url, body: multipart(parts, boundary), idempotent: false, timeout: Math.min(3000, o.timeoutMs),
    headers: { "content-type": `multipart/form-data; boundary=${boundary}` }, email: u.email, userId: u.userId,
    meta: { upload_key: form.key, image: img.sha } });
  write(posted.rec);
  if (posted.outcome !== "ok") return;
  const r = await act("confirm", { path: "/profile_pic/confirm", json: { key: form.key }, headers: bearer(u), email: u.email, userId: u.userId,
    meta: { upload_key: form.key, image: img.sha, image_b64: img.bytes.toString("base64") } });
  if (r.outcome === "ok") r.rec.profile_image = r.answer.user?.profile_image;
  write(r.rec);
}

async function rename(u) {
  const name = `Chaos ${u.rnd.hex(6)} Renamed`;
  const r = await act("rename", { method: "PATCH", path: "/users/me", json: { name }, headers: bearer(u), email: u.email, userId: u.userId, meta: { name } });
  write(r.rec);
}

async function mails(u) {
  if (u.rnd() < 0.5) write((await act("verify_request", { path: "/email/verify/request", headers: bearer(u), email: u.email, userId: u.userId })).rec);
  if (u.rnd() < 0.3) write((await act("forgot", { path: "/password/forgot", json: { email: u.email }, email: u.email, userId: u.userId })).rec);
}

async function changePassword(u) {
  if (u.passwordUncertain) return;
  const next = `pw-${u.rnd.hex(20)}`;
  const r = await act("password_change", { path: "/password/change", json: { current_password: u.password, new_password: next }, headers: bearer(u),
    email: u.email, userId: u.userId, meta: { old_password: u.password, new_password: next } });
  if (r.outcome === "ok") {
    const s = { family: ++familyNo, tokens: [r.answer.refresh_token], access: r.answer.token, uncertain: false };
    r.rec.family = s.family;
    r.rec.refresh_token = r.answer.refresh_token;
    for (const other of u.sessions) other.closed = true;  // every other session is revoked
    u.sessions.push(s);
    u.access = s.access;
    u.password = next;
    write(r.rec);
    return;
  }
  write(r.rec);
  if (r.outcome !== "unknown" && !(r.outcome === "refused" && r.rec.ambiguous)) return;
  // What a client does next: find out which password holds by logging in.
  for (const candidate of [next, u.password]) {
    const { s, r: l } = await login(u, candidate, true);
    if (s) {
      for (const other of u.sessions) if (other !== s) other.closed = true;
      u.password = candidate;
      return;
    }
    if (l.outcome === "unknown") break;
  }
  u.passwordUncertain = true;
}

async function deleteAccount(u) {
  if (u.passwordUncertain) return;
  const r = await act("delete", { method: "DELETE", path: "/users/me", json: { password: u.password }, headers: bearer(u), email: u.email, userId: u.userId });
  write(r.rec);
}

async function script(u) {
  const first = (await login(u)).s;
  if (!first) return;
  await upload(u);
  await refresh(u, first);
  const rnd = u.rnd;
  if (rnd() < 0.5) await refresh(u, first);
  await rename(u);
  await directUpload(u);
  await mails(u);
  const second = (await login(u)).s;
  await refresh(u, second);
  if (rnd() < 0.5) await changePassword(u);
  if (rnd() < 0.5) await upload(u); else await directUpload(u);
  await rename(u);
  const latest = u.sessions.filter((s) => !s.closed).at(-1);
  await refresh(u, latest);
  if (rnd() < 0.3) await logout(u, u.sessions.filter((s) => !s.closed)[0]);
  if (rnd() < 0.2) await deleteAccount(u);
}

// ---- rounds -----------------------------------------------------------------

function spell(email) {
  // Some sign-ups send the address with capitals and spaces: stored trimmed, lower-cased.
  return rnd() < 0.2 ? `  ${email.replace(/^c/, "C").replace("example", "Example")} ` : email;
}

async function round(r) {
  const signups = [];
  for (let i = 0; i < o.emails; i++) {
    const email = `chaos-${o.seed}-r${r}-${i}@example.com`;
    for (let k = 0; k < o.signupsPerEmail; k++)
      signups.push({ email, sent: spell(email), name: `Chaos ${r}.${i}.${k}`, password: `pw-${rnd.hex(20)}`, scriptSeed: rnd.int(2 ** 32) });
  }
  // Shuffled, so the racers of one e-mail do not start in order.
  for (let i = signups.length - 1; i > 0; i--) { const j = rnd.int(i + 1); [signups[i], signups[j]] = [signups[j], signups[i]]; }
  const accounts = [];
  await bounded(o.concurrency, signups.map((s) => async () => {
    const res = await act("signup", { path: "/signup", json: { name: s.name, email: s.sent, password: s.password }, email: s.email,
      meta: { name: s.name, password: s.password, sent_email: s.sent } });
    if (res.outcome === "ok") {
      res.rec.userId = res.answer.user?.userId;
      accounts.push({ email: s.email, userId: res.rec.userId, password: s.password, sessions: [], rnd: prng(s.scriptSeed) });
    }
    write(res.rec);
  }));
  accounts.sort((a, b) => a.email.localeCompare(b.email));
  await bounded(o.concurrency, accounts.map((u) => () => script(u)));
}

let rounds = 0;
do {
  await round(rounds++);
} while (Date.now() - started < o.seconds * 1000);
const summary = { seed: o.seed, rounds, actions: actionNo, ms: Date.now() - started, counts };
write({ summary });
fs.closeSync(out);
client.close();
process.stdout.write(`load: ${JSON.stringify(summary)}\n`);
