// Direct I/O (O_DIRECT) for the receiver's piece writes, and for reading them back on a resume.
// A buffered write copies every byte into the page cache first, and on this kind of VM fresh
// page-cache pages are expensive: writing 1 GiB cost 2.5-3.4 CPU seconds buffered (then
// fdatasync) against 0.75 s direct (measured with dd and with node, docs/PERFORMANCE.md); the
// data must reach the disk before a piece is recorded anyway. O_DIRECT asks for offsets,
// lengths and memory aligned to the device's block: 4096 covers the file systems we meet.
// Anything else, or a file system that refuses O_DIRECT, takes the buffered path, so direct
// I/O is only ever a speed-up.
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { MAX_PIECE_SIZE } from '../../domain/limits.js';
import { BufferPool } from '../../domain/policy/buffer-pool.js';

export const DIRECT_ALIGNMENT = 4096;
/** WebAssembly memory grows in 64 KiB pages. */
const WASM_PAGE = 65536;
/** The one WebAssembly API used here (the project's type libraries do not declare WebAssembly). */
type WasmMemory = new (descriptor: { initial: number; maximum: number }) => { readonly buffer: ArrayBuffer };
const WasmMemory = (globalThis as { WebAssembly?: { Memory: WasmMemory } }).WebAssembly?.Memory;
/**
 * Aligned staging memory kept for reuse, shared by every file of a folder: room for one write in
 * flight per file (DurablePieceSink) and the reads of a resume's check, at the largest piece size.
 */
const STAGING_POOL_BYTES = 6 * MAX_PIECE_SIZE;

export function isDirectAligned(offset: number, length: number): boolean {
  return length > 0 && offset % DIRECT_ALIGNMENT === 0 && length % DIRECT_ALIGNMENT === 0;
}

/**
 * Page-aligned memory. Node has no aligned allocation, and a Buffer's address is an allocator's
 * choice (glibc puts a 16-byte header before large blocks); WebAssembly memory is mapped by V8
 * on page boundaries. Undefined where WebAssembly is unavailable (node --jitless).
 */
export function alignedBuffer(length: number): Uint8Array | undefined {
  if (WasmMemory === undefined) return undefined;
  try {
    const pages = Math.ceil(length / WASM_PAGE);
    return new Uint8Array(new WasmMemory({ initial: pages, maximum: pages }).buffer);
  } catch {
    return undefined;
  }
}

/**
 * A second descriptor on an open file, with O_DIRECT. It is reopened through /proc/self/fd so
 * it names the very inode already open (never a path someone could have swapped since), and
 * checked to be that inode. Undefined where /proc or O_DIRECT is missing.
 */
export async function openDirect(handle: FileHandle): Promise<FileHandle | undefined> {
  if (constants.O_DIRECT === undefined) return undefined;
  let direct: FileHandle | undefined;
  try {
    direct = await open(`/proc/self/fd/${handle.fd}`, constants.O_RDWR | constants.O_DIRECT);
    const [a, b] = await Promise.all([handle.stat({ bigint: true }), direct.stat({ bigint: true })]);
    if (a.dev === b.dev && a.ino === b.ino) return direct;
  } catch {
    // EINVAL (no O_DIRECT on this file system), ENOENT (no /proc): buffered writes it is.
  }
  await direct?.close().catch(() => undefined);
  return undefined;
}

/** The pool of page-aligned buffers that direct writes copy from and direct reads land in. */
export function alignedStagingPool(): BufferPool {
  return new BufferPool(STAGING_POOL_BYTES, { allocate: alignedBuffer });
}
