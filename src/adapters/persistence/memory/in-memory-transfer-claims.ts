import type { TransferClaims } from '../../../domain/ports/transfer-claims.js';

/**
 * Claims within one process: what a receiver alone needs (SQLite is one receiver's database), and
 * the contract suite's reference.
 */
export class InMemoryTransferClaims implements TransferClaims {
  private readonly held = new Set<string>();

  async claim(transferId: string): Promise<boolean> {
    if (this.held.has(transferId)) return false;
    this.held.add(transferId);
    return true;
  }

  async release(transferId: string): Promise<void> {
    this.held.delete(transferId);
  }

  async close(): Promise<void> {
    this.held.clear();
  }
}
