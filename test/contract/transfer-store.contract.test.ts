// Every TransferStore, AuditLog, BanBoard and ReservationBoard adapter passes the same suite with the same assertions: in
// memory, SQLite in a file, and a real PostgreSQL server started for the suite.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DataSource } from 'typeorm';
import { InMemoryAuditLog } from '../../src/adapters/persistence/memory/in-memory-audit-log.js';
import { InMemoryTransferStore } from '../../src/adapters/persistence/memory/in-memory-transfer-store.js';
import { openPostgresDataSource } from '../../src/adapters/persistence/typeorm/postgres-data-source.js';
import { openSqliteDataSource } from '../../src/adapters/persistence/typeorm/sqlite-data-source.js';
import { TypeOrmAuditLog } from '../../src/adapters/persistence/typeorm/typeorm-audit-log.js';
import { TypeOrmBanBoard } from '../../src/adapters/persistence/typeorm/typeorm-ban-board.js';
import { InMemoryBanBoard } from '../../src/adapters/persistence/memory/in-memory-ban-board.js';
import type { BanBoard } from '../../src/domain/ports/ban-board.js';
import type { ReservationBoard } from '../../src/domain/ports/reservation-board.js';
import { InMemoryReservationBoard } from '../../src/adapters/persistence/memory/in-memory-reservation-board.js';
import { TypeOrmReservationBoard } from '../../src/adapters/persistence/typeorm/typeorm-reservation-board.js';
import { TypeOrmTransferStore } from '../../src/adapters/persistence/typeorm/typeorm-transfer-store.js';
import type { AuditLog } from '../../src/domain/ports/audit-log.js';
import type { TransferRecord, TransferStore } from '../../src/domain/ports/transfer-store.js';
import { spawn } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startPostgres } from '../support/postgres.js';

interface Adapters {
  store: TransferStore;
  audit: AuditLog;
  bans: BanBoard;
  reservations: ReservationBoard;
  close(): Promise<void>;
}

const factories: [string, () => Promise<Adapters>][] = [
  [
    'in-memory',
    async () => ({
      store: new InMemoryTransferStore(),
      audit: new InMemoryAuditLog(),
      bans: new InMemoryBanBoard(),
      reservations: new InMemoryReservationBoard(),
      close: async () => undefined,
    }),
  ],
  [
    'typeorm-sqlite (file, WAL, migrations, readable by its owner only)',
    async () => {
      const path = join(mkdtempSync(join(tmpdir(), 'st-db-')), 'test.db');
      const ds: DataSource = await openSqliteDataSource(path);
      // Peer addresses, fingerprints and names: no one else on the machine reads them.
      assert.equal(statSync(path).mode & 0o777, 0o600);
      return {
        store: new TypeOrmTransferStore(ds),
        audit: new TypeOrmAuditLog(ds),
        bans: new TypeOrmBanBoard(ds),
        reservations: new TypeOrmReservationBoard(ds),
        close: () => ds.destroy(),
      };
    },
  ],
  [
    'typeorm-postgres (a real server, migrations)',
    async () => {
      const server = await startPostgres();
      const ds = await openPostgresDataSource(server.url);
      return {
        store: new TypeOrmTransferStore(ds),
        audit: new TypeOrmAuditLog(ds),
        bans: new TypeOrmBanBoard(ds),
        reservations: new TypeOrmReservationBoard(ds),
        close: async () => {
          await ds.destroy();
          server.stop();
        },
      };
    },
  ],
];

const record = (over: Partial<TransferRecord> = {}): TransferRecord => ({
  id: '1b4e28ba-2fa1-4d2e-883f-0016d3cca427',
  role: 'receiver',
  fileName: 'big.iso',
  localPath: '/srv/in',
  fileSize: 12_000_000_000, // above 2^32: bigint columns must round-trip as numbers
  pieceSize: 1048576,
  pieceCount: 11445,
  compression: 'zstd',
  status: 'in-progress',
  piecesDone: 0,
  bytesDone: 0,
  wireBytes: 0,
  peerAddress: '127.0.0.1:5555',
  peerFingerprint: 'SHA256:abc',
  createdAt: 1_764_000_000_000,
  updatedAt: 1_764_000_000_000,
  completedAt: null,
  errorCode: null,
  errorDetail: null,
  sourceModifiedAt: null,
  attempts: 1,
  entryCount: 0,
  entryList: null,
  entryListHash: null,
  skippedCount: 0,
  skippedSample: null,
  ...over,
});

for (const [name, make] of factories) {
  describe(`TransferStore and AuditLog contract: ${name}`, () => {
    let a: Adapters;
    before(async () => {
      a = await make();
    });
    after(async () => {
      await a.close();
    });

    it('stores a transfer per (id, role) and reads it back exactly', async () => {
      await a.store.create(record());
      await a.store.create(record({ role: 'sender', createdAt: 1_764_000_000_001 }));
      assert.deepEqual(await a.store.get(record().id, 'receiver'), record());
      assert.equal((await a.store.get(record().id, 'sender'))?.role, 'sender');
      assert.equal(await a.store.get('00000000-0000-4000-8000-000000000000', 'receiver'), undefined);
    });

    it('refuses a second record with the same id and role', async () => {
      await assert.rejects(a.store.create(record()));
    });

    it('updates only the given fields', async () => {
      await a.store.update(record().id, 'receiver', {
        status: 'failed',
        errorCode: 'E_PIECE_HASH',
        errorDetail: 'x',
        bytesDone: 5_000_000_000,
        piecesDone: undefined,
      });
      const r = await a.store.get(record().id, 'receiver');
      assert.equal(r?.status, 'failed');
      assert.equal(r?.bytesDone, 5_000_000_000);
      assert.equal(r?.piecesDone, 0);
      assert.equal(r?.fileName, 'big.iso');
    });

    it('lists newest first', async () => {
      const list = await a.store.list();
      assert.deepEqual(
        list.map((r) => r.role),
        ['sender', 'receiver'],
      );
    });

    it('records pieces idempotently and returns them in index order', async () => {
      const h = (n: number) => new Uint8Array(32).fill(n);
      await a.store.recordPieces(record().id, 'receiver', [
        { index: 5, hash: h(5) },
        { index: 1, hash: h(1) },
      ]);
      await a.store.recordPieces(record().id, 'receiver', [{ index: 5, hash: h(6) }]);
      assert.deepEqual(await a.store.pieces(record().id, 'receiver'), [
        { index: 1, hash: h(1) },
        { index: 5, hash: h(6) },
      ]);
      assert.deepEqual(await a.store.pieces(record().id, 'sender'), []);
    });

    it('records pieces and the counters in one call, and keeps resume fields', async () => {
      const h = (n: number) => new Uint8Array(32).fill(n);
      const id = '2c5f39cb-3fb2-4e3f-994e-1127e4ddb538';
      await a.store.create(record({ id, role: 'sender', sourceModifiedAt: 1_764_000_000_123, attempts: 1 }));
      await a.store.recordPieces(id, 'sender', [{ index: 0, hash: h(9) }], { piecesDone: 1, bytesDone: 1048576, attempts: 2 });
      const got = await a.store.get(id, 'sender');
      assert.equal(got?.piecesDone, 1);
      assert.equal(got?.bytesDone, 1048576);
      assert.equal(got?.attempts, 2);
      assert.equal(got?.sourceModifiedAt, 1_764_000_000_123);
      assert.deepEqual(await a.store.pieces(id, 'sender'), [{ index: 0, hash: h(9) }]);
    });

    it("keeps a folder's entry list byte for byte, its count and what the sender skipped", async () => {
      const id = '3d6a4adc-4ac3-4f40-aa5f-2238f5eec649';
      const list = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7) & 0xff);
      await a.store.create(
        record({
          id,
          role: 'sender',
          entryCount: 2001,
          entryList: list,
          entryListHash: 'ab'.repeat(32),
          skippedCount: 3,
          skippedSample: 'a/l (symlink)\na/p (fifo)',
        }),
      );
      const got = await a.store.get(id, 'sender');
      assert.equal(got?.entryCount, 2001);
      assert.deepEqual(got?.entryList, list);
      assert.equal(got?.entryListHash, 'ab'.repeat(32));
      assert.equal(got?.skippedCount, 3);
      assert.equal(got?.skippedSample, 'a/l (symlink)\na/p (fifo)');
      await a.store.create(record({ id, role: 'receiver' }));
      assert.equal((await a.store.get(id, 'receiver'))?.entryList, null, 'a single file has no list');
    });

    it('records audit events and filters them by transfer and address', async () => {
      await a.audit.record({ type: 'connection.opened', at: 1, peerAddress: '10.0.0.1:1' });
      await a.audit.record({ type: 'transfer.started', at: 2, peerAddress: '10.0.0.1:1', transferId: record().id, detail: 'line\nbreak' });
      await a.audit.record({ type: 'handshake.failed', at: 3, peerAddress: '10.0.0.2:1', code: 'E_HANDSHAKE_FAILED' });
      assert.deepEqual(
        (await a.audit.query({ transferId: record().id })).map((e) => e.type),
        ['transfer.started'],
      );
      assert.equal((await a.audit.query({ transferId: record().id }))[0]?.detail, 'line\nbreak');
      assert.deepEqual(
        (await a.audit.query({ peerAddress: '10.0.0.1:1' })).map((e) => e.type),
        ['connection.opened', 'transfer.started'],
      );
      await a.audit.record({ type: 'ban', at: 4, peerAddress: '10.0.0.2', code: 'E_BANNED' });
      await a.audit.record({ type: 'connection.opened', at: 5, peerAddress: '10.0.0.20:7' });
      assert.deepEqual(
        (await a.audit.query({ peerAddress: '10.0.0.2' })).map((e) => e.type),
        ['handshake.failed', 'ban'],
        'any port and the ban, not 10.0.0.20',
      );
      assert.equal((await a.audit.query({})).length, 5);
      assert.deepEqual(
        (await a.audit.query({ limit: 2 })).map((e) => e.at),
        [4, 5],
        'the newest, oldest first',
      );
    });

    it('tells an IPv6 address from a longer one that shares its text', async () => {
      await a.audit.record({ type: 'connection.opened', at: 10, peerAddress: '[2001:db8::1]:4000' });
      await a.audit.record({ type: 'connection.opened', at: 11, peerAddress: '[2001:db8::1:5]:4000' });
      assert.deepEqual(
        (await a.audit.query({ peerAddress: '2001:db8::1' })).map((e) => e.at),
        [10],
      );
      assert.deepEqual(
        (await a.audit.query({ peerAddress: '2001:db8::1:5' })).map((e) => e.at),
        [11],
      );
    });

    it('prunes audit events older than a time, and only those', async () => {
      const before = (await a.audit.query({})).length;
      await a.audit.record({ type: 'connection.opened', at: 1_000_000, peerAddress: '10.9.9.9:1' });
      const pruned = await a.audit.pruneBefore(1_000_000);
      assert.equal(pruned, before);
      assert.deepEqual(
        (await a.audit.query({})).map((e) => e.at),
        [1_000_000],
      );
    });

    it('publishes bans in order and hands out those after an id that are still in force', async () => {
      await a.bans.publish({ key: '203.0.113.7', until: 5_000, round: 1, offences: 3 });
      await a.bans.publish({ key: '2001:db8:0:1::/64', until: 20_000_000_000, round: 2, offences: 3 });
      await a.bans.publish({ key: '198.51.100.1', until: 9_000, round: 1, offences: 4 });
      const all = await a.bans.publishedAfter(0, 1_000, 10);
      assert.deepEqual(
        all.map((b) => [b.key, b.until, b.round, b.offences]),
        [
          ['203.0.113.7', 5_000, 1, 3],
          ['2001:db8:0:1::/64', 20_000_000_000, 2, 3],
          ['198.51.100.1', 9_000, 1, 4],
        ],
      );
      assert.ok(all[0]!.id < all[1]!.id && all[1]!.id < all[2]!.id, 'ids increase');
      assert.deepEqual(
        (await a.bans.publishedAfter(all[0]!.id, 1_000, 10)).map((b) => b.key),
        ['2001:db8:0:1::/64', '198.51.100.1'],
      );
      assert.deepEqual(
        (await a.bans.publishedAfter(0, 6_000, 10)).map((b) => b.key),
        ['2001:db8:0:1::/64', '198.51.100.1'],
        'an ended ban is not handed out',
      );
      assert.equal((await a.bans.publishedAfter(0, 1_000, 1)).length, 1, 'at most the limit');
      assert.equal(await a.bans.pruneBefore(9_500), 2);
      assert.deepEqual(
        (await a.bans.publishedAfter(0, 0, 10)).map((b) => b.key),
        ['2001:db8:0:1::/64'],
      );
    });

    it("hands a receiver the others' offence reports after an id, within a time, and prunes old ones", async () => {
      await a.bans.reportOffences('receiver-a', 1_000, [
        { key: '203.0.113.7', count: 2 },
        { key: '2001:db8:0:1::/64', count: 1 },
      ]);
      await a.bans.reportOffences('receiver-b', 2_000, [{ key: '203.0.113.7', count: 1 }]);
      await a.bans.reportOffences('receiver-b', 2_500, []);
      const seenByC = await a.bans.offencesAfter(0, 'receiver-c', 0, 10);
      assert.deepEqual(
        seenByC.map((r) => [r.key, r.count, r.reporter, r.at]),
        [
          ['203.0.113.7', 2, 'receiver-a', 1_000],
          ['2001:db8:0:1::/64', 1, 'receiver-a', 1_000],
          ['203.0.113.7', 1, 'receiver-b', 2_000],
        ],
      );
      assert.ok(seenByC[0]!.id < seenByC[1]!.id && seenByC[1]!.id < seenByC[2]!.id, 'ids increase');
      assert.deepEqual(
        (await a.bans.offencesAfter(0, 'receiver-a', 0, 10)).map((r) => r.reporter),
        ['receiver-b'],
        'never its own',
      );
      assert.deepEqual((await a.bans.offencesAfter(seenByC[0]!.id, 'receiver-c', 0, 10)).length, 2, 'after the id');
      assert.deepEqual(
        (await a.bans.offencesAfter(0, 'receiver-c', 1_500, 10)).map((r) => r.at),
        [2_000],
        'only those made since',
      );
      assert.equal((await a.bans.offencesAfter(0, 'receiver-c', 0, 1)).length, 1, 'at most the limit');
      assert.equal(await a.bans.pruneOffencesBefore(1_500), 2);
      assert.equal((await a.bans.offencesAfter(0, 'receiver-c', 0, 10)).length, 1);
    });

    it("keeps one disk reservation per receiver and folder, lists the others' on a folder, prunes old ones", async () => {
      await a.reservations.publish('folder-1', 'receiver-a', 6_000_000_000, 1_000);
      await a.reservations.publish('folder-1', 'receiver-a', 5_000_000_000, 2_000); // replaces, above 2^32
      await a.reservations.publish('folder-1', 'receiver-b', 300, 1_500);
      await a.reservations.publish('folder-2', 'receiver-c', 700, 2_000);
      assert.deepEqual(await a.reservations.othersOn('folder-1', 'receiver-c'), [
        { receiver: 'receiver-a', bytes: 5_000_000_000, at: 2_000 },
        { receiver: 'receiver-b', bytes: 300, at: 1_500 },
      ]);
      assert.deepEqual(
        (await a.reservations.othersOn('folder-1', 'receiver-b')).map((r) => r.receiver),
        ['receiver-a'],
        'never its own',
      );
      assert.deepEqual(await a.reservations.othersOn('folder-3', 'receiver-c'), []);
      assert.equal(await a.reservations.pruneBefore(1_600), 1);
      assert.deepEqual(
        (await a.reservations.othersOn('folder-1', 'receiver-c')).map((r) => r.receiver),
        ['receiver-a'],
      );
    });

    it('lists incomplete transfers of a role by last update, and deletes a transfer with its pieces', async () => {
      const ids = [
        '3d6a4adc-4fc3-4f4a-8a5f-2238f5eec649',
        '4e7b5bed-5ad4-4a5b-9b6a-3349a6ffd75a',
        '5f8c6cfe-6be5-4b6c-8c7b-445ab7aae86b',
        '6a9d7daf-7cf6-4c7d-9d8c-556bc8bbf97c',
      ];
      await a.store.create(record({ id: ids[0], updatedAt: 500, status: 'in-progress' }));
      await a.store.create(record({ id: ids[1], updatedAt: 100, status: 'failed' }));
      await a.store.create(record({ id: ids[2], updatedAt: 50, status: 'completed' }));
      await a.store.create(record({ id: ids[3], updatedAt: 60, status: 'expired' }));
      await a.store.create(record({ id: ids[1], role: 'sender', updatedAt: 10, status: 'interrupted' }));
      assert.deepEqual(
        (await a.store.listIncomplete('receiver', 1_000, 10)).map((r) => r.id),
        [ids[1], ids[0]],
        'oldest first, neither completed nor expired',
      );
      assert.deepEqual(
        (await a.store.listIncomplete('receiver', 500, 10)).map((r) => r.id),
        [ids[1]],
        'only those updated before the time',
      );
      assert.equal((await a.store.listIncomplete('receiver', 1_000, 1)).length, 1, 'at most the limit');
      await a.store.recordPieces(ids[0]!, 'receiver', [{ index: 0, hash: new Uint8Array(32) }]);
      await a.store.delete(ids[0]!, 'receiver');
      assert.equal(await a.store.get(ids[0]!, 'receiver'), undefined);
      assert.deepEqual(await a.store.pieces(ids[0]!, 'receiver'), []);
      assert.ok(await a.store.get(ids[1]!, 'sender'), 'the other role is untouched');
    });
  });
}

describe('opening one new SQLite database from several processes at once', () => {
  it('migrates it once and opens it in each (senders started together do this)', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'st-db-race-')), 'shared.db');
    const module = new URL('../../src/adapters/persistence/typeorm/sqlite-data-source.js', import.meta.url).href;
    const script = `const m = await import(${JSON.stringify(module)}); const ds = await m.openSqliteDataSource(${JSON.stringify(path)}); await ds.destroy();`;
    const exits = await Promise.all(
      Array.from(
        { length: 8 },
        () =>
          new Promise<{ code: number | null; stderr: string }>((resolve) => {
            const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
            let stderr = '';
            child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
            child.on('close', (code) => resolve({ code, stderr }));
          }),
      ),
    );
    exits.forEach((e, i) => assert.equal(e.code, 0, `process ${i}: ${e.stderr}`));
    const ds = await openSqliteDataSource(path);
    try {
      await new TypeOrmTransferStore(ds).create(record());
      assert.equal((await new TypeOrmTransferStore(ds).get(record().id, 'receiver'))?.fileName, 'big.iso');
    } finally {
      await ds.destroy();
    }
  });
});
