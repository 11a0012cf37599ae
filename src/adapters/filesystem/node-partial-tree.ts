// A folder being received (docs/folders.md#building): built under a hidden folder named after
// the transfer inside the output folder, its files written at their content-stream offsets,
// made durable like a single file's partial (fdatasync of every file written since the last
// sync), and moved into place only when every piece and the root are checked. Folders and
// files are made owner-only while they are built; their modes and times are set at the end.
import { constants } from 'node:fs';
import { chmod, lstat, mkdir, open, rm, utimes, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { SecureTransferError } from '../../domain/errors.js';
import type { PartialFile } from '../../domain/ports/files.js';
import type { TreeEntry } from '../../domain/transfer/tree.js';
import { TreeLayout } from '../../domain/transfer/tree-layout.js';
import { ioError, syncFolder, writeAll } from './file-io.js';
import { moveToFinalName } from './final-name.js';
import { HandleCache } from './handle-cache.js';
import { inParallel } from './in-parallel.js';

/** Files of one tree open at once (a session's share of the process's descriptors). */
const OPEN_FILES = 32;

/** A folder of ours, never a link planted in its place. */
async function ensureFolder(path: string): Promise<void> {
  try {
    await mkdir(path, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    if (!(await lstat(path)).isDirectory()) throw new SecureTransferError('E_IO', `${path} is in the way of a folder being received`);
    await chmod(path, 0o700);
  }
}

export class NodePartialTree implements PartialFile {
  private readonly layout: TreeLayout;
  private readonly handles: HandleCache;
  /**
   * Files with written bytes not yet synced, each with the number of its latest write. A file is
   * marked only once a write has landed (a write still running when a batch syncs belongs to the
   * next batch), and unmarked only by a sync that began after that write.
   */
  private readonly dirty = new Map<number, number>();
  private writes = 0;

  /** Files this session made: opened again without O_CREAT, so one removed meanwhile is an error, not a new empty file. */
  private readonly made = new Set<number>();

  private constructor(
    private readonly base: string,
    entries: readonly TreeEntry[],
    /** A new tree: no file may exist before this session makes it. */
    private readonly fresh: boolean,
  ) {
    this.layout = new TreeLayout(entries);
    // A file written to since its last sync is synced as its handle closes: most files are
    // done with by then, and the batch's sync need not open them all again.
    this.handles = new HandleCache(
      (i) => this.openFile(i),
      OPEN_FILES,
      (i) => {
        const version = this.dirty.get(i);
        return version === undefined ? undefined : (h) => this.syncFile(i, version, h);
      },
    );
  }

  /**
   * The first failed sync, kept: Linux reports a writeback error once, so a later sync of the
   * same file would succeed and an eviction would then unmark it. Every later sync and the close
   * throw it.
   */
  private failure: Error | undefined;

  /** Syncs a file marked by its write numbered version; unmarks it unless a later write landed meanwhile. */
  private async syncFile(index: number, version: number, handle: FileHandle): Promise<void> {
    try {
      await handle.datasync();
    } catch (e) {
      this.failure ??= e instanceof Error ? e : new Error(String(e));
      throw e;
    }
    if (this.dirty.get(index) === version) this.dirty.delete(index);
  }

  private throwFailure(): void {
    if (this.failure !== undefined) throw ioError('a write to the folder being received did not reach the disk', this.failure);
  }

  /**
   * A file of the tree, never through a link. Made with O_EXCL in a new tree; a resume takes up
   * what an earlier attempt made, owner-writable again if a crash left it with its final mode.
   */
  private async openFile(index: number): Promise<FileHandle> {
    const path = this.filePath(index);
    const flags = constants.O_RDWR | constants.O_NOFOLLOW;
    if (this.made.has(index)) return open(path, flags);
    try {
      const handle = await open(path, flags | constants.O_CREAT | (this.fresh ? constants.O_EXCL : 0), 0o600);
      this.made.add(index);
      return handle;
    } catch (e) {
      if (this.fresh || (e as NodeJS.ErrnoException).code !== 'EACCES') throw ioError(`cannot open ${path}`, e);
      await chmod(path, 0o600);
      this.made.add(index);
      return open(path, flags);
    }
  }

  /**
   * Makes (create) or takes up (a resume) the hidden folder with every folder of the tree in it.
   * A new one must not exist: whatever is in its place is refused, and one this call began is
   * removed again if it cannot be finished. Files are made as their first piece arrives (making
   * two thousand files costs from 0.15 to over a second of kernel time here, which would
   * otherwise all come before ACCEPT), and empty ones at the end.
   */
  static async open(base: string, entries: readonly TreeEntry[], create: boolean): Promise<NodePartialTree> {
    let made = false;
    try {
      if (create) {
        await mkdir(base, { mode: 0o700 });
        made = true;
      } else if (!(await lstat(base)).isDirectory()) throw new SecureTransferError('E_IO', `${base} is not a folder`);
      // Parents come before children in the list, so folders can be made in order.
      for (const e of entries) if (e.kind === 'dir') await ensureFolder(join(base, e.path));
    } catch (e) {
      if (made) await rm(base, { recursive: true, force: true }).catch(() => undefined);
      if (e instanceof SecureTransferError) throw e;
      throw ioError(`cannot prepare the folder being received in ${base}`, e);
    }
    return new NodePartialTree(base, entries, create);
  }

  private filePath(index: number): string {
    return join(this.base, this.layout.files[index]!.path);
  }

  /**
   * A piece's parts, a bounded number of files at a time (a piece of one-byte files would
   * otherwise open thousands at once). Every part has landed or failed before this returns, so
   * the caller may reuse the buffer whatever happened.
   */
  async write(offset: number, data: Uint8Array): Promise<void> {
    await inParallel(this.layout.segments(offset, data.length), (seg) =>
      this.handles.with(seg.file, async (h) => {
        await writeAll(h, data.subarray(seg.rangeOffset, seg.rangeOffset + seg.length), seg.fileOffset);
        this.dirty.set(seg.file, ++this.writes);
      }),
    );
  }

  /**
   * Up to length bytes: a file found shorter than listed (or missing) ends the read there; its
   * piece then fails its hash and is sent again.
   */
  async read(offset: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    const buffer = into && into.length >= length ? into.subarray(0, length) : new Uint8Array(length);
    for (const seg of this.layout.segments(offset, length)) {
      const { bytesRead } = await this.handles.with(seg.file, (h) => h.read(buffer, seg.rangeOffset, seg.length, seg.fileOffset));
      if (bytesRead < seg.length) return buffer.subarray(0, seg.rangeOffset + bytesRead);
    }
    return buffer;
  }

  /**
   * Every write that had landed when this was called is durable when it returns: handles being
   * closed finish their syncs first, then every file still marked is synced, then the closes
   * that those syncs started (a file of the batch evicted meanwhile was synced by its close: a
   * failure there must not be hidden by this batch's sync of the same file on a new descriptor,
   * which the kernel would answer with success).
   */
  async sync(): Promise<void> {
    this.throwFailure();
    try {
      await this.handles.settle();
      const due = [...this.dirty];
      await inParallel(due, ([i, version]) => this.handles.with(i, (h) => this.syncFile(i, version, h)));
      await this.handles.settle();
    } catch (e) {
      throw ioError('cannot sync the folder being received', e);
    }
  }

  async close(): Promise<void> {
    try {
      await this.handles.closeAll();
    } catch (e) {
      throw ioError('cannot close the folder being received', e);
    }
    this.throwFailure();
  }
}

/**
 * utimes takes seconds as a double and the conversion truncates to the microsecond: half a
 * microsecond more lands every time on the one sent (without it, about half land one below).
 */
const seconds = (us: number) => (us + 0.5) / 1_000_000;

/** Folders by depth, deepest first: each level's folders are finished together, after everything under them. */
function foldersDeepestFirst(entries: readonly TreeEntry[]): TreeEntry[][] {
  const levels: TreeEntry[][] = [];
  for (const e of entries) {
    if (e.kind !== 'dir') continue;
    const depth = e.path.split('/').length;
    (levels[depth] ??= []).push(e);
  }
  return levels.filter((l) => l !== undefined).reverse();
}

/**
 * Moves a complete tree from its hidden folder to its final name in the output folder: empty
 * files made, modes (less the receiver's umask: a sender never makes anything group- or
 * world-writable that the receiver's own files would not be) and times set, folders deepest
 * first synced (their names are durable) before their own mode and time, in parallel level by
 * level, then the move, which never replaces or merges into what is there (final-name.ts).
 */
export async function finalizeTree(
  base: string,
  output: string,
  name: string,
  entries: readonly TreeEntry[],
  umask: number,
): Promise<string> {
  const top = join(base, name);
  const final = join(output, name);
  const root = entries[0]!;
  const modeOf = (e: TreeEntry) => e.mode & ~umask;
  try {
    // No piece wrote to the empty files: they are made now (a resume's may exist already, even
    // read-only after a crash in an earlier finish: opened for reading, never for writing).
    await inParallel(
      entries.filter((e) => e.kind === 'file' && e.size === 0),
      async (e) => (await open(join(base, e.path), constants.O_RDONLY | constants.O_CREAT | constants.O_NOFOLLOW, 0o600)).close(),
    );
    await inParallel(
      entries.filter((e) => e.kind === 'file'),
      async (e) => {
        const path = join(base, e.path);
        await chmod(path, modeOf(e));
        await utimes(path, seconds(e.mtimeUs), seconds(e.mtimeUs));
      },
    );
    for (const level of foldersDeepestFirst(entries.slice(1))) {
      await inParallel(level, async (e) => {
        const path = join(base, e.path);
        await syncFolder(path);
        await chmod(path, modeOf(e));
        await utimes(path, seconds(e.mtimeUs), seconds(e.mtimeUs));
      });
    }
    await syncFolder(top);
  } catch (e) {
    throw ioError(`cannot finish the folder ${name}`, e);
  }
  await moveToFinalName(base, top, final, name);
  try {
    // The top folder last: synced while it is surely readable, its own mode after the move (a
    // read-only folder could not have been moved).
    await syncFolder(final);
    await chmod(final, modeOf(root));
    await utimes(final, seconds(root.mtimeUs), seconds(root.mtimeUs));
    await rm(base, { recursive: true, force: true });
    await syncFolder(output);
  } catch (e) {
    throw ioError(`${name} is in place, complete, but its finish failed`, e);
  }
  return final;
}
