// Folders between a sender's and a receiver's sessions over an in-memory connection pair, with
// real files: pieces that span many small files, a list long enough to need ENTRIES messages, a
// cut and a resume, a name the receiver would refuse caught before connecting, and a receiver
// too old for folders explained.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { NodeCryptoPrimitives } from '../../src/adapters/crypto/node-crypto-primitives.js';
import { responderHandshake } from '../../src/application/handshake.js';
import { SecureChannel } from '../../src/application/secure-channel.js';
import type { SendFileRequest } from '../../src/application/send-request.js';
import { SecureTransferError } from '../../src/domain/errors.js';
import { encodeClose } from '../../src/domain/wire/messages.js';
import { startInProcessReceiver } from '../support/in-process.js';
import { MemoryTransport } from '../support/memory-transport.js';
import { memorySender, watched } from '../support/memory-sender.js';
import { snapshotTree } from '../support/trees.js';

const PIECE = 16 * 1024;
const crypto = new NodeCryptoPrimitives();

/** A folder of small files with long names: its list does not fit in the handshake message. */
function makeFolder(root: string, files: number): void {
  mkdirSync(join(root, 'empty'), { recursive: true });
  for (let i = 0; i < files; i++) {
    const dir = join(root, `group-${i % 7}`);
    mkdirSync(dir, { recursive: true });
    const name = `a-rather-long-file-name-so-that-the-entry-list-needs-several-messages-${String(i).padStart(5, '0')}.txt`;
    writeFileSync(join(dir, name), `${i} `.repeat(1 + ((i * 37) % 900)));
  }
  writeFileSync(join(root, 'zero'), '');
}

const request = (port: number, filePath: string): SendFileRequest => ({
  host: '127.0.0.1',
  port,
  filePath,
  compressionLevel: 3,
  pieceSize: PIECE,
  connectTimeoutMs: 1000,
  idleTimeoutMs: 5000,
});

describe('folders over an in-memory connection pair', () => {
  it('delivers a folder whose pieces span many files and whose list needs ENTRIES messages', async () => {
    const memory = new MemoryTransport();
    const receiver = await startInProcessReceiver({ transport: memory });
    const source = join(receiver.dir, '..', `folder-${process.pid}`);
    makeFolder(source, 900);
    const { sendFile, store } = await memorySender(memory);
    const outcome = await sendFile.execute(request(receiver.port, source));
    await receiver.stop();
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
    assert.deepEqual(snapshotTree(join(receiver.dir, `folder-${process.pid}`)), snapshotTree(source));
    const record = await receiver.store.get(outcome.transferId, 'receiver');
    assert.equal(record?.entryCount, 1 + 1 + 7 + 900 + 1);
    const sent = await store.get(outcome.transferId, 'sender');
    assert.ok(sent!.entryList!.length > 65_536, 'the list was longer than one handshake message');
    assert.equal(record?.entryList, null, 'the receiver keeps the hash of the list, not the list');
    assert.equal(record?.entryListHash, sent?.entryListHash);
    assert.equal(sent?.status, 'completed');
  });

  it('resumes a folder cut half way, sending only what the receiver lacks', async () => {
    const memory = new MemoryTransport();
    const receiver = await startInProcessReceiver({ transport: memory });
    const name = `cut-folder-${process.pid}`;
    const source = join(receiver.dir, '..', name);
    makeFolder(source, 600);
    const transport = watched(memory, 400 * 1024);
    const { sendFile } = await memorySender(transport);
    const first = await sendFile.execute({ ...request(receiver.port, source), compressionLevel: 0 });
    assert.equal(first.ok || first.code, 'E_CONNECTION_LOST');
    assert.ok(!readdirSync(receiver.dir).includes(name), 'no tree under its final name');
    for (
      let waited = 0;
      (await receiver.store.get(first.transferId, 'receiver'))?.status === 'in-progress' && waited < 5000;
      waited += 20
    ) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const cut = await receiver.store.get(first.transferId, 'receiver');
    assert.ok(cut!.piecesDone > 0 && cut!.piecesDone < cut!.pieceCount, `${cut?.piecesDone} of ${cut?.pieceCount} recorded`);
    const resumed = await sendFile.resume({ ...request(receiver.port, source), compressionLevel: 0, transferId: first.transferId });
    await receiver.stop();
    assert.equal(resumed.ok, true, JSON.stringify(resumed));
    assert.equal(resumed.ok && resumed.piecesHeld, cut!.piecesDone);
    assert.ok(
      resumed.ok && resumed.wireBytes < (cut!.pieceCount - cut!.piecesDone) * PIECE * 1.05 + 256 * 1024,
      `resume sent ${resumed.ok && resumed.wireBytes} bytes`,
    );
    assert.deepEqual(snapshotTree(join(receiver.dir, name)), snapshotTree(source));
  });

  it('refuses, before connecting, a folder holding a name the receiver would refuse, and names it', async () => {
    const memory = new MemoryTransport();
    const receiver = await startInProcessReceiver({ transport: memory });
    const source = join(receiver.dir, '..', `bad-names-${process.pid}`);
    mkdirSync(join(source, 'docs'), { recursive: true });
    writeFileSync(join(source, 'docs', 'what?.txt'), 'x');
    const transport = watched(memory);
    const { sendFile } = await memorySender(transport);
    await assert.rejects(
      sendFile.execute(request(receiver.port, source)),
      (e: unknown) => e instanceof SecureTransferError && e.code === 'E_NAME_INVALID' && /docs\/what\?\.txt/.test(e.message),
    );
    await receiver.stop();
    assert.equal(transport.connections, 0, 'nothing was sent');
  });

  it('lists every name it cannot send, the first ten by path, and refuses a name that is not UTF-8', async () => {
    const memory = new MemoryTransport();
    const base = mkdtempSync(join(tmpdir(), 'st-names-'));
    const source = join(base, 'many-bad');
    mkdirSync(source);
    for (let i = 0; i < 12; i++) writeFileSync(join(source, `bad${String(i).padStart(2, '0')}:name`), 'x');
    const transport = watched(memory);
    const { sendFile } = await memorySender(transport);
    await assert.rejects(sendFile.execute(request(1, source)), (e: unknown) => {
      assert.ok(e instanceof SecureTransferError && e.code === 'E_NAME_INVALID');
      assert.match(e.message, /12 names a receiver refuses: "many-bad\/bad00:name" \(.*Windows forbids/);
      assert.match(e.message, /bad09:name.*, and 2 more/);
      return true;
    });
    const latin1 = join(base, 'latin1');
    mkdirSync(latin1);
    writeFileSync(Buffer.concat([Buffer.from(`${latin1}/caf`), Buffer.from([0xe9])]), 'x');
    await assert.rejects(
      sendFile.execute(request(1, latin1)),
      (e: unknown) =>
        e instanceof SecureTransferError && e.code === 'E_NAME_INVALID' && /"latin1\/caf\\xe9" is not valid UTF-8/.test(e.message),
    );
    assert.equal(transport.connections, 0, 'nothing was sent');
  });

  it('explains a refusal by a receiver that reads only single-file manifests', async () => {
    const memory = new MemoryTransport();
    const identity = crypto.generateKeyPair();
    // What a receiver of the first protocol version answers a folder's manifest with.
    const old = await memory.listen({
      host: '127.0.0.1',
      port: 0,
      onConnection: (connection) =>
        void (async () => {
          const channel = new SecureChannel(connection);
          await responderHandshake(channel, crypto, identity);
          await channel.sendMessages([encodeClose('E_MANIFEST_INVALID', 'manifest version 2 is not supported')]);
          connection.destroy();
        })(),
    });
    const source = join(mkdtempSync(join(tmpdir(), 'st-old-')), 'to-old');
    makeFolder(source, 3);
    const { sendFile } = await memorySender(memory);
    const outcome = await sendFile.execute(request(old.port, source));
    await old.close();
    assert.equal(outcome.ok, false);
    assert.equal(outcome.ok || outcome.code, 'E_MANIFEST_INVALID');
    assert.match(outcome.ok ? '' : outcome.detail, /version 2 is not supported\. The receiver does not take folders/);
  });
});
