// The floor under the receiver's piece writes on this machine: 1 MiB O_DIRECT writes of random
// bytes from page-aligned memory, one in flight, as src/application/durable-piece-sink.ts issues
// them, into a new file on the given folder's file system. Four ways, interleaved per round:
//   no syncs     the writes alone, then one fdatasync (on a disk with a volatile write cache,
//                O_DIRECT data waits in that cache until the flush)
//   receiver     plus an fdatasync after every 32 pieces, overlapping the next writes (the batch)
//   pre-sized    the same into a file first set to its full size (ftruncate: sparse)
//   allocated    the same into a file whose blocks were allocated first (fallocate(1), if present)
// `node dist/bench/write-floor.js [rounds] [MiB] [folder]`; the files are removed as it goes.
import { execFileSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { constants, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alignedBuffer } from '../src/adapters/filesystem/direct-io.js';
import { DURABLE_BATCH_PIECES } from '../src/domain/limits.js';

const PIECE = 1024 * 1024;
type Way = 'no syncs' | 'receiver' | 'pre-sized' | 'allocated';

function hasFallocate(): boolean {
  try {
    execFileSync('fallocate', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** ms: from the first write to the end of the last fdatasync; finalSyncMs: that last fdatasync. */
async function writeFile(path: string, pieces: number, way: Way, data: Uint8Array): Promise<{ ms: number; finalSyncMs: number }> {
  const file = await open(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    if (way === 'pre-sized') await file.truncate(pieces * PIECE);
    if (way === 'allocated') execFileSync('fallocate', ['-l', String(pieces * PIECE), path]);
    // Reopened through /proc as the receiver does (src/adapters/filesystem/direct-io.ts).
    const direct = await open(`/proc/self/fd/${file.fd}`, constants.O_RDWR | constants.O_DIRECT).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EINVAL') throw e;
      throw new Error(`the file system of ${path} refuses O_DIRECT (tmpfs does): give a folder on a disk`, { cause: e });
    });
    const t0 = performance.now();
    let sync: Promise<void> = Promise.resolve();
    for (let i = 0; i < pieces; i++) {
      await direct.write(data, 0, PIECE, i * PIECE);
      if (way !== 'no syncs' && i % DURABLE_BATCH_PIECES === DURABLE_BATCH_PIECES - 1) {
        await sync;
        sync = file.datasync();
      }
    }
    await sync;
    const written = performance.now();
    await file.datasync();
    const done = performance.now();
    await direct.close();
    return { ms: done - t0, finalSyncMs: done - written };
  } finally {
    await file.close();
    await rm(path, { force: true });
  }
}

const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const rounds = Number(process.argv[2]) || 3;
const pieces = Number(process.argv[3]) || 1024;
const work = mkdtempSync(join(process.argv[4] ?? tmpdir(), 'write-floor-'));
const data = alignedBuffer(PIECE);
if (!data) throw new Error('no page-aligned memory (WebAssembly) in this Node');
randomFillSync(data);
const ways: Way[] = ['no syncs', 'receiver', 'pre-sized', ...(hasFallocate() ? (['allocated'] as const) : [])];
const times = new Map<Way, number[]>(ways.map((w) => [w, []]));
try {
  for (let r = 1; r <= rounds; r++) {
    const line: string[] = [];
    for (const way of ways) {
      const { ms, finalSyncMs } = await writeFile(join(work, 'part'), pieces, way, data);
      times.get(way)!.push(ms);
      line.push(
        way === 'no syncs' ? `${way} ${ms.toFixed(0)} ms (its one fdatasync ${finalSyncMs.toFixed(0)})` : `${way} ${ms.toFixed(0)} ms`,
      );
    }
    console.log(`round ${r}, ${pieces} MiB: ${line.join(', ')}`);
  }
  console.log(`medians of ${rounds}: ${ways.map((w) => `${w} ${median(times.get(w)!).toFixed(0)} ms`).join(', ')}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
