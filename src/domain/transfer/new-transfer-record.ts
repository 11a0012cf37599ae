// A transfer's record as it is first written, on either side: nothing done yet, no error, one
// attempt. Only what differs between transfers is given.
import type { TransferRecord } from '../ports/transfer-store.js';

export type NewTransfer = Pick<
  TransferRecord,
  | 'id'
  | 'role'
  | 'fileName'
  | 'localPath'
  | 'fileSize'
  | 'pieceSize'
  | 'pieceCount'
  | 'compression'
  | 'peerAddress'
  | 'peerFingerprint'
  | 'sourceModifiedAt'
>;

/** What only a folder has: its entries and, on the sender, what it skipped. */
export type NewTree = Partial<Pick<TransferRecord, 'entryCount' | 'entryList' | 'entryListHash' | 'skippedCount' | 'skippedSample'>>;

export function newTransferRecord(transfer: NewTransfer & NewTree, now: number): TransferRecord {
  return {
    entryCount: 0,
    entryList: null,
    entryListHash: null,
    skippedCount: 0,
    skippedSample: null,
    ...transfer,
    status: 'in-progress',
    piecesDone: 0,
    bytesDone: 0,
    wireBytes: 0,
    createdAt: now,
    updatedAt: now,
    completedAt: null,
    errorCode: null,
    errorDetail: null,
    attempts: 1,
  };
}
