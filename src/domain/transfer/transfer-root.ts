import { concatBytes, utf8, viewOf } from '../bytes.js';

const DOMAIN = utf8('SecureTransfer/1 transfer root');

/**
 * docs/requirements.md#pieces: the end of the transfer carries a root over the piece hashes, so the sender hashes
 * while it sends instead of reading the file twice. root = SHA-256(domain | u64 size | hashes).
 * The size is bound in so two files with the same pieces but different lengths cannot collide.
 */
export function transferRootInput(fileSize: number, pieceHashes: Uint8Array): Uint8Array {
  const size = new Uint8Array(8);
  const view = viewOf(size);
  view.setUint32(0, Math.floor(fileSize / 0x1_0000_0000));
  view.setUint32(4, fileSize >>> 0);
  return concatBytes(DOMAIN, size, pieceHashes);
}
