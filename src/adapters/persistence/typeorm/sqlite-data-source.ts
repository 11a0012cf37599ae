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
    await dataSource.runMigrations({ transaction: 'each' });
  } catch (e) {
    throw new SecureTransferError('E_IO', `cannot open the database ${path}: ${(e as Error).message}`, { cause: e });
  }
  return dataSource;
}
