// The handshake use case over an in-memory pipe: the keys it makes are wiped on every path out,
// a failed write of message 3 included (docs/defences.md), and message 2 must be empty too.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NodeCryptoPrimitives } from '../../src/adapters/crypto/node-crypto-primitives.js';
import { initiatorHandshake, responderHandshake } from '../../src/application/handshake.js';
import { SecureChannel } from '../../src/application/secure-channel.js';
import type { KeyPair } from '../../src/domain/ports/crypto-primitives.js';
import type { Connection } from '../../src/domain/ports/transport.js';

/** One end of an in-memory byte pipe; writes from the given count on fail as a broken socket's would. */
class PipeEnd implements Connection {
  readonly remoteAddress = '127.0.0.1';
  readonly remotePort = 1;
  bytesRead = 0;
  bytesWritten = 0;
  peer!: PipeEnd;
  failWritesFrom = Infinity;
  private writes = 0;
  private readonly queue: Uint8Array[] = [];
  private waiting: ((chunk: Uint8Array | null) => void) | undefined;

  static pair(): [PipeEnd, PipeEnd] {
    const a = new PipeEnd();
    const b = new PipeEnd();
    a.peer = b;
    b.peer = a;
    return [a, b];
  }
  read(): Promise<Uint8Array | null> {
    const next = this.queue.shift();
    if (next) return Promise.resolve(next);
    return new Promise((resolve) => (this.waiting = resolve));
  }
  write(bytes: Uint8Array): Promise<void> {
    if (++this.writes >= this.failWritesFrom) return Promise.reject(new Error('write EPIPE'));
    this.bytesWritten += bytes.length;
    this.peer.deliver(Uint8Array.from(bytes));
    return Promise.resolve();
  }
  private deliver(chunk: Uint8Array): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting) waiting(chunk);
    else this.queue.push(chunk);
  }
  setIdleTimeout(): void {}
  end(): Promise<void> {
    return Promise.resolve();
  }
  destroy(): void {
    this.waiting?.(null);
  }
}

/** node:crypto that keeps a reference to every secret it hands out, to check they end zeroed. */
class KeepingSecrets extends NodeCryptoPrimitives {
  readonly secrets: Uint8Array[] = [];
  override generateKeyPair(): KeyPair {
    const pair = super.generateKeyPair();
    this.secrets.push(pair.privateKey);
    return pair;
  }
  override dh(priv: Uint8Array, pub: Uint8Array): Uint8Array {
    const out = super.dh(priv, pub);
    this.secrets.push(out);
    return out;
  }
  /** The value of every HMAC output as it was made: Split()'s last two are the transport keys. */
  readonly hmacValues: Uint8Array[] = [];
  /** The value of every key a cipher state let go of (it does so just before it zeroes the key). */
  readonly forgotten: Uint8Array[] = [];
  override hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
    const out = super.hmacSha256(key, data);
    this.secrets.push(out);
    this.hmacValues.push(Uint8Array.from(out));
    return out;
  }
  override forgetKey(key: Uint8Array): void {
    this.forgotten.push(Uint8Array.from(key));
    super.forgetKey(key);
  }
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

describe('handshake key hygiene and payload rules', () => {
  it('wipes the transport keys when writing message 3 fails after Split()', async () => {
    const [client, server] = PipeEnd.pair();
    const crypto = new KeepingSecrets();
    const plain = new NodeCryptoPrimitives();
    void responderHandshake(new SecureChannel(server), plain, plain.generateKeyPair()).catch(() => undefined);
    client.failWritesFrom = 2; // message 1 goes out, message 3 does not
    const hs = initiatorHandshake(new SecureChannel(client), crypto, crypto.generateKeyPair());
    await hs.start();
    await assert.rejects(hs.finish(new Uint8Array(48)), /EPIPE/);
    // Split()'s two keys were made into cipher states, and both were destroyed (told to the
    // adapter, then zeroed) although the write failed.
    const transportKeys = crypto.hmacValues.slice(-2);
    for (const key of transportKeys)
      assert.ok(
        crypto.forgotten.some((f) => sameBytes(f, key)),
        'a transport key was never destroyed',
      );
    // The static key is the caller's to wipe; every other secret must be zero already.
    const left = crypto.secrets.slice(1).filter((s) => s.some((b) => b !== 0));
    assert.ok(crypto.secrets.length > 5, 'the spy saw the secrets');
    assert.equal(left.length, 0, `${left.length} secrets still hold key bytes`);
    server.destroy();
  });

  it('fails a HANDSHAKE_RESP that carries a payload', async () => {
    const [client, server] = PipeEnd.pair();
    const crypto = new NodeCryptoPrimitives();
    const { HandshakeState } = await import('../../src/domain/noise/handshake-state.js');
    const { PATTERNS } = await import('../../src/domain/noise/patterns.js');
    const { PROLOGUE_TEXT, PROTOCOL_NAME } = await import('../../src/domain/protocol.js');
    const { utf8 } = await import('../../src/domain/bytes.js');
    const { FrameType } = await import('../../src/domain/wire/frame.js');
    // A responder that answers message 1 with a 100-byte payload in message 2.
    void (async () => {
      const channel = new SecureChannel(server);
      const hs = new HandshakeState({
        crypto,
        protocolName: PROTOCOL_NAME,
        pattern: PATTERNS['XX']!,
        initiator: false,
        prologue: utf8(PROLOGUE_TEXT),
        staticKey: crypto.generateKeyPair(),
        ephemeralKey: crypto.generateKeyPair(),
      });
      const first = await channel.readFrame();
      assert.ok(hs.readMessage(first.body).ok);
      await channel.writeFrame(FrameType.HANDSHAKE_RESP, hs.writeMessage(new Uint8Array(100)));
    })();
    const hs = initiatorHandshake(new SecureChannel(client), crypto, crypto.generateKeyPair());
    await assert.rejects(
      hs.start(),
      (e: unknown) => (e as { code?: string }).code === 'E_HANDSHAKE_FAILED' && /100-byte payload/.test((e as Error).message),
    );
    hs.destroy();
  });
});
