import { open, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { SecureTransferError } from '../../domain/errors.js';
import type { SourceFile, SourceFiles } from '../../domain/ports/files.js';
import { openSourceTree } from './node-source-tree.js';

export class NodeSourceFiles implements SourceFiles {
  async open(path: string): Promise<SourceFile> {
    const full = resolve(path);
    // The path the user named is followed (as scp and rsync follow it); links inside a folder are not.
    const target = await stat(full).catch(() => undefined);
    if (target?.isDirectory()) return openSourceTree(full, path);
    let handle;
    try {
      handle = await open(full, 'r');
    } catch (e) {
      throw new SecureTransferError('E_IO', `cannot open ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
        cause: e,
      });
    }
    const info = await handle.stat();
    if (!info.isFile()) {
      await handle.close();
      throw new SecureTransferError('E_IO', `${path} is not a regular file`);
    }
    return {
      path: full,
      name: basename(full),
      size: info.size,
      // Whole milliseconds: what the database keeps and what utimes(2) callers can restore.
      modifiedAt: Math.trunc(info.mtimeMs),
      async read(offset, length, into) {
        // A reused buffer is already mapped: fresh 1 MiB buffers cost a page fault per 4 KiB.
        const buffer = into && into.length >= length ? into : new Uint8Array(length);
        let filled = 0;
        while (filled < length) {
          const { bytesRead } = await handle.read(buffer, filled, length - filled, offset + filled);
          if (bytesRead === 0) throw new SecureTransferError('E_SOURCE_CHANGED', `${path} became shorter while it was being sent`);
          filled += bytesRead;
        }
        return buffer.subarray(0, length);
      },
      close: () => handle.close(),
    };
  }
}
