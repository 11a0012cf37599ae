// One suite for the receiver's folder and partial files, run with direct writes (O_DIRECT where
// the file system takes it) and without: the same bytes must come back either way.
import assert from 'node:assert/strict';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { execFileSync } from 'node:child_process';
import { NodePartialFile, NodeReceiveFolder } from '../../src/adapters/filesystem/node-receive-folder.js';

const root = mkdtempSync(join(tmpdir(), 'st-folder-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Whether this file system takes O_DIRECT at all (tmpfs before Linux 6.6 does not). */
function directSupported(dir: string): boolean {
  const probe = join(dir, 'probe');
  try {
    closeSync(openSync(probe, constants.O_CREAT | constants.O_WRONLY | constants.O_DIRECT, 0o600));
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { force: true });
  }
}

function bytes(length: number, seed: number): Uint8Array {
  let x = seed;
  return Uint8Array.from({ length }, () => (x = (x * 48271) % 2147483647) & 0xff);
}

const PIECE = 64 * 1024;
let n = 0;
const transferId = () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;

for (const directWrites of [true, false]) {
  describe(`receive folder contract: ${directWrites ? 'direct writes' : 'buffered writes'}`, () => {
    it('lists its partial files by transfer id, and nothing else', async () => {
      const dir = mkdtempSync(join(root, 'list-'));
      const folder = new NodeReceiveFolder(dir, { directWrites });
      const id = transferId();
      await (await folder.openPartial(id, true)).close();
      closeSync(openSync(join(dir, '.securetransfer-not-a-uuid.part'), 'w'));
      closeSync(openSync(join(dir, 'final.bin'), 'w'));
      const listed = await folder.listPartials();
      assert.deepEqual(
        listed.map((p) => p.transferId),
        [id],
      );
      assert.ok(Math.abs(listed[0]!.modifiedAt - Date.now()) < 60_000);
    });

    it('keeps one id for the folder, the same for every receiver that opens it, and refuses a corrupt one', async () => {
      const dir = mkdtempSync(join(root, 'id-'));
      const ids = await Promise.all(Array.from({ length: 4 }, () => new NodeReceiveFolder(dir, { directWrites }).identity()));
      assert.match(ids[0]!, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.deepEqual(new Set(ids).size, 1, 'receivers starting together agree');
      assert.equal(await new NodeReceiveFolder(join(dir, '.'), { directWrites }).identity(), ids[0], 'whatever path names the folder');
      assert.deepEqual(await new NodeReceiveFolder(dir).listPartials(), [], 'the id file is no partial file');
      const other = mkdtempSync(join(root, 'id-'));
      assert.notEqual(await new NodeReceiveFolder(other).identity(), ids[0], 'another folder has another id');
      writeFileSync(join(other, '.securetransfer-folder-id'), 'not an id\n');
      await assert.rejects(new NodeReceiveFolder(other).identity(), /does not hold a folder id/);
      const withFifo = mkdtempSync(join(root, 'id-'));
      execFileSync('mkfifo', [join(withFifo, '.securetransfer-folder-id')]);
      await assert.rejects(
        new NodeReceiveFolder(withFifo).identity(),
        /not a small regular file/,
        'a FIFO planted under the name neither blocks nor passes',
      );
    });

    it('reads back every piece written out of order, the unaligned last one included', async () => {
      const folder = new NodeReceiveFolder(mkdtempSync(join(root, 'out-')), { directWrites });
      const id = transferId();
      const pieces = [bytes(PIECE, 1), bytes(PIECE, 2), bytes(PIECE, 3), bytes(1234, 4)];
      const partial = await folder.openPartial(id, true);
      for (const index of [2, 0, 3, 1]) {
        const data = Uint8Array.from(pieces[index]!);
        await partial.write(index * PIECE, data);
        data.fill(0); // the caller's buffer is its own again once write() resolves
      }
      assert.deepEqual(await partial.read(PIECE, PIECE), pieces[1]);
      const into = new Uint8Array(PIECE + 10);
      const tail = await partial.read(3 * PIECE, PIECE, into);
      assert.deepEqual(tail, pieces[3], 'a read past the end returns the bytes there are');
      assert.equal(tail.buffer, into.buffer, 'read into the given buffer');
      await partial.sync();
      await partial.close();
      const final = await folder.finalize(id, 'out.bin');
      assert.equal(statSync(final).size, 3 * PIECE + 1234);
      assert.deepEqual(new Uint8Array(readFileSync(final)), Uint8Array.from(Buffer.concat(pieces)));
    });

    it('keeps concurrent writes apart', async () => {
      const folder = new NodeReceiveFolder(mkdtempSync(join(root, 'out-')), { directWrites });
      const id = transferId();
      const pieces = Array.from({ length: 6 }, (_, i) => bytes(PIECE, 10 + i));
      const partial = await folder.openPartial(id, true);
      await Promise.all(pieces.map((p, i) => partial.write(i * PIECE, p)));
      await partial.close();
      const written = readFileSync(join(folder.path, `.securetransfer-${id}.part`));
      assert.deepEqual(new Uint8Array(written), Uint8Array.from(Buffer.concat(pieces)));
    });

    it(
      directWrites
        ? 'writes aligned pieces around the page cache where the file system allows, unaligned ones buffered'
        : 'never opens the file for direct writes',
      async () => {
        const dir = mkdtempSync(join(root, 'out-'));
        const folder = new NodeReceiveFolder(dir, { directWrites });
        const partial = (await folder.openPartial(transferId(), true)) as NodePartialFile;
        await partial.write(0, bytes(PIECE, 20));
        await partial.write(PIECE + 512, bytes(100, 21)); // unaligned: buffered, and direct stays on
        await partial.write(2 * PIECE, bytes(PIECE, 22));
        assert.equal(partial.directBytes, directWrites && directSupported(dir) ? 2 * PIECE : 0);
        await partial.close();
      },
    );
  });
}
