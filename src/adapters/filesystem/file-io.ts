// What the receiving folder's adapters share: a file-system error as the project's error (an
// existing name is E_FILE_EXISTS, anything else E_IO, with the system's code), and a write that
// goes on until every byte is written, and a folder's sync (its names made durable).
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { SecureTransferError } from '../../domain/errors.js';

export function ioError(what: string, e: unknown): SecureTransferError {
  const code = (e as NodeJS.ErrnoException).code;
  return new SecureTransferError(code === 'EEXIST' ? 'E_FILE_EXISTS' : 'E_IO', `${what}: ${code ?? (e as Error).message}`, { cause: e });
}

export async function writeAll(handle: FileHandle, data: Uint8Array, offset: number): Promise<void> {
  let written = 0;
  while (written < data.length) {
    const { bytesWritten } = await handle.write(data, written, data.length - written, offset + written);
    written += bytesWritten;
  }
}

export async function syncFolder(path: string): Promise<void> {
  const dir = await open(path, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
