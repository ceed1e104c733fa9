#!/usr/bin/env node
// A real SMTP server (nodemailer's smtp-server) for the SMTP transport's
// tests, with switches for the failures a client must survive.
//
//   node smtp-peer.mjs --out DIR [--auth USER:PASS] [--auth-methods PLAIN,LOGIN]
//        [--tls-key K --tls-cert C] [--secure] [--no-starttls]
//        [--refuse-rcpt CODE] [--refuse-data CODE] [--hang-greeting]
//        [--drop-after-data] [--max-size N] [--accept-delay-ms MS]
//
// Binds 127.0.0.1 on a free port and prints "READY <port>" once listening.
// Each accepted message is written as DIR/<n>.eml (the bytes after DATA,
// dot-stuffing removed, exactly as received) and then DIR/<n>.json:
//   {"mailFrom", "rcptTo": [...], "user": <auth user or null>, "authMethod", "secure": bool}
// STARTTLS is offered only with --tls-key/--tls-cert (and not --no-starttls);
// --secure speaks TLS from the first byte. --refuse-data CODE answers CODE
// after the message instead of 250; --drop-after-data closes the connection
// there without any answer; --hang-greeting accepts TCP and never speaks;
// --accept-delay-ms MS waits that long before accepting each message (a slow
// mail server, for timing tests).
// Exits when its stdin closes, so it never outlives the test that started it.
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { SMTPServer } from "smtp-server";

const MAX_MESSAGE = 32 * 1024 * 1024;

function usage(message) {
  process.stderr.write(`smtp-peer: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { authMethods: "PLAIN,LOGIN" };
  const valued = {
    "--out": "out", "--auth": "auth", "--auth-methods": "authMethods", "--tls-key": "tlsKey",
    "--tls-cert": "tlsCert", "--refuse-rcpt": "refuseRcpt", "--refuse-data": "refuseData", "--max-size": "maxSize",
    "--accept-delay-ms": "acceptDelayMs",
  };
  const flags = {
    "--secure": "secure", "--no-starttls": "noStarttls", "--hang-greeting": "hangGreeting",
    "--drop-after-data": "dropAfterData",
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a in flags) {
      o[flags[a]] = true;
    } else if (a in valued) {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      o[valued[a]] = argv[++i];
    } else {
      usage(`unknown argument ${a}`);
    }
  }
  if (!o.out) usage("missing --out DIR");
  for (const k of ["refuseRcpt", "refuseData"])
    if (o[k] !== undefined && !/^[45]\d\d$/.test(o[k])) usage(`--${k} needs a 4xx or 5xx code`);
  if (o.maxSize !== undefined && !/^\d{1,9}$/.test(o.maxSize)) usage("--max-size needs a number");
  if (o.acceptDelayMs !== undefined && !/^\d{1,5}$/.test(o.acceptDelayMs)) usage("--accept-delay-ms needs milliseconds");
  if ((o.tlsKey === undefined) !== (o.tlsCert === undefined)) usage("--tls-key and --tls-cert go together");
  if (o.secure && !o.tlsKey) usage("--secure needs --tls-key and --tls-cert");
  if (o.auth !== undefined && !o.auth.includes(":")) usage("--auth needs USER:PASS");
  return o;
}

const opts = parseArgs(process.argv.slice(2));
fs.mkdirSync(opts.out, { recursive: true });

// Never outlive the test: it holds our stdin, and closes it (or dies).
process.stdin.on("end", () => process.exit(0));
process.stdin.on("close", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();

function listening(server) {
  process.stdout.write(`READY ${server.address().port}\n`);
}

function codedError(code, text) {
  const err = new Error(text);
  err.responseCode = Number(code);
  return err;
}

if (opts.hangGreeting) {
  const held = new Set();
  const server = net.createServer((socket) => {
    held.add(socket);  // accepted, never greeted
    socket.on("error", () => {});
    socket.on("close", () => held.delete(socket));
  });
  server.listen(0, "127.0.0.1", () => listening(server));
} else {
  let delivered = 0;
  const [authUser, ...authRest] = (opts.auth ?? "").split(":");
  const authPass = authRest.join(":");
  const tls = opts.tlsKey ? { key: fs.readFileSync(opts.tlsKey), cert: fs.readFileSync(opts.tlsCert) } : {};
  const disabled = [];
  if (!opts.auth) disabled.push("AUTH");
  if (opts.noStarttls || !opts.tlsKey) disabled.push("STARTTLS");

  const server = new SMTPServer({
    ...tls,
    secure: !!opts.secure,
    name: "smtp-peer.test",
    logger: false,
    disableReverseLookup: true,
    disabledCommands: disabled,
    authMethods: opts.authMethods.split(","),
    authOptional: !opts.auth,
    allowInsecureAuth: true,  // the client's own rule (TLS or loopback) is under test, not the server's
    size: opts.maxSize !== undefined ? Number(opts.maxSize) : undefined,
    rejectOversized: opts.maxSize !== undefined,
    onAuth(auth, session, callback) {
      const ok = auth.username === authUser &&
        (auth.method === "CRAM-MD5" ? auth.validatePassword(authPass) : auth.password === authPass);
      if (!ok) return callback(codedError(535, "Authentication credentials invalid"));
      callback(null, { user: { name: auth.username, method: auth.method } });
    },
    onRcptTo(address, session, callback) {
      if (opts.refuseRcpt) return callback(codedError(opts.refuseRcpt, "Recipient refused by smtp-peer"));
      callback();
    },
    onData(stream, session, callback) {
      const chunks = [];
      let size = 0;
      stream.on("data", (chunk) => {
        size += chunk.length;
        if (size <= MAX_MESSAGE) chunks.push(chunk);
      });
      stream.on("end", () => {
        if (opts.dropAfterData) {
          for (const c of server.connections) if (c.id === session.id) c._socket.destroy();
          return;
        }
        if (stream.sizeExceeded || size > MAX_MESSAGE) return callback(codedError(552, "Message too big"));
        if (opts.refuseData) return callback(codedError(opts.refuseData, "Message refused by smtp-peer"));
        const n = ++delivered;
        fs.writeFileSync(path.join(opts.out, `${n}.eml`), Buffer.concat(chunks));
        fs.writeFileSync(path.join(opts.out, `${n}.json`), JSON.stringify({
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          user: session.user ? session.user.name : null,
          authMethod: session.user ? session.user.method : null,
          secure: !!session.secure,
        }));
        setTimeout(() => callback(null, "Queued as " + n), Number(opts.acceptDelayMs ?? 0));
      });
    },
  });
  server.on("error", (err) => process.stderr.write(`smtp-peer: ${err.message}\n`));
  server.listen(0, "127.0.0.1", () => listening(server.server));
}
