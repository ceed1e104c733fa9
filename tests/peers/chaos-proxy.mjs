#!/usr/bin/env node
// A fault-injecting TCP proxy for the chaos run (tests/chaos): it forwards
// bytes between a client and 127.0.0.1:<target-port> and, for each chunk
// the client sends (one 'data' event: a request or a piece of one), draws
// from a seeded PRNG whether to pass it or to
//   reset     reset both connections before the chunk is forwarded;
//   lose      forward the chunk, then reset the client's connection instead
//             of passing the answer on (the peer acted; the client cannot know);
//   truncate  forward the chunk, pass a random prefix of the answer's first
//             piece, then close (a short read);
//   stall     stop forwarding (before the chunk, or, half the time, after it
//             with the answer withheld) and hold the connection until the
//             client gives up and closes it;
//   delay     hold the chunk 1..--delay-ms ms, then forward it (in order).
// It knows nothing about HTTP, so it works in front of Gatehouse, of the
// SigV4 proxies (dynalite, s3rver) or of anything else.
//
//   node chaos-proxy.mjs --target-port T [--listen-port 0] [--seed N]
//        [--reset P] [--lose P] [--truncate P] [--stall P] [--delay P]
//        [--delay-ms MS] [--name NAME] [--off]
//
// P are probabilities per chunk (0..1, their sum at most 1). Binds
// 127.0.0.1 only and prints "READY <port> ADMIN <admin-port>"; the admin
// port (HTTP, also 127.0.0.1) answers
//   GET  /stats            {"chunks", "connections", "faults": {kind: n}, "enabled"}
//   POST /faults/off       pass everything from now on (connections already
//                          stalled stay stalled until their client closes)
//   POST /faults/on        draw faults again
// Each fault is logged as one line on stdout: "FAULT <n> <kind> conn=<c>
// chunk=<k> bytes=<len>", so a run's fault schedule is in the log; the same
// seed gives the same sequence of draws (which chunk meets which depends on
// the timing of the run, as chunks of concurrent connections interleave).
// It exits when its stdin, if a pipe, closes (tests/support/node_peer.hpp)
// or on SIGTERM.
import net from "node:net";
import http from "node:http";
import fs from "node:fs";

function usage(message) {
  process.stderr.write(`chaos-proxy: ${message}\n` +
    "usage: node chaos-proxy.mjs --target-port T [--listen-port P] [--seed N] [--reset P] [--lose P] " +
    "[--truncate P] [--stall P] [--delay P] [--delay-ms MS] [--name NAME] [--off]\n");
  process.exit(2);
}

function parseArgs(argv) {
  const o = { listenPort: 0, seed: 1, reset: 0, lose: 0, truncate: 0, stall: 0, delay: 0, delayMs: 200, name: "chaos", off: false };
  const numeric = {
    "--listen-port": "listenPort", "--target-port": "targetPort", "--seed": "seed", "--reset": "reset",
    "--lose": "lose", "--truncate": "truncate", "--stall": "stall", "--delay": "delay", "--delay-ms": "delayMs",
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--off") o.off = true;
    else if (a === "--name") o.name = argv[++i] ?? usage("--name needs a value");
    else if (a in numeric) {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < 0) usage(`bad value for ${a}`);
      o[numeric[a]] = v;
    } else usage(`unknown argument ${a}`);
  }
  if (o.targetPort === undefined) usage("missing --target-port");
  for (const k of ["reset", "lose", "truncate", "stall", "delay"]) if (o[k] > 1) usage(`--${k} is a probability`);
  if (o.reset + o.lose + o.truncate + o.stall + o.delay > 1) usage("the fault probabilities add up to more than 1");
  return o;
}

const opts = parseArgs(process.argv.slice(2));

// mulberry32: small, seeded, the same sequence on every platform.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(opts.seed);

let enabled = !opts.off;
let chunks = 0;
let connections = 0;
let faultNo = 0;
const faults = { reset: 0, lose: 0, truncate: 0, stall: 0, delay: 0 };

function draw() {
  const r = random();
  let edge = 0;
  for (const kind of ["reset", "lose", "truncate", "stall", "delay"]) {
    edge += opts[kind];
    if (r < edge) return kind;
  }
  return "pass";
}

function hardClose(sock) {
  if (sock.destroyed) return;
  if (typeof sock.resetAndDestroy === "function") sock.resetAndDestroy();
  else sock.destroy();
}

const server = net.createServer((client) => {
  const conn = ++connections;
  let chunkInConn = 0;
  const upstream = net.connect({ host: "127.0.0.1", port: opts.targetPort });
  // What happens to the next piece of the answer: "pass", "lose", "truncate", "hold".
  let answerMode = "pass";
  let stalled = false;
  let queue = Promise.resolve();  // keeps delayed chunks in order

  client.setNoDelay(true);
  upstream.setNoDelay(true);
  const closeBoth = () => { hardClose(client); hardClose(upstream); };
  client.on("error", () => hardClose(upstream));
  upstream.on("error", () => hardClose(client));
  client.on("close", () => { if (!upstream.destroyed) upstream.destroy(); });
  upstream.on("close", () => { if (!client.destroyed && !stalled) client.end(); });
  client.on("end", () => { if (!stalled) upstream.end(); else upstream.destroy(); });

  upstream.on("data", (data) => {
    if (stalled || answerMode === "hold") return;
    if (answerMode === "lose") { answerMode = "pass"; closeBoth(); return; }
    if (answerMode === "truncate") {
      answerMode = "pass";
      const keep = Math.floor(random() * data.length);
      client.write(data.subarray(0, keep), () => closeBoth());
      return;
    }
    client.write(data);
  });

  const record = (kind, data) => {
    faults[kind]++;
    process.stdout.write(`FAULT ${++faultNo} ${kind} conn=${conn} chunk=${chunkInConn} bytes=${data.length}\n`);
  };

  client.on("data", (data) => {
    if (stalled) return;
    chunks++;
    chunkInConn++;
    const kind = enabled ? draw() : "pass";
    if (kind !== "pass") record(kind, data);
    queue = queue.then(async () => {
      if (stalled || client.destroyed) return;
      switch (kind) {
        case "reset": closeBoth(); return;
        case "stall":
          stalled = true;
          if (random() < 0.5) { upstream.write(data); answerMode = "hold"; }
          return;  // the client's close (its timeout) ends it
        case "delay":
          await new Promise((r) => setTimeout(r, 1 + Math.floor(random() * opts.delayMs)));
          break;
        case "lose": answerMode = "lose"; break;
        case "truncate": answerMode = "truncate"; break;
      }
      if (!upstream.destroyed) upstream.write(data);
    });
  });
});

const admin = http.createServer((req, res) => {
  const answer = (status, body) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  if (req.method === "GET" && req.url === "/stats")
    return answer(200, { name: opts.name, enabled, chunks, connections, faults });
  if (req.method === "POST" && (req.url === "/faults/off" || req.url === "/faults/on")) {
    enabled = req.url === "/faults/on";
    process.stdout.write(`FAULTS ${enabled ? "ON" : "OFF"} after ${chunks} chunks\n`);
    return answer(200, { enabled });
  }
  answer(404, { error: "not_found" });
});

server.listen(opts.listenPort, "127.0.0.1", () => {
  admin.listen(0, "127.0.0.1", () => {
    process.stdout.write(`READY ${server.address().port} ADMIN ${admin.address().port}\n`);
    process.stdout.write(`chaos-proxy ${opts.name}: target ${opts.targetPort} seed ${opts.seed} reset ${opts.reset} ` +
      `lose ${opts.lose} truncate ${opts.truncate} stall ${opts.stall} delay ${opts.delay} (<= ${opts.delayMs} ms)` +
      `${enabled ? "" : " (faults off)"}\n`);
  });
});

const quit = () => {
  process.stdout.write(`STATS ${JSON.stringify({ name: opts.name, chunks, connections, faults })}\n`);
  process.exit(0);
};
// Bound to its launcher's lifetime when stdin is a pipe (node_peer.hpp).
if (fs.fstatSync(0).isFIFO()) {
  process.stdin.on("end", quit);
  process.stdin.on("close", quit);
  process.stdin.resume();
}
process.on("SIGTERM", quit);
