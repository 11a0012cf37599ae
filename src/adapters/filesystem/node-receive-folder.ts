// docs/requirements.md#files: data goes to a temporary file inside the output folder, named after the transfer id
// (never the peer's name), and reaches its final name only through link(2), which fails instead
// of replacing an existing file and does not follow a symlink planted at the final name.
import { constants, mkdirSync } from 'node:fs';
import { link, lstat, open, readdir, rm, statfs, unlink, type FileHandle } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { SecureTransferError } from '../../domain/errors.js';
import type { PartialFile, ReceiveFolder } from '../../domain/ports/files.js';
import { isTransferId } from '../../domain/transfer/transfer-id.js';
import type { TreeEntry } from '../../domain/transfer/tree.js';
import type { BufferPool } from '../../domain/policy/buffer-pool.js';
import { alignedBuffer, alignedStagingPool, isDirectAligned, openDirect } from './direct-io.js';
import { ioError, syncFolder, writeAll } from './file-io.js';
import { finalizeTree, NodePartialTree } from './node-partial-tree.js';
import { finalNameState } from './final-name.js';

function partialName(transferId: string, kind: 'part' | 'tree' = 'part'): string {
  // The id comes from the network: only a UUID may become part of a path.
  if (!isTransferId(transferId)) throw new SecureTransferError('E_MANIFEST_INVALID', 'transfer id is not a UUID');
  return `.securetransfer-${transferId}.${kind}`;
}

const PARTIAL_NAME = /^\.securetransfer-(.+)\.(part|tree)$/;

/** The folder's id file; the reserved prefix keeps it apart from any received name. */
const FOLDER_ID_NAME = '.securetransfer-folder-id';

async function readIdentity(path: string): Promise<string | undefined> {
  let text: string;
  try {
    // Never blocks on a FIFO planted under the name, never follows a link.
    const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const stat = await handle.stat();
      if (!stat.isFile() || stat.size > 100)
        throw new SecureTransferError('E_IO', `${path} is not a small regular file; remove it and start again`);
      text = (await handle.readFile({ encoding: 'utf8' })).trim();
    } finally {
      await handle.close();
    }
  } catch (e) {
    if (e instanceof SecureTransferError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError(`cannot read ${path}`, e);
  }
  if (!isTransferId(text)) throw new SecureTransferError('E_IO', `${path} does not hold a folder id (a UUID); remove it and start again`);
  return text;
}

export class NodePartialFile implements PartialFile {
  /** Set while direct writes work here; cleared for good at the first sign they do not. */
  private directOn: boolean;
  private bytesDirect = 0;

  constructor(
    private readonly handle: FileHandle,
    /** The same inode opened with O_DIRECT, when the file system takes it (direct-io.ts). */
    private readonly direct: FileHandle | undefined,
    private readonly staging: BufferPool,
  ) {
    this.directOn = direct !== undefined;
  }

  /** Bytes that went around the page cache (for tests and diagnostics). */
  get directBytes(): number {
    return this.bytesDirect;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    // Only the last piece of a file is normally unaligned: it goes through the page cache.
    if (this.directOn && isDirectAligned(offset, data.length) && (await this.writeDirect(offset, data))) return;
    await writeAll(this.handle, data, offset);
  }

  /** False, with nothing written, when direct I/O turns out not to work: the caller writes buffered. */
  private async writeDirect(offset: number, data: Uint8Array): Promise<boolean> {
    const done = await this.throughStaging(data.length, async (staging) => {
      staging.set(data);
      const { bytesWritten } = await this.direct!.write(staging, 0, data.length, offset);
      this.bytesDirect += bytesWritten;
      // A short direct write (a full disk) leaves the rest to the buffered path, which reports it.
      if (bytesWritten < data.length) await writeAll(this.handle, data.subarray(bytesWritten), offset + bytesWritten);
      return true;
    });
    return done ?? false;
  }

  async read(offset: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    const buffer = into && into.length >= length ? into.subarray(0, length) : new Uint8Array(length);
    // Pieces written around the page cache are read back the same way (a resume re-hashes them):
    // filling the cache from the disk costs what writing into it did.
    if (this.directOn && isDirectAligned(offset, length)) {
      const got = await this.readDirect(offset, buffer);
      if (got !== undefined) return buffer.subarray(0, got);
    }
    const { bytesRead } = await this.handle.read(buffer, 0, length, offset);
    return buffer.subarray(0, bytesRead);
  }

  /** Bytes read, or undefined when direct I/O turns out not to work (the caller reads buffered). */
  private readDirect(offset: number, buffer: Uint8Array): Promise<number | undefined> {
    return this.throughStaging(buffer.length, async (staging) => {
      const { bytesRead } = await this.direct!.read(staging, 0, buffer.length, offset);
      buffer.set(staging.subarray(0, bytesRead));
      return bytesRead;
    });
  }

  /**
   * Runs one direct read or write through an aligned staging buffer. Undefined, with nothing
   * done, when direct I/O turns out not to work here: no aligned memory, or EINVAL (the kernel
   * refusing the alignment or the flag, checked before any byte moves); direct I/O then stays off.
   */
  private async throughStaging<T>(length: number, io: (staging: Uint8Array) => Promise<T>): Promise<T | undefined> {
    // With the shared pool in use by other files, this one I/O gets aligned memory of its own.
    const staging = this.staging.take(length) ?? alignedBuffer(length)?.subarray(0, length);
    if (!staging) {
      this.directOn = false;
      return undefined;
    }
    try {
      return await io(staging);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
      this.directOn = false;
      return undefined;
    } finally {
      this.staging.give(staging);
    }
  }

  /** fdatasync: the data and the size, which is what a later read needs; cheaper than fsync. */
  sync(): Promise<void> {
    return this.handle.datasync();
  }

  async close(): Promise<void> {
    await this.direct?.close().catch(() => undefined);
    await this.handle.close();
  }
}

export interface ReceiveFolderOptions {
  /** Write aligned pieces with O_DIRECT where the file system takes it (ST_DIRECT_IO). */
  readonly directWrites: boolean;
}

export class NodeReceiveFolder implements ReceiveFolder {
  private readonly staging = alignedStagingPool();
  /** A received folder's modes lose what the receiver's own umask takes from its files. */
  private readonly umask = process.umask();

  constructor(
    readonly path: string,
    private readonly options: ReceiveFolderOptions = { directWrites: true },
  ) {
    mkdirSync(path, { recursive: true, mode: 0o700 });
  }

  async exists(name: string, transferId?: string): Promise<boolean> {
    try {
      const found = await lstat(join(this.path, name));
      // The empty folder a cut finish of this very transfer left under its name is its own, or,
      // when the cut came before it could be recorded, the finish's to explain.
      if (transferId !== undefined && found.isDirectory()) {
        return (await finalNameState(join(this.path, partialName(transferId, 'tree')), join(this.path, name))) === 'taken';
      }
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw ioError(`cannot check ${name}`, e);
    }
  }

  async freeSpace(): Promise<number> {
    const s = await statfs(this.path);
    return s.bavail * s.bsize;
  }

  async openPartial(transferId: string, create: boolean, tree?: readonly TreeEntry[]): Promise<PartialFile> {
    if (tree) return NodePartialTree.open(join(this.path, partialName(transferId, 'tree')), tree, create);
    const flags = constants.O_RDWR | constants.O_NOFOLLOW | (create ? constants.O_CREAT | constants.O_EXCL : 0);
    try {
      const handle = await open(join(this.path, partialName(transferId)), flags, 0o600);
      const direct = this.options.directWrites ? await openDirect(handle) : undefined;
      return new NodePartialFile(handle, direct, this.staging);
    } catch (e) {
      throw ioError(`cannot open the partial file of ${transferId}`, e);
    }
  }

  async hasPartial(transferId: string): Promise<boolean> {
    return (await this.exists(partialName(transferId))) || (await this.exists(partialName(transferId, 'tree')));
  }

  async finalize(transferId: string, name: string, tree?: readonly TreeEntry[]): Promise<string> {
    if (tree) return finalizeTree(join(this.path, partialName(transferId, 'tree')), this.path, name, tree, this.umask);
    const partial = join(this.path, partialName(transferId));
    const final = join(this.path, name);
    try {
      await link(partial, final);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new SecureTransferError(
          'E_FILE_EXISTS',
          `"${name}" appeared in the output folder during the transfer; the data stays in the partial file of ${transferId}`,
        );
      }
      throw ioError(`cannot move the partial file to ${name}`, e);
    }
    await unlink(partial);
    // Make the new directory entry durable too, not only the file's data.
    await syncFolder(this.path);
    return final;
  }

  async listPartials(): Promise<{ transferId: string; modifiedAt: number }[]> {
    const found: { transferId: string; modifiedAt: number }[] = [];
    for (const name of await readdir(this.path)) {
      const m = PARTIAL_NAME.exec(name);
      if (!m || !isTransferId(m[1]!)) continue;
      try {
        found.push({ transferId: m[1]!, modifiedAt: (await lstat(join(this.path, name))).mtimeMs });
      } catch {
        // Removed meanwhile.
      }
    }
    return found;
  }

  /**
   * The folder's own id, kept in a file inside it and made by whichever receiver starts first:
   * receivers that see the same id write to the same folder, whatever path they mount it at.
   * Made under a temporary name and linked into place, so a reader never sees it half written.
   */
  async identity(): Promise<string> {
    const path = join(this.path, FOLDER_ID_NAME);
    const existing = await readIdentity(path);
    if (existing !== undefined) return existing;
    const temp = join(this.path, `${FOLDER_ID_NAME}.${randomUUID()}.tmp`);
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    try {
      await handle.writeFile(`${randomUUID()}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(temp, path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError("cannot record the output folder's id", e);
    } finally {
      await unlink(temp).catch(() => undefined);
    }
    await syncFolder(this.path);
    const made = await readIdentity(path);
    if (made === undefined) throw new SecureTransferError('E_IO', `${path} vanished while it was made`);
    return made;
  }

  async discardPartial(transferId: string): Promise<void> {
    await unlink(join(this.path, partialName(transferId))).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw ioError(`cannot remove the partial file of ${transferId}`, e);
    });
    await rm(join(this.path, partialName(transferId, 'tree')), { recursive: true, force: true }).catch((e: NodeJS.ErrnoException) => {
      throw ioError(`cannot remove the partial folder of ${transferId}`, e);
    });
  }
}
