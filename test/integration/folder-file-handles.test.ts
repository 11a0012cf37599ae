// The receiving folder's handle cache and bounded parallelism, with real files: at most a fixed
// number of descriptors open, the least recently used closed first and never one in use, the
// work before a close (a tree's sync) done first, and a failure of that work never lost
// (docs/folders.md#building).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { HandleCache } from '../../src/adapters/filesystem/handle-cache.js';
import { inParallel, PARALLEL } from '../../src/adapters/filesystem/in-parallel.js';
import { NodeReceiveFolder } from '../../src/adapters/filesystem/node-receive-folder.js';
import type { TreeEntry } from '../../src/domain/transfer/tree.js';

/** A promise and the function that settles it. */
function gate(): { readonly opened: Promise<void>; readonly open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('the handle cache', () => {
  let base: string;
  let opens: number[];
  let closes: number[];
  const openFile = async (i: number): Promise<FileHandle> => {
    opens.push(i);
    const h = await open(join(base, String(i)), 'r+');
    const close = h.close.bind(h);
    // Counted as they really close, after any work before it.
    h.close = async () => {
      closes.push(i);
      await close();
    };
    return h;
  };
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'st-handles-'));
    for (let i = 0; i < 8; i++) writeFileSync(join(base, String(i)), 'x');
    opens = [];
    closes = [];
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  it('keeps at most its bound open and lets the least recently used go first', async () => {
    const cache = new HandleCache(openFile, 2);
    const touch = (i: number) => cache.with(i, async (h) => void (await h.stat()));
    await touch(0);
    await touch(1);
    await touch(0); // 1 is now the least recently used
    await touch(2);
    await cache.settle();
    assert.deepEqual(closes, [1]);
    await touch(0);
    assert.deepEqual(opens, [0, 1, 2], '0 stayed open');
    await touch(1);
    await cache.settle();
    assert.deepEqual(opens, [0, 1, 2, 1], '1 was opened again');
    assert.deepEqual(closes, [1, 2]);
    await cache.closeAll();
    assert.deepEqual(closes.slice(2).sort(), [0, 1]);
  });

  it('never closes a handle while it is in use', async () => {
    const cache = new HandleCache(openFile, 1);
    const hold = gate();
    const busy = cache.with(0, async (h) => {
      await hold.opened;
      return h.write(Buffer.from('y'), 0, 1, 0);
    });
    await turn();
    await cache.with(1, async (h) => void (await h.stat()));
    await cache.with(2, async (h) => void (await h.stat()));
    await cache.settle();
    assert.ok(!closes.includes(0), 'the busy handle stayed open');
    hold.open();
    assert.equal((await busy).bytesWritten, 1, 'and its write went through');
    await cache.closeAll();
  });

  it('does the work before a close first, then closes', async () => {
    const order: string[] = [];
    const cache = new HandleCache(
      async (i) => {
        const h = await openFile(i);
        const close = h.close.bind(h);
        h.close = async () => {
          order.push(`close ${i}`);
          await close();
        };
        return h;
      },
      1,
      (i) => async (h) => {
        await h.datasync();
        order.push(`work ${i}`);
      },
    );
    await cache.with(0, async () => undefined);
    await cache.with(1, async () => undefined);
    await cache.settle();
    assert.deepEqual(order, ['work 0', 'close 0']);
    await cache.closeAll();
    assert.deepEqual(order, ['work 0', 'close 0', 'close 1'], 'closeAll closes without the work: its owner synced first');
  });

  it("reports a failure of a close's work to every later settle and to closeAll", async () => {
    const cache = new HandleCache(openFile, 1, (i) => async () => {
      if (i === 1) throw new Error('EIO: writeback failed');
    });
    await cache.with(1, async () => undefined);
    await cache.with(2, async () => undefined); // 1 goes, and its work fails
    await assert.rejects(cache.settle(), /EIO/);
    await assert.rejects(cache.settle(), /EIO/, 'still reported: a sync on a new descriptor would not see it again');
    await cache.with(3, async () => undefined);
    await assert.rejects(cache.closeAll(), /EIO/);
    assert.ok(closes.includes(1), 'the failed handle was closed all the same');
  });

  it('waits for the closes begun before it, not for those begun meanwhile', async () => {
    const slow = new Map([0, 1].map((i) => [i, gate()]));
    const cache = new HandleCache(openFile, 1, (i) => async () => slow.get(i)?.opened);
    await cache.with(0, async () => undefined);
    await cache.with(1, async () => undefined); // 0's close begins and waits
    let settled = false;
    const settling = cache.settle().then(() => (settled = true));
    await cache.with(2, async () => undefined); // 1's close begins and waits
    await turn();
    assert.equal(settled, false, 'waits for 0');
    slow.get(0)!.open();
    await settling;
    assert.ok(closes.includes(0) && !closes.includes(1), 'returned with 1 still closing');
    slow.get(1)!.open();
    await cache.closeAll();
  });

  it('forgets a failed open, so the next use tries again', async () => {
    let failOnce = true;
    const cache = new HandleCache(async (i) => {
      if (failOnce) {
        failOnce = false;
        throw new Error('EMFILE: too many open files');
      }
      return openFile(i);
    });
    await assert.rejects(
      cache.with(0, async () => undefined),
      /EMFILE/,
    );
    assert.equal(await cache.with(0, async (h) => (await h.stat()).size), 1);
    await cache.closeAll();
  });
});

describe('bounded parallel work', () => {
  it(`runs at most ${PARALLEL} at once and every item once`, async () => {
    let running = 0;
    let most = 0;
    const seen: number[] = [];
    await inParallel(
      Array.from({ length: 100 }, (_, i) => i),
      async (i) => {
        running++;
        most = Math.max(most, running);
        await turn();
        seen.push(i);
        running--;
      },
    );
    assert.equal(most, PARALLEL);
    assert.deepEqual(
      seen.sort((a, b) => a - b),
      Array.from({ length: 100 }, (_, i) => i),
    );
  });

  it('throws the first failure only once every started item has finished, and starts none after it', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    await assert.rejects(
      inParallel(
        Array.from({ length: 100 }, (_, i) => i),
        async (i) => {
          started.push(i);
          if (i === 3) throw new Error('item 3 failed');
          await turn();
          await turn();
          finished.push(i);
        },
      ),
      /item 3 failed/,
    );
    assert.equal(started.length, PARALLEL, 'nothing new started after the failure');
    assert.equal(finished.length, PARALLEL - 1, 'every other started item had finished');
  });
});

/** Linux's EIO from writeback, which it reports once, to one descriptor. */
const writebackError = () => Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });

/** A folder of one-byte files. */
const treeOf = (files: number): TreeEntry[] => [
  { path: 'top', kind: 'dir', mode: 0o755, size: 0, mtimeUs: 0 },
  ...Array.from({ length: files }, (_, i): TreeEntry => ({ path: `top/f${i}`, kind: 'file', mode: 0o644, size: 1, mtimeUs: 0 })),
];

/** Runs test in a new folder with every file handle's datasync going through inject (given the real one), restored after. */
async function withInjectedDatasync(inject: (real: () => Promise<void>) => Promise<void>, test: (base: string) => Promise<void>) {
  const base = mkdtempSync(join(tmpdir(), 'st-tree-sync-'));
  const probe = await open(join(base, 'probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
  await probe.close();
  const real = proto.datasync;
  proto.datasync = function (this: FileHandle) {
    return inject(() => real.call(this));
  };
  try {
    await test(base);
  } finally {
    proto.datasync = real;
    rmSync(base, { recursive: true, force: true });
  }
}

const TRANSFER_ID = '1b4e28ba-2fa1-4d2e-883f-0016d3cca427';

describe("a tree's batch sync", () => {
  it("keeps failing once a batch's own sync failed: a later sync of the same file would report success", async () => {
    let failing = false;
    await withInjectedDatasync(
      async (real) => {
        if (failing) throw writebackError();
        return real();
      },
      async (base) => {
        const tree = await new NodeReceiveFolder(join(base, 'out')).openPartial(TRANSFER_ID, true, treeOf(4));
        await tree.write(0, new Uint8Array(4));
        failing = true;
        await assert.rejects(tree.sync(), /EIO/);
        failing = false;
        await assert.rejects(tree.sync(), /EIO/, 'the next batch fails too');
        await assert.rejects(tree.close(), /EIO/, 'and so does the close before the finish');
      },
    );
  });

  it('fails when a file of the batch, evicted by a write during the sync, failed its sync as it closed', async () => {
    let mode: 'pass' | 'hold' | 'fail' = 'pass';
    const held = gate();
    let holding = 0;
    let failed = 0;
    const inject = async (real: () => Promise<void>) => {
      if (mode === 'fail') {
        failed++;
        throw writebackError();
      }
      if (mode === 'hold') {
        holding++;
        await held.opened;
      }
      return real();
    };
    await withInjectedDatasync(inject, async (base) => {
      // 48 files: more than the 32 descriptors a tree keeps open.
      const tree = await new NodeReceiveFolder(join(base, 'out')).openPartial(TRANSFER_ID, true, treeOf(48));
      await tree.write(0, new Uint8Array(40)); // files 0-39; 0-7 are evicted and synced as they close
      await tree.sync();
      await tree.write(8, new Uint8Array(32)); // files 8-39 again, all still open: the next batch
      mode = 'hold';
      const outcome = tree.sync().then(
        () => 'synced',
        (e: Error) => e.message,
      );
      // The batch's first 16 syncs (files 8-23) are held; 24-39 wait their turn, idle.
      for (let turns = 0; holding < 16 && turns < 10_000; turns++) await turn();
      assert.equal(holding, 16, 'the batch is under way');
      mode = 'fail';
      await tree.write(40, new Uint8Array(8)); // opens 40-47: eight idle files of the batch are evicted
      for (let turns = 0; failed < 8 && turns < 10_000; turns++) await turn();
      assert.equal(failed, 8, 'their syncs failed as they closed');
      mode = 'pass';
      held.open();
      assert.match(await outcome, /EIO/, "the batch's sync of those files on new descriptors must not hide it");
      await assert.rejects(tree.sync(), /EIO/, 'nor a later batch');
      await assert.rejects(tree.close(), /EIO/, 'nor the close before the finish');
    });
  });
});
