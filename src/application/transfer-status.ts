// Use case: report transfers from the database (docs/requirements.md#command-line).
import type { TransferRecord, TransferStore } from '../domain/ports/transfer-store.js';

export class TransferStatus {
  constructor(private readonly store: TransferStore) {}

  /** Every record with that id: a transfer sent and received on one machine has two. */
  async byId(id: string): Promise<TransferRecord[]> {
    const found = await Promise.all([this.store.get(id, 'sender'), this.store.get(id, 'receiver')]);
    return found.filter((r): r is TransferRecord => r !== undefined);
  }

  async all(): Promise<TransferRecord[]> {
    return this.store.list();
  }
}
