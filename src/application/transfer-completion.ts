// TRANSFER_COMPLETE on the receiver (PROTOCOL.md §6): every piece done and the sender's root equal
// to the one computed over the piece hashes, every piece durable and recorded (the last sync
// covers the whole file), then the final name through link(2), which never replaces anything.
import { failureOf, ok, type Result } from '../domain/errors.js';
import type { ReceiveFolder, PartialFile } from '../domain/ports/files.js';
import type { ReceivingTransfer } from '../domain/transfer/receiving-transfer.js';
import { transferRootInput } from '../domain/transfer/transfer-root.js';
import type { DurablePieceSink } from './durable-piece-sink.js';
import type { TransferRecords } from './transfer-records.js';

export interface Completion {
  readonly path: string;
  /** The root VERIFIED carries. */
  readonly root: Uint8Array;
}

export async function completeTransfer(
  a: {
    readonly transfer: ReceivingTransfer;
    readonly sink: DurablePieceSink;
    readonly partial: PartialFile;
    readonly records: TransferRecords;
  },
  declaredRoot: Uint8Array,
  deps: { readonly folder: ReceiveFolder; readonly sha256: (data: Uint8Array) => Uint8Array },
): Promise<Result<Completion>> {
  const m = a.transfer.manifest;
  const root = deps.sha256(transferRootInput(m, a.transfer.pieces.allHashes()));
  const complete = a.transfer.complete(declaredRoot, root);
  if (!complete.ok) return complete;
  let path: string;
  try {
    try {
      await a.sink.flush();
    } finally {
      // Closed whatever happens: the caller forgets it either way.
      await a.partial.close();
    }
    path = await deps.folder.finalize(m.transferId, m.fileName, m.tree?.entries);
  } catch (e) {
    return failureOf(e);
  }
  // The file is complete and under its name: a record that cannot be written is logged inside.
  await a.records.completed(path);
  return ok({ path, root });
}
