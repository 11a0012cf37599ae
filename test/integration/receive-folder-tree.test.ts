// The receiver's folder adapter with a tree: built hidden, written at content offsets across
// files, read back for a resume, moved into place with its modes and times, never over or into
// an existing name, listed and removed like a partial file.
import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FINAL_MADE, folderIdentity } from '../../src/adapters/filesystem/final-name.js';
import { NodeReceiveFolder } from '../../src/adapters/filesystem/node-receive-folder.js';
import { NodeSourceFiles } from '../../src/adapters/filesystem/node-source-files.js';
import { SecureTransferError } from '../../src/domain/errors.js';
import type { TreeEntry } from '../../src/domain/transfer/tree.js';

const id = '1b4e28ba-2fa1-4d2e-883f-0016d3cca427';
const t = 1_650_000_000_123_456;
const entries: TreeEntry[] = [
  { path: 'top', kind: 'dir', mode: 0o750, size: 0, mtimeUs: t },
  { path: 'top/a.txt', kind: 'file', mode: 0o600, size: 5, mtimeUs: t + 1 },
  { path: 'top/ro', kind: 'dir', mode: 0o555, size: 0, mtimeUs: t + 2 },
  { path: 'top/ro/empty', kind: 'file', mode: 0o644, size: 0, mtimeUs: t + 3 },
  { path: 'top/ro/b.bin', kind: 'file', mode: 0o755, size: 11, mtimeUs: t + 4 },
  { path: 'top/none', kind: 'dir', mode: 0o700, size: 0, mtimeUs: t + 5 },
];
const content = new TextEncoder().encode('hello world!!!!!');
const us = (path: string) => Number(lstatSync(path, { bigint: true }).mtimeNs / 1000n);

describe('a tree in the receiving folder', () => {
  let base: string;
  let folder: NodeReceiveFolder;
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'st-tree-'));
    folder = new NodeReceiveFolder(join(base, 'out'));
  });
  afterEach(() => {
    rmSync(base, { recursive: true, force: true });
  });

  it('is built hidden, written across files, read back, and moved into place with modes and times', async () => {
    const partial = await folder.openPartial(id, true, entries);
    assert.deepEqual(readdirSync(folder.path), [`.securetransfer-${id}.tree`], 'only the hidden folder exists');
    await partial.write(3, content.subarray(3, 16));
    await partial.write(0, content.subarray(0, 3));
    await partial.sync();
    assert.deepEqual(await partial.read(0, 16), content);
    assert.deepEqual(await partial.read(4, 3), content.subarray(4, 7), 'a range across the end of one file and into the next');
    await partial.close();
    assert.equal(await folder.hasPartial(id), true);
    assert.deepEqual(
      (await folder.listPartials()).map((p) => p.transferId),
      [id],
    );
    const final = await folder.finalize(id, 'top', entries);
    assert.equal(final, join(folder.path, 'top'));
    assert.deepEqual(readdirSync(folder.path).sort(), ['top'], 'the hidden folder is gone');
    assert.equal(readFileSync(join(final, 'a.txt'), 'utf8'), 'hello');
    assert.equal(readFileSync(join(final, 'ro', 'b.bin'), 'utf8'), ' world!!!!!');
    for (const e of entries) {
      const path = join(folder.path, e.path);
      assert.equal(lstatSync(path).mode & 0o7777, e.mode, `mode of ${e.path}`);
      assert.equal(us(path), e.mtimeUs, `time of ${e.path}`);
    }
    assert.equal(await folder.hasPartial(id), false);
  });

  it('never moves a tree over or into an existing name; the data stays', async () => {
    const partial = await folder.openPartial(id, true, entries);
    await partial.write(0, content);
    await partial.close();
    mkdirSync(join(folder.path, 'top'));
    await assert.rejects(
      folder.finalize(id, 'top', entries),
      (e: unknown) => e instanceof SecureTransferError && e.code === 'E_FILE_EXISTS',
    );
    assert.deepEqual(readdirSync(join(folder.path, 'top')), [], 'nothing merged into the folder that was there');
    assert.equal(await folder.hasPartial(id), true);
  });

  it('takes a tree up again for a resume, and refuses a link planted where a file belongs', async () => {
    const partial = await folder.openPartial(id, true, entries);
    await partial.write(0, content.subarray(0, 5));
    await partial.close();
    const again = await folder.openPartial(id, false, entries);
    assert.deepEqual(await again.read(0, 5), content.subarray(0, 5), 'what was written survives');
    await again.close();
    const inside = join(folder.path, `.securetransfer-${id}.tree`, 'top', 'a.txt');
    unlinkSync(inside);
    symlinkSync('/etc/passwd', inside);
    const resumed = await folder.openPartial(id, false, entries);
    await assert.rejects(resumed.read(0, 5), /ELOOP/, 'read back through the link: refused');
    await assert.rejects(resumed.write(0, content.subarray(0, 5)), /ELOOP/, 'written through the link: refused');
    await resumed.close();
    assert.match(readFileSync('/etc/passwd', 'utf8'), /root/);
  });

  it("takes nothing group- or world-writable the receiver's umask would not give its own files", async () => {
    const open: TreeEntry[] = [
      { path: 'top', kind: 'dir', mode: 0o777, size: 0, mtimeUs: t },
      { path: 'top/all', kind: 'file', mode: 0o666, size: 0, mtimeUs: t },
    ];
    await (await folder.openPartial(id, true, open)).close();
    await folder.finalize(id, 'top', open);
    const mask = process.umask();
    assert.equal(lstatSync(join(folder.path, 'top')).mode & 0o777, 0o777 & ~mask);
    assert.equal(lstatSync(join(folder.path, 'top', 'all')).mode & 0o777, 0o666 & ~mask);
    assert.ok((mask & 0o022) === 0 || (lstatSync(join(folder.path, 'top')).mode & 0o022) === 0);
  });

  /** A tree fully written and closed, as it stands when its finish begins. */
  const written = async () => {
    const partial = await folder.openPartial(id, true, entries);
    await partial.write(0, content);
    await partial.close();
    return join(folder.path, `.securetransfer-${id}.tree`);
  };
  /** The marker as a finish writes it: the identity of the folder it made. */
  const markerFor = async (hidden: string, made: string) => {
    writeFileSync(join(hidden, FINAL_MADE), `${(await folderIdentity(made))!.identity}\n`);
  };
  const refusedAsTaken = (e: unknown) => e instanceof SecureTransferError && e.code === 'E_FILE_EXISTS';

  it('finishes a tree whose earlier finish crashed between making its final name and moving into it', async () => {
    const hidden = await written();
    // What the crash left: the empty final folder, the marker naming it, and an empty file already read-only.
    mkdirSync(join(folder.path, 'top'));
    await markerFor(hidden, join(folder.path, 'top'));
    writeFileSync(join(hidden, 'top', 'ro', 'empty'), '');
    chmodSync(join(hidden, 'top', 'ro', 'empty'), 0o444);
    assert.equal(await folder.exists('top', id), false, 'the empty folder is this transfer own');
    assert.equal(await folder.exists('top'), true, 'for anyone else the name is taken');
    await folder.finalize(id, 'top', entries);
    assert.equal(readFileSync(join(folder.path, 'top', 'a.txt'), 'utf8'), 'hello');
    assert.deepEqual(readdirSync(folder.path), ['top']);
  });

  it('never takes an empty folder the marker does not name, and forgets a marker whose folder is gone', async () => {
    const hidden = await written();
    // Ours was made and recorded, then removed; someone else made the name again, empty (most
    // likely with the same inode number: the birth time tells them apart).
    mkdirSync(join(folder.path, 'top'));
    await markerFor(hidden, join(folder.path, 'top'));
    rmdirSync(join(folder.path, 'top'));
    mkdirSync(join(folder.path, 'top'));
    assert.equal(await folder.exists('top', id), true);
    await assert.rejects(folder.finalize(id, 'top', entries), refusedAsTaken);
    assert.deepEqual(readdirSync(join(folder.path, 'top')), [], 'their folder left as it was');
    assert.ok(!readdirSync(hidden).includes(FINAL_MADE), 'the marker does not stay to name a folder that is not ours');
  });

  it('refuses a folder a cut finish made but could not record, saying what to do, and goes on once it is removed', async () => {
    const hidden = await written();
    mkdirSync(join(folder.path, 'top'));
    writeFileSync(join(hidden, FINAL_MADE), ''); // cut before the folder's identity was recorded
    assert.equal(await folder.exists('top', id), false, 'not refused up front: the finish says what to do');
    await assert.rejects(
      folder.finalize(id, 'top', entries),
      (e: unknown) => refusedAsTaken(e) && /remove it and resume/.test((e as Error).message),
    );
    rmdirSync(join(folder.path, 'top'));
    await folder.finalize(id, 'top', entries);
    assert.equal(readFileSync(join(folder.path, 'top', 'a.txt'), 'utf8'), 'hello');
  });

  it('refuses its own folder once someone put something into it, leaving what they put', async () => {
    const hidden = await written();
    mkdirSync(join(folder.path, 'top'));
    await markerFor(hidden, join(folder.path, 'top'));
    writeFileSync(join(folder.path, 'top', 'theirs.txt'), 'x');
    assert.equal(await folder.exists('top', id), true, 'not empty: not ours to fill');
    await assert.rejects(folder.finalize(id, 'top', entries), refusedAsTaken);
    assert.deepEqual(readdirSync(join(folder.path, 'top')), ['theirs.txt']);
    assert.equal(readFileSync(join(hidden, 'top', 'a.txt'), 'utf8'), 'hello', 'the data stays hidden');
  });

  it('finishes a tree whose earlier finish crashed after its marker, before making the final name', async () => {
    const hidden = await written();
    writeFileSync(join(hidden, FINAL_MADE), '');
    assert.equal(await folder.exists('top', id), false);
    await folder.finalize(id, 'top', entries);
    assert.equal(readFileSync(join(folder.path, 'top', 'ro', 'b.bin'), 'utf8'), ' world!!!!!');
    assert.deepEqual(readdirSync(folder.path), ['top']);
  });

  it('refuses a name taken during the transfer, even by an empty folder, when it never made the name itself', async () => {
    const hidden = await written();
    mkdirSync(join(folder.path, 'top'));
    await assert.rejects(folder.finalize(id, 'top', entries), refusedAsTaken);
    assert.deepEqual(readdirSync(join(folder.path, 'top')), [], 'their folder left as it was');
    assert.deepEqual(readdirSync(hidden), ['top'], 'the data stays hidden, with no marker');
  });

  it('refuses to create a tree whose hidden folder is already there, and removes one for good', async () => {
    await (await folder.openPartial(id, true, entries)).close();
    await assert.rejects(
      folder.openPartial(id, true, entries),
      (e: unknown) => e instanceof SecureTransferError && e.code === 'E_FILE_EXISTS',
    );
    await folder.discardPartial(id);
    assert.equal(existsSync(join(folder.path, `.securetransfer-${id}.tree`)), false);
    assert.equal(await folder.hasPartial(id), false);
  });
});

describe('a source folder', () => {
  it('lists folders before their contents in a fixed order, skips links and reads across files', async () => {
    const base = mkdtempSync(join(tmpdir(), 'st-src-'));
    try {
      const top = join(base, 'top');
      mkdirSync(join(top, 'b', 'c'), { recursive: true });
      writeFileSync(join(top, 'z.txt'), 'zz');
      writeFileSync(join(top, 'b', 'x.txt'), 'xxx');
      symlinkSync('z.txt', join(top, 'link'));
      const source = await new NodeSourceFiles().open(top);
      try {
        assert.deepEqual(
          source.tree?.entries.map((e) => `${e.kind} ${e.path}`),
          ['dir top', 'dir top/b', 'dir top/b/c', 'file top/b/x.txt', 'file top/z.txt'],
        );
        assert.deepEqual(source.tree?.skipped, [{ path: 'top/link', kind: 'symlink' }]);
        assert.equal(source.size, 5);
        assert.equal(new TextDecoder().decode(await source.read(1, 4)), 'xxzz');
      } finally {
        await source.close();
      }
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
