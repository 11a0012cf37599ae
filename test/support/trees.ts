// Folders for tests and the bench: made on disk with known names, sizes, modes and times, and
// read back as a snapshot that two trees can be compared by.
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { writeRandomFile } from './files.js';

export interface TreeShape {
  /** Small text files, spread over folders of 100. */
  readonly smallFiles: number;
  /** Bytes of each small file, about. */
  readonly smallSize: number;
  /** One large random file, in bytes; 0 for none. */
  readonly bigFile: number;
}

/** Text that compresses like source code or logs, different in every file. */
function textOf(seed: number, size: number): string {
  let out = '';
  for (let line = 0; out.length < size; line++) {
    out += `${line.toString().padStart(5, '0')} item=${(seed * 7919 + line * 104_729) % 1_000_003} status=${200 + ((seed + line) % 5)} name=entry-${seed}-${line}\n`;
  }
  return out.slice(0, size);
}

/**
 * A tree with what a real one has: nested and empty folders, an empty file, Unicode names,
 * modes 0600 and 0755, a symlink and (where mkfifo exists) a pipe that must be skipped, small
 * files and, optionally, one large one. Every entry gets a distinct, past modification time.
 */
export function makeTree(root: string, shape: TreeShape): { skipped: string[] } {
  mkdirSync(join(root, 'empty-folder'), { recursive: true });
  mkdirSync(join(root, 'nested', 'deeper', 'deepest', 'empty-too'), { recursive: true });
  writeFileSync(join(root, 'empty.txt'), '');
  writeFileSync(join(root, 'nested', 'deeper', 'note.md'), '# a note\n');
  writeFileSync(join(root, 'Ünïcödé — 文件.txt'), 'unicode\n');
  writeFileSync(join(root, 'nested', 'emoji-🙂.md'), 'smile\n');
  writeFileSync(join(root, 'secret.key'), 'private\n');
  chmodSync(join(root, 'secret.key'), 0o600);
  writeFileSync(join(root, 'run.sh'), '#!/bin/sh\necho hi\n');
  chmodSync(join(root, 'run.sh'), 0o755);
  mkdirSync(join(root, 'private'), { mode: 0o700 });
  chmodSync(join(root, 'private'), 0o700);
  writeFileSync(join(root, 'private', 'inside.txt'), 'inside\n');
  for (let i = 0; i < shape.smallFiles; i++) {
    const folder = join(root, 'small', `part-${String(Math.floor(i / 100)).padStart(3, '0')}`);
    if (i % 100 === 0) mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `file-${String(i).padStart(5, '0')}.txt`), textOf(i, shape.smallSize + (i % 7) * 13));
  }
  if (shape.bigFile > 0) {
    mkdirSync(join(root, 'big'));
    writeRandomFile(join(root, 'big', 'blob.bin'), shape.bigFile);
  }
  symlinkSync('secret.key', join(root, 'link-to-secret'));
  const skipped = ['link-to-secret'];
  try {
    execFileSync('mkfifo', [join(root, 'a-pipe')]);
    skipped.push('a-pipe');
  } catch {
    // No mkfifo here: the symlink alone stands for what is skipped.
  }
  // Distinct past times, children before their folders (setting a child's time does not touch
  // its folder's, but creating it did).
  let t = 1_600_000_000;
  const touch = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const s = lstatSync(path);
      if (s.isDirectory()) touch(path);
      if (s.isDirectory() || s.isFile()) utimesSync(path, t, (t += 61) + 0.123);
    }
  };
  touch(root);
  utimesSync(root, t, t + 0.5);
  return { skipped };
}

export interface EntrySnapshot {
  readonly kind: 'file' | 'dir' | 'other';
  readonly mode: number;
  readonly size: number;
  /** Whole microseconds: what the wire carries. */
  readonly mtimeUs: number;
  readonly sha256?: string;
}

const microseconds = (path: string) => Number(lstatSync(path, { bigint: true }).mtimeNs / 1000n);

/** Every entry under root by relative path: kind, mode, size, time, and a file's hash. */
export function snapshotTree(root: string): Map<string, EntrySnapshot> {
  const out = new Map<string, EntrySnapshot>();
  const visit = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const s = lstatSync(path);
      const kind = s.isDirectory() ? 'dir' : s.isFile() ? 'file' : 'other';
      out.set(r, {
        kind,
        mode: s.mode & 0o7777,
        size: kind === 'file' ? s.size : 0,
        mtimeUs: microseconds(path),
        ...(kind === 'file' && { sha256: createHash('sha256').update(readFileSync(path)).digest('hex') }),
      });
      if (kind === 'dir') visit(path, r);
    }
  };
  const top = lstatSync(root);
  out.set('.', { kind: 'dir', mode: top.mode & 0o7777, size: 0, mtimeUs: microseconds(root) });
  visit(root, '');
  return out;
}

/** The snapshot of a source tree as it should arrive: without what the sender skips. */
export function expectedArrival(source: Map<string, EntrySnapshot>): Map<string, EntrySnapshot> {
  return new Map([...source].filter(([, e]) => e.kind !== 'other'));
}
