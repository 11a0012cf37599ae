import { LessThan, Not, type DataSource, type Repository } from 'typeorm';
import type { PublishedReservation, ReservationBoard } from '../../../domain/ports/reservation-board.js';
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

  async othersOn(folderId: string, receiver: string): Promise<PublishedReservation[]> {
    const rows = await this.rows.find({ where: { folderId, receiver: Not(receiver) }, order: { receiver: 'ASC' } });
    return rows.map((r) => ({ receiver: r.receiver, bytes: r.bytes, at: r.at }));
  }

  async pruneBefore(at: number): Promise<number> {
    return (await this.rows.delete({ at: LessThan(at) })).affected ?? 0;
  }
}
