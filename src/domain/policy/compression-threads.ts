// Whether a send compresses on threads of its own or inline (docs/PERFORMANCE.md#start-up).
// Starting a compression thread costs about 0.1 s here before its first piece (a new isolate
// that loads the codec), while zstd compresses a MiB inline in a few milliseconds: a small
// send is faster with no thread at all, a large one gains a core.

/** Below this size, compressing inline costs less than starting a thread. */
export const THREAD_COMPRESSION_MIN_BYTES = 8 * 1024 * 1024;

/**
 * size: the file's (or folder's) whole size, known before the receiver says what it holds; so a
 * resume of a large transfer with little left still starts a thread, which costs it 0.1 s.
 */
export function compressesOnThreads(size: number): boolean {
  return size >= THREAD_COMPRESSION_MIN_BYTES;
}
