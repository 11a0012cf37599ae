// A folder's entry list: its wire form, the receiver's rules for a sound tree, the content
// stream's layout and what a resume calls a change.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { utf8, viewOf } from '../../src/domain/bytes.js';
import { MAX_TREE_DEPTH, MAX_TREE_LIST_BYTES, MAX_TREE_PATH_BYTES } from '../../src/domain/limits.js';
import {
  decodeManifest,
  encodeManifest,
  MAX_MANIFEST_BYTES,
  treeListRest,
  withTree,
  type Manifest,
} from '../../src/domain/transfer/manifest.js';
import {
  decodeTreeList,
  encodeTreeList,
  treeDiskOverhead,
  TREE_ENTRY_FIXED_BYTES,
  type TreeEntry,
} from '../../src/domain/transfer/tree.js';
import { treeDifference } from '../../src/domain/transfer/tree-difference.js';
import { TreeLayout } from '../../src/domain/transfer/tree-layout.js';
import { collisionKey } from '../../src/domain/transfer/file-name.js';
import { validateTree } from '../../src/domain/transfer/tree-rules.js';

const dir = (path: string, mode = 0o755): TreeEntry => ({ path, kind: 'dir', mode, size: 0, mtimeUs: 1_700_000_000_000_000 });
const file = (path: string, size: number, mode = 0o644): TreeEntry => ({ path, kind: 'file', mode, size, mtimeUs: 1_700_000_000_123_456 });

const sample: TreeEntry[] = [
  dir('top'),
  file('top/a.txt', 5, 0o600),
  dir('top/sub'),
  file('top/sub/empty', 0),
  file('top/sub/b.bin', 70_000, 0o755),
  dir('top/sub/none'),
];
const limits = { maxFiles: 100 };

function folderManifest(entries: readonly TreeEntry[], over: Partial<Manifest> = {}): Manifest {
  const size = entries.reduce((n, e) => n + e.size, 0);
  return {
    transferId: '1b4e28ba-2fa1-4d2e-883f-0016d3cca427',
    fileName: entries[0]!.path,
    fileSize: size,
    pieceSize: 16_384,
    pieceCount: Math.ceil(size / 16_384),
    compression: 'zstd',
    resume: false,
    tree: { entries, list: encodeTreeList(entries) },
    ...over,
  };
}

describe('entry list on the wire', () => {
  it('round-trips every field', () => {
    const decoded = decodeTreeList(encodeTreeList(sample), sample.length, MAX_TREE_PATH_BYTES);
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.value, sample);
  });

  it('refuses a list cut short, with bytes left over, an unknown kind, extra mode bits or a sized folder', () => {
    const bytes = encodeTreeList(sample);
    for (let n = 0; n < bytes.length; n += 7)
      assert.equal(decodeTreeList(bytes.subarray(0, n), sample.length, MAX_TREE_PATH_BYTES).ok, false, `cut at ${n}`);
    assert.equal(decodeTreeList(bytes, sample.length - 1, MAX_TREE_PATH_BYTES).ok, false, 'bytes after the last entry');
    const kind = bytes.slice();
    kind[0] = 7;
    assert.match(String((decodeTreeList(kind, sample.length, MAX_TREE_PATH_BYTES) as { detail: string }).detail), /unknown kind 7/);
    const setuid = encodeTreeList([dir('top'), { ...file('top/x', 1), mode: 0o4755 }]);
    assert.match(String((decodeTreeList(setuid, 2, MAX_TREE_PATH_BYTES) as { detail: string }).detail), /only permission bits/);
    const sized = encodeTreeList([{ ...dir('top'), size: 9 }]);
    assert.equal(decodeTreeList(sized, 1, MAX_TREE_PATH_BYTES).ok, false);
  });

  it('refuses a path length over the bound from its header, before reading it', () => {
    const long = encodeTreeList([dir('top')]);
    viewOf(long).setUint16(19, 10_000);
    const r = decodeTreeList(long, 1, MAX_TREE_PATH_BYTES);
    assert.equal(r.ok, false);
    assert.match((r as { detail: string }).detail, /10000 bytes/);
  });
});

describe('the rules of a sound tree', () => {
  const refused = (entries: TreeEntry[], pattern: RegExp, root = 'top') => {
    const r = validateTree(root, entries, limits);
    assert.equal(r.ok, false, `accepted ${entries.map((e) => e.path).join(', ')}`);
    assert.match((r as { detail: string }).detail, pattern);
  };

  it('accepts a sound tree', () => assert.ok(validateTree('top', sample, limits).ok));

  it('refuses dot components, empty components, absolute paths and unsafe names', () => {
    refused([dir('top'), dir('top/a'), file('top/a/../b', 1)], /relative directory reference/);
    refused([dir('top'), file('top/./b', 1)], /relative directory reference/);
    refused([dir('top'), dir('top/a'), file('top/a//b', 1)], /empty component/);
    refused([dir('top'), file('/etc/passwd', 1)], /absolute path/);
    refused([dir('top'), file('top/a\u0007b', 1)], /control/);
    refused([dir('top'), file('top/con.txt', 1)], /reserved device/);
    refused([dir('top'), file('top/.securetransfer-x.part', 1)], /reserved for partial/);
  });

  it('refuses entries outside the top folder, under a file, or before their folder', () => {
    refused([dir('top'), file('other/x', 1)], /outside the folder/);
    refused([dir('top'), file('top/f', 1), file('top/f/x', 1)], /not inside a folder listed before it/);
    refused([dir('top'), file('top/d/x', 1), dir('top/d')], /not inside a folder listed before it/);
    refused([file('top', 1)], /must start with the folder/);
    refused([dir('other')], /must start with the folder "top"/);
  });

  it('refuses names that collide once normalised or case-folded', () => {
    refused([dir('top'), file('top/Read.me', 1), file('top/READ.ME', 1)], /same name/);
    refused([dir('top'), file('top/caf\u00e9', 1), dir('top/sub'), file('top/CAF\u00c9', 1)], /same name/);
    refused([dir('top'), file('top/stra\u00dfe', 1), file('top/STRASSE', 1)], /same name/);
    refused([dir('top'), dir('top/A'), dir('top/a')], /same name/);
    assert.equal(collisionKey('e\u0301'), collisionKey('\u00c9'));
  });

  it('refuses a tree deeper, a path longer or more entries than the bounds', () => {
    const deep = [dir('top')];
    for (let i = 1; i < MAX_TREE_DEPTH + 1; i++) deep.push(dir(`${deep[i - 1]!.path}/d`));
    refused(deep, /levels deep/);
    refused([dir('top'), file(`top/${'a/'.repeat(1200)}x`, 1)], /bytes is over/);
    const many = [dir('top'), ...Array.from({ length: 100 }, (_, i) => file(`top/f${i}`, 1))];
    const r = validateTree('top', many, limits);
    assert.equal(r.ok ? undefined : r.code, 'E_TOO_MANY_FILES');
  });
});

describe('folder manifest (version 2)', () => {
  it('round-trips a small folder entirely inside the handshake message', () => {
    const m = folderManifest(sample);
    const bytes = encodeManifest(m);
    assert.equal(bytes[0], 2);
    assert.deepEqual(treeListRest(m, 65_536), []);
    const head = decodeManifest(bytes, { maxTransferSize: 2 ** 40, maxFiles: 100 });
    assert.ok(head.ok && head.value.pendingTree);
    const whole = withTree(head.value.manifest, head.value.pendingTree.inline, head.value.pendingTree.entryCount, {
      maxTransferSize: 2 ** 40,
    });
    assert.ok(whole.ok);
    assert.deepEqual(whole.value.tree?.entries, sample);
  });

  it('sends the rest of a long list after the handshake, in bounded chunks that add up', () => {
    const entries = [dir('top'), ...Array.from({ length: 3000 }, (_, i) => file(`top/file-number-${i}.txt`, 10))];
    const m = folderManifest(entries);
    const bytes = encodeManifest(m);
    assert.ok(bytes.length <= MAX_MANIFEST_BYTES);
    const rest = treeListRest(m, 65_536);
    assert.ok(rest.length >= 1 && rest.every((c) => c.length <= 65_536));
    const head = decodeManifest(bytes, { maxTransferSize: 2 ** 40, maxFiles: 5000 });
    assert.ok(head.ok && head.value.pendingTree);
    const list = new Uint8Array([...head.value.pendingTree.inline, ...rest.flatMap((c) => [...c])]);
    assert.equal(list.length, head.value.pendingTree.listLength);
    assert.ok(withTree(head.value.manifest, list, entries.length, { maxTransferSize: 2 ** 40, maxFiles: 5000 }).ok);
  });

  it('judges the declared count and length before any of the rest arrives', () => {
    const m = folderManifest(sample);
    const bytes = encodeManifest(m);
    const at = bytes.length - m.tree!.list.length - 8;
    const declare = (count: number, length: number) => {
      const b = bytes.slice();
      viewOf(b).setUint32(at, count);
      viewOf(b).setUint32(at + 4, length);
      return decodeManifest(b, { maxTransferSize: 2 ** 40, maxFiles: 100_000 });
    };
    const tenMillion = declare(10_000_000, 10_000_000 * TREE_ENTRY_FIXED_BYTES);
    assert.equal(tenMillion.ok ? undefined : tenMillion.code, 'E_TOO_MANY_FILES');
    const huge = declare(50_000, MAX_TREE_LIST_BYTES + 1);
    assert.equal(huge.ok, false);
    assert.equal(declare(6, 6 * TREE_ENTRY_FIXED_BYTES - 1).ok, false, 'shorter than its entries can be');
    assert.equal(declare(0, 0).ok, false, 'no entries');
    assert.equal(declare(6, m.tree!.list.length + 1).ok, false, 'inline part does not match the declared length');
  });

  it('refuses entries whose sizes do not add up to the declared size, or overflow when summed', () => {
    const m = folderManifest(sample);
    const off = withTree(
      { ...m, fileSize: m.fileSize + 1, pieceCount: Math.ceil((m.fileSize + 1) / m.pieceSize) },
      m.tree!.list,
      sample.length,
      {
        maxTransferSize: 2 ** 40,
      },
    );
    assert.match((off as { detail: string }).detail, /hold 70005 bytes, the manifest declares 70006/);
    const big = 2 ** 52;
    const overflow = encodeTreeList([dir('top'), file('top/a', big), file('top/b', big), file('top/c', big)]);
    const r = withTree(m, overflow, 4, { maxTransferSize: 2 ** 40 });
    assert.equal(r.ok ? undefined : r.code, 'E_TRANSFER_TOO_LARGE');
  });

  it('names the versions it reads when a newer one arrives', () => {
    const bytes = encodeManifest(folderManifest(sample));
    bytes[0] = 3;
    const r = decodeManifest(bytes, { maxTransferSize: 2 ** 40 });
    assert.match((r as { detail: string }).detail, /version 3 is not supported \(this receiver reads versions 1 and 2\)/);
  });

  it('still sends a single file as version 1, which every receiver reads', () => {
    const single: Manifest = { ...folderManifest(sample), fileName: 'x.bin', tree: undefined };
    assert.equal(encodeManifest(single)[0], 1);
  });
});

describe('the content stream', () => {
  const layout = new TreeLayout(sample);

  it('cuts a range across files, skipping empty ones, in order', () => {
    assert.equal(layout.size, 70_005);
    assert.deepEqual(layout.segments(0, 16_384), [
      { file: 0, fileOffset: 0, rangeOffset: 0, length: 5 },
      { file: 2, fileOffset: 0, rangeOffset: 5, length: 16_379 },
    ]);
    assert.deepEqual(layout.segments(65_536, 4469), [{ file: 2, fileOffset: 65_531, rangeOffset: 0, length: 4469 }]);
    assert.throws(() => layout.segments(70_000, 6), RangeError);
  });

  it('counts the files whose every byte lies below an offset', () => {
    assert.equal(layout.filesBelow(0), 0);
    assert.equal(layout.filesBelow(5), 2, 'a.txt, then the empty file after it');
    assert.equal(layout.filesBelow(70_004), 2);
    assert.equal(layout.filesBelow(70_005), 3);
  });
});

describe('what a resume calls a change', () => {
  it('names the entry added, removed, resized, touched or re-moded', () => {
    assert.equal(treeDifference(sample, sample), undefined);
    assert.match(treeDifference(sample, [...sample, file('top/new', 1)])!, /"top\/new" was added/);
    assert.match(treeDifference(sample, sample.slice(0, -1))!, /"top\/sub\/none" was removed/);
    assert.match(
      treeDifference(
        sample,
        sample.map((e) => (e.path === 'top/a.txt' ? { ...e, size: 6 } : e)),
      )!,
      /"top\/a.txt" was resized from 5 to 6/,
    );
    assert.match(
      treeDifference(
        sample,
        sample.map((e) => (e.path === 'top/sub/b.bin' ? { ...e, mtimeUs: e.mtimeUs + 1 } : e)),
      )!,
      /b.bin" was modified/,
    );
    assert.match(
      treeDifference(
        sample,
        sample.map((e) => (e.path === 'top/a.txt' ? { ...e, mode: 0o644 } : e)),
      )!,
      /mode of "top\/a.txt" changed from 600 to 644/,
    );
  });

  it('names an added file rather than the folder whose time it changed', () => {
    const touchedParent = sample.map((e) => (e.path === 'top/sub' ? { ...e, mtimeUs: e.mtimeUs + 5 } : e));
    assert.match(treeDifference(sample, [...touchedParent, file('top/sub/late', 3)])!, /late" was added/);
  });

  it('names a list in another order, which would cut the content differently', () => {
    const swapped = [sample[0]!, sample[2]!, sample[1]!, ...sample.slice(3)];
    assert.match(treeDifference(sample, swapped)!, /another order/);
  });
});

describe('what a folder costs on disk beyond its contents', () => {
  it("counts an inode per entry, a block per folder and the rest of each file's last block", () => {
    assert.equal(treeDiskOverhead(undefined), 0);
    assert.equal(treeDiskOverhead([dir('top')]), 256 + 4096);
    assert.equal(
      treeDiskOverhead([dir('top'), file('top/a', 0), file('top/b', 1), file('top/c', 4096), file('top/d', 4097)]),
      5 * 256 + 4096 + 0 + 4095 + 0 + 4095,
    );
    const empties = [dir('top'), ...Array.from({ length: 100_000 }, (_, i) => file(`top/${i}`, 0))];
    assert.ok(treeDiskOverhead(empties) >= 100_000 * 256, 'a folder of empty files is not free');
  });
});

describe('a path exactly at the bounds', () => {
  it('is accepted at the byte limit and refused one byte over', () => {
    const name = (n: number) => 'a'.repeat(n);
    const parts = ['top'];
    while (utf8(parts.join('/')).length + 201 <= MAX_TREE_PATH_BYTES) parts.push(name(200));
    const base = parts.join('/');
    const last = MAX_TREE_PATH_BYTES - utf8(base).length - 1;
    const entries: TreeEntry[] = parts.map((_, i) => dir(parts.slice(0, i + 1).join('/')));
    assert.ok(validateTree('top', [...entries, file(`${base}/${name(last)}`, 1)], limits).ok);
    assert.equal(validateTree('top', [...entries, file(`${base}/${name(last + 1)}`, 1)], limits).ok, false);
  });
});
