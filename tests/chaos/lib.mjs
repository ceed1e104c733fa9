// What the chaos run's load (load.mjs) and checker (check.mjs) share: a
// seeded PRNG, a small HTTP client that tells a transport failure from an
// answer, multipart bodies, and unique, valid PNG images. Nothing here
// comes from Gatehouse's code.
import http from "node:http";
import crypto from "node:crypto";
import zlib from "node:zlib";

// mulberry32 (the same as tests/peers/chaos-proxy.mjs).
export function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = (n) => Math.floor(next() * n);
  next.hex = (n) => Array.from({ length: n }, () => "0123456789abcdef"[Math.floor(next() * 16)]).join("");
  next.pick = (list) => list[Math.floor(next() * list.length)];
  return next;
}

export function parseArgs(argv, defaults) {
  const o = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) throw new Error(`unexpected argument ${a}`);
    const name = a.slice(2).replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(name in defaults)) throw new Error(`unknown option ${a}`);
    if (typeof defaults[name] === "boolean") o[name] = true;
    else {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      o[name] = typeof defaults[name] === "number" ? Number(v) : v;
    }
  }
  return o;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const sha256hex = (data) => crypto.createHash("sha256").update(data).digest("hex");

// One HTTP exchange. Resolves {status, headers, body: Buffer} for any
// answer, or {status: 0, error} when the connection failed, was reset,
// closed early, or the answer did not come within timeoutMs: the client
// cannot know whether the request took effect.
export function makeClient({ maxSockets = 32, timeoutMs = 30000 } = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  const request = (url, { method = "GET", headers = {}, body, timeout = timeoutMs } = {}) =>
    new Promise((resolve) => {
      const u = new URL(url);
      let done = false;
      const finish = (r) => { if (!done) { done = true; resolve(r); } };
      const h = { ...headers };
      if (body !== undefined) h["content-length"] = Buffer.byteLength(body);
      const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers: h, agent },
        (res) => {
          const parts = [];
          res.on("data", (d) => parts.push(d));
          res.on("end", () => {
            if (!res.complete) return finish({ status: 0, error: "truncated answer" });
            finish({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts) });
          });
          res.on("aborted", () => finish({ status: 0, error: "answer aborted" }));
          res.on("error", (e) => finish({ status: 0, error: `answer: ${e.code || e.message}` }));
        });
      req.setTimeout(timeout, () => { req.destroy(new Error("timeout")); });
      req.on("error", (e) => finish({ status: 0, error: e.code || e.message }));
      if (body !== undefined) req.write(body);
      req.end();
    });
  return { request, close: () => agent.destroy() };
}

export function jsonOf(res) {
  try { return JSON.parse(res.body.toString("utf8")); } catch { return undefined; }
}
export const errorCode = (res) => jsonOf(res)?.error?.code;

export function multipart(parts, boundary) {
  const chunks = [];
  for (const p of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"`;
    if (p.filename) head += `; filename="${p.filename}"`;
    head += "\r\n";
    if (p.type) head += `Content-Type: ${p.type}\r\n`;
    chunks.push(Buffer.from(head + "\r\n"), Buffer.isBuffer(p.value) ? p.value : Buffer.from(p.value), Buffer.from("\r\n"));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

// A valid w x h RGB PNG whose pixels come from `random`: every call a new image.
const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function pngChunk(type, data) {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
export function png(random, w = 16, h = 16) {
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    raw[y * (w * 3 + 1)] = 0;
    for (let x = 0; x < w * 3; x++) raw[y * (w * 3 + 1) + 1 + x] = random.int(256);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; ihdr[9] = 2; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", ihdr), pngChunk("IDAT", zlib.deflateSync(raw)), pngChunk("IEND", Buffer.alloc(0))]);
}
