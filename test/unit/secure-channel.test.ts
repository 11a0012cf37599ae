// The record layer's buffer reuse (issue 6): outgoing buffers are reused only after the
// transport releases them, and what it was given never changes under it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NodeCryptoPrimitives } from '../../src/adapters/crypto/node-crypto-primitives.js';
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
  /** Feeds what was written back as input, for a receiving channel. */
  loopBack(): void {
    for (const w of this.writes) this.incoming.push(w.snapshot); // what went out at each write
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
  return Uint8Array.from({ length: 200_000 }, () => ((x = (x * 48271) % 2147483647) & 0xff));
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
      const header = encodePieceHeader({ index, offset: index * data.length, rawLength: data.length, encoding: PieceEncoding.RAW, hash: new Uint8Array(32) }, data.length);
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
});
