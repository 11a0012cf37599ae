// The last step of a received folder (docs/folders.md#building): its top folder moves from the
// hidden folder to its final name in the output folder, never over or into anything there. The
// final name is made as an empty folder of ours first (mkdir fails if anything has the name),
// and the tree renamed over it: rename replaces an empty folder atomically and fails on one that
// is not empty. A marker in the hidden folder, made before the folder and synced, records which
// folder we made (inode and birth time), so an attempt that crashed before its rename can take
// its own folder back: only that very folder, never another that took the name, even an empty
// one, even one that was given the same inode number later.
import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, readFile, rename, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SecureTransferError } from '../../domain/errors.js';
import { ioError, syncFolder } from './file-io.js';

/** The marker's name: its prefix is one no received name may have, in any case, so no sent folder is ever taken for it. */
export const FINAL_MADE = '.securetransfer-final-name';

const markerAt = (base: string) => join(base, FINAL_MADE);

/**
 * A folder's identity: its inode and its birth time (the change time where the file system keeps
 * no birth time), as decimal text (inodes may pass 2^53). The time tells a folder from a later
 * one given the same inode number. The device is not part of it: device numbers may change
 * across a reboot, so the folder is required to be on the hidden folder's device instead.
 */
export async function folderIdentity(path: string): Promise<{ readonly identity: string; readonly dev: bigint } | undefined> {
  const s = await lstat(path, { bigint: true }).catch(() => undefined);
  if (!s?.isDirectory()) return undefined;
  return { identity: `${s.ino} ${s.birthtimeNs > 0n ? s.birthtimeNs : s.ctimeNs}`, dev: s.dev };
}

/**
 * What the marker says: the identity of the folder an earlier attempt made, or that a marker is
 * there without one (a cut between the marker and the folder, or while it was written);
 * undefined without a marker.
 */
type Marker = { readonly made: string } | { readonly unproven: true };

async function readMarker(base: string): Promise<Marker | undefined> {
  const s = await lstat(markerAt(base)).catch(() => undefined);
  if (!s) return undefined;
  if (!s.isFile()) return { unproven: true };
  const text = await readFile(markerAt(base), 'utf8').catch(() => '');
  return /^\d+ \d+\n$/.test(text) ? { made: text.trimEnd() } : { unproven: true };
}

/** Whether the marker names the folder now at final, on the hidden folder's device. */
async function names(marked: Marker | undefined, base: string, final: string): Promise<boolean> {
  if (marked === undefined || !('made' in marked)) return false;
  const [folder, hidden] = await Promise.all([folderIdentity(final), lstat(base, { bigint: true }).catch(() => undefined)]);
  return folder !== undefined && hidden !== undefined && folder.dev === hidden.dev && folder.identity === marked.made;
}

/** Removes the marker, durably, before the folder it names goes. */
async function removeMarker(base: string): Promise<void> {
  await rm(markerAt(base), { force: true });
  await syncFolder(base);
}

/** Removes the marker, then the empty folder we made; a folder left behind is still named by nothing. */
async function undoFinalName(base: string, final: string): Promise<void> {
  await removeMarker(base).catch(() => undefined);
  await rmdir(final).catch(() => undefined);
}

/** Whether anything has the name (a link counts: it is not followed). */
const present = (path: string) =>
  lstat(path).then(
    () => true,
    () => false,
  );

const isEmptyFolder = (path: string) =>
  readdir(path).then(
    (entries) => entries.length === 0,
    () => false,
  );

/**
 * How the final name stands for this transfer: free, ours (the empty folder an earlier finish
 * made and recorded), unproven (an empty folder there, and a cut finish that could not record
 * whether it made it: the finish will say what to do), or taken.
 */
export async function finalNameState(base: string, final: string): Promise<'free' | 'ours' | 'unproven' | 'taken'> {
  if (!(await present(final))) return 'free';
  if (!(await isEmptyFolder(final))) return 'taken';
  const marked = await readMarker(base);
  if (await names(marked, base, final)) return 'ours';
  return marked !== undefined && 'unproven' in marked ? 'unproven' : 'taken';
}

const taken = (name: string, base: string, why = 'appeared in the output folder during the transfer') =>
  new SecureTransferError('E_FILE_EXISTS', `"${name}" ${why}; the data stays in ${base}`);

/**
 * The final name as an empty folder of ours: the marker first (made empty and synced, so no cut
 * leaves a folder of ours unmarked), then the folder, then its identity in the marker, synced
 * before the rename can happen; or the folder an earlier attempt made and recorded, taken back.
 * A cut before the identity is recorded leaves a folder nothing proves ours: refused, with what
 * to do, rather than risk taking someone else's.
 */
async function claimFinalName(base: string, final: string, name: string): Promise<void> {
  const marked = await readMarker(base);
  if (marked !== undefined) {
    if (await names(marked, base, final)) return;
    const exists = await present(final);
    if (exists && 'unproven' in marked) {
      // Kept: once the folder is removed by hand, the resume goes on.
      throw taken(
        name,
        base,
        'is in the output folder, and a finish of this transfer was cut before it could record whether it made it: if it is an empty folder of no use, remove it and resume',
      );
    }
    // The folder it named is gone: the marker goes too.
    await removeMarker(base);
    if (exists) throw taken(name, base);
  }
  try {
    await (await open(markerAt(base), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)).close();
    await syncFolder(base);
  } catch (e) {
    throw ioError(`cannot mark ${name} as being made`, e);
  }
  try {
    await mkdir(final, { mode: 0o700 });
  } catch (e) {
    await removeMarker(base).catch(() => undefined);
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw taken(name, base);
    throw ioError(`cannot make ${name}`, e);
  }
  try {
    const made = await folderIdentity(final);
    if (!made) throw new Error(`${final} is no longer a folder`);
    const marker = await open(markerAt(base), constants.O_WRONLY | constants.O_TRUNC | constants.O_NOFOLLOW);
    try {
      await marker.writeFile(`${made.identity}\n`);
      await marker.sync();
    } finally {
      await marker.close();
    }
  } catch (e) {
    await undoFinalName(base, final);
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
    // Something was put into our empty folder, or something else put in its place: someone else's now.
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR') {
      await removeMarker(base).catch(() => undefined);
      throw taken(name, base);
    }
    await undoFinalName(base, final);
    throw ioError(`cannot move the received folder to ${name}`, e);
  }
}
