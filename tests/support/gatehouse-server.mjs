// A real `gatehouse serve` for the Node.js-driven tests (tests/postman,
// tests/web): a free loopback port, a temporary DATA_DIR, BCRYPT_COST=4,
// the rate limits off; resolves once /health answers 200.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export async function freePort() {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

// The server runs under a watchdog shell that reads this script's pipe:
// however this script ends (a failed assertion, a closed stdout, a kill by
// ctest's timeout), the pipe closes, and the watchdog stops the server and
// deletes its data.
const watchdogScript = 'exec 3<&0 </dev/null; "$@" & server=$!; ' +
                       '{ read -r _ <&3; kill -TERM "$server" 2>/dev/null; } & ' +
                       'wait "$server"; status=$?; rm -rf "$DATA_DIR"; exit "$status"';

// Starts `binary serve`. Options:
//   dataDirPrefix  the temporary DATA_DIR's name prefix (under os.tmpdir())
//   env            added to (or overriding) the defaults
//   watchdog       true: under the watchdog shell above, stopped by closing
//                  its stdin; false: a direct child, killed (and its data
//                  removed) when this process exits, stopped by SIGTERM and,
//                  after 5 s, SIGKILL
// Returns { base, dataDir, output(), stop() }: dataDir holds what the server
// writes (the mail outbox, DATA_DIR/outbox, among it) until stop().
export async function startGatehouse(binary, { dataDirPrefix = 'gatehouse-', env = {}, watchdog = false } = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), dataDirPrefix));
  const port = await freePort();
  const fullEnv = {
    PATH: process.env.PATH,
    HOST: '127.0.0.1',
    PORT: String(port),
    DATA_DIR: dataDir,
    BCRYPT_COST: '4',
    RATE_LIMIT_LOGIN_PER_EMAIL_IP: '0',
    RATE_LIMIT_LOGIN_PER_EMAIL: '0',
    RATE_LIMIT_LOGIN_PER_IP: '0',
    RATE_LIMIT_LOGINS_PER_IP: '0',
    RATE_LIMIT_SIGNUP_PER_IP: '0',
    LOG_LEVEL: 'warn',
    ...env,
  };
  const child = watchdog
    ? spawn('bash', ['-c', watchdogScript, 'gatehouse-watchdog', binary, 'serve'],
            { env: fullEnv, stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(binary, ['serve'], { env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });
  child.on('error', (e) => { exited = { error: e.message }; });  // e.g. no such binary
  if (!watchdog) {
    // However this script ends (a failed assertion, an exception, SIGINT or
    // SIGTERM turned into process.exit), the server and its data go with it.
    process.on('exit', () => {
      if (!exited) child.kill('SIGKILL');
      fs.rmSync(dataDir, { recursive: true, force: true });
    });
  }
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15000;
  for (;;) {
    if (exited) throw new Error(`gatehouse exited (${JSON.stringify(exited)}) before serving:\n${output}`);
    try {
      const res = await fetch(base + '/health');
      if (res.status === 200) break;
    } catch (_) {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`gatehouse did not answer /health within 15 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    base,
    dataDir,
    output: () => output,
    async stop() {
      if (!exited) {
        if (watchdog) child.stdin.end();  // the watchdog's cue
        else child.kill('SIGTERM');
        let timer;
        await Promise.race([once(child, 'exit'), new Promise((r) => { timer = setTimeout(r, 5000); })]);
        clearTimeout(timer);  // a pending timer would keep the process alive 5 s
        if (!exited && !watchdog) child.kill('SIGKILL');
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
