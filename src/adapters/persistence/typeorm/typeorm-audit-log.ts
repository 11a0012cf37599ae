import type { DataSource, FindOptionsWhere, Repository } from 'typeorm';
import type { AuditEvent, AuditLog, AuditQuery } from '../../../domain/ports/audit-log.js';
import { AuditSchema, type AuditRow } from './schemas.js';

const MAX_DETAIL = 2000;

/** The audit table (SPEC §6). Values are stored as given; escaping happens where they are shown. */
export class TypeOrmAuditLog implements AuditLog {
  private readonly rows: Repository<AuditRow>;

  constructor(dataSource: DataSource) {
    this.rows = dataSource.getRepository(AuditSchema);
  }

  async record(event: AuditEvent): Promise<void> {
    await this.rows.insert({
      type: event.type,
      at: event.at,
      peerAddress: event.peerAddress ?? null,
      transferId: event.transferId ?? null,
      peerFingerprint: event.peerFingerprint ?? null,
      code: event.code ?? null,
      detail: event.detail === undefined ? null : event.detail.slice(0, MAX_DETAIL),
    });
  }

  async query(query: AuditQuery): Promise<AuditEvent[]> {
    const where: FindOptionsWhere<AuditRow> = {};
    if (query.transferId) where.transferId = query.transferId;
    if (query.peerAddress) where.peerAddress = query.peerAddress;
    const rows = await this.rows.find({ where, order: { id: 'ASC' }, take: query.limit ?? 1000 });
    return rows.map((r) => ({
      type: r.type,
      at: r.at,
      peerAddress: r.peerAddress ?? undefined,
      transferId: r.transferId ?? undefined,
      peerFingerprint: r.peerFingerprint ?? undefined,
      code: r.code ?? undefined,
      detail: r.detail ?? undefined,
    }));
  }
}
