// SQLite in one file through TypeORM's better-sqlite3 driver, in WAL mode so the status command
// can read while a receiver writes; the default store. postgres-data-source.ts is its sibling
// for receivers that share one database.
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource } from 'typeorm';
import { SecureTransferError } from '../../../domain/errors.js';
import { entities, migrations } from './schema-set.js';

export async function openSqliteDataSource(path: string): Promise<DataSource> {
  if (path !== ':memory:') {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // The database holds peer addresses, key fingerprints and file names: readable by its owner
    // only. SQLite gives its -wal and -shm files the mode of the database file.
    closeSync(openSync(path, 'a', 0o600));
    chmodSync(path, 0o600); // a database made by an earlier version was 0644
  }
  const dataSource = new DataSource({
    type: 'better-sqlite3',
    database: path,
    entities,
    migrations,
    migrationsRun: false,
    synchronize: false,
    enableWAL: true,
    // Several processes (a receiver, a status call) share the file: wait for locks, do not fail.
    timeout: 10_000,
    logging: false,
  });
  try {
    await dataSource.initialize();
    // Most opens find nothing to do and take no lock. Asking makes the migrations table where
    // there is none, which another process may be doing too: that, or a busy file, means "go and see".
    const pending = await dataSource.showMigrations().catch((e: unknown) => {
      if (/already exists|SQLITE_BUSY|database is locked/i.test((e as Error).message)) return true;
      throw e;
    });
    if (pending) await withMigrationLock(path, () => migrateAlongsideOthers(dataSource));
  } catch (e) {
    throw new SecureTransferError('E_IO', `cannot open the database ${path}: ${(e as Error).message}`, { cause: e });
  }
  return dataSource;
}

/**
 * Runs work while no other process migrates the same database: an exclusive transaction on a
 * small lock database beside it (`<database>.migrating`, owner-only), which SQLite's own file
 * locking holds against every other process here. Migrating side by side was not safe: once,
 * under load, eight processes opening a new database together all succeeded and the next open
 * found a column of the last migration missing. TypeORM adds a column to an SQLite table by
 * rebuilding the table from the definition its query runner read earlier, so a process that lost
 * a race can rebuild it from a definition older than another process's migration.
 */
async function withMigrationLock<T>(path: string, work: () => Promise<T>): Promise<T> {
  if (path === ':memory:') return work();
  const lockPath = `${path}.migrating`;
  closeSync(openSync(lockPath, 'a', 0o600));
  // A minute: migrations of a large database may take a while, and waiting is all the others can do.
  const lock = new DataSource({ type: 'better-sqlite3', database: lockPath, timeout: 60_000, logging: false });
  await lock.initialize();
  try {
    await lock.query('BEGIN EXCLUSIVE');
    try {
      return await work();
    } finally {
      await lock.query('COMMIT');
    }
  } finally {
    await lock.destroy();
  }
}

/**
 * Several processes may open a new database at once (senders started together, a receiver and
 * a status call): each reads which migrations ran, then applies the rest, so the slower one can
 * find a table or index the faster one just made. Each migration is its own transaction and rolls
 * back whole; reading the list again then finds it applied.
 */
async function migrateAlongsideOthers(dataSource: DataSource): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await dataSource.runMigrations({ transaction: 'each' });
      return;
    } catch (e) {
      const raced = /already exists|duplicate column name|SQLITE_BUSY|database is locked|UNIQUE constraint failed: migrations/i.test(
        (e as Error).message,
      );
      if (!raced || attempt >= 5) throw e;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}
