// What a command loads as it starts: a command on the default SQLite store never loads the
// PostgreSQL client, and the bundle carries only the TypeORM drivers the application opens
// (docs/PERFORMANCE.md#start-up: each was parsed, compiled or run at every start).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { makePeer } from '../support/cli.js';
import { bundleDir, cliPath } from '../support/paths.js';

/** A line of the pg package's own client, as the bundle names the module it wraps. */
const PG_CLIENT = 'node_modules/pg/lib/client.js';
const register = fileURLToPath(new URL('../support/module-log-register.js', import.meta.url));

const bundleText = (): string =>
  readdirSync(bundleDir)
    .filter((name) => name.endsWith('.js'))
    .map((name) => readFileSync(join(bundleDir, name), 'utf8'))
    .join('\n');

describe('start-up', () => {
  it('the bundle carries the TypeORM drivers for SQLite and PostgreSQL, and no other', () => {
    const text = bundleText();
    for (const used of ['better-sqlite3/BetterSqlite3Driver.js', 'postgres/PostgresDriver.js']) {
      assert.ok(text.includes(`node_modules/typeorm/driver/${used}`), `${used} is in the bundle`);
    }
    for (const unused of ['mysql/MysqlDriver.js', 'sqlserver/SqlServerDriver.js', 'oracle/OracleDriver.js', 'mongodb/MongoDriver.js']) {
      assert.ok(!text.includes(`node_modules/typeorm/driver/${unused}`), `${unused} is left out of the bundle`);
    }
  });

  it('a command on SQLite loads the application but not the PostgreSQL client', () => {
    const peer = makePeer('start-up');
    const log = join(peer.dir, 'modules.log');
    try {
      const run = spawnSync(process.execPath, ['--import', register, cliPath, 'status', '--all'], {
        env: { ...peer.env, ST_TEST_MODULE_LOG: log },
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(run.status, 0, run.stderr);
      const loaded = readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((url) => fileURLToPath(url));
      const chunks = loaded.filter((path) => path.startsWith(bundleDir));
      assert.ok(chunks.length > 2, `the command loaded the application's chunks: ${chunks.join(', ')}`);
      const withPg = readdirSync(bundleDir)
        .filter((name) => name.endsWith('.js'))
        .map((name) => join(bundleDir, name))
        .filter((path) => readFileSync(path, 'utf8').includes(PG_CLIENT));
      assert.equal(withPg.length, 1, `one chunk of the bundle holds the PostgreSQL client: ${withPg.join(', ')}`);
      assert.ok(!chunks.includes(withPg[0]!), `status on SQLite loaded ${withPg[0]}`);
    } finally {
      rmSync(peer.dir, { recursive: true, force: true });
    }
  });
});
