// Runs inside a network namespace of its own (`unshare -rn`): brings up its loopback, starts the
// given server command (DynamoDB Local) there, and relays connections from a Unix socket — the
// only way in — to the server's loopback port. Nothing in this namespace is reachable over any
// network interface of the machine. Usage: node netns-relay.mjs SOCKET PORT COMMAND [ARGS…]
import { execFileSync, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import process from 'node:process';
import { setInterval } from 'node:timers';

const [socketPath, portText, command, ...args] = process.argv.slice(2);
if (!socketPath || !portText || !command) {
  process.stderr.write('usage: netns-relay.mjs SOCKET PORT COMMAND [ARGS…]\n');
  process.exit(2);
}
const port = Number(portText);

execFileSync('ip', ['link', 'set', 'lo', 'up']);
const child = spawn(command, args, { stdio: 'inherit' });
child.on('exit', (code, signal) => {
  rmSync(socketPath, { force: true });
  process.exit(code ?? (signal ? 1 : 0));
});

const relay = createServer((incoming) => {
  const upstream = connect(port, '127.0.0.1');
  incoming.pipe(upstream).pipe(incoming);
  incoming.on('error', () => upstream.destroy());
  upstream.on('error', () => incoming.destroy());
});
rmSync(socketPath, { force: true });
relay.listen(socketPath);

// A stack killed with kill -9 cannot stop us: when our parent is gone (we were re-parented), stop
// DynamoDB Local too, so no JVM outlives the stack and holds its data directory.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) {
    relay.close();
    child.kill('SIGTERM');
  }
}, 1000).unref();

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    relay.close();
    child.kill('SIGTERM');
  });
}
