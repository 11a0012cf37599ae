import { concatBytes, zeroize } from '../bytes.js';
import type { CryptoPrimitives } from '../ports/crypto-primitives.js';
import { CipherState } from './cipher-state.js';

const HASHLEN = 32;
const BYTE_1 = Uint8Array.of(1);
const BYTE_2 = Uint8Array.of(2);

/** Noise §5.2 SymmetricState over SHA-256. */
export class SymmetricState {
  private ck: Uint8Array;
  private h: Uint8Array;
  readonly cipher: CipherState;

  constructor(
    private readonly crypto: CryptoPrimitives,
    protocolName: string,
  ) {
    const name = new TextEncoder().encode(protocolName);
    if (name.length <= HASHLEN) {
      this.h = new Uint8Array(HASHLEN);
      this.h.set(name);
    } else {
      this.h = crypto.sha256(name);
    }
    this.ck = Uint8Array.from(this.h);
    this.cipher = new CipherState(crypto);
  }

  get handshakeHash(): Uint8Array {
    return this.h;
  }

  mixKey(inputKeyMaterial: Uint8Array): void {
    const [ck, tempK] = this.hkdf2(inputKeyMaterial);
    zeroize(this.ck);
    this.ck = ck;
    this.cipher.initializeKey(tempK);
    zeroize(tempK);
  }

  mixHash(data: Uint8Array): void {
    this.h = this.crypto.sha256(concatBytes(this.h, data));
  }

  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.cipher.encryptWithAd(this.h, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  decryptAndHash(ciphertext: Uint8Array): Uint8Array | undefined {
    const plaintext = this.cipher.decryptWithAd(this.h, ciphertext);
    if (plaintext === undefined) return undefined;
    this.mixHash(ciphertext);
    return plaintext;
  }

  /** Noise §5.2 Split: the two transport cipher states, initiator-to-responder first. */
  split(): [CipherState, CipherState] {
    const [k1, k2] = this.hkdf2(new Uint8Array(0));
    const pair: [CipherState, CipherState] = [new CipherState(this.crypto, k1), new CipherState(this.crypto, k2)];
    zeroize(k1, k2);
    return pair;
  }

  destroy(): void {
    zeroize(this.ck);
    this.cipher.destroy();
  }

  /** For tests of key hygiene. */
  chainingKeyIsZero(): boolean {
    return this.ck.every((b) => b === 0);
  }

  /** Noise §4.3 HKDF with two outputs. */
  private hkdf2(inputKeyMaterial: Uint8Array): [Uint8Array, Uint8Array] {
    const tempKey = this.crypto.hmacSha256(this.ck, inputKeyMaterial);
    const out1 = this.crypto.hmacSha256(tempKey, BYTE_1);
    const out2 = this.crypto.hmacSha256(tempKey, concatBytes(out1, BYTE_2));
    zeroize(tempKey);
    return [out1, out2];
  }
}
