// docs/requirements.md#pieces: the manifest states the transfer id, file name, size, piece size, piece count and
// compression. It travels as the payload of Noise message 3, so it is encrypted and bound to
// the sender's static key.
import { decodeUtf8, readU64, utf8, viewOf, writeU64 } from '../bytes.js';
import { fail, ok, type Result } from '../errors.js';
import { MAX_FILE_NAME_BYTES, MAX_PIECE_SIZE, MIN_PIECE_SIZE } from '../limits.js';
import { MESSAGE_HEADER_LENGTH, PIECE_HEADER_LENGTH } from '../wire/messages.js';
import { validateFileName } from './file-name.js';
import { isTransferId, transferIdFromBytes, transferIdToBytes } from './transfer-id.js';

export const MANIFEST_VERSION = 1;
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
}

export interface ManifestLimits {
  readonly maxTransferSize: number;
  /** The largest message the receiver takes: a PIECE message carries a whole piece. */
  readonly maxPayloadSize?: number;
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

export function encodeManifest(m: Manifest): Uint8Array {
  const name = utf8(m.fileName);
  const out = new Uint8Array(FIXED_LENGTH + name.length);
  const view = viewOf(out);
  out[0] = MANIFEST_VERSION;
  out[1] = m.resume ? 1 : 0;
  out.set(transferIdToBytes(m.transferId), 2);
  writeU64(view, 18, m.fileSize);
  view.setUint32(26, m.pieceSize);
  view.setUint32(30, m.pieceCount);
  out[34] = COMPRESSION_CODES[m.compression];
  view.setUint16(35, name.length);
  out.set(name, FIXED_LENGTH);
  return out;
}

/** Parses and checks a manifest from the network: every field against its bound (docs/requirements.md#bounds). */
export function decodeManifest(bytes: Uint8Array, limits: ManifestLimits): Result<Manifest> {
  if (bytes.length < FIXED_LENGTH) return fail('E_MANIFEST_INVALID', `manifest is ${bytes.length} bytes, shorter than its fixed part`);
  const view = viewOf(bytes);
  if (bytes[0] !== MANIFEST_VERSION) return fail('E_MANIFEST_INVALID', `manifest version ${bytes[0]} is not supported`);
  const flags = bytes[1] as number;
  if ((flags & ~1) !== 0) return fail('E_MANIFEST_INVALID', `manifest flags ${flags} has unknown bits`);
  const fileSize = readU64(view, 18);
  if (fileSize === undefined) return fail('E_TRANSFER_TOO_LARGE', 'declared file size is beyond 2^53 bytes');
  const nameLength = view.getUint16(35);
  if (nameLength > MAX_FILE_NAME_BYTES) return fail('E_NAME_INVALID', `file name of ${nameLength} bytes exceeds ${MAX_FILE_NAME_BYTES}`);
  if (bytes.length !== FIXED_LENGTH + nameLength) return fail('E_MANIFEST_INVALID', 'manifest length does not match its name length');
  const compressionCode = bytes[34];
  const compression = (Object.keys(COMPRESSION_CODES) as Compression[]).find((c) => COMPRESSION_CODES[c] === compressionCode);
  if (!compression) return fail('E_MANIFEST_INVALID', `compression code ${compressionCode} unknown`);
  const name = decodeUtf8(bytes.subarray(FIXED_LENGTH));
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
  return validateManifest(manifest, limits);
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
