// The last step of a received folder (docs/folders.md#building): its top folder moves from the
// hidden folder to its final name in the output folder, never over or into anything there. The
// final name is made as an empty folder of ours first (mkdir fails if anything has the name),
// and the tree renamed over it: rename replaces an empty folder atomically and fails on one that
// is not empty. A marker in the hidden folder records which folder we made (device and inode),
// so an attempt that crashed before its rename can take its own folder back: only that very
// folder, never another that took the name, even an empty one.
import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, readFile, rename, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SecureTransferError } from '../../domain/errors.js';
import { ioError, syncFolder } from './file-io.js';

/** The marker's name: its prefix is one no received name may have, in any case, so no sent folder is ever taken for it. */
export const FINAL_MADE = '.securetransfer-final-name';

const markerAt = (base: string) => join(base, FINAL_MADE);

/** A folder's identity: device and inode, as decimal text (inodes may pass 2^53). */
async function identityOf(path: string): Promise<string | undefined> {
  const s = await lstat(path, { bigint: true }).catch(() => undefined);
  return s?.isDirectory() ? `${s.dev} ${s.ino}` : undefined;
}

/**
 * What the marker says: the identity of the folder an earlier attempt made, or that a marker is
 * there without a complete identity (a crash while it was written); undefined without a marker.
 */
type Marker = { readonly made: string } | { readonly unproven: true };

async function readMarker(base: string): Promise<Marker | undefined> {
  const s = await lstat(markerAt(base)).catch(() => undefined);
  if (!s) return undefined;
  if (!s.isFile()) return { unproven: true };
  const text = await readFile(markerAt(base), 'utf8').catch(() => '');
  return /^\d+ \d+\n$/.test(text) ? { made: text.trimEnd() } : { unproven: true };
}

/** Whether the marker names the folder now at path. */
async function names(marked: Marker | undefined, path: string): Promise<boolean> {
  return marked !== undefined && 'made' in marked && marked.made === (await identityOf(path));
}

/** Removes the marker, durably, before the folder it names goes: a marker must never name a folder that may be someone else's. */
async function removeMarker(base: string): Promise<void> {
  await rm(markerAt(base), { force: true });
  await syncFolder(base);
}

/** Whether the final name is the folder an earlier finish of this tree made, still empty. */
export async function ownFinalName(base: string, final: string): Promise<boolean> {
  if (!(await names(await readMarker(base), final))) return false;
  return readdir(final).then(
    (names) => names.length === 0,
    () => false,
  );
}

const taken = (name: string, base: string, why = 'appeared in the output folder during the transfer') =>
  new SecureTransferError('E_FILE_EXISTS', `"${name}" ${why}; the data stays in ${base}`);

/**
 * The final name as an empty folder of ours, recorded in the marker (written and synced before
 * the rename can happen); or the one an earlier attempt made and recorded, taken back. A crash
 * between making the folder and recording it leaves a folder nothing proves ours: refused, with
 * what to do, rather than risk taking someone else's.
 */
async function claimFinalName(base: string, final: string, name: string): Promise<void> {
  const marked = await readMarker(base);
  if (marked !== undefined) {
    if (await names(marked, final)) return;
    const exists = await lstat(final).then(
      () => true,
      () => false,
    );
    if (exists && 'unproven' in marked) {
      // Kept: once the folder is removed by hand, the resume goes on.
      throw taken(
        name,
        base,
        'is in the output folder, and a finish of this transfer was cut before it could record whether it made it: if it is an empty folder of no use, remove it and resume',
      );
    }
    // The folder it names is gone: the marker goes too, before anything else takes the name (or the inode).
    await removeMarker(base);
    if (exists) throw taken(name, base);
  }
  try {
    await mkdir(final, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw taken(name, base);
    throw ioError(`cannot make ${name}`, e);
  }
  try {
    const identity = await identityOf(final);
    if (!identity) throw new Error(`${final} is no longer a folder`);
    const marker = await open(markerAt(base), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      await marker.writeFile(`${identity}\n`);
      await marker.sync();
    } finally {
      await marker.close();
    }
    await syncFolder(base);
  } catch (e) {
    // Not recorded: the folder goes again (the marker first, so it never names a folder we removed).
    await removeMarker(base)
      .then(() => rmdir(final))
      .catch(() => undefined);
    throw ioError(`cannot record the making of ${name}`, e);
  }
}

/** Moves the tree's top folder to its final name (see above); the marker goes with the hidden folder afterwards. */
export async function moveToFinalName(base: string, top: string, final: string, name: string): Promise<void> {
  await claimFinalName(base, final, name);
  try {
    await rename(top, final);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // Something was put into our empty folder meanwhile: it is someone else's now.
    const intoTaken = code === 'ENOTEMPTY' || code === 'EEXIST';
    await removeMarker(base)
      .then(() => (intoTaken ? undefined : rmdir(final)))
      .catch(() => undefined);
    if (intoTaken) throw taken(name, base);
    throw ioError(`cannot move the received folder to ${name}`, e);
  }
}
