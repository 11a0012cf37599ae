import { LessThan, MoreThanOrEqual, Not, type DataSource, type Repository } from 'typeorm';
import type { ReservationBoard } from '../../../domain/ports/reservation-board.js';
import { ReservationSchema, type ReservationRow } from './schemas.js';

/** Disk reservations of the receivers sharing one database (SQLite or PostgreSQL): one row per receiver and folder. */
export class TypeOrmReservationBoard implements ReservationBoard {
  private readonly rows: Repository<ReservationRow>;

  constructor(dataSource: DataSource) {
    this.rows = dataSource.getRepository(ReservationSchema);
  }

  async publish(folderId: string, receiver: string, bytes: number, at: number): Promise<void> {
    await this.rows.upsert({ folderId, receiver, bytes, at }, ['folderId', 'receiver']);
  }

  async reservedByOthers(folderId: string, receiver: string, since: number): Promise<number> {
    const rows = await this.rows.find({ where: { folderId, receiver: Not(receiver), at: MoreThanOrEqual(since) } });
    return rows.reduce((sum, r) => sum + r.bytes, 0);
  }

  async pruneBefore(at: number): Promise<number> {
    return (await this.rows.delete({ at: LessThan(at) })).affected ?? 0;
  }
}
