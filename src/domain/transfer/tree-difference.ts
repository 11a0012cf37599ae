// What changed in a source folder between a transfer's first attempt and its resume
// (docs/folders.md#resume): an entry added or removed, else one resized, touched or changed in
// kind or mode, named by its path; undefined when nothing did. Additions and removals come
// first: they also touch the folder that holds them, which would otherwise be named instead.
import type { TreeEntry } from './tree.js';

const kindName = (e: TreeEntry) => (e.kind === 'dir' ? 'folder' : 'file');

export function treeDifference(before: readonly TreeEntry[], now: readonly TreeEntry[]): string | undefined {
  const earlier = new Map(before.map((e) => [e.path, e]));
  const current = new Map(now.map((e) => [e.path, e]));
  for (const e of now) if (!earlier.has(e.path)) return `"${e.path}" was added`;
  for (const e of before) if (!current.has(e.path)) return `"${e.path}" was removed`;
  for (const e of now) {
    const was = earlier.get(e.path)!;
    if (was.kind !== e.kind) return `"${e.path}" was a ${kindName(was)} and is now a ${kindName(e)}`;
    if (was.size !== e.size) return `"${e.path}" was resized from ${was.size} to ${e.size} bytes`;
    if (was.mtimeUs !== e.mtimeUs) return `"${e.path}" was modified`;
    if (was.mode !== e.mode) return `the mode of "${e.path}" changed from ${was.mode.toString(8)} to ${e.mode.toString(8)}`;
  }
  // The same entries in another order would cut the content stream differently.
  if (before.some((e, i) => now[i]?.path !== e.path)) return 'the entries are listed in another order';
  return undefined;
}
