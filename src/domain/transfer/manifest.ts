// docs/requirements.md#pieces: the manifest states the transfer id, file name, size, piece size, piece count and
// compression. It travels as the payload of Noise message 3, so it is encrypted and bound to
// the sender's static key. A folder's manifest (version 2, docs/folders.md) adds its entry
// list: as much as fits in the handshake message, the rest in ENTRIES messages right after it.
import { decodeUtf8, readU64, utf8, viewOf, writeU64 } from '../bytes.js';
import { fail, ok, type Result } from '../errors.js';
import {
  MAX_FILE_NAME_BYTES,
  MAX_NOISE_MESSAGE,
  MAX_PIECE_SIZE,
  MAX_TREE_LIST_BYTES,
  MAX_TREE_PATH_BYTES,
  MIN_PIECE_SIZE,
} from '../limits.js';
import { MESSAGE_HEADER_LENGTH, PIECE_HEADER_LENGTH } from '../wire/messages.js';
import { validateFileName } from './file-name.js';
import { decodeTreeList, treeContentSize, TREE_ENTRY_FIXED_BYTES, type TreeEntry } from './tree.js';
import { validateTree } from './tree-rules.js';
import { isTransferId, transferIdFromBytes, transferIdToBytes } from './transfer-id.js';

/** A single file; what every version of the receiver reads. */
export const MANIFEST_VERSION = 1;
/** A folder: version 1's fields, then the entry list. A receiver that knows only version 1 refuses it by name. */
export const MANIFEST_VERSION_TREE = 2;
/** The versions this code reads. */
export const MANIFEST_VERSIONS = [MANIFEST_VERSION, MANIFEST_VERSION_TREE] as const;
/**
 * The payload of Noise message 3 is what is left of a 65535-byte message after the sender's
 * encrypted static key (32 + 16) and the payload's own tag (16).
 */
export const MAX_MANIFEST_BYTES = MAX_NOISE_MESSAGE - 64;
export type Compression = 'none' | 'zstd';
const COMPRESSION_CODES: Record<Compression, number> = { none: 0, zstd: 1 };

export interface Manifest {
  readonly transferId: string;
  readonly fileName: string;
  readonly fileSize: number;
  readonly pieceSize: number;
  readonly pieceCount: number;
  readonly compression: Compression;
  /** Set when the sender continues an earlier attempt of the same transfer id (docs/requirements.md#durability). */
  readonly resume: boolean;
  /** A folder: fileName is its top folder, fileSize the sum of its files' sizes. */
  readonly tree?: ManifestTree;
}

export interface ManifestTree {
  readonly entries: readonly TreeEntry[];
  /** The entries as encoded on the wire: bound into the transfer's root and kept for a resume. */
  readonly list: Uint8Array;
}

/** A manifest whose entry list has still to arrive in ENTRIES messages. */
export interface ManifestHead {
  readonly manifest: Manifest;
  readonly pendingTree?: { readonly entryCount: number; readonly listLength: number; readonly inline: Uint8Array };
}

export interface ManifestLimits {
  readonly maxTransferSize: number;
  /** The largest message the receiver takes: a PIECE message carries a whole piece. */
  readonly maxPayloadSize?: number;
  /** ST_MAX_FILES: entries of a folder, folders included. */
  readonly maxFiles?: number;
}

export function pieceCountFor(fileSize: number, pieceSize: number): number {
  return Math.ceil(fileSize / pieceSize);
}

/** Byte range of a piece: every piece is pieceSize long except a shorter last one. */
export function pieceRange(m: Pick<Manifest, 'fileSize' | 'pieceSize'>, index: number): { offset: number; length: number } {
  const offset = index * m.pieceSize;
  return { offset, length: Math.min(m.pieceSize, m.fileSize - offset) };
}

const FIXED_LENGTH = 1 + 1 + 16 + 8 + 4 + 4 + 1 + 2;
/** entry count u32 | list length u32, after the name. */
const TREE_HEAD_LENGTH = 8;

/** How many of the list's bytes travel inside the handshake message. */
function inlineListBytes(nameLength: number, listLength: number): number {
  return Math.min(listLength, MAX_MANIFEST_BYTES - FIXED_LENGTH - nameLength - TREE_HEAD_LENGTH);
}

export function encodeManifest(m: Manifest): Uint8Array {
  const name = utf8(m.fileName);
  const tree = m.tree;
  const inline = tree ? inlineListBytes(name.length, tree.list.length) : 0;
  const out = new Uint8Array(FIXED_LENGTH + name.length + (tree ? TREE_HEAD_LENGTH + inline : 0));
  const view = viewOf(out);
  out[0] = tree ? MANIFEST_VERSION_TREE : MANIFEST_VERSION;
  out[1] = m.resume ? 1 : 0;
  out.set(transferIdToBytes(m.transferId), 2);
  writeU64(view, 18, m.fileSize);
  view.setUint32(26, m.pieceSize);
  view.setUint32(30, m.pieceCount);
  out[34] = COMPRESSION_CODES[m.compression];
  view.setUint16(35, name.length);
  out.set(name, FIXED_LENGTH);
  if (tree) {
    const at = FIXED_LENGTH + name.length;
    view.setUint32(at, tree.entries.length);
    view.setUint32(at + 4, tree.list.length);
    out.set(tree.list.subarray(0, inline), at + TREE_HEAD_LENGTH);
  }
  return out;
}

/** The bytes of a folder's entry list that did not fit in the manifest, in chunks of at most chunkSize. */
export function treeListRest(m: Manifest, chunkSize: number): Uint8Array[] {
  if (!m.tree) return [];
  const rest = m.tree.list.subarray(inlineListBytes(utf8(m.fileName).length, m.tree.list.length));
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < rest.length; at += chunkSize) chunks.push(rest.subarray(at, at + chunkSize));
  return chunks;
}

/**
 * Parses and checks a manifest from the network: every field against its bound (docs/requirements.md#bounds).
 * A folder's entry count and list length are judged here, before any of the rest of the list is
 * taken in: the receiver allocates nothing for a list it would refuse.
 */
export function decodeManifest(bytes: Uint8Array, limits: ManifestLimits): Result<ManifestHead> {
  if (bytes.length < FIXED_LENGTH) return fail('E_MANIFEST_INVALID', `manifest is ${bytes.length} bytes, shorter than its fixed part`);
  const view = viewOf(bytes);
  const version = bytes[0]!;
  if (version !== MANIFEST_VERSION && version !== MANIFEST_VERSION_TREE) {
    return fail(
      'E_MANIFEST_INVALID',
      `manifest version ${version} is not supported (this receiver reads versions ${MANIFEST_VERSIONS.join(' and ')})`,
    );
  }
  const flags = bytes[1] as number;
  if ((flags & ~1) !== 0) return fail('E_MANIFEST_INVALID', `manifest flags ${flags} has unknown bits`);
  const fileSize = readU64(view, 18);
  if (fileSize === undefined) return fail('E_TRANSFER_TOO_LARGE', 'declared file size is beyond 2^53 bytes');
  const nameLength = view.getUint16(35);
  if (nameLength > MAX_FILE_NAME_BYTES) return fail('E_NAME_INVALID', `file name of ${nameLength} bytes exceeds ${MAX_FILE_NAME_BYTES}`);
  const nameEnd = FIXED_LENGTH + nameLength;
  if (version === MANIFEST_VERSION ? bytes.length !== nameEnd : bytes.length < nameEnd + TREE_HEAD_LENGTH)
    return fail('E_MANIFEST_INVALID', 'manifest length does not match its name length');
  const compressionCode = bytes[34];
  const compression = (Object.keys(COMPRESSION_CODES) as Compression[]).find((c) => COMPRESSION_CODES[c] === compressionCode);
  if (!compression) return fail('E_MANIFEST_INVALID', `compression code ${compressionCode} unknown`);
  const name = decodeUtf8(bytes.subarray(FIXED_LENGTH, nameEnd));
  if (name === undefined) return fail('E_NAME_INVALID', 'file name is not valid UTF-8');
  const manifest: Manifest = {
    transferId: transferIdFromBytes(bytes.subarray(2, 18)),
    fileName: name,
    fileSize,
    pieceSize: view.getUint32(26),
    pieceCount: view.getUint32(30),
    compression,
    resume: (flags & 1) === 1,
  };
  const valid = validateManifest(manifest, limits);
  if (!valid.ok) return valid;
  if (version === MANIFEST_VERSION) return ok({ manifest });
  const entryCount = view.getUint32(nameEnd);
  const listLength = view.getUint32(nameEnd + 4);
  const inline = bytes.subarray(nameEnd + TREE_HEAD_LENGTH);
  const maxFiles = limits.maxFiles ?? Number.MAX_SAFE_INTEGER;
  if (entryCount > maxFiles)
    return fail('E_TOO_MANY_FILES', `the folder declares ${entryCount} entries, over the ${maxFiles} this receiver takes`);
  if (entryCount === 0) return fail('E_MANIFEST_INVALID', 'a folder manifest with no entries');
  const longest = entryCount * (TREE_ENTRY_FIXED_BYTES + MAX_TREE_PATH_BYTES);
  if (listLength < entryCount * TREE_ENTRY_FIXED_BYTES || listLength > Math.min(MAX_TREE_LIST_BYTES, longest)) {
    return fail(
      'E_MANIFEST_INVALID',
      `an entry list of ${listLength} bytes for ${entryCount} entries is outside ${entryCount * TREE_ENTRY_FIXED_BYTES}..${Math.min(MAX_TREE_LIST_BYTES, longest)}`,
    );
  }
  if (inline.length !== inlineListBytes(nameLength, listLength)) {
    return fail(
      'E_MANIFEST_INVALID',
      `the manifest carries ${inline.length} bytes of its entry list where ${inlineListBytes(nameLength, listLength)} belong`,
    );
  }
  return ok({ manifest, pendingTree: { entryCount, listLength, inline } });
}

/** A folder's manifest with its whole entry list: decoded, a sound tree, and its sizes adding up to the declared size. */
export function withTree(m: Manifest, list: Uint8Array, entryCount: number, limits: ManifestLimits): Result<Manifest> {
  const entries = decodeTreeList(list, entryCount, MAX_TREE_PATH_BYTES);
  if (!entries.ok) return entries;
  const tree = validateTree(m.fileName, entries.value, { maxFiles: limits.maxFiles ?? Number.MAX_SAFE_INTEGER });
  if (!tree.ok) return tree;
  const total = treeContentSize(entries.value);
  if (total === undefined) return fail('E_TRANSFER_TOO_LARGE', 'the sizes of the entries add up to more than 2^53 bytes');
  if (total !== m.fileSize) return fail('E_MANIFEST_INVALID', `the entries hold ${total} bytes, the manifest declares ${m.fileSize}`);
  return ok({ ...m, tree: { entries: entries.value, list } });
}

export function validateManifest(m: Manifest, limits: ManifestLimits): Result<Manifest> {
  if (!isTransferId(m.transferId)) return fail('E_MANIFEST_INVALID', 'transfer id is not a UUID');
  const name = validateFileName(m.fileName);
  if (!name.ok) return name;
  if (!Number.isSafeInteger(m.fileSize) || m.fileSize < 0) return fail('E_MANIFEST_INVALID', 'file size is not a whole number of bytes');
  if (m.fileSize > limits.maxTransferSize) {
    return fail('E_TRANSFER_TOO_LARGE', `declared size ${m.fileSize} exceeds the limit of ${limits.maxTransferSize} bytes`);
  }
  if (!Number.isInteger(m.pieceSize) || m.pieceSize < MIN_PIECE_SIZE || m.pieceSize > MAX_PIECE_SIZE) {
    return fail('E_MANIFEST_INVALID', `piece size ${m.pieceSize} outside ${MIN_PIECE_SIZE}..${MAX_PIECE_SIZE}`);
  }
  if (limits.maxPayloadSize !== undefined && MESSAGE_HEADER_LENGTH + PIECE_HEADER_LENGTH + m.pieceSize > limits.maxPayloadSize) {
    return fail('E_MANIFEST_INVALID', `piece size ${m.pieceSize} exceeds the receiver's largest message of ${limits.maxPayloadSize} bytes`);
  }
  if (m.pieceCount !== pieceCountFor(m.fileSize, m.pieceSize)) {
    return fail('E_MANIFEST_INVALID', `piece count ${m.pieceCount} does not match size ${m.fileSize} / piece size ${m.pieceSize}`);
  }
  return ok(m);
}
