// File-system ports: what the sender reads and where the receiver writes (docs/requirements.md#files).
// A folder is read and written as one stream of its files' contents in list order (docs/folders.md).
import type { TreeEntry } from '../transfer/tree.js';

/** An entry of a source folder that is not sent: links are never followed, special files never read. */
export interface SkippedEntry {
  /** Relative path, the folder's own name first. */
  readonly path: string;
  /** What it is: symlink, socket, fifo, block device, character device. */
  readonly kind: string;
}

export interface SourceTree {
  readonly entries: readonly TreeEntry[];
  readonly skipped: readonly SkippedEntry[];
}

export interface SourceFile {
  readonly path: string;
  /** The file's own name, without directories: what the manifest announces. */
  readonly name: string;
  /** A folder's content size is the sum of its files'. */
  readonly size: number;
  readonly modifiedAt: number;
  /**
   * Reads exactly length bytes at offset, into the given buffer when it is large enough (the
   * result is then a view of it); throws SecureTransferError E_SOURCE_CHANGED if the file got shorter.
   */
  read(offset: number, length: number, into?: Uint8Array): Promise<Uint8Array>;
  close(): Promise<void>;
  /** Set when the path is a folder: its entries (names as the wire has them, NFC) and what was skipped. */
  readonly tree?: SourceTree;
}

export interface SourceFiles {
  /** A regular file, or a folder read as the stream of its files (symlinks and special files skipped). */
  open(path: string): Promise<SourceFile>;
}

/** A partial file inside the output folder, named after the transfer, never after the peer's name. */
export interface PartialFile {
  write(offset: number, data: Uint8Array): Promise<void>;
  /** Up to length bytes at offset (fewer at the end of the file), into the given buffer when it is large enough. */
  read(offset: number, length: number, into?: Uint8Array): Promise<Uint8Array>;
  /** Makes written data durable (fdatasync): pieces are recorded as done only after it (docs/requirements.md#durability). */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface ReceiveFolder {
  readonly path: string;
  /**
   * Whether a final name is already taken (a file, a directory or a link); with a transfer id,
   * not by the empty folder an interrupted finish of that transfer's folder left there.
   */
  exists(name: string, transferId?: string): Promise<boolean>;
  /** Bytes free on the folder's file system. */
  freeSpace(): Promise<number>;
  /**
   * Opens the transfer's partial file, creating it when asked; never follows a symlink. For a
   * folder (tree given) the partial is a hidden folder holding the tree as it is built, written
   * through the same interface at content-stream offsets.
   */
  openPartial(transferId: string, create: boolean, tree?: readonly TreeEntry[]): Promise<PartialFile>;
  hasPartial(transferId: string): Promise<boolean>;
  /**
   * Moves the partial file (or folder, with its modes and times set) to its final name without
   * ever replacing or merging into an existing one; returns the final path.
   */
  finalize(transferId: string, name: string, tree?: readonly TreeEntry[]): Promise<string>;
  /** Removes the partial file or folder, whichever the transfer has. */
  discardPartial(transferId: string): Promise<void>;
  /** The partial files in the folder, by transfer id, with their last modification (ms since the epoch). */
  listPartials(): Promise<{ readonly transferId: string; readonly modifiedAt: number }[]>;
  /** An id the folder keeps, the same for every receiver that writes to it (a shared volume). */
  identity(): Promise<string>;
}
