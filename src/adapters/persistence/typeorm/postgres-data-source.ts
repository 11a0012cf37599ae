// PostgreSQL through TypeORM's postgres driver and the pg package: the adapter several receivers
// share (docs/scaling.md). Same entities and migrations as SQLite; the migrations run at start
// under an advisory lock, so receivers that start together apply each one once.
import pg from 'pg';
import { DataSource } from 'typeorm';
import { SecureTransferError } from '../../../domain/errors.js';
import { entities, migrations } from './schema-set.js';

/** Any fixed number: the lock that serialises migrations across receivers. */
const MIGRATION_LOCK = 7_264_531;

/**
 * url: a postgres:// or postgresql:// URL, or undefined to take every setting from the libpq
 * variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE), as psql does.
 */
export async function openPostgresDataSource(url: string | undefined): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'postgres',
    driver: pg,
    ...(url === undefined ? {} : { url }),
    entities,
    migrations,
    migrationsRun: false,
    synchronize: false,
    logging: false,
    // keepAlive: a dead peer is noticed by TCP, not hours later; the timeouts keep a hung server
    // from pinning the pool's connections (every query of the receiver is short).
    extra: { max: 10, connectionTimeoutMillis: 10_000, keepAlive: true, statement_timeout: 30_000, query_timeout: 35_000 },
  });
  const where = url === undefined ? 'the server the PG* variables name' : redact(url);
  try {
    await dataSource.initialize();
  } catch (e) {
    throw new SecureTransferError('E_IO', `cannot connect to PostgreSQL at ${where}: ${(e as Error).message}`, { cause: e });
  }
  const runner = dataSource.createQueryRunner();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await dataSource.runMigrations({ transaction: 'each' });
  } catch (e) {
    await dataSource.destroy().catch(() => undefined);
    throw new SecureTransferError('E_IO', `cannot migrate the PostgreSQL database at ${where}: ${(e as Error).message}`, { cause: e });
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release().catch(() => undefined);
  }
  return dataSource;
}

/** The URL without its password, for messages and logs. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(an unparsable URL)';
  }
}
