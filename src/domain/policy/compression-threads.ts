// Whether a send compresses on threads of its own or inline (docs/PERFORMANCE.md#start-up).
// Starting a compression thread costs about 0.1 s here before its first piece (a new isolate
// that loads the codec), while zstd compresses a MiB inline in a few milliseconds: a small
// send is faster with no thread at all, a large one gains a core.

/** Below this many bytes to send, compressing inline costs less than starting a thread. */
export const THREAD_COMPRESSION_MIN_BYTES = 8 * 1024 * 1024;

export function compressesOnThreads(bytesToSend: number): boolean {
  return bytesToSend >= THREAD_COMPRESSION_MIN_BYTES;
}
