// The receiver's housekeeping (docs/defences.md#partial-files, #audit): a round at start and
// every minute expires transfers left incomplete for longer than the retention (their partial
// files removed, their records marked expired), removes partial files no incomplete transfer
// owns, prunes old audit events and whatever the shared state keeps, and writes the audit's
// coalesced summaries. One round at a time; a round never throws: a failing store is logged and
// tried again next round.
import { orphanPartials, transfersToExpire } from '../domain/policy/partial-expiry.js';
import type { Clock } from '../domain/ports/clock.js';
import type { ReceiveFolder } from '../domain/ports/files.js';
import type { Logger } from '../domain/ports/logger.js';
import type { TransferStore } from '../domain/ports/transfer-store.js';
import type { ServerAudit } from './server-audit.js';

/** How often the output folder is listed for partial files without an owner. */
const ORPHAN_SWEEP_MS = 3_600_000;
/** Transfers expired per round, so one round never runs long. */
const EXPIRE_BATCH = 200;

export interface MaintenanceDeps {
  readonly store: TransferStore;
  readonly folder: ReceiveFolder;
  readonly audit: ServerAudit;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Whether a session works on the transfer now: it is never expired under it. */
  readonly inUse: (transferId: string) => boolean;
  /** Prunes the state shared with other receivers (bans, offence reports, disk reservations). */
  readonly pruneShared: (now: number) => Promise<void>;
}

export interface MaintenanceRules {
  /** An incomplete transfer untouched this long is expired. */
  readonly partialRetentionMs: number;
  /** Audit events older than this are deleted. */
  readonly auditRetentionMs: number;
}

export class ReceiverMaintenance {
  private running: Promise<void> | undefined;
  /** When partial files without an owner were last looked for. */
  private orphansSweptAt = -Infinity;

  constructor(
    private readonly deps: MaintenanceDeps,
    private readonly rules: MaintenanceRules,
  ) {}

  /** One round, or the one already running. */
  run(): Promise<void> {
    this.running ??= this.round().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Waits for a round in progress, if any. */
  async settled(): Promise<void> {
    await this.running;
  }

  private async round(): Promise<void> {
    const { clock, logger, audit, pruneShared } = this.deps;
    try {
      const now = clock.now();
      await this.expireIncomplete(now);
      if (now - this.orphansSweptAt >= ORPHAN_SWEEP_MS) {
        await this.removeOrphanPartials(now);
        this.orphansSweptAt = now;
      }
      await pruneShared(now);
      const pruned = await audit.pruneBefore(now - this.rules.auditRetentionMs);
      if (pruned > 0) logger.info('audit events pruned', { count: pruned });
      await audit.flush();
    } catch (e) {
      logger.error('maintenance round failed; it runs again later', { reason: (e as Error).message });
    }
  }

  private async expireIncomplete(now: number): Promise<void> {
    const { store, folder, audit, inUse } = this.deps;
    const retention = this.rules.partialRetentionMs;
    const stale = await store.listIncomplete('receiver', now - retention, EXPIRE_BATCH);
    for (const t of transfersToExpire(stale, now, retention, inUse)) {
      await folder.discardPartial(t.id);
      const detail = `incomplete for longer than ${Math.round(retention / 1000)} s (last activity ${new Date(t.updatedAt).toISOString()}): partial file removed`;
      await store.update(t.id, 'receiver', { status: 'expired', errorCode: 'E_EXPIRED', errorDetail: detail, updatedAt: now });
      await audit.record({
        type: 'transfer.expired',
        at: now,
        transferId: t.id,
        peerAddress: t.peerAddress,
        code: 'E_EXPIRED',
        detail: `"${t.fileName}" ${detail}`,
      });
    }
  }

  /**
   * Partial files no incomplete transfer owns, older than the retention. Listing the output
   * folder reads every name in it, received files included, so this runs at start and hourly,
   * not every round.
   */
  private async removeOrphanPartials(now: number): Promise<void> {
    const { folder, store, audit, inUse } = this.deps;
    const old = orphanPartials(await folder.listPartials(), now, this.rules.partialRetentionMs, inUse);
    for (const orphan of old.slice(0, EXPIRE_BATCH)) {
      const t = await store.get(orphan.transferId, 'receiver');
      if (t !== undefined && t.status !== 'completed' && t.status !== 'expired') continue; // expiry's business
      await folder.discardPartial(orphan.transferId);
      await audit.record({
        type: 'transfer.expired',
        at: now,
        transferId: orphan.transferId,
        code: 'E_EXPIRED',
        detail: `a partial file no incomplete transfer owns, untouched since ${new Date(orphan.modifiedAt).toISOString()}: removed`,
      });
    }
  }
}
