// The floor under the many-files case on this machine: making 2,000 files of 26 KiB in 20
// folders, 16 at a time as the receiver does, without and with an fdatasync per file, in
// interleaved rounds, each into folders never used before (ext4 makes files slowly for a while
// after many were deleted). `node dist/bench/file-floor.js [rounds]`; the folders are removed at the end.
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const FILES = 2000;
const data = Buffer.alloc(26 * 1024, 97);

async function makeFiles(base: string, sync: boolean): Promise<number> {
  const t0 = performance.now();
  for (let d = 0; d < 20; d++) await mkdir(join(base, `d${d}`), { recursive: true });
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < FILES) {
        const i = next++;
        const h = await open(join(base, `d${i % 20}`, `f${i}`), 'wx', 0o600);
        await h.write(data, 0, data.length, 0);
        if (sync) await h.datasync();
        await h.close();
      }
    }),
  );
  return performance.now() - t0;
}

const rounds = Number(process.argv[2]) || 3;
const work = mkdtempSync(join(tmpdir(), 'file-floor-'));
try {
  for (let r = 1; r <= rounds; r++) {
    const plain = await makeFiles(join(work, `plain-${r}`), false);
    const synced = await makeFiles(join(work, `synced-${r}`), true);
    console.log(`round ${r}: ${FILES} files made and written ${plain.toFixed(0)} ms, with an fdatasync each ${synced.toFixed(0)} ms`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
