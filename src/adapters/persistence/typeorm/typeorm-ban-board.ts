import { LessThan, MoreThan, type DataSource, type Repository } from 'typeorm';
import type { BanBoard, PublishedBan } from '../../../domain/ports/ban-board.js';
import { BanSchema, type BanRow } from './schemas.js';

/** The shared ban board in the database the receivers share (SQLite or PostgreSQL). */
export class TypeOrmBanBoard implements BanBoard {
  private readonly rows: Repository<BanRow>;

  constructor(dataSource: DataSource) {
    this.rows = dataSource.getRepository(BanSchema);
  }

  async publish(ban: Omit<PublishedBan, 'id'>): Promise<void> {
    await this.rows.insert({ source: ban.key, until: ban.until, round: ban.round, offences: ban.offences });
  }

  async publishedAfter(id: number, now: number, limit: number): Promise<PublishedBan[]> {
    const rows = await this.rows.find({ where: { id: MoreThan(id), until: MoreThan(now) }, order: { id: 'ASC' }, take: limit });
    return rows.map((r) => ({ id: r.id!, key: r.source, until: r.until, round: r.round, offences: r.offences }));
  }

  async pruneBefore(at: number): Promise<number> {
    return (await this.rows.delete({ until: LessThan(at) })).affected ?? 0;
  }
}
