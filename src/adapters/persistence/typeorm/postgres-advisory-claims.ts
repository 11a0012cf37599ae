// Transfer claims as PostgreSQL advisory locks (docs/scaling.md): each receiver holds its claims
// on one dedicated connection, so when the receiver dies, even by SIGKILL, the server sees the
// connection close and every claim it held is free at once; no lease has to run out.
import type { DataSource, QueryRunner } from 'typeorm';
import type { TransferClaims } from '../../../domain/ports/transfer-claims.js';

/**
 * Advisory locks in the two-number key space (which never meets the one-number space of the
 * migration lock): this namespace, and a 32-bit hash of the transfer id. Two ids that share a
 * hash only make each other wait as busy; they never share data.
 */
const NAMESPACE = 0x5354;

export class PostgresAdvisoryClaims implements TransferClaims {
  private runner: QueryRunner | undefined;
  private readonly held = new Set<string>();

  constructor(private readonly dataSource: DataSource) {}

  async claim(transferId: string): Promise<boolean> {
    if (this.held.has(transferId)) return false; // a second claim in this receiver: busy too
    const rows = (await (await this.connection()).query('SELECT pg_try_advisory_lock($1, hashtext($2)) AS claimed', [NAMESPACE, transferId])) as { claimed: boolean }[];
    const claimed = rows[0]?.claimed === true;
    if (claimed) this.held.add(transferId);
    return claimed;
  }

  async release(transferId: string): Promise<void> {
    if (!this.held.delete(transferId)) return;
    await (await this.connection()).query('SELECT pg_advisory_unlock($1, hashtext($2))', [NAMESPACE, transferId]);
  }

  async close(): Promise<void> {
    this.held.clear();
    // The connection goes back to the pool: it must not carry this receiver's claims with it.
    await this.runner?.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
    await this.runner?.release().catch(() => undefined);
    this.runner = undefined;
  }

  /** The dedicated connection, taken from the pool on first use and kept until close(). */
  private async connection(): Promise<QueryRunner> {
    if (!this.runner) {
      const runner = this.dataSource.createQueryRunner();
      await runner.connect();
      this.runner = runner;
    }
    return this.runner;
  }
}
