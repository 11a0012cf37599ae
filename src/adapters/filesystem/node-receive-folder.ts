// SPEC §4: data goes to a temporary file inside the output folder, named after the transfer id
// (never the peer's name), and reaches its final name only through link(2), which fails instead
// of replacing an existing file and does not follow a symlink planted at the final name.
import { constants, mkdirSync } from 'node:fs';
import { link, lstat, open, statfs, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { SecureTransferError } from '../../domain/errors.js';
import type { PartialFile, ReceiveFolder } from '../../domain/ports/files.js';
import { isTransferId } from '../../domain/transfer/transfer-id.js';

function partialName(transferId: string): string {
  // The id comes from the network: only a UUID may become part of a path.
  if (!isTransferId(transferId)) throw new SecureTransferError('E_MANIFEST_INVALID', 'transfer id is not a UUID');
  return `.securetransfer-${transferId}.part`;
}

function ioError(what: string, e: unknown): SecureTransferError {
  const code = (e as NodeJS.ErrnoException).code;
  return new SecureTransferError(code === 'EEXIST' ? 'E_FILE_EXISTS' : 'E_IO', `${what}: ${code ?? (e as Error).message}`, { cause: e });
}

class NodePartialFile implements PartialFile {
  constructor(private readonly handle: FileHandle) {}

  async write(offset: number, data: Uint8Array): Promise<void> {
    let written = 0;
    while (written < data.length) {
      const { bytesWritten } = await this.handle.write(data, written, data.length - written, offset + written);
      written += bytesWritten;
    }
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const buffer = new Uint8Array(length);
    const { bytesRead } = await this.handle.read(buffer, 0, length, offset);
    return buffer.subarray(0, bytesRead);
  }

  /** fdatasync: the data and the size, which is what a later read needs; cheaper than fsync. */
  sync(): Promise<void> {
    return this.handle.datasync();
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

export class NodeReceiveFolder implements ReceiveFolder {
  constructor(readonly path: string) {
    mkdirSync(path, { recursive: true, mode: 0o700 });
  }

  async exists(name: string): Promise<boolean> {
    try {
      await lstat(join(this.path, name));
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

  async openPartial(transferId: string, create: boolean): Promise<PartialFile> {
    const flags = constants.O_RDWR | constants.O_NOFOLLOW | (create ? constants.O_CREAT | constants.O_EXCL : 0);
    try {
      return new NodePartialFile(await open(join(this.path, partialName(transferId)), flags, 0o600));
    } catch (e) {
      throw ioError(`cannot open the partial file of ${transferId}`, e);
    }
  }

  async hasPartial(transferId: string): Promise<boolean> {
    return this.exists(partialName(transferId));
  }

  async finalize(transferId: string, name: string): Promise<string> {
    const partial = join(this.path, partialName(transferId));
    const final = join(this.path, name);
    try {
      await link(partial, final);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new SecureTransferError('E_FILE_EXISTS', `"${name}" appeared in the output folder during the transfer; the data stays in ${partial}`);
      }
      throw ioError(`cannot move the partial file to ${name}`, e);
    }
    await unlink(partial);
    // Make the new directory entry durable too, not only the file's data.
    const dir = await open(this.path, constants.O_RDONLY);
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    return final;
  }

  async discardPartial(transferId: string): Promise<void> {
    await unlink(join(this.path, partialName(transferId))).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw ioError(`cannot remove the partial file of ${transferId}`, e);
    });
  }
}
