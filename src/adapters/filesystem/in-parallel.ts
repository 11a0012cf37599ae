// Many small file-system calls, a bounded number at a time: enough to keep the disk and the
// thread pool busy, never thousands of descriptors or requests at once.

/** File-system calls one folder runs at once. */
export const PARALLEL = 16;

/**
 * Runs work over the items, PARALLEL at a time. Every started item finishes before this returns
 * (the first failure is thrown then, and no new item starts after it).
 */
export async function inParallel<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { readonly error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !failure) {
      try {
        await work(items[next++]!);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
  if (failure) throw failure.error;
}
