// File-system ports: what the sender reads and where the receiver writes (docs/requirements.md#files).

export interface SourceFile {
  readonly path: string;
  /** The file's own name, without directories: what the manifest announces. */
  readonly name: string;
  readonly size: number;
  readonly modifiedAt: number;
  /**
   * Reads exactly length bytes at offset, into the given buffer when it is large enough (the
   * result is then a view of it); throws SecureTransferError E_SOURCE_CHANGED if the file got shorter.
   */
  read(offset: number, length: number, into?: Uint8Array): Promise<Uint8Array>;
  close(): Promise<void>;
}

export interface SourceFiles {
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
  /** Whether a final name is already taken (a file, a directory or a link). */
  exists(name: string): Promise<boolean>;
  /** Bytes free on the folder's file system. */
  freeSpace(): Promise<number>;
  /** Opens the transfer's partial file, creating it when asked; never follows a symlink. */
  openPartial(transferId: string, create: boolean): Promise<PartialFile>;
  hasPartial(transferId: string): Promise<boolean>;
  /** Moves the partial file to its final name without ever replacing an existing file; returns the final path. */
  finalize(transferId: string, name: string): Promise<string>;
  discardPartial(transferId: string): Promise<void>;
  /** The partial files in the folder, by transfer id, with their last modification (ms since the epoch). */
  listPartials(): Promise<{ readonly transferId: string; readonly modifiedAt: number }[]>;
  /** An id the folder keeps, the same for every receiver that writes to it (a shared volume). */
  identity(): Promise<string>;
}
