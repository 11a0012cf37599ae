// Whether an entry list makes a tree the receiver may build (docs/folders.md#names). Every name
// follows the single-name rules; beyond them a path has no empty, "." or ".." component, stays
// within the depth and length bounds, lives under a folder listed before it, and no two paths
// are equal once normalised and case-folded, so the tree can be built the same way on a file
// system that ignores case or normalises names. The sender runs the same check before it sends.
import { utf8 } from '../bytes.js';
import { fail, ok, type Result } from '../errors.js';
import { MAX_TREE_DEPTH, MAX_TREE_PATH_BYTES } from '../limits.js';
import { collisionKey, validateFileName } from './file-name.js';
import type { TreeEntry } from './tree.js';

export interface TreeLimits {
  /** ST_MAX_FILES: entries, folders included. */
  readonly maxFiles: number;
  readonly maxPathBytes?: number;
  readonly maxDepth?: number;
}

export function validateTree(rootName: string, entries: readonly TreeEntry[], limits: TreeLimits): Result<void> {
  const maxPathBytes = limits.maxPathBytes ?? MAX_TREE_PATH_BYTES;
  const maxDepth = limits.maxDepth ?? MAX_TREE_DEPTH;
  if (entries.length > limits.maxFiles) {
    return fail('E_TOO_MANY_FILES', `the folder has ${entries.length} entries, over the ${limits.maxFiles} this receiver takes`);
  }
  const first = entries[0];
  if (!first || first.kind !== 'dir' || first.path !== rootName) {
    return fail('E_MANIFEST_INVALID', `the entry list must start with the folder "${rootName}" itself`);
  }
  /** Folders listed so far, by their exact path; every path's collision key. */
  const folders = new Set<string>();
  const keys = new Map<string, string>();
  for (const e of entries) {
    const checked = checkPath(e.path, maxPathBytes, maxDepth);
    if (!checked.ok) return checked;
    const names = checked.value;
    if (names[0] !== rootName) return fail('E_NAME_INVALID', `"${e.path}" is outside the folder "${rootName}"`);
    const parent = names.slice(0, -1).join('/');
    if (names.length > 1 && !folders.has(parent)) {
      return fail('E_NAME_INVALID', `"${e.path}" is not inside a folder listed before it ("${parent}" is not a listed folder)`);
    }
    const key = names.map(collisionKey).join('/');
    const clash = keys.get(key);
    if (clash !== undefined) {
      return fail('E_NAME_INVALID', `"${e.path}" and "${clash}" are the same name on a file system that ignores case or normalises names`);
    }
    keys.set(key, e.path);
    if (e.kind === 'dir') folders.add(e.path);
  }
  return ok(undefined);
}

/** The path's names, each a valid single name, within the bounds. */
function checkPath(path: string, maxPathBytes: number, maxDepth: number): Result<string[]> {
  const bytes = utf8(path).length;
  if (bytes > maxPathBytes) return fail('E_NAME_INVALID', `a path of ${bytes} bytes is over the ${maxPathBytes} allowed`);
  if (path.startsWith('/')) return fail('E_NAME_INVALID', `"${path}" is an absolute path`);
  const names = path.split('/');
  if (names.length > maxDepth) return fail('E_NAME_INVALID', `"${path}" is ${names.length} levels deep, over the ${maxDepth} allowed`);
  for (const name of names) {
    if (name === '') return fail('E_NAME_INVALID', `"${path}" has an empty component`);
    const valid = validateFileName(name);
    if (!valid.ok) return fail('E_NAME_INVALID', `"${path}": ${valid.detail}`);
  }
  return ok(names);
}
