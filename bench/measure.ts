// Runs a command and reports wall time, CPU time and peak memory, through GNU time(1) when the
// machine has it (Debian package "time"), from the kernel's accounting of the child.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

export const GNU_TIME = '/usr/bin/time';

export interface Usage {
  readonly wallSec: number;
  readonly cpuSec: number | undefined;
  readonly peakRssMiB: number | undefined;
}

export interface Measured {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves when the process exits, with its exit code and usage. */
  readonly done: Promise<{ code: number | null; usage: Usage }>;
}

export function measure(command: string, args: string[], env: NodeJS.ProcessEnv, usageFile: string): Measured {
  const timed = existsSync(GNU_TIME);
  const started = performance.now();
  const child = timed
    ? spawn(GNU_TIME, ['-f', '%e %U %S %M', '-o', usageFile, command, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<{ code: number | null; usage: Usage }>((resolve) =>
    child.once('exit', (code) => {
      const wallSec = (performance.now() - started) / 1000;
      if (!timed || !existsSync(usageFile)) return resolve({ code, usage: { wallSec, cpuSec: undefined, peakRssMiB: undefined } });
      const line = readFileSync(usageFile, 'utf8').trim().split('\n').at(-1) ?? '';
      const [, user, system, maxKiB] = line.split(' ').map(Number);
      resolve({ code, usage: { wallSec, cpuSec: (user ?? 0) + (system ?? 0), peakRssMiB: (maxKiB ?? 0) / 1024 } });
    }),
  );
  return { child, output: () => out, done };
}

/** Signals the measured program itself, not time(1) around it (which would die without reporting). */
export function signal(m: Measured, sig: NodeJS.Signals): void {
  const pid = m.child.pid;
  if (pid === undefined) return;
  let targets = [pid];
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    if (children) targets = children.split(/\s+/).map(Number);
  } catch {
    // no /proc: signal what we started
  }
  for (const target of targets) {
    try {
      process.kill(target, sig);
    } catch {
      // already gone
    }
  }
}

export function waitForOutput(m: Measured, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      const found = pattern.exec(m.output());
      if (found) {
        clearInterval(timer);
        clearTimeout(limit);
        resolve(found);
      }
    }, 10);
    const limit = setTimeout(() => {
      clearInterval(timer);
      reject(new Error(`no ${pattern} in:\n${m.output()}`));
    }, timeoutMs);
  });
}
