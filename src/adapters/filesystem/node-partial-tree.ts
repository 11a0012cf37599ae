// A folder being received (docs/folders.md#building): built under a hidden folder named after
// the transfer inside the output folder, its files written at their content-stream offsets,
// made durable like a single file's partial (fdatasync of every file written since the last
// sync), and moved into place only when every piece and the root are checked. Folders and
// files are made owner-only while they are built; their modes and times are set at the end.
import { constants } from 'node:fs';
import { chmod, lstat, mkdir, open, rename, rmdir, utimes, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { SecureTransferError } from '../../domain/errors.js';
import type { PartialFile } from '../../domain/ports/files.js';
import type { TreeEntry } from '../../domain/transfer/tree.js';
import { TreeLayout } from '../../domain/transfer/tree-layout.js';
import { HandleCache } from './handle-cache.js';

/** File-system calls one folder runs at once: enough to keep the disk and the thread pool busy. */
const PARALLEL = 16;
/** Files of one tree open at once (a session's share of the process's descriptors). */
const OPEN_FILES = 32;

async function inParallel<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
}

function ioError(what: string, e: unknown): SecureTransferError {
  const code = (e as NodeJS.ErrnoException).code;
  return new SecureTransferError(code === 'EEXIST' ? 'E_FILE_EXISTS' : 'E_IO', `${what}: ${code ?? (e as Error).message}`, { cause: e });
}

async function writeAll(handle: FileHandle, data: Uint8Array, offset: number): Promise<void> {
  let written = 0;
  while (written < data.length) {
    const { bytesWritten } = await handle.write(data, written, data.length - written, offset + written);
    written += bytesWritten;
  }
}

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
  /** Files written since the last sync. */
  private readonly dirty = new Set<number>();

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
      (i) => (this.dirty.delete(i) ? (h) => h.datasync().catch((e: unknown) => this.stillDirty(i, e)) : undefined),
    );
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
   * A new one must not exist: whatever is in its place is refused. Files are made as their first
   * piece arrives (making two thousand files costs about a second of kernel time here, which
   * would otherwise all come before ACCEPT), and empty ones at the end.
   */
  static async open(base: string, entries: readonly TreeEntry[], create: boolean): Promise<NodePartialTree> {
    try {
      if (create) await mkdir(base, { mode: 0o700 });
      else if (!(await lstat(base)).isDirectory()) throw new SecureTransferError('E_IO', `${base} is not a folder`);
      // Parents come before children in the list, so folders can be made in order.
      for (const e of entries) if (e.kind === 'dir') await ensureFolder(join(base, e.path));
    } catch (e) {
      if (e instanceof SecureTransferError) throw e;
      throw ioError(`cannot prepare the folder being received in ${base}`, e);
    }
    return new NodePartialTree(base, entries, create);
  }

  private filePath(index: number): string {
    return join(this.base, this.layout.files[index]!.path);
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    await Promise.all(
      this.layout.segments(offset, data.length).map((seg) => {
        this.dirty.add(seg.file);
        return this.handles.with(seg.file, (h) =>
          writeAll(h, data.subarray(seg.rangeOffset, seg.rangeOffset + seg.length), seg.fileOffset),
        );
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

  /** A sync that failed leaves its file for the next one, and the failure to the caller. */
  private stillDirty(index: number, e: unknown): never {
    this.dirty.add(index);
    throw e;
  }

  async sync(): Promise<void> {
    await this.handles.settle();
    const files = [...this.dirty];
    this.dirty.clear();
    try {
      await inParallel(files, (i) => this.handles.with(i, (h) => h.datasync()));
    } catch (e) {
      for (const i of files) this.dirty.add(i);
      throw e;
    }
  }

  close(): Promise<void> {
    return this.handles.closeAll();
  }
}

/**
 * utimes takes seconds as a double and the conversion truncates to the microsecond: half a
 * microsecond more lands every time on the one sent (without it, about half land one below).
 */
const seconds = (us: number) => (us + 0.5) / 1_000_000;

/**
 * Moves a complete tree from its hidden folder to its final name in the output folder: empty
 * files made, modes and
 * times set (folders deepest first, so setting a child does not change its parent's time after
 * it), every folder synced so its names are durable, then the move, which never replaces or
 * merges into what is there: the final name is made as an empty folder first (failing if
 * anything has it) and the tree renamed over that empty folder.
 */
export async function finalizeTree(base: string, output: string, name: string, entries: readonly TreeEntry[]): Promise<string> {
  const top = join(base, name);
  const final = join(output, name);
  const root = entries[0]!;
  try {
    // No piece wrote to the empty files: they are made now (a resume's may exist already).
    await inParallel(
      entries.filter((e) => e.kind === 'file' && e.size === 0),
      async (e) => (await open(join(base, e.path), constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW, 0o600)).close(),
    );
    await inParallel(
      entries.filter((e) => e.kind === 'file'),
      async (e) => {
        const path = join(base, e.path);
        await chmod(path, e.mode);
        await utimes(path, seconds(e.mtimeUs), seconds(e.mtimeUs));
      },
    );
    const folders = entries.filter((e) => e.kind === 'dir' && e !== root).reverse();
    for (const e of folders) {
      const path = join(base, e.path);
      await syncFolder(path);
      await chmod(path, e.mode);
      await utimes(path, seconds(e.mtimeUs), seconds(e.mtimeUs));
    }
    await syncFolder(top);
  } catch (e) {
    throw ioError(`cannot finish the folder ${name}`, e);
  }
  try {
    await mkdir(final, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new SecureTransferError(
        'E_FILE_EXISTS',
        `"${name}" appeared in the output folder during the transfer; the data stays in ${base}`,
      );
    }
    throw ioError(`cannot make ${name}`, e);
  }
  try {
    await rename(top, final);
  } catch (e) {
    await rmdir(final).catch(() => undefined);
    throw ioError(`cannot move the received folder to ${name}`, e);
  }
  // The top folder's own mode last: a read-only folder could not have been moved.
  await chmod(final, root.mode);
  await utimes(final, seconds(root.mtimeUs), seconds(root.mtimeUs));
  await syncFolder(final);
  await rmdir(base).catch(() => undefined);
  await syncFolder(output);
  return final;
}

export async function syncFolder(path: string): Promise<void> {
  const dir = await open(path, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
