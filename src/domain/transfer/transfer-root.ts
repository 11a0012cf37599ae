import { concatBytes, utf8, viewOf } from '../bytes.js';
import type { Manifest } from './manifest.js';

const DOMAIN = utf8('SecureTransfer/1 transfer root');
const TREE_DOMAIN = utf8('SecureTransfer/2 tree root');

function u64(n: number): Uint8Array {
  const out = new Uint8Array(8);
  const view = viewOf(out);
  view.setUint32(0, Math.floor(n / 0x1_0000_0000));
  view.setUint32(4, n >>> 0);
  return out;
}

/**
 * docs/requirements.md#pieces: the end of the transfer carries a root over the piece hashes, so the sender hashes
 * while it sends instead of reading the file twice. root = SHA-256(domain | u64 size | hashes).
 * The size is bound in so two files with the same pieces but different lengths cannot collide.
 * A folder's root binds its entry list too (docs/folders.md#pieces): the same contents under
 * other names, modes or times make another root.
 * root = SHA-256(tree domain | u64 list length | list | u64 size | hashes).
 */
export function transferRootInput(m: Pick<Manifest, 'fileSize' | 'tree'>, pieceHashes: Uint8Array): Uint8Array {
  if (!m.tree) return concatBytes(DOMAIN, u64(m.fileSize), pieceHashes);
  return concatBytes(TREE_DOMAIN, u64(m.tree.list.length), m.tree.list, u64(m.fileSize), pieceHashes);
}
