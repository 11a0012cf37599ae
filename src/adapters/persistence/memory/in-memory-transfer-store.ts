import type { PieceRecord, TransferRecord, TransferRole, TransferStore, TransferUpdate } from '../../../domain/ports/transfer-store.js';

/** TransferStore in memory: for unit tests and as the reference of the contract suite. */
export class InMemoryTransferStore implements TransferStore {
  private readonly records = new Map<string, TransferRecord>();
  private readonly pieceMap = new Map<string, Map<number, Uint8Array>>();

  async create(record: TransferRecord): Promise<void> {
    const key = `${record.id}/${record.role}`;
    if (this.records.has(key)) throw new Error(`transfer ${key} already exists`);
    this.records.set(key, { ...record });
  }

  async update(id: string, role: TransferRole, update: TransferUpdate): Promise<void> {
    const key = `${id}/${role}`;
    const old = this.records.get(key);
    if (!old) return;
    const defined = Object.fromEntries(Object.entries(update).filter(([, v]) => v !== undefined));
    this.records.set(key, { ...old, ...defined });
  }

  async get(id: string, role: TransferRole): Promise<TransferRecord | undefined> {
    const r = this.records.get(`${id}/${role}`);
    return r ? { ...r } : undefined;
  }

  async list(): Promise<TransferRecord[]> {
    return [...this.records.values()].sort((a, b) => b.createdAt - a.createdAt).map((r) => ({ ...r }));
  }

  async recordPieces(id: string, role: TransferRole, pieces: readonly PieceRecord[], update: TransferUpdate = {}): Promise<void> {
    const key = `${id}/${role}`;
    const map = this.pieceMap.get(key) ?? new Map<number, Uint8Array>();
    for (const p of pieces) map.set(p.index, Uint8Array.from(p.hash));
    this.pieceMap.set(key, map);
    await this.update(id, role, update);
  }

  async pieces(id: string, role: TransferRole): Promise<PieceRecord[]> {
    const map = this.pieceMap.get(`${id}/${role}`) ?? new Map<number, Uint8Array>();
    return [...map.entries()].sort(([a], [b]) => a - b).map(([index, hash]) => ({ index, hash: Uint8Array.from(hash) }));
  }

  async delete(id: string, role: TransferRole): Promise<void> {
    this.records.delete(`${id}/${role}`);
    this.pieceMap.delete(`${id}/${role}`);
  }

  async listIncomplete(role: TransferRole, updatedBefore: number, limit: number): Promise<TransferRecord[]> {
    return [...this.records.values()]
      .filter((r) => r.role === role && r.status !== 'completed' && r.status !== 'expired' && r.updatedAt < updatedBefore)
      .sort((a, b) => a.updatedAt - b.updatedAt)
      .slice(0, limit)
      .map((r) => ({ ...r }));
  }

  async close(): Promise<void> {}
}
