// Every TransferClaims adapter passes the same suite: one holder per transfer; the PostgreSQL
// adapter also across receivers (two data sources, as two receiver processes would have), and a
// receiver that dies without letting go frees its claims at once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InMemoryTransferClaims } from '../../src/adapters/persistence/memory/in-memory-transfer-claims.js';
import { PostgresAdvisoryClaims } from '../../src/adapters/persistence/typeorm/postgres-advisory-claims.js';
import { openPostgresDataSource } from '../../src/adapters/persistence/typeorm/postgres-data-source.js';
import type { TransferClaims } from '../../src/domain/ports/transfer-claims.js';
import { startPostgres, type RunningPostgres } from '../support/postgres.js';

const A = '1b4e28ba-2fa1-4d2e-883f-0016d3cca427';
const B = '2c5f39cb-3fb2-4e3f-994e-1127e4ddb538';

function holderContract(name: string, make: () => Promise<{ claims: TransferClaims; close: () => Promise<void> }>) {
  describe(`TransferClaims contract: ${name}`, () => {
    it('gives a transfer to one holder at a time, and again once it is released', async () => {
      const { claims, close } = await make();
      try {
        assert.equal(await claims.claim(A), true);
        assert.equal(await claims.claim(A), false, 'a second claim of the same transfer');
        assert.equal(await claims.claim(B), true, 'another transfer is free');
        await claims.release(A);
        await claims.release(A);
        assert.equal(await claims.claim(A), true);
      } finally {
        await claims.close();
        await close();
      }
    });
  });
}

holderContract('in-memory', async () => ({ claims: new InMemoryTransferClaims(), close: async () => undefined }));

describe('TransferClaims on PostgreSQL advisory locks', () => {
  let pg: RunningPostgres;
  let url: string;
  before(async () => {
    pg = await startPostgres();
    url = pg.createDatabase('claims');
  });
  after(() => pg?.stop());

  holderContract('postgres (one receiver)', async () => {
    const ds = await openPostgresDataSource(url);
    return { claims: new PostgresAdvisoryClaims(ds), close: () => ds.destroy() };
  });

  it('takes its claims back when its own connection is cut, and says which it lost', async () => {
    const first = await openPostgresDataSource(url);
    const second = await openPostgresDataSource(url);
    const lost: string[][] = [];
    const one = new PostgresAdvisoryClaims(first, (ids) => lost.push(ids));
    const two = new PostgresAdvisoryClaims(second);
    try {
      assert.equal(await one.claim(A), true);
      // The server ends the claims connection (a restart, a network cut would do the same).
      await second.query("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid()");
      await assert.rejects(one.claim(B), 'the query on the cut connection fails');
      assert.equal(await one.claim(B), true, 'the next one connects again');
      assert.equal(await two.claim(A), false, 'and the claim on A was taken back');
      assert.deepEqual(lost, []);
    } finally {
      await one.close();
      await two.close();
      await first.destroy();
      await second.destroy();
    }
  });

  it('keeps a transfer to one receiver across receivers, and frees it when that receiver dies', async () => {
    const first = await openPostgresDataSource(url);
    const second = await openPostgresDataSource(url);
    const one = new PostgresAdvisoryClaims(first);
    const two = new PostgresAdvisoryClaims(second);
    try {
      assert.equal(await one.claim(A), true);
      assert.equal(await two.claim(A), false, 'the other receiver holds it');
      await one.release(A);
      assert.equal(await two.claim(A), true, 'released: the other receiver may take it');
      assert.equal(await one.claim(A), false);
      // The holder dies without a word: its connections close, and its claims with them.
      await second.destroy();
      let taken = false;
      for (let i = 0; i < 50 && !taken; i++) {
        taken = await one.claim(A);
        if (!taken) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(taken, 'the dead receiver still held the transfer');
    } finally {
      await one.close();
      await first.destroy();
      if (second.isInitialized) await second.destroy();
    }
  });
});
