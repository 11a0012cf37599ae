import { LessThan, Like, type DataSource, type FindOptionsWhere, type Repository } from 'typeorm';
import type { AuditEvent, AuditLog, AuditQuery } from '../../../domain/ports/audit-log.js';
import { peerPrefix } from '../../../domain/peer-address.js';
import { AuditSchema, type AuditRow } from './schemas.js';

const MAX_DETAIL = 2000;

/** The audit table (docs/requirements.md#audit). Values are stored as given; escaping happens where they are shown. */
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

  async pruneBefore(at: number): Promise<number> {
    const result = await this.rows.delete({ at: LessThan(at) });
    return result.affected ?? 0;
  }

  async query(query: AuditQuery): Promise<AuditEvent[]> {
    const base: FindOptionsWhere<AuditRow> = query.transferId ? { transferId: query.transferId } : {};
    const address = query.peerAddress;
    if (address !== undefined && /[%_\\]/.test(address)) return []; // no address has LIKE wildcards
    const where =
      address === undefined
        ? base
        : [
            { ...base, peerAddress: address },
            { ...base, peerAddress: Like(`${peerPrefix(address)}%`) },
          ];
    const newest = await this.rows.find({ where, order: { id: 'DESC' }, take: query.limit ?? 1000 });
    return newest.reverse().map((r) => ({
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
