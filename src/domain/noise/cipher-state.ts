import { zeroize } from '../bytes.js';
import { SecureTransferError } from '../errors.js';
import type { CryptoPrimitives } from '../ports/crypto-primitives.js';

const EMPTY = new Uint8Array(0);
/**
 * Noise §5.1 reserves 2^64-1; we stop at 2^53-1 so the counter stays an exact JS number. At one
 * 64 KiB record per nonce that is 512 EiB per direction, so no real session reaches it.
 */
const MAX_NONCE = Number.MAX_SAFE_INTEGER;

/** Noise §5.1 CipherState with the AESGCM nonce of §12.3: 32 zero bits, then the counter big-endian. */
export class CipherState {
  private key: Uint8Array | undefined;
  private counter = 0;
  private destroyed = false;
  private readonly nonce = new Uint8Array(12);
  private readonly nonceView = new DataView(this.nonce.buffer);

  constructor(
    private readonly crypto: CryptoPrimitives,
    key?: Uint8Array,
  ) {
    if (key) this.initializeKey(key);
  }

  initializeKey(key: Uint8Array): void {
    if (key.length !== 32) throw new RangeError('CipherState: key must be 32 bytes');
    this.forgetKey();
    this.key = Uint8Array.from(key);
    this.counter = 0;
  }

  hasKey(): boolean {
    return this.key !== undefined;
  }

  /** The next nonce value; exposed for tests of nonce handling. */
  get nonceCounter(): number {
    return this.counter;
  }

  /** With into, the ciphertext is written there (see CryptoPrimitives.seal) and returned as a view of it. */
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array, into?: Uint8Array): Uint8Array {
    // Without a key Noise passes data through (early handshake); a destroyed state must not.
    if (this.destroyed) throw new SecureTransferError('E_NONCE_EXHAUSTED', 'cipher state nonce exhausted or destroyed');
    if (!this.key) {
      if (!into) return plaintext;
      into.set(plaintext);
      return into.subarray(0, plaintext.length);
    }
    const ciphertext = this.crypto.seal(this.key, this.nextNonce(), ad, plaintext, into);
    this.counter++;
    return ciphertext;
  }

  /**
   * Returns undefined on authentication failure; the counter only advances on success (Noise
   * §5.1). With into, the plaintext is written there (see CryptoPrimitives.open) and returned as
   * a view of it.
   */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array, into?: Uint8Array): Uint8Array | undefined {
    if (this.destroyed) throw new SecureTransferError('E_NONCE_EXHAUSTED', 'cipher state nonce exhausted or destroyed');
    if (!this.key) {
      if (!into) return ciphertext;
      into.set(ciphertext);
      return into.subarray(0, ciphertext.length);
    }
    const plaintext = this.crypto.open(this.key, this.nextNonce(), ad, ciphertext, into);
    if (plaintext !== undefined) this.counter++;
    return plaintext;
  }

  encrypt(plaintext: Uint8Array, into?: Uint8Array): Uint8Array {
    return this.encryptWithAd(EMPTY, plaintext, into);
  }

  decrypt(ciphertext: Uint8Array, into?: Uint8Array): Uint8Array | undefined {
    return this.decryptWithAd(EMPTY, ciphertext, into);
  }

  /** Zeroes the key; the state is unusable afterwards (docs/requirements.md#keys). */
  destroy(): void {
    this.forgetKey();
    zeroize(this.nonce);
    this.key = undefined;
    this.destroyed = true;
  }

  /** Tells the adapter the key is going (it may hold a schedule derived from it), then zeroes it. */
  private forgetKey(): void {
    if (!this.key) return;
    this.crypto.forgetKey(this.key);
    zeroize(this.key);
  }

  /** For tests: whether the key material has been wiped. */
  isDestroyed(): boolean {
    return this.destroyed && this.key === undefined;
  }

  private nextNonce(): Uint8Array {
    if (this.counter >= MAX_NONCE) throw new SecureTransferError('E_NONCE_EXHAUSTED', 'cipher state nonce exhausted or destroyed');
    this.nonceView.setUint32(0, 0);
    this.nonceView.setUint32(4, Math.floor(this.counter / 0x1_0000_0000));
    this.nonceView.setUint32(8, this.counter >>> 0);
    return this.nonce;
  }
}
