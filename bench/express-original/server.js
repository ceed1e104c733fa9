'use strict';
// The same Express app as a plain local HTTP server, for the HTTP benchmarks.
// Binds loopback only. PORT from the environment (default 3000; 0 picks a
// free port). Prints "READY <port>" once listening.
const app = require('./app');

const port = Number(process.env.PORT === undefined ? 3000 : process.env.PORT);
const server = app.listen(port, '127.0.0.1', () => {
  process.stdout.write(`READY ${server.address().port}\n`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close();
    process.exit(0);
  });
}
