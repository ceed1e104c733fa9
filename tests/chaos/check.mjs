#!/usr/bin/env node
// The chaos run's checker: compares every answer load.mjs recorded with
// what the store holds afterwards, with the faults switched off. It shares
// no code with Gatehouse: it reads the store itself (the sqlite3 shell on
// DATA_DIR/gatehouse.db and the objects directory; or DynamoDB and S3 through
// the AWS SDK for JavaScript against dynalite's and s3rver's own ports,
// bypassing every proxy), checks password hashes with bcryptjs, and uses the
// HTTP API only as any client would.
//
//   node check.mjs --record record.jsonl --base http://127.0.0.1:PORT
//        --backend embedded --data-dir DIR
//   node check.mjs ... --backend aws --dynamodb http://127.0.0.1:RAW --s3 http://127.0.0.1:RAW
//        --table USERS_TABLE --bucket BUCKET --access-key AK --secret-key SK --region R
//   [--strict auto|yes|no]
//
// Invariants (each violation is printed as "VIOLATION <what>: <detail>"):
//   answers   no 500 or other unexpected status; a final refusal only where
//             the route documents one (409 email_taken at sign-up, 401 for
//             the load's own probing logins); with Idempotency-Key honoured,
//             a retry never gets an answer other than the first one's
//   accounts  at most one account per e-mail, at most one 201 per e-mail; an
//             acknowledged sign-up's account exists (unless its deletion was
//             acknowledged or unknown) with its userId, e-mail and password;
//             an account nobody got a 201 for belongs to a sign-up whose last
//             answer was a 503 or none, and (strict) its retry with the same
//             Idempotency-Key converges: 201 with the stored userId; a
//             refused sign-up never took effect; an acknowledged deletion left
//             no account and no login
//   password  the stored hash matches exactly the password the acknowledged
//             answers imply (or one of those an unknown change may have set);
//             the same by logging in: that password works, the others do not
//   name      the stored name is the last acknowledged rename's (or a later
//             unknown one's)
//   images    the stored profile image is the last acknowledged upload's (or
//             a later unknown one's), and GET /users/me's profile_image URL
//             serves exactly its bytes
//   sessions  every acknowledged rotation left its token used in the store;
//             no family holds two unused tokens the client was given; a family
//             the answers say is live refreshes once more; one whose logout,
//             password change or account deletion was acknowledged does not
// Exit status 0 when nothing was violated, 1 otherwise, 2 on a usage error.
import fs from "node:fs";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { parseArgs, makeClient, jsonOf, errorCode, sha256hex } from "./lib.mjs";

const require = createRequire(new URL("../peers/", import.meta.url));
const bcrypt = require("bcryptjs");

const o = parseArgs(process.argv.slice(2), {
  record: "", base: "", backend: "embedded", dataDir: "", dynamodb: "", s3: "", table: "", bucket: "",
  accessKey: "", secretKey: "", region: "us-east-1", strict: "auto",
});
if (!o.record || !o.base) { console.error("check: --record and --base are required"); process.exit(2); }

const violations = [];
const notes = [];
const violation = (what, detail) => { violations.push(`${what}: ${detail}`); console.log(`VIOLATION ${what}: ${detail}`); };
const note = (what) => { notes.push(what); };

const lines = fs.readFileSync(o.record, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
const summary = lines.find((l) => l.summary)?.summary;
const actions = lines.filter((l) => !l.summary).sort((a, b) => a.n - b.n);
const client = makeClient({ maxSockets: 16, timeoutMs: 30000 });
const rq = (path, opts) => client.request(path.startsWith("http") ? path : o.base + path, opts);
const post = (path, json, headers = {}) =>
  rq(path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: Buffer.from(JSON.stringify(json)) });
const brief = (a) => `#${a.n} ${a.kind} ${a.email}${a.userId ? ` (${a.userId})` : ""} key=${a.key} attempts=${JSON.stringify(a.attempts)}`;

// ---- 1. the answers themselves ----------------------------------------------

// Does the server honour Idempotency-Key? One probe with faults off: the same
// sign-up twice under one key.
async function probeIdempotency() {
  const email = `chaos-probe-${Date.now()}@example.com`;
  const body = { name: "Probe", email, password: "probe-password-1" };
  const key = `chaos-probe-${Date.now()}`;
  const first = await post("/signup", body, { "idempotency-key": key });
  const again = await post("/signup", body, { "idempotency-key": key });
  if (first.status !== 201) throw new Error(`the idempotency probe's sign-up answered ${first.status} ${first.body}`);
  const honoured = again.status === 201 && jsonOf(again)?.user?.userId === jsonOf(first)?.user?.userId;
  // Clean up the probe account, so doctor and the checks see only the load's.
  const login = jsonOf(await post("/login", { email, password: body.password }));
  if (login?.token)
    await rq("/users/me", { method: "DELETE", headers: { "content-type": "application/json", authorization: `Bearer ${login.token}` },
      body: Buffer.from(JSON.stringify({ password: body.password })) });
  return honoured;
}

const honoured = await probeIdempotency();
const strict = o.strict === "yes" || (o.strict === "auto" && honoured);
console.log(`check: Idempotency-Key ${honoured ? "honoured" : "NOT honoured"} by the server; convergence checks ${strict ? "strict" : "lenient (reported, not failed)"}`);

const retryableAttempt = (a) => a.status === 0 || a.status === 503 || a.status === 429 || (a.status === 409 && a.code === "request_in_progress");
// An action whose effect the client cannot know: no final answer, or (without
// Idempotency-Key) a refusal after an attempt without one.
const uncertain = (a) => a.outcome === "unknown" || (a.outcome === "refused" && a.ambiguous && !strict);

const allowedRefusal = {
  signup: (a) => a.status === 409 && a.code === "email_taken",
  login: (a) => a.status === 401 && a.code === "invalid_credentials" && a.probing,
};
for (const a of actions) {
  for (const t of a.attempts)
    if (t.status >= 500 && t.status !== 503) violation("answers", `${t.status} ${t.code ?? ""} from ${a.method} ${a.path}: ${brief(a)}`);
  if (a.outcome === "refused" && a.status < 500) {
    if (allowedRefusal[a.kind]?.(a)) continue;
    if (a.ambiguous && !strict) { note(`${a.kind} refused ${a.status} ${a.code} after an unanswered attempt (no Idempotency-Key)`); continue; }
    violation("answers", `final ${a.status} ${a.code ?? ""} from ${a.method} ${a.path}: ${brief(a)}`);
  }
}

// ---- 2. the model: what the answers imply ------------------------------------

const byEmail = new Map();
for (const a of actions) {
  if (!byEmail.has(a.email)) byEmail.set(a.email, { email: a.email, signups: [], actions: [] });
  const e = byEmail.get(a.email);
  (a.kind === "signup" ? e.signups : e.actions).push(a);
}

function expectations(e) {
  const acked = e.signups.filter((s) => s.outcome === "ok");
  const m = { acked: acked[0], userId: acked[0]?.userId, exists: acked.length ? "yes" : "maybe" };
  if (!m.acked) return m;
  m.passwords = new Set([m.acked.password]);
  m.names = new Set([m.acked.name]);
  m.images = new Set([null]);
  m.families = new Map();  // family -> {tokens, rotations: [[presented, successor]], state: live|revoked|maybe, uncertain}
  const families = m.families;
  const reviveAll = (state) => { for (const f of families.values()) if (f.state !== "revoked") f.state = state; };
  for (const a of e.actions) {
    const ok = a.outcome === "ok", unk = uncertain(a);
    switch (a.kind) {
      case "login":
        if (ok) { m.passwords = new Set([a.password]); families.set(a.family, { tokens: [a.refresh_token], rotations: [], state: "live" }); }
        else if (a.outcome === "refused" && a.status === 401) m.passwords.delete(a.password);
        break;
      case "password_change":
        if (ok) {
          reviveAll("revoked");
          m.passwords = new Set([a.new_password]);
          families.set(a.family, { tokens: [a.refresh_token], rotations: [], state: "live" });
        } else if (unk) { m.passwords.add(a.new_password); reviveAll("maybe"); }
        break;
      case "refresh": {
        const f = families.get(a.family);
        if (!f) break;
        if (ok) { f.rotations.push([a.presented, a.successor]); f.tokens.push(a.successor); }
        else f.uncertain = true;
        break;
      }
      case "logout": {
        const f = families.get(a.family);
        if (f && f.state !== "revoked") f.state = ok ? "revoked" : "maybe";
        break;
      }
      case "rename":
        if (ok) m.names = new Set([a.name]); else if (unk) m.names.add(a.name);
        break;
      case "upload": case "confirm":
        if (ok) m.images = new Set([a.image]); else if (unk) m.images.add(a.image);
        break;
      case "delete":
        if (ok) { m.exists = "no"; reviveAll("revoked"); } else if (unk) { m.exists = "maybe-deleted"; reviveAll("maybe"); }
        break;
    }
  }
  if (m.passwords.size === 0) violation("password", `${e.email}: every password the answers allow was refused by a login`);
  return m;
}

// ---- 3. the store, read directly ----------------------------------------------

async function readStore() {
  if (o.backend === "embedded") {
    const db = `${o.dataDir}/gatehouse.db`;
    const q = (sql) => { const t = execFileSync("sqlite3", ["-readonly", "-json", db, sql], { encoding: "utf8", maxBuffer: 1 << 30 }).trim(); return t ? JSON.parse(t) : []; };
    const users = q("SELECT user_id, email, name, password_hash, profile_image_key FROM users")
      .map((r) => ({ userId: r.user_id, email: r.email, name: r.name, hash: r.password_hash, imageKey: r.profile_image_key }));
    const tokens = new Map(q("SELECT token_hash, family_id, used_at FROM refresh_tokens").map((r) => [r.token_hash, { family: r.family_id, used: r.used_at !== null }]));
    const families = new Map(q("SELECT family_id, revoked_at FROM token_families").map((r) => [r.family_id, { revoked: r.revoked_at !== null }]));
    const object = async (key) => { try { return fs.readFileSync(`${o.dataDir}/objects/${key}`); } catch { return null; } };
    return { users, tokens, families, object, claims: null };
  }
  const { DynamoDBClient, ScanCommand } = require("@aws-sdk/client-dynamodb");
  const { S3Client, GetObjectCommand } = require("@aws-sdk/client-s3");
  const credentials = { accessKeyId: o.accessKey, secretAccessKey: o.secretKey };
  const ddb = new DynamoDBClient({ endpoint: o.dynamodb, region: o.region, credentials, maxAttempts: 3 });
  const s3 = new S3Client({ endpoint: o.s3, region: o.region, credentials, forcePathStyle: true, maxAttempts: 3 });
  const plain = (v) => v === undefined ? undefined : "S" in v ? v.S : "N" in v ? Number(v.N) : "BOOL" in v ? v.BOOL : "NULL" in v ? null : v;
  const scan = async (table) => {
    const items = [];
    let start;
    do {
      const r = await ddb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }));
      for (const it of r.Items ?? []) items.push(Object.fromEntries(Object.entries(it).map(([k, v]) => [k, plain(v)])));
      start = r.LastEvaluatedKey;
    } while (start);
    return items;
  };
  const users = (await scan(o.table)).map((r) => ({ userId: r.userId, email: r.email, name: r.name, hash: r.password, imageKey: r.profile_image ?? null }));
  const claims = await scan(`${o.table}-emails`);
  const tokens = new Map(), families = new Map();
  for (const it of await scan(`${o.table}-tokens`)) {
    if (it.id.startsWith("token#")) tokens.set(it.id.slice(6), { family: it.familyId, used: it.usedAt !== undefined });
    else if (it.id.startsWith("family#")) families.set(it.familyId, { revoked: it.revokedAt !== undefined });
  }
  const object = async (key) => {
    try {
      const r = await s3.send(new GetObjectCommand({ Bucket: o.bucket, Key: key }));
      return Buffer.from(await r.Body.transformToByteArray());
    } catch (err) {
      if (err.name === "NoSuchKey" || err.$metadata?.httpStatusCode === 404) return null;
      throw err;
    }
  };
  return { users, tokens, families, object, claims };
}

const store = await readStore();
const usersByEmail = new Map();
for (const u of store.users) {
  if (!usersByEmail.has(u.email)) usersByEmail.set(u.email, []);
  usersByEmail.get(u.email).push(u);
}
for (const [email, list] of usersByEmail)
  if (list.length > 1) violation("accounts", `${list.length} accounts for ${email}: ${list.map((u) => u.userId).join(", ")}`);
if (store.claims) {
  // DynamoDB: every claim of the load's e-mails names a user holding that e-mail.
  for (const c of store.claims) {
    if (!byEmail.has(c.email)) continue;
    const holder = store.users.find((u) => u.userId === c.userId);
    if (!holder) note(`claim of ${c.email} names no user (left to doctor --repair)`);
    else if (holder.email !== c.email) violation("accounts", `the claim of ${c.email} names ${c.userId}, whose e-mail is ${holder.email}`);
  }
}

const passwordMatches = (hash, pw) => { try { return bcrypt.compareSync(pw, hash); } catch { return false; } };
const stats = { emails: byEmail.size, accounts_expected: 0, accounts_unacknowledged: 0, converged: 0, unconverged: 0,
  logins_checked: 0, images_checked: 0, families_checked: 0, rotations_checked: 0 };
const checked = [];  // accounts to check over HTTP

for (const e of byEmail.values()) {
  const m = expectations(e);
  const stored = usersByEmail.get(e.email) ?? [];
  const okSignups = e.signups.filter((s) => s.outcome === "ok");
  if (okSignups.length > 1) violation("accounts", `${okSignups.length} sign-ups of ${e.email} got 201: ${okSignups.map(brief).join(" | ")}`);
  for (const s of okSignups) if (!s.userId) violation("answers", `201 without a userId: ${brief(s)}`);

  if (m.acked) {
    stats.accounts_expected++;
    const u = store.users.find((x) => x.userId === m.userId);
    if (m.exists === "no") {
      if (u || stored.length) violation("accounts", `${e.email}: the deletion was acknowledged (204) but ${stored.map((x) => x.userId).join(", ") || m.userId} is stored`);
      checked.push({ e, m, u: null });
      continue;
    }
    if (!u) {
      if (m.exists === "maybe-deleted") { checked.push({ e, m, u: null }); continue; }
      violation("accounts", `acknowledged sign-up missing from the store: ${brief(m.acked)}`);
      continue;
    }
    if (u.email !== e.email) violation("accounts", `${m.userId} is stored with e-mail ${u.email}, signed up as ${e.email}`);
    const matching = [...m.passwords].filter((p) => passwordMatches(u.hash, p));
    if (matching.length !== 1)
      violation("password", `${e.email}: the stored hash matches ${matching.length} of the ${m.passwords.size} passwords the answers allow`);
    else m.passwords = new Set(matching);
    if (!m.names.has(u.name)) violation("name", `${e.email}: stored name "${u.name}", the answers allow ${JSON.stringify([...m.names])}`);
    let imageSha = null;
    if (u.imageKey) {
      const bytes = await store.object(u.imageKey);
      if (!bytes) violation("images", `${e.email}: profile_image ${u.imageKey} names a missing object`);
      else imageSha = sha256hex(bytes);
    }
    if (!m.images.has(imageSha))
      violation("images", `${e.email}: stored image ${imageSha ?? "none"} (${u.imageKey}), the answers allow ${JSON.stringify([...m.images])}`);
    stats.images_checked++;
    m.imageSha = imageSha;
    // Sessions, in the store.
    for (const [id, f] of m.families) {
      for (const [presented] of f.rotations) {
        stats.rotations_checked++;
        const t = store.tokens.get(sha256hex(presented));
        if (t && !t.used) violation("sessions", `${e.email} family ${id}: a token whose rotation was acknowledged is unused in the store`);
      }
      const known = f.tokens.map((t) => store.tokens.get(sha256hex(t))).filter(Boolean);
      const storeFamily = known[0] ? store.families.get(known[0].family) : undefined;
      const live = known.filter((t) => !t.used);
      if (storeFamily && !storeFamily.revoked && live.length > 1)
        violation("sessions", `${e.email} family ${id}: ${live.length} tokens the client holds are unused (two live successors)`);
      if (f.state === "revoked" && storeFamily && !storeFamily.revoked && live.length)
        note(`${e.email} family ${id}: revoked by the answers, not marked revoked in the store (checked over HTTP)`);
    }
    checked.push({ e, m, u });
  } else {
    // Nobody got a 201: any stored account must come from an attempt without a final answer.
    for (const u of stored) {
      stats.accounts_unacknowledged++;
      const owner = e.signups.find((s) => passwordMatches(u.hash, s.password));
      if (!owner) { violation("accounts", `${e.email}: stored account ${u.userId} matches no sign-up's password`); continue; }
      if (!uncertain(owner) && owner.outcome !== "unknown")
        violation("accounts", `${e.email}: a sign-up refused with ${owner.status} ${owner.code} took effect (${u.userId}): ${brief(owner)}`);
      owner.storedUserId = u.userId;
    }
  }
}

// ---- 4. over HTTP, as a client -------------------------------------------------

async function login(email, password) {
  const r = await post("/login", { email, password });
  return { status: r.status, code: errorCode(r), body: jsonOf(r) };
}

for (const { e, m, u } of checked) {
  if (!u) {
    // Deleted (acknowledged) or maybe deleted and gone: no password logs in.
    for (const p of m.passwords) {
      const l = await login(e.email, p);
      stats.logins_checked++;
      if (l.status !== 401) violation("accounts", `${e.email}: deleted, yet a login answers ${l.status}`);
    }
    for (const [id, f] of m.families) {
      const r = await post("/token/refresh", { refresh_token: f.tokens.at(-1) });
      stats.families_checked++;
      if (r.status !== 401) violation("sessions", `${e.email} family ${id}: the account is gone, yet its refresh answers ${r.status}`);
    }
    continue;
  }
  // Sessions first (the checker's own logins add sessions of their own).
  for (const [id, f] of m.families) {
    if (f.state === "maybe" || f.uncertain) continue;
    const r = await post("/token/refresh", { refresh_token: f.tokens.at(-1) });
    stats.families_checked++;
    if (f.state === "live" && r.status !== 200)
      violation("sessions", `${e.email} family ${id}: live by the answers, its newest token answers ${r.status} ${errorCode(r) ?? ""}`);
    if (f.state === "revoked" && r.status !== 401)
      violation("sessions", `${e.email} family ${id}: revoked by an acknowledged answer, its newest token answers ${r.status}`);
  }
  let token;
  for (const p of m.passwords) {
    const l = await login(e.email, p);
    stats.logins_checked++;
    if (l.status !== 200) violation("password", `${e.email}: the password the store and answers agree on answers ${l.status} ${l.code ?? ""}`);
    else token = l.body.token;
  }
  for (const p of [m.acked.password, ...e.actions.filter((a) => a.kind === "password_change").map((a) => a.new_password)]) {
    if (m.passwords.has(p)) continue;
    const l = await login(e.email, p);
    stats.logins_checked++;
    if (l.status !== 401) violation("password", `${e.email}: an old or never-set password answers ${l.status}`);
  }
  if (!token) continue;
  const me = jsonOf(await rq("/users/me", { headers: { authorization: `Bearer ${token}` } }))?.user;
  if (!me) { violation("accounts", `${e.email}: GET /users/me failed`); continue; }
  if (me.userId !== m.userId) violation("accounts", `${e.email}: /users/me says ${me.userId}, the 201 said ${m.userId}`);
  if (me.name !== u.name) violation("name", `${e.email}: /users/me's name "${me.name}" is not the stored "${u.name}"`);
  if (!me.profile_image !== !m.imageSha) violation("images", `${e.email}: profile_image ${me.profile_image} against the stored ${m.imageSha}`);
  if (me.profile_image) {
    const r = await rq(me.profile_image);
    if (r.status !== 200 || sha256hex(r.body) !== m.imageSha)
      violation("images", `${e.email}: ${me.profile_image} serves ${r.status} ${r.status === 200 ? sha256hex(r.body) : ""}, stored ${m.imageSha}`);
  }
}

// ---- 5. convergence: unanswered sign-ups retried with their own key ------------------

const createdByRetry = new Set();
for (const e of byEmail.values()) {
  for (const s of e.signups) {
    if (!(s.outcome === "unknown" || (s.outcome === "refused" && s.ambiguous))) continue;
    const r = await post("/signup", { name: s.name, email: s.sent_email, password: s.password }, { "idempotency-key": s.key });
    const answer = jsonOf(r);
    const stored = s.storedUserId;
    let converged;
    if (stored) converged = r.status === 201 && answer?.user?.userId === stored;
    else converged = (r.status === 409 && errorCode(r) === "email_taken") || r.status === 201;
    if (r.status === 201 && !stored) {
      // It created an account only now: then no other account may hold the
      // e-mail (one whose deletion was acknowledged, or may have happened, does not).
      const other = (usersByEmail.get(e.email) ?? []).length || createdByRetry.has(e.email);
      if (other) violation("accounts", `${e.email}: a retried sign-up got 201 although the e-mail is taken: ${brief(s)}`);
      createdByRetry.add(e.email);
    }
    if (converged) stats.converged++;
    else {
      stats.unconverged++;
      const detail = `${e.email}: retry of ${brief(s)} answers ${r.status} ${errorCode(r) ?? ""}${stored ? `; its account ${stored} is stored` : ""}`;
      if (strict) violation("convergence", detail); else note(`unconverged sign-up (no Idempotency-Key) ${detail}`);
    }
  }
}

client.close();
const byKind = {};
for (const n of notes) { const k = n.replace(/[:(].*/, "").trim(); byKind[k] = (byKind[k] ?? 0) + 1; }
console.log(`check: ${actions.length} actions (${JSON.stringify(summary?.counts ?? {})})`);
console.log(`check: ${JSON.stringify({ ...stats, idempotency_honoured: honoured, strict })}`);
if (Object.keys(byKind).length) console.log(`check: notes ${JSON.stringify(byKind)}`);
for (const n of notes.slice(0, 20)) console.log(`note: ${n}`);
console.log(violations.length ? `check: FAILED, ${violations.length} violation(s)` : "check: passed");
process.exit(violations.length ? 1 : 0);
