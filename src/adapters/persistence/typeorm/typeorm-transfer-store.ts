import { In, LessThan, Not, type DataSource, type Repository } from 'typeorm';
import { fromHex, toHex } from '../../../domain/bytes.js';
import type { PieceRecord, TransferRecord, TransferRole, TransferStore, TransferUpdate } from '../../../domain/ports/transfer-store.js';
import { PieceSchema, TransferSchema, type PieceRow } from './schemas.js';

/** TransferStore on any TypeORM DataSource (SQLite by default). */
export class TypeOrmTransferStore implements TransferStore {
  private readonly transfers: Repository<TransferRecord>;
  private readonly pieceRows: Repository<PieceRow>;

  constructor(private readonly dataSource: DataSource) {
    this.transfers = dataSource.getRepository(TransferSchema);
    this.pieceRows = dataSource.getRepository(PieceSchema);
  }

  async create(record: TransferRecord): Promise<void> {
    await this.transfers.insert({ ...record });
  }

  async update(id: string, role: TransferRole, update: TransferUpdate): Promise<void> {
    await this.applyUpdate(this.transfers, id, role, update);
  }

  async get(id: string, role: TransferRole): Promise<TransferRecord | undefined> {
    return (await this.transfers.findOneBy({ id, role })) ?? undefined;
  }

  async list(): Promise<TransferRecord[]> {
    return this.transfers.find({ order: { createdAt: 'DESC' } });
  }

  async recordPieces(id: string, role: TransferRole, pieces: readonly PieceRecord[], update: TransferUpdate = {}): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      if (pieces.length > 0) {
        await manager.getRepository(PieceSchema).upsert(
          pieces.map((p) => ({ transferId: id, role, index: p.index, hash: toHex(p.hash) })),
          ['transferId', 'role', 'index'],
        );
      }
      await this.applyUpdate(manager.getRepository(TransferSchema), id, role, update);
    });
  }

  async pieces(id: string, role: TransferRole): Promise<PieceRecord[]> {
    const rows = await this.pieceRows.find({ where: { transferId: id, role }, order: { index: 'ASC' } });
    return rows.map((r) => ({ index: r.index, hash: fromHex(r.hash) }));
  }

  async delete(id: string, role: TransferRole): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.getRepository(PieceSchema).delete({ transferId: id, role });
      await manager.getRepository(TransferSchema).delete({ id, role });
    });
  }

  async listIncomplete(role: TransferRole, updatedBefore: number, limit: number): Promise<TransferRecord[]> {
    return this.transfers.find({
      where: { role, status: Not(In(['completed', 'expired'])), updatedAt: LessThan(updatedBefore) },
      order: { updatedAt: 'ASC' },
      take: limit,
    });
  }

  private async applyUpdate(transfers: Repository<TransferRecord>, id: string, role: TransferRole, update: TransferUpdate): Promise<void> {
    const defined = Object.fromEntries(Object.entries(update).filter(([, v]) => v !== undefined));
    if (Object.keys(defined).length > 0) await transfers.update({ id, role }, defined);
  }

  async close(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
