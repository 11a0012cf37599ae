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

export function newTransferRecord(transfer: NewTransfer, now: number): TransferRecord {
  return {
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
