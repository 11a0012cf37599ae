// npm run demo: the whole product in one command that cleans up after itself. Starts a receiver
// on a free loopback port with a throwaway home (keys, known hosts, database, logs and the
// received folder in a temporary directory), sends it a file, checks that what arrived is the
// same, stops the receiver and removes the directory. Exits 0 only if all of that worked, and
// leaves no process behind either way.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/bundle/securetransfer.js', import.meta.url));
const home = mkdtempSync(join(tmpdir(), 'securetransfer-demo-'));
// The user's own settings (an allow-list, a database URL) stay out of the demo.
const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(ST_|DB_|LOG_LEVEL$)/.test(k)));
const env = {
  ...inherited,
  ST_HOST_KEY_PATH: join(home, 'host_key'),
  ST_IDENTITY_PATH: join(home, 'id_x25519'),
  ST_KNOWN_HOSTS: join(home, 'known_hosts'),
  DB_PATH: join(home, 'securetransfer.db'),
  ST_LOG_PATH: join(home, 'securetransfer.log'),
};
const STEP_TIMEOUT_MS = 60_000;

/** A port nobody listens on now: the kernel picks it, we let it go. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resolves with the first JSON event of that kind on the stream. */
function waitForEvent(stream, kind, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${kind} event from ${what} within ${STEP_TIMEOUT_MS / 1000} s`)), STEP_TIMEOUT_MS);
    const lines = createInterface({ input: stream });
    lines.on('close', () => clearTimeout(timer));
    lines.on('line', (line) => {
      let event;
      try {
        event = JSON.parse(line);
      } catch {
        return;
      }
      if (event.event !== kind) return;
      clearTimeout(timer);
      resolve(event);
    });
    lines.on('close', () => reject(new Error(`${what} ended before its ${kind} event`)));
  });
}

function exited(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

const sha256 = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');

let receiver;
try {
  const port = await freePort();
  const output = join(home, 'received');
  receiver = spawn(process.execPath, [cli, 'receive', '--json', '--host', '127.0.0.1', '--port', String(port), '--output-dir', output], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let receiverLog = '';
  receiver.stderr.on('data', (chunk) => (receiverLog += chunk));
  const listening = await waitForEvent(receiver.stdout, 'listening', 'the receiver').catch((e) => {
    throw new Error(`${e.message}\n${receiverLog}`);
  });
  console.log(`receiver listening on ${listening.address}, host key ${listening.fingerprint}`);

  const file = join(home, 'demo.bin');
  writeFileSync(file, randomBytes(8 * 1024 * 1024));
  const sender = spawn(process.execPath, [cli, 'send', '--json', '--host', '127.0.0.1', '--port', String(port), '--file', file], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // Handled from the start: a send that fails must not end the demo before its cleanup.
  const completed = waitForEvent(sender.stdout, 'completed', 'the sender').then(
    (event) => ({ event }),
    (error) => ({ error }),
  );
  const status = await Promise.race([exited(sender), new Promise((r) => setTimeout(() => r('timeout'), STEP_TIMEOUT_MS))]);
  if (status === 'timeout') sender.kill('SIGKILL');
  const result = await completed;
  if (result.error) throw new Error(`the send failed (exit status ${status}): ${result.error.message}`);
  const done = result.event;
  const same = sha256(file) === sha256(join(output, 'demo.bin'));
  console.log(`sent demo.bin (8 MiB) as transfer ${done.transferId} in ${done.seconds.toFixed(2)} s; received copy identical: ${same}`);
  if (!same) throw new Error('the received file differs from the one sent');
  receiver.kill('SIGTERM');
  const code = await Promise.race([exited(receiver), new Promise((r) => setTimeout(() => r('timeout'), 10_000))]);
  if (code !== 0) throw new Error(`the receiver did not shut down cleanly (${code})`);
  console.log('receiver stopped; demo passed');
} catch (e) {
  console.error(`demo failed: ${e.message}`);
  process.exitCode = 1;
} finally {
  if (receiver && receiver.exitCode === null && receiver.signalCode === null) {
    receiver.kill('SIGKILL');
    await exited(receiver);
  }
  rmSync(home, { recursive: true, force: true });
}
