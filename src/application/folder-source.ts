// A folder as the sender sends it (docs/folders.md): its entries checked by the receiver's own
// rules before anything is sent, so a name the receiver would refuse is reported here with its
// path; on a resume, the folder compared entry by entry with what the first attempt sent.
import { SecureTransferError } from '../domain/errors.js';
import { MAX_TREE_LIST_BYTES, MAX_TREE_PATH_BYTES } from '../domain/limits.js';
import type { SkippedEntry, SourceFile } from '../domain/ports/files.js';
import type { TransferRecord } from '../domain/ports/transfer-store.js';
import type { ManifestTree } from '../domain/transfer/manifest.js';
import { decodeTreeList, encodeTreeList } from '../domain/transfer/tree.js';
import { treeDifference } from '../domain/transfer/tree-difference.js';
import { validateTree } from '../domain/transfer/tree-rules.js';
import { validateFileName } from '../domain/transfer/file-name.js';

/** Entries a sender lists at most; a receiver takes ST_MAX_FILES of them. */
const MAX_SENT_ENTRIES = 1_000_000;
/** Names a refusal lists; the rest are counted. */
const SHOWN_REFUSALS = 10;
/** Skipped entries the record keeps by name; the rest are counted. */
const SKIPPED_SAMPLE = 20;

/** The folder's manifest part; E_NAME_INVALID or E_TOO_MANY_FILES naming what the receiver would refuse. */
export function folderTree(source: SourceFile): ManifestTree | undefined {
  if (!source.tree) return undefined;
  const { entries } = source.tree;
  // Every name the receiver would refuse, not only the first, so one look fixes them all.
  const refused = entries.flatMap((e) => {
    const bad = e.path.split('/').find((name) => !validateFileName(name).ok);
    return bad === undefined ? [] : [`"${e.path}" (${(validateFileName(bad) as { detail: string }).detail})`];
  });
  if (refused.length > 0) {
    const more = refused.length > SHOWN_REFUSALS ? `, and ${refused.length - SHOWN_REFUSALS} more` : '';
    throw new SecureTransferError(
      'E_NAME_INVALID',
      `cannot send the folder ${source.path}: ${refused.length} names a receiver refuses: ${refused.slice(0, SHOWN_REFUSALS).join('; ')}${more}. Rename them, or send the rest without them`,
    );
  }
  const valid = validateTree(source.name, entries, { maxFiles: MAX_SENT_ENTRIES });
  if (!valid.ok) throw new SecureTransferError(valid.code, `cannot send the folder ${source.path}: ${valid.detail}`);
  const list = encodeTreeList(entries);
  if (list.length > MAX_TREE_LIST_BYTES) {
    throw new SecureTransferError(
      'E_TOO_MANY_FILES',
      `cannot send the folder ${source.path}: its ${entries.length} entries take ${list.length} bytes to list, over the ${MAX_TREE_LIST_BYTES} a transfer may`,
    );
  }
  return { entries, list };
}

/** What the record keeps of the entries that were not sent: the count and the first few, one per line. */
export function skippedRecord(skipped: readonly SkippedEntry[]): { skippedCount: number; skippedSample: string | null } {
  if (skipped.length === 0) return { skippedCount: 0, skippedSample: null };
  return {
    skippedCount: skipped.length,
    skippedSample: skipped
      .slice(0, SKIPPED_SAMPLE)
      .map((s) => `${s.path} (${s.kind})`)
      .join('\n'),
  };
}

/**
 * The folder's manifest part for a resume: the first attempt's list, refused with the path that
 * changed when the folder is no longer what it was (a resume would mix two versions of it).
 */
export function resumedTree(earlier: TransferRecord, source: SourceFile): ManifestTree | undefined {
  const changed = (what: string) =>
    new SecureTransferError(
      'E_SOURCE_CHANGED',
      `${source.path} changed since the first attempt: ${what}. Resuming would mix two versions; send it again as a new transfer`,
    );
  if (earlier.entryList === null) {
    if (source.tree) throw changed('it was a file and is now a folder');
    return undefined;
  }
  if (!source.tree) throw changed('it was a folder and is now a file');
  const before = decodeTreeList(earlier.entryList, earlier.entryCount, MAX_TREE_PATH_BYTES);
  if (!before.ok) throw new SecureTransferError('E_INTERNAL', `the recorded entry list of ${earlier.id} cannot be read: ${before.detail}`);
  const difference = treeDifference(before.value, source.tree.entries);
  if (difference) throw changed(difference);
  return { entries: before.value, list: earlier.entryList };
}
