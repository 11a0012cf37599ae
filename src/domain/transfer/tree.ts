// A folder on the wire (docs/folders.md): its entries in one list, parents before children,
// each with its path inside the transfer (the folder's own name first, "/" between names),
// kind, permission bits, size and modification time. The files' contents follow one another in
// list order and the pieces cut that one stream, so many small files share a piece.
import { decodeUtf8, readU64, toHex, utf8, viewOf, writeU64 } from '../bytes.js';
import { fail, ok, type Result } from '../errors.js';

export type TreeEntryKind = 'file' | 'dir';

export interface TreeEntry {
  /** Relative path, the transfer's top folder first, names joined by "/"; NFC. */
  readonly path: string;
  readonly kind: TreeEntryKind;
  /** Permission bits only (0o777): set-id and sticky bits never travel. */
  readonly mode: number;
  /** Bytes of content; 0 for a folder. */
  readonly size: number;
  /** Modification time in whole microseconds since the epoch. */
  readonly mtimeUs: number;
}

/** kind u8 | mode u16 | size u64 | mtime µs u64 | path length u16 | path */
export const TREE_ENTRY_FIXED_BYTES = 1 + 2 + 8 + 8 + 2;
const KIND_CODES: Record<TreeEntryKind, number> = { file: 0, dir: 1 };
export const PERMISSION_BITS = 0o777;

export function encodeTreeList(entries: readonly TreeEntry[]): Uint8Array {
  const paths = entries.map((e) => utf8(e.path));
  const out = new Uint8Array(paths.reduce((n, p) => n + TREE_ENTRY_FIXED_BYTES + p.length, 0));
  const view = viewOf(out);
  let at = 0;
  entries.forEach((e, i) => {
    const path = paths[i]!;
    out[at] = KIND_CODES[e.kind];
    view.setUint16(at + 1, e.mode);
    writeU64(view, at + 3, e.size);
    writeU64(view, at + 11, e.mtimeUs);
    view.setUint16(at + 19, path.length);
    out.set(path, at + TREE_ENTRY_FIXED_BYTES);
    at += TREE_ENTRY_FIXED_BYTES + path.length;
  });
  return out;
}

/**
 * Parses an entry list from the network: exactly count entries filling exactly the bytes, each
 * field within its type. Whether the entries make a sound tree is treeProblems' question.
 */
export function decodeTreeList(bytes: Uint8Array, count: number, maxPathBytes: number): Result<TreeEntry[]> {
  const view = viewOf(bytes);
  const entries: TreeEntry[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + TREE_ENTRY_FIXED_BYTES > bytes.length) return fail('E_MANIFEST_INVALID', `entry list ends inside entry ${i} of ${count}`);
    const kindCode = bytes[at]!;
    const kind = kindCode === KIND_CODES.file ? 'file' : kindCode === KIND_CODES.dir ? 'dir' : undefined;
    if (!kind) return fail('E_MANIFEST_INVALID', `entry ${i} has the unknown kind ${kindCode}`);
    const mode = view.getUint16(at + 1);
    if ((mode & ~PERMISSION_BITS) !== 0)
      return fail('E_MANIFEST_INVALID', `entry ${i} has mode ${mode.toString(8)}: only permission bits travel`);
    const size = readU64(view, at + 3);
    const mtimeUs = readU64(view, at + 11);
    if (size === undefined) return fail('E_TRANSFER_TOO_LARGE', `entry ${i} declares a size beyond 2^53 bytes`);
    if (mtimeUs === undefined) return fail('E_MANIFEST_INVALID', `entry ${i} has a modification time beyond 2^53 microseconds`);
    if (kind === 'dir' && size !== 0) return fail('E_MANIFEST_INVALID', `entry ${i} is a folder with a size of ${size}`);
    const pathLength = view.getUint16(at + 19);
    if (pathLength > maxPathBytes)
      return fail('E_NAME_INVALID', `entry ${i} has a path of ${pathLength} bytes, over the ${maxPathBytes} allowed`);
    const start = at + TREE_ENTRY_FIXED_BYTES;
    if (start + pathLength > bytes.length) return fail('E_MANIFEST_INVALID', `entry list ends inside the path of entry ${i}`);
    const path = decodeUtf8(bytes.subarray(start, start + pathLength));
    if (path === undefined) return fail('E_NAME_INVALID', `the path of entry ${i} is not valid UTF-8`);
    entries.push({ path, kind, mode, size, mtimeUs });
    at = start + pathLength;
  }
  if (at !== bytes.length) return fail('E_MANIFEST_INVALID', `entry list has ${bytes.length - at} bytes after its ${count} entries`);
  return ok(entries);
}

/** Bytes of content in the whole tree; undefined when the sum leaves the safe integers. */
export function treeContentSize(entries: readonly TreeEntry[]): number | undefined {
  let total = 0;
  for (const e of entries) {
    total += e.size;
    if (!Number.isSafeInteger(total)) return undefined;
  }
  return total;
}

/** What the records keep to tell one folder's list from another: SHA-256 of its encoding, in hex. */
export function entryListHash(list: Uint8Array | undefined, sha256: (data: Uint8Array) => Uint8Array): string | null {
  return list ? toHex(sha256(list)) : null;
}

/** Bytes a file system spends on a tree beyond its files' contents, at most: a block per folder, the rest of each file's last block, an inode each. */
export function treeDiskOverhead(entries: readonly TreeEntry[] | undefined): number {
  const BLOCK = 4096;
  const INODE = 256;
  let total = 0;
  for (const e of entries ?? []) total += INODE + (e.kind === 'dir' ? BLOCK : (BLOCK - (e.size % BLOCK)) % BLOCK);
  return total;
}
