// Persistence of transfers and their pieces (docs/scaling.md). One adapter per database technology,
// all passing test/contract/transfer-store.contract.ts.

export type TransferRole = 'sender' | 'receiver';
/** expired: incomplete for longer than the receiver keeps partial files; its partial file is gone. */
export type TransferStatus = 'in-progress' | 'completed' | 'failed' | 'interrupted' | 'expired';

export interface TransferRecord {
  readonly id: string;
  readonly role: TransferRole;
  readonly fileName: string;
  /** Sender: the source path. Receiver: the final path once completed, else the planned one. */
  readonly localPath: string;
  readonly fileSize: number;
  readonly pieceSize: number;
  readonly pieceCount: number;
  readonly compression: string;
  readonly status: TransferStatus;
  readonly piecesDone: number;
  readonly bytesDone: number;
  /** Bytes that crossed the network for this transfer, both directions, all attempts. */
  readonly wireBytes: number;
  readonly peerAddress: string;
  readonly peerFingerprint: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly completedAt: number | null;
  readonly errorCode: string | null;
  readonly errorDetail: string | null;
  /** Sender: the source's modification time at the first attempt, so a resume notices a change. */
  readonly sourceModifiedAt: number | null;
  /** Connections that worked on this transfer: 1, plus one per resume. */
  readonly attempts: number;
  /** A folder's entries (files and folders, its top folder included); 0 for a single file. */
  readonly entryCount: number;
  /** Sender: a folder's entry list as it went on the wire, so a resume can name what changed. */
  readonly entryList: Uint8Array | null;
  /** Either side: SHA-256 (hex) of that list; a resume must send a list with the same hash. */
  readonly entryListHash: string | null;
  /** Sender: entries of the folder that were not sent (links, devices, sockets, pipes). */
  readonly skippedCount: number;
  /** Sender: the first of them, one per line ("path (kind)"). */
  readonly skippedSample: string | null;
}

export type TransferUpdate = Partial<
  Pick<
    TransferRecord,
    | 'status'
    | 'piecesDone'
    | 'bytesDone'
    | 'wireBytes'
    | 'localPath'
    | 'peerAddress'
    | 'peerFingerprint'
    | 'updatedAt'
    | 'completedAt'
    | 'errorCode'
    | 'errorDetail'
    | 'attempts'
  >
>;

export interface PieceRecord {
  readonly index: number;
  readonly hash: Uint8Array;
}

export interface TransferStore {
  create(record: TransferRecord): Promise<void>;
  update(id: string, role: TransferRole, update: TransferUpdate): Promise<void>;
  get(id: string, role: TransferRole): Promise<TransferRecord | undefined>;
  /** Newest first. */
  list(): Promise<TransferRecord[]>;
  /**
   * Records pieces as done (durably written on the receiver, acknowledged on the sender) and
   * applies the update, in one transaction: the counters never disagree with the rows. Idempotent.
   */
  recordPieces(id: string, role: TransferRole, pieces: readonly PieceRecord[], update?: TransferUpdate): Promise<void>;
  pieces(id: string, role: TransferRole): Promise<PieceRecord[]>;
  /** Removes a transfer and its pieces (one refused before any piece arrived leaves no row). */
  delete(id: string, role: TransferRole): Promise<void>;
  /** Transfers of this role neither completed nor expired, last updated before the time given; oldest first, at most limit. */
  listIncomplete(role: TransferRole, updatedBefore: number, limit: number): Promise<TransferRecord[]>;
  close(): Promise<void>;
}
