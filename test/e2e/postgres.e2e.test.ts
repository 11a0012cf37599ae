// The receiver on PostgreSQL instead of SQLite, as separate processes: the only change is
// DB_URL, and every command (receive, status, audit) reads and writes the same server.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makePeer, runCli, startReceiver, type RunningReceiver } from '../support/cli.js';
import { sha256File, writeRandomFile } from '../support/files.js';
import { startPostgres, type RunningPostgres } from '../support/postgres.js';

describe('a receiver on PostgreSQL', { timeout: 120_000 }, () => {
  let pg: RunningPostgres;
  let receiver: RunningReceiver;
  let url: string;
  const receiverPeer = makePeer('receiver-pg');
  const sender = makePeer('sender-pg');
  before(async () => {
    pg = await startPostgres();
    url = pg.createDatabase('securetransfer');
    receiver = await startReceiver(receiverPeer, undefined, { DB_URL: url });
  });
  after(async () => {
    await receiver?.stop();
    pg?.stop();
  });

  it('records the transfer and its audit in PostgreSQL, read back by status and audit', async () => {
    const source = join(sender.dir, 'to-postgres.bin');
    writeRandomFile(source, 3 * 1024 * 1024 + 5);
    const sent = await runCli(['send', '--host', '127.0.0.1', '--port', String(receiver.port), '--file', source], sender.env);
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(await sha256File(join(receiverPeer.dir, 'received', 'to-postgres.bin')), await sha256File(source));
    const status = await runCli(['status', '--all', '--json'], { ...receiverPeer.env, DB_URL: url });
    assert.equal(status.code, 0, status.stderr);
    const records = JSON.parse(status.stdout) as {
      role: string;
      status: string;
      fileName: string;
      piecesDone: number;
      pieceCount: number;
    }[];
    const got = records.find((r) => r.role === 'receiver' && r.fileName === 'to-postgres.bin');
    assert.equal(got?.status, 'completed');
    assert.equal(got?.piecesDone, got?.pieceCount);
    const audit = await runCli(['audit', '--json'], { ...receiverPeer.env, DB_URL: url });
    const events = JSON.parse(audit.stdout) as { type: string }[];
    assert.ok(events.some((e) => e.type === 'transfer.completed'));
    // Nothing went to SQLite: the default database file was never made.
    const sqlite = await runCli(['status', '--all', '--json'], receiverPeer.env);
    assert.deepEqual(JSON.parse(sqlite.stdout), []);
  });

  it('stops with a clear error and exit 2 for a DB_URL that is not PostgreSQL', async () => {
    const r = await runCli(['status', '--all'], { ...receiverPeer.env, DB_URL: 'mysql://x' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /DB_URL="mysql:\/\/x" is invalid: expected a postgres:\/\/ or postgresql:\/\/ URL/);
  });

  it('names the server it cannot reach, without the password', async () => {
    const r = await runCli(['status', '--all'], { ...receiverPeer.env, DB_URL: 'postgres://u:secret@127.0.0.1:1/none' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot connect to PostgreSQL at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/none/);
    assert.doesNotMatch(r.stderr, /secret/);
  });
});
