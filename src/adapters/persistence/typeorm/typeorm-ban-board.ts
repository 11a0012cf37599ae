import { LessThan, MoreThan, MoreThanOrEqual, Not, type DataSource, type Repository } from 'typeorm';
import type { BanBoard, OffenceReport, PublishedBan } from '../../../domain/ports/ban-board.js';
import { BanSchema, OffenceReportSchema, type BanRow, type OffenceReportRow } from './schemas.js';

/** The shared ban board in the database the receivers share (SQLite or PostgreSQL). */
export class TypeOrmBanBoard implements BanBoard {
  private readonly rows: Repository<BanRow>;
  private readonly reports: Repository<OffenceReportRow>;

  constructor(dataSource: DataSource) {
    this.rows = dataSource.getRepository(BanSchema);
    this.reports = dataSource.getRepository(OffenceReportSchema);
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

  async reportOffences(reporter: string, at: number, counts: readonly { readonly key: string; readonly count: number }[]): Promise<void> {
    if (counts.length === 0) return;
    await this.reports.insert(counts.map((c) => ({ source: c.key, count: c.count, reporter, at })));
  }

  async offencesAfter(id: number, reporter: string, since: number, limit: number): Promise<OffenceReport[]> {
    const rows = await this.reports.find({
      where: { id: MoreThan(id), reporter: Not(reporter), at: MoreThanOrEqual(since) },
      order: { id: 'ASC' },
      take: limit,
    });
    return rows.map((r) => ({ id: r.id!, key: r.source, count: r.count, reporter: r.reporter, at: r.at }));
  }

  async pruneOffencesBefore(at: number): Promise<number> {
    return (await this.reports.delete({ at: LessThan(at) })).affected ?? 0;
  }
}
