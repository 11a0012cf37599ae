// The receive use case against hostile peers, in one process: the real server, sessions, TCP on
// loopback and the file system, with in-memory persistence and, where time matters, a clock the
// test sets (docs/defences.md).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InMemoryTransferStore } from '../../src/adapters/persistence/memory/in-memory-transfer-store.js';
import { SecureChannel } from '../../src/application/secure-channel.js';
import { utf8 } from '../../src/domain/bytes.js';
import { PROLOGUE_TEXT, PROTOCOL_NAME } from '../../src/domain/protocol.js';
import { HandshakeState } from '../../src/domain/noise/handshake-state.js';
import { PATTERNS } from '../../src/domain/noise/patterns.js';
import type { Clock } from '../../src/domain/ports/clock.js';
import type { TransferRecord } from '../../src/domain/ports/transfer-store.js';
import { encodeManifest } from '../../src/domain/transfer/manifest.js';
import { newTransferRecord } from '../../src/domain/transfer/new-transfer-record.js';
import { FrameType } from '../../src/domain/wire/frame.js';
import { encodeClose, encodePieceHeader, PieceEncoding } from '../../src/domain/wire/messages.js';
import { ZstdNapiCodec } from '../../src/adapters/codec/zstd-napi-codec.js';
import {
  acceptedTransfer,
  connectFrom,
  crypto,
  drain,
  handshakeWith,
  nextMessage,
  sendWhole,
  testManifest,
} from '../support/hostile-client.js';
import { startInProcessReceiver } from '../support/in-process.js';

const DAY = 86_400_000;

class SetClock implements Clock {
  constructor(public at: number) {}
  now(): number {
    return this.at;
  }
  elapsedMs(): number {
    return this.at;
  }
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }
}

const until = async (what: string, test: () => boolean | Promise<boolean>, timeoutMs = 10_000) => {
  const end = Date.now() + timeoutMs;
  while (!(await test())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

const partials = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('.securetransfer-'));

describe('receiver defences in process', { timeout: 60_000 }, () => {
  it('expires a partial file untouched for the retention period, and only that one', async () => {
    const clock = new SetClock(10 * DAY);
    const store = new InMemoryTransferStore();
    const dir = mkdtempSync(join(tmpdir(), 'st-expiry-'));
    const base: TransferRecord = {
      ...newTransferRecord(
        {
          id: '',
          role: 'receiver',
          fileName: 'x.bin',
          localPath: dir,
          fileSize: 100,
          pieceSize: 16384,
          pieceCount: 1,
          compression: 'zstd',
          peerAddress: '203.0.113.9:4000',
          peerFingerprint: 'SHA256:x',
          sourceModifiedAt: null,
        },
        0,
      ),
      status: 'interrupted',
    };
    const old = '11111111-1111-4111-8111-111111111111';
    const fresh = '22222222-2222-4222-8222-222222222222';
    await store.create({ ...base, id: old, updatedAt: 2 * DAY });
    await store.create({ ...base, id: fresh, updatedAt: 9 * DAY });
    writeFileSync(join(dir, `.securetransfer-${old}.part`), 'abandoned');
    writeFileSync(join(dir, `.securetransfer-${fresh}.part`), 'recent');
    const r = await startInProcessReceiver({ clock, store, dir, server: { partialRetentionMs: 7 * DAY } });
    try {
      // The round at start already ran; a later one finds nothing more.
      assert.deepEqual(partials(dir), [`.securetransfer-${fresh}.part`]);
      assert.equal((await store.get(old, 'receiver'))?.status, 'expired');
      assert.equal((await store.get(fresh, 'receiver'))?.status, 'interrupted');
      assert.ok(r.audit.events.some((e) => e.type === 'transfer.expired' && e.transferId === old && e.code === 'E_EXPIRED'));
      clock.at = 17 * DAY;
      await r.server.maintain();
      assert.deepEqual(partials(dir), [], 'the second one expires a week after its last activity');
    } finally {
      await r.stop();
    }
  });

  it('removes partial files no incomplete transfer owns once they are older than the retention', async () => {
    const now = Date.now();
    const store = new InMemoryTransferStore();
    const dir = mkdtempSync(join(tmpdir(), 'st-orphans-'));
    const ids = [
      '33333333-3333-4333-8333-333333333333',
      '44444444-4444-4444-8444-444444444444',
      '55555555-5555-4555-8555-555555555555',
      '66666666-6666-4666-8666-666666666666',
    ];
    const [orphan, recent, owned, completed] = ids.map((id) => join(dir, `.securetransfer-${id}.part`)) as [string, string, string, string];
    for (const path of [orphan, recent, owned, completed]) writeFileSync(path, 'x');
    const eightDaysAgo = new Date(now - 8 * DAY);
    for (const path of [orphan, owned, completed]) utimesSync(path, eightDaysAgo, eightDaysAgo);
    const row = (id: string, status: TransferRecord['status']): TransferRecord => ({
      ...newTransferRecord(
        {
          id,
          role: 'receiver',
          fileName: `${id}.bin`,
          localPath: dir,
          fileSize: 1,
          pieceSize: 16384,
          pieceCount: 1,
          compression: 'zstd',
          peerAddress: '127.0.0.1:1',
          peerFingerprint: 'SHA256:x',
          sourceModifiedAt: null,
        },
        now,
      ),
      status,
    });
    await store.create(row(ids[2]!, 'interrupted')); // touched recently: its partial file stays
    await store.create(row(ids[3]!, 'completed')); // a completed transfer owns no partial file
    const r = await startInProcessReceiver({ clock: new SetClock(now), store, dir, server: { partialRetentionMs: 7 * DAY } });
    try {
      assert.deepEqual(partials(dir).sort(), [`.securetransfer-${ids[1]}.part`, `.securetransfer-${ids[2]}.part`].sort());
      assert.equal(r.audit.events.filter((e) => e.type === 'transfer.expired').length, 2);
    } finally {
      await r.stop();
    }
  });

  it('prunes audit events older than the audit retention', async () => {
    const clock = new SetClock(100 * DAY);
    const r = await startInProcessReceiver({ clock, server: { auditRetentionMs: 30 * DAY } });
    try {
      await r.audit.record({ type: 'error', at: 50 * DAY, detail: 'old' });
      await r.audit.record({ type: 'error', at: 80 * DAY, detail: 'recent' });
      await r.server.maintain();
      assert.deepEqual(
        r.audit.events.filter((e) => e.type === 'error').map((e) => e.detail),
        ['recent'],
      );
    } finally {
      await r.stop();
    }
  });

  it("refuses another key's resume of a known id without blocking its owner", async () => {
    const r = await startInProcessReceiver();
    try {
      const owner = crypto.generateKeyPair();
      const manifest = testManifest({ fileSize: 3 * 16384 });
      const first = await acceptedTransfer('127.0.0.1', r.port, manifest, owner);
      const piece0 = new Uint8Array(crypto.randomBytes(16384));
      await first.channel.sendMessages([
        encodePieceHeader({ index: 0, offset: 0, rawLength: 16384, encoding: PieceEncoding.RAW, hash: crypto.sha256(piece0) }, 16384),
        piece0,
      ]);
      assert.equal((await nextMessage(first.channel, manifest))?.type, 'ack');
      first.connection.destroy(); // cut after one piece: the owner will resume
      await until('the first attempt ended', () => r.outcomes.length >= 1);
      const resume = { ...manifest, resume: true };
      // The attacker knows the id and reconnects with it while the owner resumes.
      const attacker = await handshakeWith('127.0.0.2', r.port, encodeManifest(resume));
      const refused = await nextMessage(attacker.channel, resume);
      assert.equal(refused?.type, 'close');
      assert.equal(refused?.type === 'close' && refused.code, 'E_UNTRUSTED_KEY');
      const again = await acceptedTransfer('127.0.0.1', r.port, resume, owner);
      const data = new Uint8Array(manifest.fileSize);
      data.set(piece0);
      const answer = await sendWhole(again.channel, resume, data, new Set([0]));
      assert.equal(answer?.type, 'verified');
      attacker.connection.destroy();
    } finally {
      await r.stop();
    }
  });

  it('refuses a new transfer whose partial name holds a planted symlink, and leaves its target alone', async () => {
    const r = await startInProcessReceiver();
    try {
      const target = join(mkdtempSync(join(tmpdir(), 'st-target-')), 'precious');
      writeFileSync(target, 'keep me');
      const manifest = testManifest();
      symlinkSync(target, join(r.dir, `.securetransfer-${manifest.transferId}.part`));
      const session = await handshakeWith('127.0.0.1', r.port, encodeManifest(manifest));
      const answer = await nextMessage(session.channel, manifest);
      assert.equal(answer?.type, 'close', 'a CLOSE with a reason, not a dropped connection');
      assert.match(answer?.type === 'close' ? answer.code : '', /E_FILE_EXISTS|E_IO/);
      await until('the session ended', () => r.outcomes.length >= 1);
      assert.equal(readFileSync(target, 'utf8'), 'keep me');
      assert.ok(readdirSync(r.dir).includes(`.securetransfer-${manifest.transferId}.part`), 'the planted link itself is left alone too');
      const outcome = r.outcomes[0];
      assert.ok(outcome && outcome.kind !== 'completed' && outcome.code !== 'E_INTERNAL', JSON.stringify(outcome));
    } finally {
      await r.stop();
    }
  });

  it('leaves no partial file and no record behind a transfer that ends before its first piece', async () => {
    const r = await startInProcessReceiver();
    try {
      // From five addresses: taking an ACCEPT and dropping it is an offence, and three ban.
      for (let i = 0; i < 5; i++) {
        const { connection } = await acceptedTransfer(`127.0.6.${i + 1}`, r.port);
        connection.destroy();
      }
      await until('the sessions ended', () => r.outcomes.length >= 5);
      assert.deepEqual(partials(r.dir), []);
      assert.deepEqual(await r.store.list(), []);
      assert.equal(r.audit.events.filter((e) => e.type === 'transfer.failed').length, 5, 'each is still audited');
      assert.equal(r.server.trackedSources, 0, 'nothing of the source is kept once its sessions are gone');
    } finally {
      await r.stop();
    }
  });

  it('refuses with E_UNAVAILABLE while its database cannot write, and serves again once it can', async () => {
    const store = new InMemoryTransferStore();
    let broken = true;
    const create = store.create.bind(store);
    store.create = async (record) => {
      if (broken) throw new Error('SQLITE_FULL: database or disk is full');
      return create(record);
    };
    const r = await startInProcessReceiver({ store });
    try {
      const manifest = testManifest();
      const session = await handshakeWith('127.0.0.1', r.port, encodeManifest(manifest));
      const answer = await nextMessage(session.channel, manifest);
      assert.equal(answer?.type === 'close' && answer.code, 'E_UNAVAILABLE');
      assert.deepEqual(partials(r.dir), [], 'no partial file without a record');
      broken = false;
      const ok = await acceptedTransfer('127.0.0.1', r.port);
      assert.equal((await sendWhole(ok.channel, ok.manifest, new Uint8Array(crypto.randomBytes(ok.manifest.fileSize))))?.type, 'verified');
    } finally {
      await r.stop();
    }
  });

  it('refuses a HANDSHAKE_INIT that carries a payload, which must be empty', async () => {
    const r = await startInProcessReceiver();
    try {
      const connection = await connectFrom('127.0.0.1', r.port);
      const channel = new SecureChannel(connection);
      const hs = new HandshakeState({
        crypto,
        protocolName: PROTOCOL_NAME,
        pattern: PATTERNS['XX']!,
        initiator: true,
        prologue: utf8(PROLOGUE_TEXT),
        staticKey: crypto.generateKeyPair(),
        ephemeralKey: crypto.generateKeyPair(),
      });
      await channel.writeFrame(FrameType.HANDSHAKE_INIT, hs.writeMessage(new Uint8Array(1000)));
      await drain(connection, 5_000);
      await until('the session ended', () => r.outcomes.length >= 1);
      assert.equal(r.outcomes[0]?.kind, 'handshake-failed');
      assert.ok(r.audit.events.some((e) => e.type === 'handshake.failed' && /payload/.test(e.detail ?? '')));
    } finally {
      await r.stop();
    }
  });

  it('gives back the buffers of NACKed compressed pieces at once', async () => {
    // zstd-napi decompresses into the lent pool buffer (zstd-codec allocates its own output).
    const r = await startInProcessReceiver({ codec: new ZstdNapiCodec() });
    try {
      const pieceSize = 1024 * 1024;
      const manifest = testManifest({ fileName: 'nacked.bin', fileSize: 64 * pieceSize, pieceSize });
      const { channel, connection } = await acceptedTransfer('127.0.0.1', r.port, manifest);
      const codec = new ZstdNapiCodec();
      const zeros = codec.compress(new Uint8Array(pieceSize), 3);
      let peak = 0;
      for (let i = 0; i < 30; i++) {
        // A valid frame of zeros under a hash that does not match: NACKed, never written.
        await channel.sendMessages([
          encodePieceHeader(
            { index: i, offset: i * pieceSize, rawLength: pieceSize, encoding: PieceEncoding.ZSTD, hash: new Uint8Array(32) },
            zeros.length,
          ),
          zeros,
        ]);
        const answer = await nextMessage(channel, manifest);
        assert.equal(answer?.type === 'nack' && answer.code, 'E_PIECE_HASH');
        peak = Math.max(peak, r.server.lentPoolBytes);
      }
      assert.ok(peak <= 3 * (pieceSize + 64), `${peak} bytes of pool buffers held by one session`);
      await until('every buffer of the NACKed pieces is back in the pool', () => r.server.lentPoolBytes === 0, 3_000);
      connection.destroy();
    } finally {
      await r.stop();
    }
  });

  it('counts an ACCEPT dropped before its first piece as an offence, and bans the third', async () => {
    const r = await startInProcessReceiver();
    try {
      for (let i = 0; i < 3; i++) {
        const { connection } = await acceptedTransfer('127.0.7.1', r.port);
        connection.destroy();
        await until('the session ended', () => r.outcomes.length >= i + 1);
      }
      await assert.rejects(acceptedTransfer('127.0.7.1', r.port), /E_BANNED/);
    } finally {
      await r.stop();
    }
  });

  it("never counts a sender's own CLOSE as an offence", async () => {
    const r = await startInProcessReceiver();
    try {
      for (let i = 0; i < 4; i++) {
        const { channel, connection } = await acceptedTransfer('127.0.0.1', r.port);
        await channel.sendMessages([encodeClose('E_TIMEOUT', 'the sender gave up waiting')]);
        await drain(connection, 5_000);
      }
      await until('the sessions ended', () => r.outcomes.length >= 4);
      const next = await acceptedTransfer('127.0.0.1', r.port);
      next.connection.destroy();
      assert.ok(!r.audit.events.some((e) => e.type === 'ban'), 'no ban');
    } finally {
      await r.stop();
    }
  });

  it('keeps piece buffers within the shared pool however many sessions send at once', async () => {
    const r = await startInProcessReceiver({
      server: {
        maxConcurrentPerIp: 64,
        maxHandshakesPerIp: 64,
        maxReceiveMemory: 16 << 20,
        capacity: { minFreeSpace: 0, maxTransfers: 64, maxTransfersPerKey: 64 },
      },
    });
    try {
      const size = 4 * 1024 * 1024;
      const sessions = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          acceptedTransfer('127.0.0.1', r.port, testManifest({ fileName: `pooled-${i}.bin`, fileSize: size, pieceSize: 1024 * 1024 })),
        ),
      );
      let peak = 0;
      const watch = setInterval(() => (peak = Math.max(peak, r.server.poolBytes)), 1);
      const answers = await Promise.all(sessions.map((s) => sendWhole(s.channel, s.manifest, new Uint8Array(crypto.randomBytes(size)))));
      clearInterval(watch);
      assert.ok(
        answers.every((a) => a?.type === 'verified'),
        JSON.stringify(answers),
      );
      assert.ok(peak > 0 && peak <= 12 << 20, `pool peaked at ${peak} bytes, limit ${12 << 20}`);
      assert.equal(existsSync(r.dir), true);
    } finally {
      await r.stop();
    }
  });
});
