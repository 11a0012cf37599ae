// npm run bench -- --profile: where each side's main thread spends a send, from V8's CPU profile
// (node --cpu-prof), grouped by pipeline step. The rest of a process's CPU time (its /usr/bin/time
// figure minus the main thread's busy time) ran on other threads: V8's garbage-collector
// helpers, the compression worker, libuv's file thread pool, and the kernel work they caused.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** The steps a send's time is reported under, in print order. */
export const STEPS = [
  'SHA-256',
  'AES-256-GCM',
  'zstd',
  'socket reads and writes',
  'file reads and writes',
  'garbage collector',
  'start-up (module loading)',
  'other JavaScript',
  'idle',
] as const;
export type Step = (typeof STEPS)[number];

/**
 * The step a sample belongs to, from its own frame and its callers' (a native write is a socket
 * write or a file write depending on who called it). First match wins.
 */
function stepOf(frames: readonly ProfileNode['callFrame'][]): Step {
  const [self] = frames;
  if (!self) return 'other JavaScript';
  if (self.functionName === '(idle)') return 'idle';
  if (self.functionName === '(garbage collector)') return 'garbage collector';
  for (const f of frames) {
    // Node's own modules first (their names, like fs's open, overlap ours), then our adapters'.
    if (f.url.startsWith('node:')) {
      if (/crypto\/hash/.test(f.url)) return 'SHA-256';
      if (/crypto\/cipher/.test(f.url)) return 'AES-256-GCM';
      if (/stream_base_commons|node:net/.test(f.url)) return 'socket reads and writes';
      if (/fs/.test(f.url)) return 'file reads and writes';
      if (/loader|esm|realm/.test(f.url)) return 'start-up (module loading)';
      continue;
    }
    if (/^(seal|open)$/.test(f.functionName) && /crypto|bundle/.test(f.url)) return 'AES-256-GCM';
    if (/^(compress|decompress)$/.test(f.functionName)) return 'zstd';
  }
  return 'other JavaScript';
}

/** Milliseconds of main-thread time per step, from one .cpuprofile. */
export function stepsOf(profile: CpuProfile): Map<Step, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stepById = new Map<number, Step>();
  const steps = new Map<Step, number>(STEPS.map((s) => [s, 0]));
  profile.samples.forEach((id, i) => {
    let step = stepById.get(id);
    if (step === undefined) {
      const frames: ProfileNode['callFrame'][] = [];
      for (let at: number | undefined = id; at !== undefined && frames.length < 12; at = parent.get(at))
        frames.push(byId.get(at)!.callFrame);
      step = stepOf(frames);
      stepById.set(id, step);
    }
    steps.set(step, steps.get(step)! + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return steps;
}

/** The main thread's profile in a --cpu-prof-dir (the largest file: workers write their own). */
export function mainThreadProfile(dir: string): CpuProfile {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) throw new Error(`no CPU profile in ${dir}`);
  const largest = files.map((f) => join(dir, f)).sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
  return JSON.parse(readFileSync(largest, 'utf8')) as CpuProfile;
}
