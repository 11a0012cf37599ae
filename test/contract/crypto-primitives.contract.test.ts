// One suite, every CryptoPrimitives adapter: the official Noise vectors (docs/requirements.md#handshake), tamper
// tests for the AEAD, low-order keys, and handshakes across implementations.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fromHex, toHex } from '../../src/domain/bytes.js';
import { HandshakeState } from '../../src/domain/noise/handshake-state.js';
import { PATTERNS, patternFromProtocolName } from '../../src/domain/noise/patterns.js';
import type { CryptoPrimitives, KeyPair } from '../../src/domain/ports/crypto-primitives.js';
import { cryptoAdapters } from '../support/crypto-adapters.js';
import { vectorsPath } from '../support/paths.js';

interface Vector {
  protocol_name: string;
  init_prologue: string;
  init_static?: string;
  init_ephemeral: string;
  init_remote_static?: string;
  resp_prologue: string;
  resp_static?: string;
  resp_ephemeral: string;
  resp_remote_static?: string;
  handshake_hash: string;
  messages: { payload: string; ciphertext: string }[];
}

const vectors = (JSON.parse(readFileSync(vectorsPath, 'utf8')) as { vectors: Vector[] }).vectors;

function keyPair(crypto: CryptoPrimitives, privateHex: string | undefined): KeyPair | undefined {
  if (!privateHex) return undefined;
  const privateKey = fromHex(privateHex);
  return { privateKey, publicKey: crypto.publicKeyOf(privateKey) };
}

function runVector(crypto: CryptoPrimitives, v: Vector): void {
  const pattern = patternFromProtocolName(v.protocol_name);
  assert.ok(pattern, `unknown pattern ${v.protocol_name}`);
  const initiator = new HandshakeState({
    crypto,
    protocolName: v.protocol_name,
    pattern,
    initiator: true,
    prologue: fromHex(v.init_prologue),
    staticKey: keyPair(crypto, v.init_static),
    ephemeralKey: keyPair(crypto, v.init_ephemeral),
    remoteStaticKey: v.init_remote_static ? fromHex(v.init_remote_static) : undefined,
  });
  const responder = new HandshakeState({
    crypto,
    protocolName: v.protocol_name,
    pattern,
    initiator: false,
    prologue: fromHex(v.resp_prologue),
    staticKey: keyPair(crypto, v.resp_static),
    ephemeralKey: keyPair(crypto, v.resp_ephemeral),
    remoteStaticKey: v.resp_remote_static ? fromHex(v.resp_remote_static) : undefined,
  });
  const handshakeLength = pattern.messages.length;
  v.messages.slice(0, handshakeLength).forEach((m, i) => {
    const [writer, reader] = i % 2 === 0 ? [initiator, responder] : [responder, initiator];
    const ciphertext = writer.writeMessage(fromHex(m.payload));
    assert.equal(toHex(ciphertext), m.ciphertext, `${v.protocol_name} handshake message ${i}`);
    const read = reader.readMessage(ciphertext);
    assert.ok(read.ok, `${v.protocol_name} message ${i} did not read back`);
    assert.equal(toHex(read.value), m.payload);
  });
  assert.ok(initiator.isComplete && responder.isComplete);
  const i = initiator.transportKeys();
  const r = responder.transportKeys();
  assert.equal(toHex(i.handshakeHash), v.handshake_hash);
  assert.equal(toHex(r.handshakeHash), v.handshake_hash);
  v.messages.slice(handshakeLength).forEach((m, k) => {
    const fromInitiator = (handshakeLength + k) % 2 === 0;
    const [send, receive] = fromInitiator ? [i.send, r.receive] : [r.send, i.receive];
    const ciphertext = send.encrypt(fromHex(m.payload));
    assert.equal(toHex(ciphertext), m.ciphertext, `${v.protocol_name} transport message ${handshakeLength + k}`);
    const plaintext = receive.decrypt(ciphertext);
    assert.ok(plaintext);
    assert.equal(toHex(plaintext), m.payload);
  });
}

function xxPair(a: CryptoPrimitives, b: CryptoPrimitives) {
  const prologue = new TextEncoder().encode('test');
  const common = { protocolName: 'Noise_XX_25519_AESGCM_SHA256', pattern: PATTERNS['XX']!, prologue };
  const aStatic = a.generateKeyPair();
  const bStatic = b.generateKeyPair();
  const initiator = new HandshakeState({ ...common, crypto: a, initiator: true, staticKey: aStatic, ephemeralKey: a.generateKeyPair() });
  const responder = new HandshakeState({ ...common, crypto: b, initiator: false, staticKey: bStatic, ephemeralKey: b.generateKeyPair() });
  return { initiator, responder, aStatic, bStatic };
}

for (const crypto of cryptoAdapters) {
  describe(`CryptoPrimitives contract: ${crypto.name}`, () => {
    it('passes all 12 official Noise_*_25519_AESGCM_SHA256 vectors', () => {
      assert.equal(vectors.length, 12);
      for (const v of vectors) runVector(crypto, v);
    });

    it('derives the RFC 7748 §6.1 X25519 public key and shared secret', () => {
      const alice = fromHex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
      const bobPublic = fromHex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
      assert.equal(toHex(crypto.publicKeyOf(alice)), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
      assert.equal(toHex(crypto.dh(alice, bobPublic)), '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742');
    });

    it('refuses a low-order peer key (all-zero shared secret)', () => {
      const mine = crypto.generateKeyPair();
      assert.throws(() => crypto.dh(mine.privateKey, new Uint8Array(32)));
    });

    it('AES-256-GCM rejects any flipped bit of ciphertext, tag or associated data', () => {
      const key = crypto.randomBytes(32);
      const nonce = new Uint8Array(12);
      const ad = Uint8Array.of(1, 2, 3);
      const sealed = crypto.seal(key, nonce, ad, new TextEncoder().encode('attack at dawn'));
      assert.equal(sealed.length, 14 + 16);
      for (let i = 0; i < sealed.length; i++) {
        const bad = Uint8Array.from(sealed);
        bad[i]! ^= 0x01;
        assert.equal(crypto.open(key, nonce, ad, bad), undefined, `flip at byte ${i} accepted`);
      }
      assert.equal(crypto.open(key, nonce, Uint8Array.of(1, 2, 4), sealed), undefined);
      assert.equal(crypto.open(key, nonce, ad, sealed.subarray(0, 15)), undefined);
      assert.equal(new TextDecoder().decode(crypto.open(key, nonce, ad, sealed)), 'attack at dawn');
    });

    it('seals into a given buffer exactly what it returns otherwise, and refuses one too small', () => {
      const key = crypto.randomBytes(32);
      const nonce = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7);
      const plaintext = crypto.randomBytes(1000);
      const alone = crypto.seal(key, nonce, new Uint8Array(0), plaintext);
      const into = new Uint8Array(4 + 1016 + 4).fill(0xaa);
      const placed = crypto.seal(key, nonce, new Uint8Array(0), plaintext, into.subarray(4));
      assert.deepEqual(placed, alone);
      assert.equal(placed.buffer, into.buffer, 'the result is a view of the given buffer');
      assert.equal(placed.byteOffset, 4);
      assert.deepEqual(into.subarray(1020), Uint8Array.of(0xaa, 0xaa, 0xaa, 0xaa), 'nothing written past the record');
      assert.throws(() => crypto.seal(key, nonce, new Uint8Array(0), plaintext, new Uint8Array(1015)), RangeError);
    });

    it('opens into a given buffer, and leaves no plaintext there when authentication fails', () => {
      const key = crypto.randomBytes(32);
      const nonce = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2);
      const plaintext = crypto.randomBytes(3000);
      const sealed = crypto.seal(key, nonce, new Uint8Array(0), plaintext);
      const into = new Uint8Array(2 + 3000 + 2).fill(0xaa);
      const opened = crypto.open(key, nonce, new Uint8Array(0), sealed, into.subarray(2));
      assert.ok(opened);
      assert.deepEqual(opened, plaintext);
      assert.equal(opened.buffer, into.buffer, 'the result is a view of the given buffer');
      assert.equal(opened.byteOffset, 2);
      assert.deepEqual([into[0], into[1], into[3002], into[3003]], [0xaa, 0xaa, 0xaa, 0xaa], 'nothing written outside the slot');
      const bad = Uint8Array.from(sealed);
      bad[1234]! ^= 0x10;
      const target = new Uint8Array(3000).fill(0x55);
      assert.equal(crypto.open(key, nonce, new Uint8Array(0), bad, target), undefined);
      // Either untouched or wiped: never the (unauthenticated) decryption of the forged record.
      assert.ok(target.every((b) => b === 0) || target.every((b) => b === 0x55), 'no plaintext left behind');
      assert.throws(() => crypto.open(key, nonce, new Uint8Array(0), sealed, new Uint8Array(2999)), RangeError);
    });

    it('seals and opens an empty plaintext, with and without an empty output buffer', () => {
      const key = crypto.randomBytes(32);
      const nonce = new Uint8Array(12);
      const ad = Uint8Array.of(7);
      const tagOnly = crypto.seal(key, nonce, ad, new Uint8Array(0));
      assert.equal(tagOnly.length, 16);
      assert.deepEqual(crypto.seal(key, nonce, ad, new Uint8Array(0), new Uint8Array(16)), tagOnly);
      assert.deepEqual(crypto.open(key, nonce, ad, tagOnly), new Uint8Array(0));
      assert.deepEqual(crypto.open(key, nonce, ad, tagOnly, new Uint8Array(0)), new Uint8Array(0));
      const forged = Uint8Array.from(tagOnly);
      forged[0]! ^= 1;
      assert.equal(crypto.open(key, nonce, ad, forged, new Uint8Array(0)), undefined);
    });

    it('seals and opens in place, and refuses an output that overlaps the input shifted or the associated data', () => {
      const key = crypto.randomBytes(32);
      const nonce = new Uint8Array(12);
      const plaintext = crypto.randomBytes(5000);
      const expected = crypto.seal(key, nonce, new Uint8Array(0), plaintext);
      const buffer = new Uint8Array(5016 + 8);
      buffer.set(plaintext);
      const inPlace = crypto.seal(key, nonce, new Uint8Array(0), buffer.subarray(0, 5000), buffer);
      assert.deepEqual(inPlace, expected);
      assert.equal(inPlace.buffer, buffer.buffer, 'sealed into the given buffer');
      assert.equal(inPlace.byteOffset, 0);
      assert.deepEqual(crypto.open(key, nonce, new Uint8Array(0), buffer.subarray(0, 5016), buffer), plaintext);
      buffer.set(plaintext);
      assert.throws(() => crypto.seal(key, nonce, new Uint8Array(0), buffer.subarray(0, 5000), buffer.subarray(8)), /overlaps the input/);
      buffer.set(expected, 8);
      assert.throws(() => crypto.open(key, nonce, new Uint8Array(0), buffer.subarray(8, 5024), buffer.subarray(3)), /overlaps the input/);
      const ad = crypto.randomBytes(10);
      const shared = new Uint8Array(20000);
      shared.set(ad, 100);
      assert.throws(() => crypto.seal(key, nonce, shared.subarray(100, 110), plaintext, shared), /overlaps the associated data/);
      const withAd = crypto.seal(key, nonce, ad, plaintext);
      shared.set(withAd, 1000);
      shared.set(ad, 7000);
      // One memory, three regions that do not overlap: allowed.
      const opened = crypto.open(
        key,
        nonce,
        shared.subarray(7000, 7010),
        shared.subarray(1000, 1000 + withAd.length),
        shared.subarray(8000),
      );
      assert.deepEqual(opened, plaintext);
      assert.equal(opened?.byteOffset, 8000);
      assert.throws(() => crypto.seal(key, nonce, ad, plaintext, 'not a buffer' as unknown as Uint8Array), TypeError);
    });

    it('uses the bytes a key array holds at each call, even when the same array is rewritten', () => {
      // Guards adapters that keep state per key (a native key schedule): new bytes in an old
      // array must never be sealed under the old key.
      const key = crypto.randomBytes(32);
      const nonce = new Uint8Array(12);
      const plaintext = crypto.randomBytes(100);
      const first = crypto.seal(key, nonce, new Uint8Array(0), plaintext);
      key.set(crypto.randomBytes(32));
      const second = crypto.seal(key, nonce, new Uint8Array(0), plaintext);
      assert.deepEqual(second, crypto.seal(Uint8Array.from(key), nonce, new Uint8Array(0), plaintext));
      assert.notDeepEqual(second, first);
      assert.deepEqual(crypto.open(key, nonce, new Uint8Array(0), second), plaintext);
      assert.equal(crypto.open(key, nonce, new Uint8Array(0), first), undefined, 'the old key no longer opens');
      crypto.forgetKey(key);
      assert.deepEqual(crypto.open(key, nonce, new Uint8Array(0), second), plaintext, 'a forgotten key is taken up again');
    });

    it('hashes match FIPS 180-2 and RFC 4231 test case 2', () => {
      assert.equal(
        toHex(crypto.sha256(new TextEncoder().encode('abc'))),
        'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      );
      const mac = crypto.hmacSha256(new TextEncoder().encode('Jefe'), new TextEncoder().encode('what do ya want for nothing?'));
      assert.equal(toHex(mac), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
    });

    for (const other of cryptoAdapters) {
      it(`completes an XX handshake with a ${other.name} peer and exchanges records both ways`, () => {
        const { initiator, responder, aStatic, bStatic } = xxPair(crypto, other);
        const m1 = initiator.writeMessage(new Uint8Array(0));
        assert.ok(responder.readMessage(m1).ok);
        const m2 = responder.writeMessage(new Uint8Array(0));
        assert.ok(initiator.readMessage(m2).ok);
        const m3 = initiator.writeMessage(new TextEncoder().encode('manifest'));
        const read = responder.readMessage(m3);
        assert.ok(read.ok && new TextDecoder().decode(read.value) === 'manifest');
        assert.equal(toHex(initiator.remoteStaticKey!), toHex(bStatic.publicKey));
        assert.equal(toHex(responder.remoteStaticKey!), toHex(aStatic.publicKey));
        const i = initiator.transportKeys();
        const r = responder.transportKeys();
        assert.equal(new TextDecoder().decode(r.receive.decrypt(i.send.encrypt(Uint8Array.of(104, 105)))), 'hi');
        assert.equal(new TextDecoder().decode(i.receive.decrypt(r.send.encrypt(Uint8Array.of(104, 111)))), 'ho');
      });
    }

    it('fails the handshake when message 2 is tampered with', () => {
      const { initiator, responder } = xxPair(crypto, crypto);
      assert.ok(responder.readMessage(initiator.writeMessage(new Uint8Array(0))).ok);
      const m2 = responder.writeMessage(new Uint8Array(0));
      m2[40]! ^= 0x80; // inside the encrypted static key
      const read = initiator.readMessage(m2);
      assert.equal(read.ok, false);
      if (!read.ok) assert.equal(read.code, 'E_HANDSHAKE_FAILED');
    });

    it('zeroes the ephemeral key, chaining key and transport keys when destroyed', () => {
      const { initiator, responder } = xxPair(crypto, crypto);
      assert.ok(responder.readMessage(initiator.writeMessage(new Uint8Array(0))).ok);
      assert.ok(initiator.readMessage(responder.writeMessage(new Uint8Array(0))).ok);
      assert.ok(responder.readMessage(initiator.writeMessage(new Uint8Array(0))).ok);
      const keys = initiator.transportKeys();
      assert.equal(initiator.secretsAreZero(), false);
      initiator.destroy();
      keys.send.destroy();
      keys.receive.destroy();
      assert.equal(initiator.secretsAreZero(), true);
      assert.ok(keys.send.isDestroyed() && keys.receive.isDestroyed());
      assert.throws(() => keys.send.encrypt(Uint8Array.of(1)), /nonce exhausted or destroyed/);
    });
  });
}
