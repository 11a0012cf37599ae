// docs/requirements.md#keys: keys are zeroed when the session ends. A spying CryptoPrimitives keeps every secret
// the sessions touch (ephemeral private keys, DH outputs, HKDF outputs, the transport keys
// passed to AES-GCM) and, after a whole transfer between a receiver and a sender in this process
// (over an in-memory connection pair), checks that each is all zeros.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { NodeCryptoPrimitives } from '../../src/adapters/crypto/node-crypto-primitives.js';
import { OpenSslAeadCryptoPrimitives } from '../../src/adapters/crypto/openssl-aead-crypto-primitives.js';
import type { CryptoPrimitives, KeyPair } from '../../src/domain/ports/crypto-primitives.js';
import { sendInProcess, startInProcessReceiver } from '../support/in-process.js';
import { MemoryTransport } from '../support/memory-transport.js';

class SecretSpy implements CryptoPrimitives {
  readonly name = 'spy';
  readonly secrets = new Map<string, Uint8Array[]>();
  /** Keys the cipher states said they were done with (the native AEAD drops its schedule then). */
  readonly forgotten = new Set<Uint8Array>();
  // The default adapter, whose native contexts hold key schedules until forgetKey.
  private readonly inner = new OpenSslAeadCryptoPrimitives();

  private keep(kind: string, secret: Uint8Array): Uint8Array {
    const list = this.secrets.get(kind) ?? [];
    if (!list.includes(secret)) list.push(secret);
    this.secrets.set(kind, list);
    return secret;
  }
  generateKeyPair(): KeyPair {
    const pair = this.inner.generateKeyPair();
    this.keep('ephemeral private key', pair.privateKey);
    return pair;
  }
  publicKeyOf = (k: Uint8Array) => this.inner.publicKeyOf(k);
  dh = (priv: Uint8Array, pub: Uint8Array) => this.keep('DH output', this.inner.dh(priv, pub));
  seal = (key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, data: Uint8Array, into?: Uint8Array) =>
    this.inner.seal(this.keep('AES key', key), nonce, ad, data, into);
  open = (key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, data: Uint8Array, into?: Uint8Array) =>
    this.inner.open(this.keep('AES key', key), nonce, ad, data, into);
  forgetKey = (key: Uint8Array) => {
    this.forgotten.add(key);
    this.inner.forgetKey(key);
  };
  sha256 = (d: Uint8Array) => this.inner.sha256(d);
  hmacSha256 = (key: Uint8Array, d: Uint8Array) => this.keep('HKDF output', this.inner.hmacSha256(key, d));
  randomBytes = (n: number) => this.inner.randomBytes(n);

  nonZero(): string[] {
    const left: string[] = [];
    for (const [kind, list] of this.secrets) list.forEach((s, i) => s.some((b) => b !== 0) && left.push(`${kind} #${i}`));
    return left;
  }

  /** AES keys that were zeroed without the adapter being told first. */
  unforgotten(): number {
    return (this.secrets.get('AES key') ?? []).filter((k) => !this.forgotten.has(k)).length;
  }
}

describe('key hygiene at the session level', () => {
  it('zeroes every ephemeral key, DH output, chaining and transport key once a transfer ends', async () => {
    const receiverSpy = new SecretSpy();
    const senderSpy = new SecretSpy();
    const hostKey = new NodeCryptoPrimitives().generateKeyPair();
    const clientKey = new NodeCryptoPrimitives().generateKeyPair();
    const transport = new MemoryTransport();
    const receiver = await startInProcessReceiver({ crypto: receiverSpy, hostKey, transport });
    const file = join(receiver.dir, '..', `hygiene-${process.pid}.bin`);
    writeFileSync(file, new Uint8Array(300_000).fill(7));
    const outcome = await sendInProcess(receiver.port, file, { crypto: senderSpy, clientKey, transport });
    await receiver.stop();
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
    for (const spy of [receiverSpy, senderSpy]) {
      // XX does three DH operations per side; transport keys are used for records both ways.
      assert.ok((spy.secrets.get('DH output') ?? []).length >= 3, 'the spy saw the DH outputs');
      assert.ok((spy.secrets.get('AES key') ?? []).length >= 2, 'the spy saw the transport keys');
      assert.ok((spy.secrets.get('ephemeral private key') ?? []).length >= 1);
      assert.deepEqual(spy.nonZero(), []);
      assert.equal(spy.unforgotten(), 0, 'every AES key was handed to forgetKey before it was zeroed');
    }
    // The sender's static key is its own to wipe after the send; the receiver's host key lives
    // as long as the server (bootstrap zeroes it at shutdown).
    assert.ok(
      clientKey.privateKey.every((b) => b === 0),
      'the sender zeroed its static private key',
    );
  });

  it('zeroes the secrets of a handshake that fails half way', async () => {
    const receiverSpy = new SecretSpy();
    const transport = new MemoryTransport();
    const receiver = await startInProcessReceiver({
      crypto: receiverSpy,
      transport,
      hostKey: new NodeCryptoPrimitives().generateKeyPair(),
      clients: { allows: () => Promise.resolve(false), describe: () => 'nobody' },
    });
    const file = join(receiver.dir, '..', `hygiene-refused-${process.pid}.bin`);
    writeFileSync(file, 'refused');
    const outcome = await sendInProcess(receiver.port, file, { transport });
    await receiver.stop();
    assert.equal(outcome.ok, false);
    assert.ok((receiverSpy.secrets.get('DH output') ?? []).length >= 3);
    assert.deepEqual(receiverSpy.nonZero(), []);
  });
});

/** Whether needle occurs anywhere in haystack. */
function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

describe("key hygiene in Node's shared buffer pool", () => {
  it('leaves no private key bytes in the pool after a handshake', async () => {
    // Small Buffers are cut from one shared slab (Buffer.poolSize) that is never wiped: a key
    // copied there stays readable until other buffers happen to overwrite it. A slab big enough
    // for the whole exchange makes every copy findable.
    const poolSize = Buffer.poolSize;
    Buffer.poolSize = 8 * 1024 * 1024;
    Buffer.allocUnsafe(poolSize); // does not fit the old slab: the next small Buffer starts a new one
    const slab = Buffer.allocUnsafe(1).buffer;
    const secrets: Uint8Array[] = [];
    class KeepingKeys extends NodeCryptoPrimitives {
      override generateKeyPair(): KeyPair {
        const pair = super.generateKeyPair();
        secrets.push(Uint8Array.from(pair.privateKey));
        return pair;
      }
    }
    try {
      const plain = new NodeCryptoPrimitives();
      const hostKey = plain.generateKeyPair();
      const clientKey = plain.generateKeyPair();
      secrets.push(Uint8Array.from(hostKey.privateKey), Uint8Array.from(clientKey.privateKey));
      const transport = new MemoryTransport();
      const receiver = await startInProcessReceiver({ crypto: new KeepingKeys(), hostKey, transport });
      const file = join(receiver.dir, '..', `pool-${process.pid}.bin`);
      writeFileSync(file, new Uint8Array(100_000).fill(3));
      const outcome = await sendInProcess(receiver.port, file, { crypto: new KeepingKeys(), clientKey, transport });
      await receiver.stop();
      assert.equal(outcome.ok, true, JSON.stringify(outcome));
      assert.equal(Buffer.allocUnsafe(1).buffer, slab, 'the exchange stayed within one slab');
      assert.ok(secrets.length >= 4, 'two static and at least two ephemeral keys');
      const pool = new Uint8Array(slab);
      secrets.forEach((key, i) => assert.equal(contains(pool, key), false, `private key #${i} found in the buffer pool`));
    } finally {
      Buffer.poolSize = poolSize;
    }
  });
});
