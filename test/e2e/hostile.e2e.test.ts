// End to end: hostile clients against the real receiver process. Each leaves no file
// and an audit record, while an honest sender is served at the same time.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ZstdCodecAdapter } from '../../src/adapters/codec/zstd-codec.js';
import { encodeFrame, FrameType, decodeRefuse } from '../../src/domain/wire/frame.js';
import { encodeManifest } from '../../src/domain/transfer/manifest.js';
import { encodePieceHeader, PieceEncoding, encodeTransferComplete } from '../../src/domain/wire/messages.js';
import { makePeer, runCli, startReceiver, type Peer, type RunningReceiver } from '../support/cli.js';
import { sha256File, writeRandomFile } from '../support/files.js';
import { acceptedTransfer, connectFrom, crypto, drain, handshakeWith, testManifest } from '../support/hostile-client.js';

interface AuditRecord {
  type: string;
  code?: string;
  peerAddress?: string;
  detail?: string;
}

async function audit(peer: Peer, address: string): Promise<AuditRecord[]> {
  const r = await runCli(['audit', '--address', address, '--json'], peer.env);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as AuditRecord[];
}

const piece = (
  index: number,
  data: Uint8Array,
  over: { offset?: number; rawLength?: number; encoding?: 0 | 1; hash?: Uint8Array } = {},
) => [
  encodePieceHeader(
    {
      index,
      offset: over.offset ?? index * 16384,
      rawLength: over.rawLength ?? data.length,
      encoding: over.encoding ?? PieceEncoding.RAW,
      hash: over.hash ?? crypto.sha256(data),
    },
    data.length,
  ),
  data,
];

describe('hostile clients against the real receiver', { timeout: 300_000 }, () => {
  const receiverPeer = makePeer('receiver-hostile');
  const honest = makePeer('sender-honest');
  let receiver: RunningReceiver;
  let round = 0;
  const received = join(receiverPeer.dir, 'received');

  before(async () => {
    receiver = await startReceiver(receiverPeer, undefined, { ST_HANDSHAKE_TIMEOUT_SEC: '2', ST_RATE_LIMIT_BYTES_PER_SEC: '8MB' });
  });
  after(() => receiver.stop());

  /** Runs the attack from its own address while an honest sender sends; checks both outcomes. */
  async function underAttack(attack: (address: string) => Promise<void>, expected: { type: string; code: string }) {
    round++;
    const address = `127.0.0.${20 + round}`;
    const source = join(honest.dir, `honest-${round}.bin`);
    writeRandomFile(source, 4 * 1024 * 1024);
    const [sent] = await Promise.all([
      runCli(['send', '--host', '127.0.0.1', '--port', String(receiver.port), '--file', source], honest.env),
      attack(address),
    ]);
    assert.equal(sent.code, 0, `the honest sender was not served:\n${sent.stderr}`);
    assert.equal(await sha256File(join(received, `honest-${round}.bin`)), await sha256File(source));
    assert.equal(existsSync(join(received, 'hostile.bin')), false, 'no file from the attacker');
    const events = await audit(receiverPeer, address);
    assert.ok(
      events.some((e) => e.type === expected.type && e.code === expected.code),
      `no ${expected.type} ${expected.code} for ${address} in:\n${JSON.stringify(events, null, 1)}`,
    );
  }

  it('garbage after connect', () =>
    underAttack(
      async (address) => {
        const c = await connectFrom(address, receiver.port);
        await c.write(new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
        await drain(c);
      },
      { type: 'handshake.failed', code: 'E_MALFORMED_FRAME' },
    ));

  it('an oversized length prefix after a valid handshake', () =>
    underAttack(
      async (address) => {
        const { channel, connection } = await acceptedTransfer(address, receiver.port);
        await channel.sendMessages([Uint8Array.of(0x11, 0xff, 0xff, 0xff, 0xff)]);
        await drain(connection);
      },
      { type: 'transfer.failed', code: 'E_FRAME_TOO_LARGE' },
    ));

  it('one byte per second (slowloris) until the handshake deadline', () =>
    underAttack(
      async (address) => {
        const c = await connectFrom(address, receiver.port);
        const init = encodeFrame(FrameType.HANDSHAKE_INIT, crypto.generateKeyPair().publicKey);
        const trickle = (async () => {
          for (const byte of init) {
            await new Promise((r) => setTimeout(r, 1000));
            if (
              await c.write(Uint8Array.of(byte)).then(
                () => false,
                () => true,
              )
            )
              return;
          }
        })();
        await drain(c, 20_000);
        await trickle;
      },
      { type: 'handshake.failed', code: 'E_TIMEOUT' },
    ));

  it('a valid handshake, then a manifest with a traversal name', () =>
    underAttack(
      async (address) => {
        const bytes = encodeManifest(testManifest({ fileName: 'ok.bin' }));
        const evil = new TextEncoder().encode('../x.bin');
        const forged = new Uint8Array(bytes.length - 6 + evil.length);
        forged.set(bytes.subarray(0, bytes.length - 6));
        new DataView(forged.buffer).setUint16(35, evil.length);
        forged.set(evil, bytes.length - 6);
        const { connection } = await handshakeWith(address, receiver.port, forged);
        await drain(connection);
      },
      { type: 'error', code: 'E_NAME_INVALID' },
    ));

  it('a piece index out of range', () =>
    underAttack(
      async (address) => {
        const { channel, connection } = await acceptedTransfer(address, receiver.port);
        await channel.sendMessages(piece(7, new Uint8Array(16384), { offset: 0 }));
        await drain(connection);
      },
      { type: 'transfer.failed', code: 'E_PIECE_INDEX' },
    ));

  it('a duplicate piece', () =>
    underAttack(
      async (address) => {
        const { channel, connection } = await acceptedTransfer(address, receiver.port);
        const data = crypto.randomBytes(16384);
        await channel.sendMessages([...piece(0, data), ...piece(0, data)]);
        await drain(connection);
      },
      { type: 'transfer.failed', code: 'E_PIECE_DUPLICATE' },
    ));

  it('a piece of the wrong length', () =>
    underAttack(
      async (address) => {
        const { channel, connection } = await acceptedTransfer(address, receiver.port);
        await channel.sendMessages(piece(0, crypto.randomBytes(16000)));
        await drain(connection);
      },
      { type: 'transfer.failed', code: 'E_PIECE_LENGTH' },
    ));

  it('a decompression bomb', () =>
    underAttack(
      async (address) => {
        const codec = await ZstdCodecAdapter.create();
        const bomb = codec.compress(new Uint8Array(2 * 1024 * 1024), 3); // 2 MiB of zeros, a few hundred bytes
        const { channel, connection } = await acceptedTransfer(address, receiver.port);
        await channel.sendMessages(piece(0, bomb, { rawLength: 16384, encoding: PieceEncoding.ZSTD, hash: new Uint8Array(32) }));
        await drain(connection);
      },
      { type: 'transfer.failed', code: 'E_DECOMPRESS' },
    ));

  it('a stream cut before TRANSFER_COMPLETE', () =>
    underAttack(
      async (address) => {
        const { channel, connection } = await acceptedTransfer(address, receiver.port);
        await channel.sendMessages(piece(0, crypto.randomBytes(16384)));
        await new Promise((r) => setTimeout(r, 200));
        connection.destroy();
      },
      { type: 'transfer.failed', code: 'E_CONNECTION_LOST' },
    ));

  it('a replayed record', () =>
    underAttack(
      async (address) => {
        const { channel, connection } = await acceptedTransfer(address, receiver.port);
        await channel.sendMessages(piece(0, crypto.randomBytes(16384)));
        const records = connection.writes.at(-1)!;
        await connection.write(records); // the same bytes again: their nonce is spent
        await channel.sendMessages([encodeTransferComplete(new Uint8Array(32))]).catch(() => undefined);
        await drain(connection);
      },
      { type: 'transfer.failed', code: 'E_DECRYPT_FAILED' },
    ));

  it('left no partial file of a refused name and kept serving throughout', () => {
    const names = readdirSync(received);
    assert.ok(!names.some((n) => n.includes('x.bin')), names.join(', '));
    assert.equal(names.filter((n) => n.startsWith('honest-')).length, round);
  });
});

describe('bans and admission', { timeout: 180_000 }, () => {
  it('refuses the attempt after the threshold at accept, and an honest address is unaffected', async () => {
    const receiverPeer = makePeer('receiver-ban');
    const honest = makePeer('sender-ban-honest');
    const r = await startReceiver(receiverPeer, undefined, {
      ST_FAILED_HANDSHAKE_BAN_THRESHOLD: '3',
      ST_FAILED_HANDSHAKE_BAN_WINDOW_SEC: '60',
    });
    try {
      const attacker = '127.0.0.50';
      for (let i = 0; i < 3; i++) {
        const c = await connectFrom(attacker, r.port);
        await c.write(encodeFrame(FrameType.HANDSHAKE_INIT, new Uint8Array(7))); // too short for "e"
        const reply = await drain(c);
        assert.equal(reply.length, 0, `attempt ${i + 1} was not refused at accept`);
      }
      const fourth = await connectFrom(attacker, r.port);
      const reply = Buffer.concat(await drain(fourth));
      assert.equal(reply[0], FrameType.REFUSE, 'the fourth attempt gets REFUSE before any cryptography');
      assert.equal(decodeRefuse(reply.subarray(3)), 'E_BANNED');
      const events = await audit(receiverPeer, attacker);
      assert.equal(events.filter((e) => e.type === 'handshake.failed').length, 3);
      assert.ok(events.some((e) => e.type === 'ban' && /3 offences/.test(e.detail ?? '')));
      assert.ok(events.some((e) => e.type === 'connection.refused' && e.code === 'E_BANNED'));

      const source = join(honest.dir, 'after-ban.txt');
      writeFileSync(source, 'still welcome');
      const sent = await runCli(['send', '--host', '127.0.0.1', '--port', String(r.port), '--file', source], honest.env);
      assert.equal(sent.code, 0, sent.stderr);
    } finally {
      await r.stop();
    }
  });

  it('refuses one connection over the per-address limit', async () => {
    const receiverPeer = makePeer('receiver-cap');
    const r = await startReceiver(receiverPeer, undefined, { ST_MAX_CONCURRENT_PER_IP: '2', ST_HANDSHAKE_TIMEOUT_SEC: '30' });
    try {
      const address = '127.0.0.60';
      const open = [await connectFrom(address, r.port), await connectFrom(address, r.port)];
      await new Promise((resolve) => setTimeout(resolve, 200)); // both admitted
      const third = await connectFrom(address, r.port);
      const reply = Buffer.concat(await drain(third, 5_000));
      assert.equal(reply[0], FrameType.REFUSE);
      assert.equal(decodeRefuse(reply.subarray(3)), 'E_BUSY');
      for (const c of open) c.destroy();
      const events = await audit(receiverPeer, address);
      assert.ok(events.some((e) => e.type === 'connection.refused' && e.code === 'E_BUSY'));
    } finally {
      await r.stop();
    }
  });
});

describe('the token bucket', { timeout: 120_000 }, () => {
  it('holds a transfer to the configured rate, within 15% of size / rate', async () => {
    const receiverPeer = makePeer('receiver-rate');
    const sender = makePeer('sender-rate');
    const rate = 4_000_000;
    const size = 12_000_000;
    const r = await startReceiver(receiverPeer, undefined, { ST_RATE_LIMIT_BYTES_PER_SEC: String(rate) });
    try {
      const source = join(sender.dir, 'rated.bin');
      writeRandomFile(source, size); // random: what the receiver reads is the file's size
      const sent = await runCli(
        ['send', '--host', '127.0.0.1', '--port', String(r.port), '--file', source, '--compression-level', '0'],
        sender.env,
      );
      assert.equal(sent.code, 0, sent.stderr);
      const events = await audit(receiverPeer, '127.0.0.1');
      const opened = events.find((e) => e.type === 'connection.opened') as AuditRecord & { at: number };
      const done = events.find((e) => e.type === 'transfer.completed') as AuditRecord & { at: number };
      const seconds = (done.at - opened.at) / 1000;
      const expected = size / rate;
      assert.ok(Math.abs(seconds - expected) <= 0.15 * expected, `took ${seconds} s, expected ${expected} s ± 15%`);
    } finally {
      await r.stop();
    }
  });
});
