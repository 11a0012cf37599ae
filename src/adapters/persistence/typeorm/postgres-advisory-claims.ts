// Transfer claims as PostgreSQL advisory locks (docs/scaling.md): each receiver holds its claims
// on one dedicated connection, so when the receiver dies, even by SIGKILL, the server sees the
// connection close and every claim it held is free at once; no lease has to run out.
import { createHash } from 'node:crypto';
import type { DataSource, QueryRunner } from 'typeorm';
import type { TransferClaims } from '../../../domain/ports/transfer-claims.js';

/**
 * The lock key: 64 bits of SHA-256 over the id. Transfer ids are the sender's choice, so a short
 * hash could be collided on purpose to keep someone else's transfer busy; 64 bits cannot.
 */
function lockKey(transferId: string): string {
  return createHash('sha256').update(`securetransfer claim ${transferId}`).digest().readBigInt64BE(0).toString();
}

export class PostgresAdvisoryClaims implements TransferClaims {
  /** The dedicated connection, or its connecting: one, however many claims start at once. */
  private runner: Promise<QueryRunner> | undefined;
  private readonly held = new Set<string>();

  constructor(
    private readonly dataSource: DataSource,
    /** Told when a lost connection took claims with it that another receiver now holds. */
    private readonly onLost: (transferIds: string[]) => void = () => undefined,
  ) {}

  async claim(transferId: string): Promise<boolean> {
    if (this.held.has(transferId)) return false; // a second claim in this receiver: busy too
    const claimed = await this.tryLock(transferId);
    if (claimed) this.held.add(transferId);
    return claimed;
  }

  async release(transferId: string): Promise<void> {
    if (!this.held.delete(transferId)) return;
    await this.query('SELECT pg_advisory_unlock($1::bigint)', [lockKey(transferId)]);
  }

  async close(): Promise<void> {
    this.held.clear();
    const runner = await this.runner?.catch(() => undefined);
    this.runner = undefined;
    // The connection goes back to the pool: it must not carry this receiver's claims with it.
    await runner?.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
    await runner?.release().catch(() => undefined);
  }

  private async tryLock(transferId: string): Promise<boolean> {
    const rows = (await this.query('SELECT pg_try_advisory_lock($1::bigint) AS claimed', [lockKey(transferId)])) as { claimed: boolean }[];
    return rows[0]?.claimed === true;
  }

  /**
   * A query on the dedicated connection. When that connection is lost (the server restarted, a
   * network cut), its locks went with it: the next query connects again and takes back every
   * claim still held here; those another receiver took meanwhile are reported through onLost.
   */
  private async query(sql: string, parameters: unknown[]): Promise<unknown> {
    const runner = await this.connection();
    try {
      return await runner.query(sql, parameters);
    } catch (e) {
      if (runner.isReleased || !(await this.alive(runner))) {
        this.runner = undefined;
        await runner.release().catch(() => undefined);
      }
      throw e;
    }
  }

  private async alive(runner: QueryRunner): Promise<boolean> {
    try {
      await runner.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  private connection(): Promise<QueryRunner> {
    this.runner ??= (async () => {
      const runner = this.dataSource.createQueryRunner();
      await runner.connect();
      const lost: string[] = [];
      for (const id of this.held) {
        const rows = (await runner.query('SELECT pg_try_advisory_lock($1::bigint) AS claimed', [lockKey(id)])) as { claimed: boolean }[];
        if (rows[0]?.claimed !== true) lost.push(id);
      }
      if (lost.length > 0) this.onLost(lost);
      return runner;
    })().catch((e: unknown) => {
      this.runner = undefined;
      throw e;
    });
    return this.runner;
  }
}
