// Where a range of a folder's content stream lies (docs/folders.md#pieces): the files' contents
// follow one another in list order, so a range maps to consecutive pieces of one or more files.
import type { TreeEntry } from './tree.js';

export interface TreeSegment {
  /** Index into the layout's files. */
  readonly file: number;
  /** Offset inside that file. */
  readonly fileOffset: number;
  /** Offset inside the range asked for. */
  readonly rangeOffset: number;
  readonly length: number;
}

export class TreeLayout {
  /** The entries that are files, in list order, and where each one's content starts. */
  readonly files: readonly TreeEntry[];
  private readonly starts: readonly number[];
  readonly size: number;

  constructor(entries: readonly TreeEntry[]) {
    this.files = entries.filter((e) => e.kind === 'file');
    const starts: number[] = [];
    let at = 0;
    for (const f of this.files) {
      starts.push(at);
      at += f.size;
    }
    this.starts = starts;
    this.size = at;
  }

  /** The parts of [offset, offset + length) in each file, in order; empty files never appear. */
  segments(offset: number, length: number): TreeSegment[] {
    if (offset < 0 || length < 0 || offset + length > this.size) throw new RangeError(`range ${offset}+${length} outside 0..${this.size}`);
    const out: TreeSegment[] = [];
    let file = this.fileAt(offset);
    let done = 0;
    while (done < length) {
      const start = this.starts[file]!;
      const size = this.files[file]!.size;
      const fileOffset = offset + done - start;
      const n = Math.min(size - fileOffset, length - done);
      if (n > 0) out.push({ file, fileOffset, rangeOffset: done, length: n });
      done += n;
      file++;
    }
    return out;
  }

  /** Files whose whole content lies below the offset: done, once every byte below it is. */
  filesBelow(offset: number): number {
    let lo = 0;
    let hi = this.files.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid]! + this.files[mid]!.size <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The first file with content at the offset (the last one whose start is at or before it). */
  private fileAt(offset: number): number {
    let lo = 0;
    let hi = this.files.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    // Skip empty files that start at the same offset as the one with content.
    while (lo < this.files.length - 1 && this.starts[lo]! + this.files[lo]!.size <= offset) lo++;
    return lo;
  }
}
