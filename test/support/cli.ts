// Runs the built CLI as separate processes, each with its own home, database and log, the
// way two people on two machines would.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath } from './paths.js';

export interface Peer {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
}

/** A directory with its own HOME, DB_PATH and log: one side of a transfer. */
export function makePeer(name: string, extra: NodeJS.ProcessEnv = {}): Peer {
  const dir = mkdtempSync(join(tmpdir(), `st-${name}-`));
  mkdirSync(join(dir, 'home'));
  return {
    dir,
    env: {
      PATH: process.env['PATH'],
      HOME: join(dir, 'home'),
      DB_PATH: join(dir, 'securetransfer.db'),
      ST_LOG_PATH: join(dir, 'logs', 'securetransfer.log'),
      ST_OUTPUT_DIR: join(dir, 'received'),
      // Tests run at full speed unless they test the rate limit (the product default is 10 MB/s).
      ST_RATE_LIMIT_BYTES_PER_SEC: '0',
      ...extra,
    },
  };
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`securetransfer ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface RunningReceiver {
  readonly port: number;
  readonly fingerprint: string;
  readonly process: ChildProcess;
  output(): string;
  /** SIGTERM and wait for a clean exit; returns the exit code. */
  stop(): Promise<number | null>;
}

export async function startReceiver(
  peer: Peer,
  port?: number,
  extraEnv: NodeJS.ProcessEnv = {},
  extraArgs: string[] = [],
): Promise<RunningReceiver> {
  const listenPort = port ?? (await freePort());
  const child = spawn(process.execPath, [cliPath, 'receive', '--host', '127.0.0.1', '--port', String(listenPort), ...extraArgs], {
    env: { ...peer.env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const fingerprint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`receiver did not start:\n${out}`)), 30_000);
    const check = () => {
      const m = /host key fingerprint (SHA256:\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`receiver exited with ${code}:\n${out}`));
    });
  });
  return {
    port: listenPort,
    fingerprint,
    process: child,
    output: () => out,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}

export interface SpawnedCli {
  readonly process: ChildProcess;
  output(): string;
  /** Resolves with the text once it appears in stdout or stderr. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  exited: Promise<number | null>;
}

/** Starts the CLI without waiting for it, for tests that kill it part way. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv): SpawnedCli {
  const child = spawn(process.execPath, [cliPath, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    process: child,
    output: () => out,
    exited,
    waitFor: (pattern, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(out);
          if (!m) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve(m);
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no ${pattern} within ${timeoutMs} ms in:\n${out}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      }),
  };
}
