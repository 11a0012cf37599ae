// The record layer's buffer reuse (docs/requirements.md#speed): outgoing buffers are reused only after the
// transport releases them, and what it was given never changes under it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NodeCryptoPrimitives } from '../../src/adapters/crypto/node-crypto-primitives.js';
import { OpenSslAeadCryptoPrimitives } from '../../src/adapters/crypto/openssl-aead-crypto-primitives.js';
import { SecureChannel } from '../../src/application/secure-channel.js';
import { CipherState } from '../../src/domain/noise/cipher-state.js';
import type { Connection } from '../../src/domain/ports/transport.js';
import { encodePieceHeader, PieceEncoding } from '../../src/domain/wire/messages.js';

/** Keeps every write and its release callback; releases only when the test says so. */
class HoldingConnection implements Connection {
  readonly remoteAddress = '127.0.0.1';
  readonly remotePort = 1;
  readonly bytesRead = 0;
  bytesWritten = 0;
  readonly writes: { bytes: Uint8Array; snapshot: Uint8Array; release: () => void }[] = [];
  private readonly incoming: Uint8Array[] = [];

  read(): Promise<Uint8Array | null> {
    return Promise.resolve(this.incoming.shift() ?? null);
  }
  write(bytes: Uint8Array, onReleased?: () => void): Promise<void> {
    this.writes.push({ bytes, snapshot: Uint8Array.from(bytes), release: onReleased ?? (() => undefined) });
    this.bytesWritten += bytes.length;
    return Promise.resolve();
  }
  /** Feeds what was written back as input, for a receiving channel; chunkSize cuts it as a socket might. */
  loopBack(chunkSize?: number): void {
    for (const w of this.writes) {
      if (chunkSize === undefined)
        this.incoming.push(w.snapshot); // what went out at each write
      else for (let at = 0; at < w.snapshot.length; at += chunkSize) this.incoming.push(w.snapshot.slice(at, at + chunkSize));
    }
  }
  /** Flips one byte of the chunk at the given fraction of those not yet read. */
  flipUnreadByte(fraction: number, offset: number): void {
    this.incoming[Math.floor(this.incoming.length * fraction)]![offset]! ^= 0x01;
  }
  setIdleTimeout(): void {}
  end(): Promise<void> {
    return Promise.resolve();
  }
  destroy(): void {}
}

const crypto = new NodeCryptoPrimitives();
const limits = { maxPieceBody: 300_000, maxAcceptBody: 0 };

function piece(seed: number): Uint8Array {
  let x = seed;
  return Uint8Array.from({ length: 200_000 }, () => (x = (x * 48271) % 2147483647) & 0xff);
}

describe('secure channel buffers', () => {
  it('never reuses an outgoing buffer the transport still holds, and reuses it once released', async () => {
    const key = crypto.randomBytes(32);
    const connection = new HoldingConnection();
    const channel = new SecureChannel(connection);
    channel.startRecords(new CipherState(crypto, key), new CipherState(crypto, key));
    await channel.sendMessages([Uint8Array.of(9, 0, 0, 0, 0), piece(1)]);
    await channel.sendMessages([Uint8Array.of(9, 0, 0, 0, 0), piece(2)]);
    const [first, second] = connection.writes;
    assert.notEqual(first!.bytes.buffer, second!.bytes.buffer, 'a held buffer was handed out again');
    assert.deepEqual(first!.bytes, first!.snapshot, 'the bytes the transport holds changed');

    first!.release();
    await channel.sendMessages([Uint8Array.of(9, 0, 0, 0, 0), piece(3)]);
    assert.equal(connection.writes[2]!.bytes.buffer, first!.bytes.buffer, 'a released buffer was not reused');
    assert.deepEqual(second!.bytes, second!.snapshot);
  });

  it('seals records in place that decrypt, in order, to the pieces sent through reused buffers', async () => {
    const key = crypto.randomBytes(32);
    const wire = new HoldingConnection();
    const sender = new SecureChannel(wire);
    sender.startRecords(new CipherState(crypto, key), new CipherState(crypto, crypto.randomBytes(32)));
    const sent = [piece(4), piece(5), piece(6)];
    for (const [index, data] of sent.entries()) {
      const header = encodePieceHeader(
        { index, offset: index * data.length, rawLength: data.length, encoding: PieceEncoding.RAW, hash: new Uint8Array(32) },
        data.length,
      );
      await sender.sendMessages([header, data]);
      wire.writes.at(-1)!.release();
    }
    assert.equal(wire.writes[1]!.bytes.buffer, wire.writes[0]!.bytes.buffer, 'the released buffer was reused');

    wire.loopBack();
    const receiver = new SecureChannel(wire);
    receiver.startRecords(new CipherState(crypto, crypto.randomBytes(32)), new CipherState(crypto, key));
    for (const [index, data] of sent.entries()) {
      const message = await receiver.readMessage(limits);
      assert.equal(message.type, 'piece');
      if (message.type === 'piece') {
        assert.equal(message.piece.index, index);
        assert.deepEqual(message.piece.data, data);
      }
    }
  });

  it('opens the records that lie wholly inside a lent piece body straight into it', async () => {
    const key = crypto.randomBytes(32);
    const wire = new HoldingConnection();
    const sender = new SecureChannel(wire);
    sender.startRecords(new CipherState(crypto, key), new CipherState(crypto, crypto.randomBytes(32)));
    const data = piece(7);
    const header = encodePieceHeader(
      { index: 0, offset: 0, rawLength: data.length, encoding: PieceEncoding.RAW, hash: new Uint8Array(32) },
      data.length,
    );
    await sender.sendMessages([header, data]);
    await sender.sendMessages([header, data]);

    // Chunks that cut records anywhere, as a socket does.
    wire.loopBack(7001);
    const lent = new Uint8Array(300_000);
    const openssl = new OpenSslAeadCryptoPrimitives();
    let direct = 0;
    const spy = Object.assign(Object.create(openssl) as OpenSslAeadCryptoPrimitives, {
      open(k: Uint8Array, n: Uint8Array, ad: Uint8Array, c: Uint8Array, into?: Uint8Array) {
        if (into?.buffer === lent.buffer) direct++;
        return openssl.open(k, n, ad, c, into);
      },
    });
    const receiver = new SecureChannel(wire);
    receiver.startRecords(new CipherState(crypto, crypto.randomBytes(32)), new CipherState(spy, key));
    const message = await receiver.readMessage(limits, { lend: () => lent, wait: () => Promise.resolve() });
    assert.equal(message.type, 'piece');
    if (message.type !== 'piece') return;
    assert.deepEqual(message.piece.data, data);
    assert.equal(message.piece.data.buffer, lent.buffer, 'the body is the lent buffer');
    // 200,000 bytes after a header in the first record: the first record is queued as usual,
    // then every whole record of the body goes straight in (the last one may share a message).
    assert.ok(direct >= Math.floor(data.length / 65519) - 1, `only ${direct} records were opened into the body`);

    // A forged record inside the next body fails the stream, never delivers the piece.
    wire.flipUnreadByte(0.5, 100);
    await assert.rejects(
      receiver.readMessage(limits, { lend: () => lent, wait: () => Promise.resolve() }),
      /E_DECRYPT_FAILED|failed authentication/,
    );
  });
});
